import { and, desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { auditEntry, session, user } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { changePassword, signOutOtherSessions, updateProfile } from "@/lib/accounts/profile.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { verifyAuditChain } from "@/lib/audit/audit.ts";
import type { AuditAction } from "@/lib/audit/actions.ts";
import { sessionFromHeaders } from "@/lib/auth/authenticate.ts";
import { getAuth, signInWithPassword } from "@/lib/auth/better-auth.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { CLIENT_ADDRESS_HEADER, PEER_HEADER } from "@/lib/http/client-address.ts";
import { resetSignInLimiter } from "@/lib/http/sign-in-limit.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import * as authRoute from "./[...all]/route.ts";

const BASE = "http://localhost:3000";
const PASSWORD = "correct horse battery";
const MAX_PER_ADDRESS = 6;
const MAX_PER_ACCOUNT = 4;

const LIMIT_ENV = {
  MESHPORT_SIGN_IN_MAX_PER_ADDRESS: String(MAX_PER_ADDRESS),
  MESHPORT_SIGN_IN_MAX_PER_ACCOUNT: String(MAX_PER_ACCOUNT),
  MESHPORT_SIGN_IN_WINDOW_SECONDS: "600",
  MESHPORT_TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8",
};

/** Calls the auth route as the portal's server would: the socket peer in its header. */
function callAuth(method: "GET" | "POST", path: string, init: { peer?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const headers = new Headers(init.headers);
  headers.set("origin", BASE);
  if (init.peer !== undefined) headers.set(PEER_HEADER, init.peer);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const request = new Request(`${BASE}/api/auth${path}`, {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const handler = method === "GET" ? authRoute.GET : authRoute.POST;
  return handler(request);
}

function signIn(email: string, password: string, init: { peer?: string; headers?: Record<string, string> } = {}) {
  return callAuth("POST", "/sign-in/email", { ...init, body: { email, password } });
}

function cookieOf(response: Response): string {
  return response.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
}

describeEachBackend("Accounts and sessions", ({ handle }) => {
  let admin: Principal & { kind: "user" };
  let valId: string;
  const savedEnv: Record<string, string | undefined> = {};

  async function entries(action: AuditAction) {
    return handle().db.select().from(auditEntry).where(eq(auditEntry.action, action)).orderBy(desc(auditEntry.seq));
  }

  async function latest(action: AuditAction) {
    const [entry] = await entries(action);
    return entry;
  }

  beforeAll(async () => {
    for (const [name, value] of Object.entries(LIMIT_ENV)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: PASSWORD });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    valId = (await createUser(admin, { name: "Val", email: "val@example.com", password: PASSWORD, role: "viewer" })).id;
    await createUser(admin, { name: "Sam", email: "sam@example.com", password: PASSWORD, role: "editor" });
  });

  afterAll(() => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetSignInLimiter();
  });

  beforeEach(() => resetSignInLimiter());

  it("mounts only sign-in, sign-out and get-session; every other better-auth endpoint is 404", async () => {
    const refused: Array<["GET" | "POST", string]> = [
      ["POST", "/sign-up/email"],
      ["POST", "/sign-in/social"],
      ["GET", "/sign-in/email"],
      ["POST", "/get-session"],
      ["GET", "/list-sessions"],
      ["POST", "/revoke-session"],
      ["POST", "/revoke-sessions"],
      ["POST", "/revoke-other-sessions"],
      ["POST", "/change-email"],
      ["POST", "/change-password"],
      ["POST", "/set-password"],
      ["POST", "/update-user"],
      ["POST", "/update-session"],
      ["POST", "/delete-user"],
      ["GET", "/delete-user/callback"],
      ["POST", "/request-password-reset"],
      ["POST", "/reset-password"],
      ["GET", "/reset-password/abc"],
      ["POST", "/verify-password"],
      ["GET", "/verify-email"],
      ["POST", "/send-verification-email"],
      ["GET", "/list-accounts"],
      ["POST", "/link-social"],
      ["POST", "/unlink-account"],
      ["POST", "/refresh-token"],
      ["POST", "/get-access-token"],
      ["GET", "/account-info"],
      ["GET", "/callback/github"],
      ["GET", "/ok"],
      ["GET", "/error"],
      ["POST", "/sign-in/email/"],
      ["POST", "//sign-in/email"],
      ["POST", "/sign-in/%65mail"],
    ];
    for (const [method, path] of refused) {
      const response = await callAuth(method, path, { peer: "198.51.100.1", ...(method === "POST" ? { body: {} } : {}) });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found:route");
    }
    expect((await callAuth("GET", "/get-session", { peer: "198.51.100.1" })).status).toBe(200);
    expect((await callAuth("POST", "/sign-out", { peer: "198.51.100.1", body: {} })).status).toBe(200);
    expect((await signIn("val@example.com", PASSWORD, { peer: "198.51.100.1" })).status).toBe(200);
  });

  it("refuses an oversized sign-in body before better-auth reads it", async () => {
    const response = await callAuth("POST", "/sign-in/email", {
      peer: "198.51.100.1",
      body: { email: "val@example.com", password: "x".repeat(64 * 1024) },
    });
    expect(response.status).toBe(413);
  });

  it("limits sign-in per address: rotating X-Forwarded-For from an untrusted peer gains nothing", async () => {
    for (let i = 0; i < MAX_PER_ADDRESS; i += 1) {
      const response = await signIn(`nobody-${i}@example.com`, "wrong password", {
        peer: "198.51.100.7",
        headers: { "x-forwarded-for": `203.0.113.${i}` },
      });
      expect(response.status).toBe(401);
    }
    const blocked = await signIn("val@example.com", PASSWORD, { peer: "198.51.100.7", headers: { "x-forwarded-for": "203.0.113.200" } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await blocked.json()).toMatchObject({ code: "rate_limited" });
    expect(blocked.headers.getSetCookie()).toEqual([]);
    // Another client is not affected.
    expect((await signIn("val@example.com", PASSWORD, { peer: "198.51.100.8" })).status).toBe(200);
    // The audit log names the socket peer, not what the client claimed.
    const failed = await entries("session.sign_in_failed");
    expect(failed).toHaveLength(MAX_PER_ADDRESS);
    expect(new Set(failed.map((e) => e.details.ip))).toEqual(new Set(["198.51.100.7"]));
  });

  it("counts an IPv6 client per /64: rotating within its network gains nothing", async () => {
    for (let i = 0; i < MAX_PER_ADDRESS; i += 1) {
      expect((await signIn(`nobody-${i}@example.com`, "wrong password", { peer: `2001:db8:7:7::${(i + 1).toString(16)}` })).status).toBe(401);
    }
    expect((await signIn("val@example.com", PASSWORD, { peer: "2001:db8:7:7:ffff:1:2:3" })).status).toBe(429);
    expect((await signIn("val@example.com", PASSWORD, { peer: "2001:db8:7:8::1" })).status).toBe(200);
    // The audit log still has each exact address.
    const failed = await entries("session.sign_in_failed");
    expect(failed[0]!.details.ip).toBe(`2001:db8:7:7::${MAX_PER_ADDRESS.toString(16)}`);
  });

  it("limits sign-in per account: rotating addresses against one account is slowed too", async () => {
    for (let i = 0; i < MAX_PER_ACCOUNT; i += 1) {
      expect((await signIn("sam@example.com", `guess ${i}`, { peer: `198.51.100.${20 + i}` })).status).toBe(401);
    }
    const blocked = await signIn("SAM@example.com ", PASSWORD, { peer: "198.51.100.99" });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // Other accounts from a fresh address are fine.
    expect((await signIn("val@example.com", PASSWORD, { peer: "198.51.100.98" })).status).toBe(200);
  });

  it("counts the form's sign-in and the API's against one limit", async () => {
    const headers = new Headers({ [PEER_HEADER]: "198.51.100.50", origin: BASE });
    for (let i = 0; i < MAX_PER_ACCOUNT; i += 1) {
      if (i % 2 === 0) {
        await expect(signInWithPassword(headers, "val@example.com", `wrong ${i}`)).rejects.toMatchObject({ kind: "unauthenticated" });
      } else {
        expect((await signIn("val@example.com", `wrong ${i}`, { peer: "198.51.100.50" })).status).toBe(401);
      }
    }
    await expect(signInWithPassword(headers, "val@example.com", PASSWORD)).rejects.toMatchObject({
      kind: "rate_limited",
      message: expect.stringContaining("Too many sign-in attempts"),
    });
    expect((await signIn("val@example.com", PASSWORD, { peer: "198.51.100.51" })).status).toBe(429);
    // The form's failures are audited like the API's.
    const failed = await entries("session.sign_in_failed");
    expect(failed.slice(0, MAX_PER_ACCOUNT).every((e) => e.targetId === valId && e.details.ip === "198.51.100.50")).toBe(true);
  });

  it("does not count successful sign-ins", async () => {
    for (let i = 0; i < MAX_PER_ADDRESS + 2; i += 1) {
      expect((await signIn("val@example.com", PASSWORD, { peer: "198.51.100.60" })).status).toBe(200);
    }
  });

  it("follows X-Forwarded-For only through trusted proxies, right to left, for the audit log and the session", async () => {
    const response = await signIn("val@example.com", PASSWORD, {
      peer: "::ffff:127.0.0.1",
      headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.77, 10.1.2.3", [CLIENT_ADDRESS_HEADER]: "6.6.6.6" },
    });
    expect(response.status).toBe(200);
    const entry = await latest("session.sign_in");
    expect(entry).toMatchObject({ actorKind: "user", actorId: valId, targetType: "user", targetId: valId });
    expect(entry!.details.ip).toBe("203.0.113.77");
    const [row] = await handle().db.select().from(session).where(eq(session.id, entry!.details.sessionId as string));
    expect(row?.ipAddress).toBe("203.0.113.77");

    // Rotating the claimed left-most entries behind the trusted proxy: still one client.
    for (let i = 0; i < MAX_PER_ADDRESS; i += 1) {
      await signIn(`x${i}@example.com`, "wrong password", { peer: "127.0.0.1", headers: { "x-forwarded-for": `6.6.6.${i}, 203.0.113.88` } });
    }
    expect((await signIn("val@example.com", PASSWORD, { peer: "127.0.0.1", headers: { "x-forwarded-for": "203.0.113.88" } })).status).toBe(429);
  });

  it("knows no address without the peer header, and never takes one from the client", async () => {
    const response = await signIn("val@example.com", PASSWORD, {
      headers: { "x-forwarded-for": "6.6.6.6", "x-real-ip": "6.6.6.7", [CLIENT_ADDRESS_HEADER]: "6.6.6.8" },
    });
    expect(response.status).toBe(200);
    const entry = await latest("session.sign_in");
    expect(entry!.details.ip).toBeNull();
    const [row] = await handle().db.select().from(session).where(eq(session.id, entry!.details.sessionId as string));
    expect(row?.ipAddress ?? "").not.toMatch(/^6\.6\.6\./);
  });

  it("records a failed sign-in under the anonymous actor, with the attempted email and never the password", async () => {
    const secret = "hunter2-not-a-password";
    expect((await signIn("ghost@example.com", secret, { peer: "198.51.100.70" })).status).toBe(401);
    const unknown = await latest("session.sign_in_failed");
    expect(unknown).toMatchObject({
      actorKind: "system",
      actorId: "system:anonymous",
      actorLabel: "anonymous",
      targetType: "email",
      targetId: "ghost@example.com",
      details: { email: "ghost@example.com", ip: "198.51.100.70", reason: "wrong_credentials" },
    });

    expect((await signIn("Val@Example.com", secret, { peer: "198.51.100.70" })).status).toBe(401);
    const known = await latest("session.sign_in_failed");
    expect(known).toMatchObject({
      actorKind: "system",
      actorId: "system:anonymous",
      targetType: "user",
      targetId: valId,
      details: { email: "val@example.com", ip: "198.51.100.70", reason: "wrong_credentials" },
    });

    // Whatever was typed in the email field is kept only when it is an email.
    expect((await signIn(secret, secret, { peer: "198.51.100.70" })).status).toBeGreaterThanOrEqual(400);
    const garbled = await latest("session.sign_in_failed");
    expect(garbled).toMatchObject({ targetType: "email", targetId: "(none)", details: { email: null } });

    const all = await handle().db.select().from(auditEntry);
    expect(JSON.stringify(all)).not.toContain(secret);
  });

  it("records sign-outs through the API and through the form's direct call, not session expiry", async () => {
    const first = cookieOf(await signIn("val@example.com", PASSWORD, { peer: "198.51.100.80" }));
    const before = (await entries("session.sign_out")).length;
    const out = await callAuth("POST", "/sign-out", { peer: "198.51.100.81", headers: { cookie: first }, body: {} });
    expect(out.status).toBe(200);
    const viaApi = await latest("session.sign_out");
    expect(viaApi).toMatchObject({ actorKind: "user", actorId: valId, targetType: "user", targetId: valId, details: { ip: "198.51.100.81" } });

    const second = cookieOf(await signIn("val@example.com", PASSWORD, { peer: "198.51.100.80" }));
    const auth = await getAuth();
    await auth.api.signOut({ headers: new Headers({ cookie: second, [PEER_HEADER]: "198.51.100.82", origin: BASE }) });
    expect(await latest("session.sign_out")).toMatchObject({ actorId: valId, details: { ip: "198.51.100.82" } });
    expect((await entries("session.sign_out")).length).toBe(before + 2);

    // An expired session that better-auth cleans up is not a sign-out.
    const third = cookieOf(await signIn("val@example.com", PASSWORD, { peer: "198.51.100.80" }));
    const current = await sessionFromHeaders(new Headers({ cookie: third }));
    await handle().db.update(session).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(session.id, current!.sessionId));
    expect((await callAuth("GET", "/get-session", { peer: "198.51.100.80", headers: { cookie: third } })).status).toBe(200);
    expect((await entries("session.sign_out")).length).toBe(before + 2);
  });

  it("changes one's name, audited with before and after; unchanged is not recorded", async () => {
    const val: Principal = { kind: "user", id: valId, email: "val@example.com", name: "Val", role: "viewer" };
    const request = { sessionId: null, address: "198.51.100.110" };
    await expect(updateProfile(val, request, { name: " " })).rejects.toMatchObject({ kind: "invalid_input" });
    expect(await updateProfile(val, request, { name: "  Valentina " })).toEqual({ name: "Valentina" });
    expect(await latest("account.profile_update")).toMatchObject({
      actorKind: "user",
      actorId: valId,
      targetType: "user",
      targetId: valId,
      details: { name: { from: "Val", to: "Valentina" }, ip: "198.51.100.110" },
    });
    const count = (await entries("account.profile_update")).length;
    await updateProfile(val, request, { name: "Valentina" });
    expect((await entries("account.profile_update")).length).toBe(count);
    const [row] = await handle().db.select().from(user).where(eq(user.id, valId));
    expect(row?.name).toBe("Valentina");

    const { token } = await createToken(admin, { name: "profile-bot", scopes: ["admin"] });
    const tokenPrincipal: Principal = { kind: "token", id: token.id, name: token.name, scopes: ["admin"], teamId: null, createdBy: admin.id };
    await expect(updateProfile(tokenPrincipal, request, { name: "Bot" })).rejects.toMatchObject({ kind: "forbidden" });
  });

  it("changes one's password after checking the current one, ends the other sessions, and audits it in the same change", async () => {
    const sam: Principal = { kind: "user", id: "", email: "sam@example.com", name: "Sam", role: "editor" };
    const [samRow] = await handle().db.select().from(user).where(eq(user.email, "sam@example.com"));
    sam.id = samRow!.id;
    const here = cookieOf(await signIn("sam@example.com", PASSWORD, { peer: "198.51.100.90" }));
    cookieOf(await signIn("sam@example.com", PASSWORD, { peer: "198.51.100.91" }));
    const current = await sessionFromHeaders(new Headers({ cookie: here }));
    const request = { sessionId: current!.sessionId, address: "198.51.100.90" };
    const auditCount = (await handle().db.select().from(auditEntry)).length;

    await expect(
      changePassword(sam, request, { currentPassword: "not it at all", newPassword: "a brand new secret", confirmPassword: "a brand new secret" }),
    ).rejects.toMatchObject({ kind: "invalid_input", details: { fieldErrors: { currentPassword: expect.any(Array) } } });
    await expect(
      changePassword(sam, request, { currentPassword: PASSWORD, newPassword: "a brand new secret", confirmPassword: "something else" }),
    ).rejects.toMatchObject({ kind: "invalid_input", details: { fieldErrors: { confirmPassword: expect.any(Array) } } });
    await expect(changePassword(sam, request, { currentPassword: PASSWORD, newPassword: "short" })).rejects.toMatchObject({
      kind: "invalid_input",
    });
    // Refusals change nothing and record nothing.
    expect((await handle().db.select().from(auditEntry)).length).toBe(auditCount);
    expect((await signIn("sam@example.com", PASSWORD, { peer: "198.51.100.92" })).status).toBe(200);

    const result = await changePassword(sam, request, {
      currentPassword: PASSWORD,
      newPassword: "a brand new secret",
      confirmPassword: "a brand new secret",
      signOutOtherSessions: "on",
    });
    expect(result.otherSessionsEnded).toBe(2);
    const entry = await latest("account.password_change");
    expect(entry).toMatchObject({ actorKind: "user", actorId: sam.id, targetType: "user", targetId: sam.id, details: { otherSessionsEnded: 2, ip: "198.51.100.90" } });
    expect(JSON.stringify(entry)).not.toContain("a brand new secret");
    const left = await handle().db.select().from(session).where(eq(session.userId, sam.id));
    expect(left.map((s) => s.id)).toEqual([current!.sessionId]);
    expect((await signIn("sam@example.com", PASSWORD, { peer: "198.51.100.93" })).status).toBe(401);
    expect((await signIn("sam@example.com", "a brand new secret", { peer: "198.51.100.93" })).status).toBe(200);
  });

  it("counts wrong current passwords against the sign-in limit", async () => {
    const [samRow] = await handle().db.select().from(user).where(eq(user.email, "sam@example.com"));
    const sam: Principal = { kind: "user", id: samRow!.id, email: samRow!.email, name: samRow!.name, role: "editor" };
    const request = { sessionId: null, address: "198.51.100.95" };
    for (let i = 0; i < MAX_PER_ACCOUNT; i += 1) {
      await expect(changePassword(sam, request, { currentPassword: `guess ${i}`, newPassword: "another new secret" })).rejects.toMatchObject({
        kind: "invalid_input",
      });
    }
    await expect(changePassword(sam, request, { currentPassword: "a brand new secret", newPassword: "another new secret" })).rejects.toMatchObject({
      kind: "rate_limited",
    });
    expect((await signIn("sam@example.com", "a brand new secret", { peer: "198.51.100.96" })).status).toBe(429);
  });

  it("signs out one's other sessions, keeping this one", async () => {
    const here = cookieOf(await signIn("ada@example.com", PASSWORD, { peer: "198.51.100.100" }));
    cookieOf(await signIn("ada@example.com", PASSWORD, { peer: "198.51.100.101" }));
    const current = await sessionFromHeaders(new Headers({ cookie: here }));
    const ended = await signOutOtherSessions(admin, { sessionId: current!.sessionId, address: "198.51.100.100" }, undefined);
    expect(ended.sessionsEnded).toBeGreaterThanOrEqual(1);
    expect(await latest("session.sign_out_others")).toMatchObject({
      actorId: admin.id,
      targetId: admin.id,
      details: { sessionsEnded: ended.sessionsEnded, ip: "198.51.100.100" },
    });
    const left = await handle().db.select().from(session).where(and(eq(session.userId, admin.id)));
    expect(left.map((s) => s.id)).toEqual([current!.sessionId]);
    expect(await sessionFromHeaders(new Headers({ cookie: here }))).not.toBeNull();
  });

  it("keeps the audit chain intact", async () => {
    const verdict = await verifyAuditChain(admin);
    expect(verdict).toMatchObject({ ok: true, brokenAt: null });
    expect(verdict.entries).toBeGreaterThan(20);
  });
});
