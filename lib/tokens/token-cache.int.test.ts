import { eq } from "drizzle-orm";
import { afterEach, beforeAll, expect, it, vi } from "vitest";
import { apiToken } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin, createUser, updateUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createToken, principalForToken, revokeToken } from "./tokens.ts";

const PASSWORD = "correct horse battery";

describeEachBackend("token principals cached in process", ({ handle }) => {
  let admin: Principal;
  const asAdmin = (created: { id: string; email: string; name: string }): Principal => ({ kind: "user", ...created, role: "admin" });
  const resolve = async (secret: string) => {
    const principal = await principalForToken(secret);
    return principal?.kind === "token" ? principal : null;
  };
  // The name is not part of what a lookup re-checks: a stale name shows the answer came from the cache.
  const renameInDatabase = (id: string, name: string) => handle().db.update(apiToken).set({ name }).where(eq(apiToken.id, id));

  beforeAll(async () => {
    admin = asAdmin(await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: PASSWORD }));
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("answers from the cache within the TTL and asks the database again after it", async () => {
    vi.stubEnv("MESHPORT_TOKEN_CACHE_SECONDS", "5");
    const { token, secret } = await createToken(admin, { name: "hot", scopes: ["read"] });
    const start = Date.now();
    expect((await resolve(secret))?.name).toBe("hot");
    await renameInDatabase(token.id, "renamed");
    vi.spyOn(Date, "now").mockReturnValue(start + 4_000);
    expect((await resolve(secret))?.name).toBe("hot");
    vi.spyOn(Date, "now").mockReturnValue(start + 5_500);
    expect((await resolve(secret))?.name).toBe("renamed");
  });

  it("asks the database on every call when the TTL is 0", async () => {
    vi.stubEnv("MESHPORT_TOKEN_CACHE_SECONDS", "0");
    const { token, secret } = await createToken(admin, { name: "uncached", scopes: ["read"] });
    expect((await resolve(secret))?.name).toBe("uncached");
    await renameInDatabase(token.id, "uncached-2");
    expect((await resolve(secret))?.name).toBe("uncached-2");
  });

  it("refuses a cached token at once once it is revoked in this process", async () => {
    vi.stubEnv("MESHPORT_TOKEN_CACHE_SECONDS", "300");
    const { token, secret } = await createToken(admin, { name: "to-revoke", scopes: ["read"] });
    expect(await resolve(secret)).not.toBeNull();
    await renameInDatabase(token.id, "still-cached");
    expect((await resolve(secret))?.name).toBe("to-revoke");
    await revokeToken(admin, token.id);
    expect(await resolve(secret)).toBeNull();
  });

  it("refuses a cached token once its expiry passes, by the expiry it was cached with", async () => {
    vi.stubEnv("MESHPORT_TOKEN_CACHE_SECONDS", "300");
    const { token, secret } = await createToken(admin, { name: "short", scopes: ["read"], expiresInDays: 1 });
    const start = Date.now();
    await handle().db.update(apiToken).set({ expiresAt: new Date(start + 2_000) }).where(eq(apiToken.id, token.id));
    expect(await resolve(secret)).not.toBeNull();
    // The database no longer says it expires: only the cached expiry can refuse it now.
    await handle().db.update(apiToken).set({ expiresAt: null }).where(eq(apiToken.id, token.id));
    vi.spyOn(Date, "now").mockReturnValue(start + 2_500);
    expect(await resolve(secret)).toBeNull();
  });

  it("follows a creator's role and account at once", async () => {
    vi.stubEnv("MESHPORT_TOKEN_CACHE_SECONDS", "300");
    const kim = await createUser(systemPrincipal("test"), { name: "Kim", email: "kim@example.com", password: PASSWORD, role: "admin" });
    const { secret } = await createToken(asAdmin(kim), { name: "kim-admin", scopes: ["admin", "read"] });
    expect((await resolve(secret))?.scopes).toEqual(["admin", "read"]);
    await updateUser(admin, kim.id, { role: "viewer" });
    expect((await resolve(secret))?.scopes).toEqual(["read"]);
    await updateUser(admin, kim.id, { role: "admin" });
    expect((await resolve(secret))?.scopes).toEqual(["admin", "read"]);
    await updateUser(admin, kim.id, { disabled: true });
    expect(await resolve(secret)).toBeNull();
  });

  it("keeps updating last use at its resolution while answering from the cache", async () => {
    vi.stubEnv("MESHPORT_TOKEN_CACHE_SECONDS", "300");
    const { token, secret } = await createToken(admin, { name: "used", scopes: ["read"] });
    const start = Date.now();
    await resolve(secret);
    const lastUsed = async () => (await handle().db.select({ at: apiToken.lastUsedAt }).from(apiToken).where(eq(apiToken.id, token.id)))[0]!.at;
    expect((await lastUsed())?.getTime()).toBeGreaterThanOrEqual(start);
    await renameInDatabase(token.id, "used-renamed");
    vi.spyOn(Date, "now").mockReturnValue(start + 30_000);
    expect((await resolve(secret))?.name).toBe("used");
    expect((await lastUsed())!.getTime()).toBeLessThan(start + 30_000);
    vi.spyOn(Date, "now").mockReturnValue(start + 61_000);
    expect((await resolve(secret))?.name).toBe("used");
    expect((await lastUsed())!.getTime()).toBe(start + 61_000);
  });

  it("gives each caller its own principal to annotate", async () => {
    const { secret } = await createToken(admin, { name: "shared", scopes: ["read"] });
    const first = await resolve(secret);
    first!.address = "203.0.113.9";
    first!.scopes.push("admin");
    const second = await resolve(secret);
    expect(second!.address).toBeUndefined();
    expect(second!.scopes).toEqual(["read"]);
  });
});
