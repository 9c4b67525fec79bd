import { count, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { apiToken, auditEntry, team, user } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import * as authRoute from "../../api/auth/[...all]/route.ts";
import * as catchAll from "./[...path]/route.ts";
import * as tokensRoute from "./admin/tokens/route.ts";
import * as tokenRoute from "./admin/tokens/[id]/route.ts";
import * as usersRoute from "./admin/users/route.ts";
import * as auditVerifyRoute from "./audit/verify/route.ts";
import * as healthRoute from "./health/route.ts";
import * as teamsRoute from "./teams/route.ts";
import * as whoamiRoute from "./whoami/route.ts";

const BASE = "http://localhost:3000";
const PASSWORD = "correct horse battery";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- route handlers differ only in their params
type Handler = (request: Request, context: { params: Promise<any> }) => Response | Promise<Response>;

function call(handler: Handler, path: string, init: RequestInit & { token?: string; params?: Record<string, string> } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  return Promise.resolve(handler(new Request(`${BASE}${path}`, { ...init, headers }), { params: Promise.resolve(init.params ?? {}) }));
}

async function errorOf(response: Response): Promise<{ code: string; message: string; details?: { fieldErrors?: Record<string, string[]> } }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

describeEachBackend("API v1", ({ handle }) => {
  let adminToken: string;
  let readToken: string;
  let admin: Principal;

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: PASSWORD });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    adminToken = (await createToken(admin, { name: "admin-ci", scopes: ["admin"] })).secret;
    readToken = (await createToken(admin, { name: "reader", scopes: ["read"] })).secret;
    await createUser(admin, { name: "Val", email: "val@example.com", password: PASSWORD, role: "viewer" });
  });

  it("answers health without authentication", async () => {
    const response = await healthRoute.GET();
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", components: { database: { status: "ok" } } });
  });

  it("tells a token who it is, and records when it was last used", async () => {
    const response = await call(whoamiRoute.GET, "/api/v1/whoami", { token: readToken });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ kind: "token", name: "reader", scopes: ["read"], permissions: ["catalog:read"] });
    const [row] = await handle().db.select().from(apiToken).where(eq(apiToken.name, "reader"));
    expect(row?.lastUsedAt).toBeInstanceOf(Date);
  });

  it("answers 401 as JSON without credentials, with a bad token, or a malformed header", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer mpt_${"x".repeat(43)}` }, { authorization: "Basic abc" }];
    for (const headers of attempts) {
      const response = await call(whoamiRoute.GET, "/api/v1/whoami", { headers });
      expect(response.status).toBe(401);
      expect((await errorOf(response)).code).toBe("unauthenticated");
    }
  });

  it("answers 403 to a read token on admin APIs, and writes nothing", async () => {
    const users = await handle().db.select({ n: count() }).from(user);
    const list = await call(usersRoute.GET, "/api/v1/admin/users", { token: readToken });
    expect(list.status).toBe(403);
    expect((await errorOf(list)).code).toBe("forbidden");
    const create = await call(usersRoute.POST, "/api/v1/admin/users", {
      method: "POST",
      token: readToken,
      body: JSON.stringify({ name: "Eve", email: "eve@example.com", password: PASSWORD }),
    });
    expect(create.status).toBe(403);
    expect(await handle().db.select({ n: count() }).from(user)).toEqual(users);
    expect((await call(tokensRoute.GET, "/api/v1/admin/tokens", { token: readToken })).status).toBe(403);
  });

  it("answers 422 with field errors to invalid input, and writes nothing", async () => {
    const before = {
      users: await handle().db.select({ n: count() }).from(user),
      teams: await handle().db.select({ n: count() }).from(team),
      audit: await handle().db.select({ n: count() }).from(auditEntry),
    };
    const invalidUser = await call(usersRoute.POST, "/api/v1/admin/users", {
      method: "POST",
      token: adminToken,
      body: JSON.stringify({ name: "x", email: "nope", password: "short", role: "root" }),
    });
    expect(invalidUser.status).toBe(422);
    const error = await errorOf(invalidUser);
    expect(error.code).toBe("invalid_input");
    expect(Object.keys(error.details?.fieldErrors ?? {}).sort()).toEqual(["email", "password", "role"]);

    const malformed = await call(teamsRoute.POST, "/api/v1/teams", { method: "POST", token: adminToken, body: "{not json" });
    expect(malformed.status).toBe(422);
    const wrongType = await call(teamsRoute.POST, "/api/v1/teams", {
      method: "POST",
      token: adminToken,
      body: "slug=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(wrongType.status).toBe(422);
    const notAnObject = await call(teamsRoute.POST, "/api/v1/teams", { method: "POST", token: adminToken, body: "[1,2]" });
    expect(notAnObject.status).toBe(422);
    const oversized = await call(teamsRoute.POST, "/api/v1/teams", {
      method: "POST",
      token: adminToken,
      body: JSON.stringify({ slug: "big", name: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(oversized.status).toBe(413);

    expect(await handle().db.select({ n: count() }).from(user)).toEqual(before.users);
    expect(await handle().db.select({ n: count() }).from(team)).toEqual(before.teams);
    expect(await handle().db.select({ n: count() }).from(auditEntry)).toEqual(before.audit);
  });

  it("creates, uses and revokes a token; a revoked token gets 401 at once", async () => {
    const created = await call(tokensRoute.POST, "/api/v1/admin/tokens", {
      method: "POST",
      token: adminToken,
      body: JSON.stringify({ name: "agent-plant-eu", scopes: ["agent:report"], brokers: "plant-eu" }),
    });
    expect(created.status).toBe(201);
    const { token, secret } = (await created.json()) as { token: { id: string; secretHash?: string }; secret: string };
    expect(token.secretHash).toBeUndefined();
    expect((await call(whoamiRoute.GET, "/api/v1/whoami", { token: secret })).status).toBe(200);

    const list = await call(tokensRoute.GET, "/api/v1/admin/tokens", { token: adminToken });
    expect(JSON.stringify(await list.json())).not.toContain(secret);

    const revoked = await call(tokenRoute.DELETE, `/api/v1/admin/tokens/${token.id}`, {
      method: "DELETE",
      token: adminToken,
      params: { id: token.id },
    });
    expect(revoked.status).toBe(204);
    expect((await call(whoamiRoute.GET, "/api/v1/whoami", { token: secret })).status).toBe(401);
    const again = await call(tokenRoute.DELETE, `/api/v1/admin/tokens/${token.id}`, {
      method: "DELETE",
      token: adminToken,
      params: { id: token.id },
    });
    expect(again.status).toBe(409);
    const actions = (await handle().db.select({ action: auditEntry.action }).from(auditEntry).where(eq(auditEntry.targetId, token.id))).map((r) => r.action);
    expect(actions.sort()).toEqual(["token.create", "token.revoke"]);
  });

  it("refuses an expired token", async () => {
    const { token, secret } = await createToken(admin, { name: "short-lived", scopes: ["read"], expiresInDays: 1 });
    await handle().db.update(apiToken).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiToken.id, token.id));
    expect((await call(whoamiRoute.GET, "/api/v1/whoami", { token: secret })).status).toBe(401);
  });

  it("signs in with email and password and serves the session on whoami; refuses cross-site writes", async () => {
    const signIn = await call(authRoute.POST, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { origin: BASE },
      body: JSON.stringify({ email: "val@example.com", password: PASSWORD }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    expect(cookie).toContain("session_token");
    const signIns = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "session.sign_in"));
    expect(signIns.map((e) => e.actorLabel)).toContain("val@example.com");
    const who = await call(whoamiRoute.GET, "/api/v1/whoami", { headers: { cookie } });
    expect(await who.json()).toMatchObject({ kind: "user", email: "val@example.com", role: "viewer" });
    expect((await call(usersRoute.GET, "/api/v1/admin/users", { headers: { cookie } })).status).toBe(403);

    const wrong = await call(authRoute.POST, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { origin: BASE },
      body: JSON.stringify({ email: "val@example.com", password: "wrong password!" }),
    });
    expect(wrong.status).toBe(401);

    const adminSignIn = await call(authRoute.POST, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { origin: BASE },
      body: JSON.stringify({ email: "ada@example.com", password: PASSWORD }),
    });
    const adminCookie = adminSignIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const crossSite = await call(teamsRoute.POST, "/api/v1/teams", {
      method: "POST",
      headers: { cookie: adminCookie, origin: "https://evil.example" },
      body: JSON.stringify({ slug: "evil", name: "Evil" }),
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await call(teamsRoute.POST, "/api/v1/teams", {
      method: "POST",
      headers: { cookie: adminCookie, origin: BASE },
      body: JSON.stringify({ slug: "good", name: "Good" }),
    });
    expect(sameSite.status).toBe(201);
  });

  it("refuses sign-in and ends sessions of a disabled account", async () => {
    const signIn = await call(authRoute.POST, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { origin: BASE },
      body: JSON.stringify({ email: "val@example.com", password: PASSWORD }),
    });
    const cookie = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const [val] = await handle().db.select().from(user).where(eq(user.email, "val@example.com"));
    const { PATCH } = await import("./admin/users/[id]/route.ts");
    const disabled = await call(PATCH, `/api/v1/admin/users/${val!.id}`, {
      method: "PATCH",
      token: adminToken,
      params: { id: val!.id },
      body: JSON.stringify({ disabled: true }),
    });
    expect(disabled.status).toBe(200);
    expect((await call(whoamiRoute.GET, "/api/v1/whoami", { headers: { cookie } })).status).toBe(401);
    const again = await call(authRoute.POST, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { origin: BASE },
      body: JSON.stringify({ email: "val@example.com", password: PASSWORD }),
    });
    expect(again.status).toBeGreaterThanOrEqual(400);
  });

  it("keeps an intact audit chain, and detects tampering", async () => {
    const ok = await call(auditVerifyRoute.GET, "/api/v1/audit/verify", { token: adminToken });
    const verdict = (await ok.json()) as { ok: boolean; entries: number };
    expect(verdict.ok).toBe(true);
    expect(verdict.entries).toBeGreaterThan(5);
    const [victim] = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "token.revoke"));
    await handle().db.update(auditEntry).set({ details: { name: "someone-else" } }).where(eq(auditEntry.seq, victim!.seq));
    const broken = (await (await call(auditVerifyRoute.GET, "/api/v1/audit/verify", { token: adminToken })).json()) as {
      ok: boolean;
      brokenAt: { seq: number; reason: string };
    };
    expect(broken).toMatchObject({ ok: false, brokenAt: { seq: victim!.seq, reason: "hash_mismatch" } });
    expect((await call(auditVerifyRoute.GET, "/api/v1/audit/verify", { token: readToken })).status).toBe(403);
  });

  it("answers unknown API routes with a JSON 404", async () => {
    const response = await call(catchAll.GET, "/api/v1/nothing-here");
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe("not_found:route");
  });
});
