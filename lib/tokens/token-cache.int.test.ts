import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { getDb, openDatabase, type DatabaseHandle } from "@/db/client.ts";
import { apiToken } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin, createUser, updateUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { ChangeFeed, changeFeed } from "@/lib/events/changes.ts";
import { startDroppingProxy } from "@/lib/events/testing/dropping-proxy.ts";
import { rowsOf } from "@/lib/observations/partitions.ts";
import { TokenPrincipalCache } from "./principal-cache.ts";
import { createToken, followTokenChanges, principalForToken, resolveTokenSecret, revokeToken, type TokenResolver } from "./tokens.ts";

const PASSWORD = "correct horse battery";

/** Waits (polling, no timing asserted) until `done` holds; fails after a generous deadline. */
async function until(done: () => boolean | Promise<boolean>, what: string, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
    // The cache starts over when the feed first connects; these tests are about the cache once it is up.
    await principalForToken("not-a-token");
    await until(() => changeFeed().live(), "the change feed");
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

describeEachBackend("token revocations reach every instance", ({ backend, handle }) => {
  let admin: Principal;
  // Another portal instance: its own cache and change feed (on PostgreSQL its own pool and listening connection too).
  let other: { handle: DatabaseHandle; feed: ChangeFeed; cache: TokenPrincipalCache; resolver: TokenResolver; heard: string[]; close(): Promise<void> };
  let clock = Date.now();

  beforeAll(async () => {
    admin = { kind: "user", ...(await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: PASSWORD })), role: "admin" };
    let otherHandle = handle();
    if (backend === "postgres") {
      const [{ name }] = rowsOf<{ name: string }>(await handle().db.execute(sql`select current_database() as name`)) as [{ name: string }];
      const url = new URL(inject("postgresServerUrl"));
      url.pathname = `/${name}`;
      otherHandle = await openDatabase({ driver: "postgres", url: url.toString() });
    }
    const opened = Promise.resolve(otherHandle);
    const feed = new ChangeFeed(() => opened);
    const cache = new TokenPrincipalCache({ now: () => clock });
    const heard: string[] = [];
    feed.onChange("tokens", (payload) => heard.push(payload));
    followTokenChanges(cache, feed);
    const resolver: TokenResolver = { db: async () => otherHandle.db, cache, feed, ttlMs: () => 300_000, now: () => clock };
    other = {
      handle: otherHandle,
      feed,
      cache,
      resolver,
      heard,
      async close() {
        await feed.stop();
        if (otherHandle !== handle()) await otherHandle.close();
      },
    };
    await until(() => feed.live(), "the other instance's change feed");
  });

  afterAll(async () => {
    await other.close();
  });

  afterEach(() => {
    clock = Date.now();
  });

  const resolveThere = async (secret: string) => {
    const principal = await resolveTokenSecret(secret, other.resolver);
    return principal?.kind === "token" ? principal : null;
  };
  const renameInDatabase = async (id: string, name: string) => {
    await (await getDb()).update(apiToken).set({ name }).where(eq(apiToken.id, id));
  };

  it("refuses a token the other instance cached once its revocation is announced", async () => {
    const { token, secret } = await createToken(admin, { name: "elsewhere", scopes: ["read"] });
    expect((await resolveThere(secret))?.name).toBe("elsewhere");
    await renameInDatabase(token.id, "renamed");
    // Still answered from its cache: nothing was announced.
    expect((await resolveThere(secret))?.name).toBe("elsewhere");
    await revokeToken(admin, token.id);
    await until(() => other.heard.includes(`t:${token.id}`), "the revocation on the other instance");
    expect(await resolveThere(secret)).toBeNull();
  });

  it("narrows the scopes the other instance cached once a demotion is announced", async () => {
    const kim = await createUser(admin, { name: "Kim", email: "kim@example.com", password: PASSWORD, role: "admin" });
    const { secret } = await createToken({ kind: "user", ...kim, role: "admin" }, { name: "kim-admin", scopes: ["admin", "read"] });
    expect((await resolveThere(secret))?.scopes).toEqual(["admin", "read"]);
    await updateUser(admin, kim.id, { role: "viewer" });
    await until(() => other.heard.includes(`c:${kim.id}`), "the demotion on the other instance");
    expect((await resolveThere(secret))?.scopes).toEqual(["read"]);
    await updateUser(admin, kim.id, { disabled: true });
    await until(() => other.heard.filter((p) => p === `c:${kim.id}`).length >= 2, "the disabling on the other instance");
    expect(await resolveThere(secret)).toBeNull();
  });

  it("trusts a cached token for at most a second while the feed is down", async () => {
    const { token, secret } = await createToken(admin, { name: "unconfirmed", scopes: ["read"] });
    const cache = new TokenPrincipalCache({ now: () => clock });
    // A feed with no database to follow is never live: no announcement could reach this cache.
    const resolver: TokenResolver = { ...other.resolver, cache, feed: new ChangeFeed(() => undefined) };
    const resolveDown = async () => ((await resolveTokenSecret(secret, resolver)) as { name: string } | null)?.name;
    const start = clock;
    expect(await resolveDown()).toBe("unconfirmed");
    await renameInDatabase(token.id, "unconfirmed-2");
    clock = start + 999;
    expect(await resolveDown()).toBe("unconfirmed");
    clock = start + 1_000;
    expect(await resolveDown()).toBe("unconfirmed-2");
    // The same entry under a live feed keeps its TTL.
    clock = start;
    expect((await resolveThere(secret))?.name).toBe("unconfirmed-2");
    await renameInDatabase(token.id, "unconfirmed-3");
    clock = start + 60_000;
    expect((await resolveThere(secret))?.name).toBe("unconfirmed-2");
  });

  if (backend !== "postgres") return;

  describe("when the listening connection answers but stops delivering", () => {
    it("trusts what it cached for at most a second once the feed is not live", async () => {
      const [{ name }] = rowsOf<{ name: string }>(await handle().db.execute(sql`select current_database() as name`)) as [{ name: string }];
      const url = new URL(inject("postgresServerUrl"));
      url.pathname = `/${name}`;
      const proxy = await startDroppingProxy(url.toString());
      const proxied = await openDatabase({ driver: "postgres", url: url.toString() }, { listenUrl: proxy.url });
      const opened = Promise.resolve(proxied);
      const feed = new ChangeFeed(() => opened);
      const cache = new TokenPrincipalCache({ now: () => clock });
      const stopFollowing = followTokenChanges(cache, feed);
      const resolver: TokenResolver = { db: async () => proxied.db, cache, feed, ttlMs: () => 300_000, now: () => clock };
      try {
        const { token, secret } = await createToken(admin, { name: "undelivered", scopes: ["read"] });
        const resolveHere = async () => ((await resolveTokenSecret(secret, resolver)) as { name: string } | null)?.name;
        await until(() => feed.live(), "the proxied instance's change feed");
        const start = clock;
        expect(await resolveHere()).toBe("undelivered");
        await renameInDatabase(token.id, "undelivered-2");
        // Live: the cached entry keeps its TTL.
        clock = start + 5_000;
        expect(await resolveHere()).toBe("undelivered");

        proxy.dropping = true;
        await until(() => !feed.live(), "the feed to notice that nothing arrives", 5_000);
        clock = start + 999;
        expect(await resolveHere()).toBe("undelivered");
        clock = start + 1_000;
        expect(await resolveHere()).toBe("undelivered-2");
      } finally {
        stopFollowing();
        await feed.stop();
        await proxied.close();
        await proxy.close();
      }
    });
  });

  describe("when the listening connection dies", () => {
    it("forgets every cached token on the reset and hears revocations again", async () => {
      const { token, secret } = await createToken(admin, { name: "before-gap", scopes: ["read"] });
      expect((await resolveThere(secret))?.name).toBe("before-gap");
      await renameInDatabase(token.id, "after-gap");
      let resets = 0;
      const stopReset = other.feed.onFeedReset(() => resets++);
      try {
        await handle().db.execute(
          sql`select pg_terminate_backend(pid) from pg_stat_activity
              where datname = current_database() and application_name = 'meshport-listen'`,
        );
        await until(() => resets > 0 && other.feed.live(), "the reconnect");
      } finally {
        stopReset();
      }
      expect((await resolveThere(secret))?.name).toBe("after-gap");
      await revokeToken(admin, token.id);
      await until(() => other.heard.includes(`t:${token.id}`), "a revocation after the reconnect");
      expect(await resolveThere(secret)).toBeNull();
    });
  });
});
