import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { eq, inArray, sql } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import * as tokensRoute from "@/app/api/v1/admin/tokens/route.ts";
import * as userRoute from "@/app/api/v1/admin/users/[id]/route.ts";
import * as whoamiRoute from "@/app/api/v1/whoami/route.ts";
import { apiToken, auditEntry, broker, ingestBatch } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createToken } from "./tokens.ts";

const PASSWORD = "correct horse battery";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- route handlers differ only in their params
type Handler = (request: Request, context: { params: Promise<any> }) => Response | Promise<Response>;

function call(handler: Handler, path: string, init: RequestInit & { token: string; params?: Record<string, string> }) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${init.token}`);
  if (init.body) headers.set("content-type", "application/json");
  return Promise.resolve(handler(new Request(`http://localhost:3000${path}`, { ...init, headers }), { params: Promise.resolve(init.params ?? {}) }));
}

const whoami = async (token: string) => {
  const response = await call(whoamiRoute.GET, "/api/v1/whoami", { token });
  return { status: response.status, body: response.status === 200 ? ((await response.json()) as { scopes: string[]; permissions: string[] }) : null };
};

describeEachBackend("API tokens and their creators", ({ handle }) => {
  let adminToken: string;
  const asUser = (created: { id: string; email: string; name: string }, role: "admin"): Principal => ({ kind: "user", ...created, role });

  beforeAll(async () => {
    const first = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: PASSWORD });
    adminToken = (await createToken(asUser(first, "admin"), { name: "root-ci", scopes: ["admin"] })).secret;
  });

  const patchUser = (id: string, body: unknown) =>
    call(userRoute.PATCH, `/api/v1/admin/users/${id}`, { method: "PATCH", token: adminToken, params: { id }, body: JSON.stringify(body) });

  it("requires a broker binding for agent tokens and lists it", async () => {
    const missing = await call(tokensRoute.POST, "/api/v1/admin/tokens", {
      method: "POST",
      token: adminToken,
      body: JSON.stringify({ name: "agent", scopes: ["agent:report"] }),
    });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(await missing.json())).toContain("brokers");
    const regexLike = await call(tokensRoute.POST, "/api/v1/admin/tokens", {
      method: "POST",
      token: adminToken,
      body: JSON.stringify({ name: "agent", scopes: ["agent:report"], brokers: "plant-(eu|us)" }),
    });
    expect(regexLike.status).toBe(422);
    const stray = await call(tokensRoute.POST, "/api/v1/admin/tokens", {
      method: "POST",
      token: adminToken,
      body: JSON.stringify({ name: "reader", scopes: ["read"], brokers: "plant-eu" }),
    });
    expect(stray.status).toBe(422);
    const created = await call(tokensRoute.POST, "/api/v1/admin/tokens", {
      method: "POST",
      token: adminToken,
      body: JSON.stringify({ name: "agent-plants", scopes: ["agent:report"], brokers: "plant-*" }),
    });
    expect(created.status).toBe(201);
    const list = (await (await call(tokensRoute.GET, "/api/v1/admin/tokens", { token: adminToken })).json()) as {
      tokens: Array<{ name: string; brokerBinding: string | null }>;
    };
    expect(list.tokens.find((t) => t.name === "agent-plants")?.brokerBinding).toBe("plant-*");
  });

  it("stops a disabled creator's tokens at once and revokes them, with an audit entry naming them", async () => {
    const mia = await createUser(systemPrincipal("test"), { name: "Mia", email: "mia@example.com", password: PASSWORD, role: "admin" });
    const { token, secret } = await createToken(asUser(mia, "admin"), { name: "mia-ci", scopes: ["contracts:write"] });
    // A token made with Mia's token rests on Mia too.
    const { secret: chained } = await createToken(
      { kind: "token", id: token.id, name: token.name, scopes: ["admin"], teamId: null, createdBy: mia.id },
      { name: "mia-chained", scopes: ["read"] },
    );
    expect((await whoami(secret)).status).toBe(200);
    expect((await whoami(chained)).status).toBe(200);

    expect((await patchUser(mia.id, { disabled: true })).status).toBe(200);
    expect((await whoami(secret)).status).toBe(401);
    expect((await whoami(chained)).status).toBe(401);
    const [row] = await handle().db.select().from(apiToken).where(eq(apiToken.id, token.id));
    expect(row!.revokedAt).not.toBeNull();
    const updates = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "user.update"));
    expect(updates.at(-1)!.details).toMatchObject({ disabled: true, revokedTokens: expect.arrayContaining([token.id]) });

    // Re-enabling the account does not bring revoked tokens back.
    expect((await patchUser(mia.id, { disabled: false })).status).toBe(200);
    expect((await whoami(secret)).status).toBe(401);
  });

  it("limits a demoted creator's tokens to what the new role allows, and audits which", async () => {
    const sam = await createUser(systemPrincipal("test"), { name: "Sam", email: "sam@example.com", password: PASSWORD, role: "admin" });
    const { token, secret } = await createToken(asUser(sam, "admin"), { name: "sam-admin", scopes: ["admin", "contracts:write"] });
    const { secret: reader } = await createToken(asUser(sam, "admin"), { name: "sam-read", scopes: ["read"] });
    expect((await whoami(secret)).body!.permissions).toContain("users:manage");

    expect((await patchUser(sam.id, { role: "editor" })).status).toBe(200);
    const limited = await whoami(secret);
    expect(limited.body!.scopes).toEqual(["contracts:write"]);
    expect(limited.body!.permissions).not.toContain("users:manage");
    expect((await whoami(reader)).body!.scopes).toEqual(["read"]);
    const updates = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "user.update"));
    expect(updates.at(-1)!.details).toMatchObject({
      role: { from: "admin", to: "editor" },
      limitedTokens: [{ id: token.id, scopes: ["contracts:write"] }],
    });

    expect((await patchUser(sam.id, { role: "viewer" })).status).toBe(200);
    expect((await whoami(secret)).body!.scopes).toEqual([]);
    // Promoted again, the stored scopes apply again: the limit follows the role, it never widens it.
    expect((await patchUser(sam.id, { role: "admin" })).status).toBe(200);
    expect((await whoami(secret)).body!.scopes).toEqual(["admin", "contracts:write"]);
  });

  it("binds existing agent tokens to the one broker they reported for, and leaves the others unbound", async () => {
    const make = async (name: string) => (await createToken(systemPrincipal("test"), { name, scopes: ["agent:report"], brokers: "placeholder" })).token.id;
    const [one, several, none] = [await make("old-one"), await make("old-several"), await make("old-none")];
    await handle().db.update(apiToken).set({ brokerBinding: null }).where(inArray(apiToken.id, [one, several, none]));
    await handle().db.insert(broker).values([{ id: "old-a", name: "old-a" }, { id: "old-b", name: "old-b" }]);
    const batch = (tokenId: string, brokerId: string) => ({
      batchId: randomUUID(), brokerId, agentId: "a", sequence: 1, tokenId, windowStart: new Date(), windowEnd: new Date(), templates: 0, messages: 0,
    });
    await handle().db.insert(ingestBatch).values([batch(one, "old-a"), batch(one, "old-a"), batch(several, "old-a"), batch(several, "old-b")]);
    const migration = readFileSync(new URL("../../db/migrations/0005_agent_token_brokers.sql", import.meta.url), "utf8");
    const backfill = migration.split("--> statement-breakpoint").find((statement) => statement.includes("UPDATE"))!;
    await handle().db.execute(sql.raw(backfill));
    const rows = await handle().db.select({ id: apiToken.id, binding: apiToken.brokerBinding }).from(apiToken).where(inArray(apiToken.id, [one, several, none]));
    expect(Object.fromEntries(rows.map((r) => [r.id, r.binding]))).toEqual({ [one]: "old-a", [several]: null, [none]: null });
  });

  it("keeps the scopes of tokens the system made", async () => {
    const { secret } = await createToken(systemPrincipal("cli"), { name: "cli-made", scopes: ["admin"] });
    expect((await whoami(secret)).body!.scopes).toEqual(["admin"]);
  });
});
