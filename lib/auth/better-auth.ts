import "server-only";
import { betterAuth } from "better-auth";
import { APIError, createAuthMiddleware, isAPIError } from "better-auth/api";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { nextCookies } from "better-auth/next-js";
import type { Database } from "@/db/client.ts";
import { getDb, schema } from "@/db/client.ts";
import { recordAudit } from "@/lib/audit/record.ts";
import { MeshportError, isMeshportError } from "@/lib/errors.ts";
import { CLIENT_ADDRESS_HEADER, clientAddress } from "@/lib/http/client-address.ts";
import { accountKey, refundPasswordCheck, reservePasswordCheck } from "@/lib/http/sign-in-limit.ts";
import { portalUrl, trustedOrigins } from "@/lib/http/origins.ts";
import { systemPrincipal } from "./principal.ts";
import { authSecret } from "./secret.ts";

/** Minimum password length for every account. */
export const MIN_PASSWORD_LENGTH = 10;

// Pure, so the proxy can share them.
export { portalUrl, trustedOrigins };

/** Who failed to sign in: nobody known yet, whatever email they typed. */
export const ANONYMOUS = systemPrincipal("anonymous");

const SIGN_IN_PATH = "/sign-in/email";
const SIGN_OUT_PATH = "/sign-out";

/** Headers of an auth endpoint call: better-auth's context has them for HTTP and direct calls alike. */
function headersOf(context: { headers?: Headers } | null | undefined): Headers {
  return context?.headers ?? new Headers();
}

async function accountOwner(db: Database, where: { id: string } | { email: string }) {
  const [owner] = await db
    .select({ id: schema.user.id, email: schema.user.email, name: schema.user.name, role: schema.user.role })
    .from(schema.user)
    .where("id" in where ? eq(schema.user.id, where.id) : eq(schema.user.email, where.email));
  return owner;
}

/** Sign-ins and sign-outs are recorded in the audit log, with the account as the actor. */
async function auditSession(
  db: Database,
  action: "session.sign_in" | "session.sign_out",
  session: { id: string; userId: string },
  headers: Headers,
): Promise<void> {
  const owner = await accountOwner(db, { id: session.userId });
  if (!owner) return;
  await db.transaction((tx) =>
    recordAudit(tx, { kind: "user", ...owner }, {
      action,
      targetType: "user",
      targetId: owner.id,
      details: { ip: clientAddress(headers), sessionId: session.id },
    }),
  );
}

/** The attempted email when it looks like one; anything else is not worth keeping (it may be a mistyped password). */
function attemptedEmail(body: unknown): string | null {
  const email = body && typeof body === "object" && "email" in body ? (body as { email: unknown }).email : null;
  if (typeof email !== "string") return null;
  const key = accountKey(email);
  return z.email().max(254).safeParse(key).success ? key : null;
}

/**
 * A failed sign-in is recorded under the anonymous actor (whoever typed the email is not known to
 * be its owner), against the account when it exists, else against the email typed. Never the password.
 */
async function auditFailedSignIn(db: Database, email: string | null, headers: Headers, status: number): Promise<void> {
  const owner = email ? await accountOwner(db, { email }) : undefined;
  const reason = status === 403 ? "refused" : status === 401 ? "wrong_credentials" : "invalid_input";
  await db.transaction((tx) =>
    recordAudit(tx, ANONYMOUS, {
      action: "session.sign_in_failed",
      targetType: owner ? "user" : "email",
      targetId: owner?.id ?? email ?? "(none)",
      details: { email, ip: clientAddress(headers), reason },
    }),
  );
}

function createAuth(db: Database) {
  return betterAuth({
    appName: "Meshport",
    baseURL: portalUrl(),
    secret: authSecret(),
    trustedOrigins: trustedOrigins(),
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: { user: schema.user, session: schema.session, account: schema.account, verification: schema.verification },
    }),
    emailAndPassword: {
      enabled: true,
      // Accounts are created by admins (or the first-admin set-up), never by open sign-up.
      disableSignUp: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: 256,
    },
    user: {
      additionalFields: {
        role: { type: "string", input: false, required: false, defaultValue: "viewer" },
        disabledAt: { type: "date", input: false, required: false },
      },
    },
    databaseHooks: {
      session: {
        create: {
          // A disabled account keeps its data but can no longer start sessions.
          async before(newSession) {
            const [owner] = await db
              .select({ disabledAt: schema.user.disabledAt })
              .from(schema.user)
              .where(eq(schema.user.id, newSession.userId));
            if (!owner || owner.disabledAt) throw new APIError("FORBIDDEN", { message: "This account is disabled." });
          },
          async after(created, context) {
            await auditSession(db, "session.sign_in", created, headersOf(context));
          },
        },
        delete: {
          // Only a sign-out: better-auth also deletes sessions when they expire.
          async after(deleted, context) {
            if (context?.path === SIGN_OUT_PATH) await auditSession(db, "session.sign_out", deleted, headersOf(context));
          },
        },
      },
    },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        const address = clientAddress(headersOf(ctx));
        if (ctx.path === SIGN_IN_PATH) {
          try {
            reservePasswordCheck(address, attemptedEmail(ctx.body));
          } catch (error) {
            if (!isMeshportError(error)) throw error;
            const retryAfter = String((error.details as { retryAfterSeconds: number }).retryAfterSeconds);
            throw new APIError("TOO_MANY_REQUESTS", { code: "rate_limited", message: error.message }, { "retry-after": retryAfter });
          }
        }
        // better-auth's own IP logic (session rows, its limiter) reads only the address computed here.
        return { context: { headers: new Headers({ [CLIENT_ADDRESS_HEADER]: address ?? "" }) } };
      }),
      after: createAuthMiddleware(async (ctx) => {
        if (ctx.path !== SIGN_IN_PATH) return;
        const returned: unknown = ctx.context.returned;
        const email = attemptedEmail(ctx.body);
        if (isAPIError(returned)) {
          await auditFailedSignIn(db, email, headersOf(ctx), returned.statusCode);
        } else {
          // A success does not count against the limit.
          refundPasswordCheck(clientAddress(headersOf(ctx)), email);
        }
      }),
    },
    session: {
      expiresIn: 60 * 60 * 24 * 7,
      updateAge: 60 * 60 * 24,
    },
    // The one sign-in limit is the portal's (lib/http/sign-in-limit.ts), for HTTP and direct calls alike.
    rateLimit: { customRules: { [SIGN_IN_PATH]: false } },
    advanced: {
      useSecureCookies: portalUrl().startsWith("https://"),
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
    },
    telemetry: { enabled: false },
    plugins: [nextCookies()],
  });
}

/** The configured better-auth instance. */
export type Auth = ReturnType<typeof createAuth>;

const globalForAuth = globalThis as typeof globalThis & { __meshportAuth?: Promise<Auth> };

/** The process-wide better-auth instance, bound to the process database. */
export function getAuth(): Promise<Auth> {
  globalForAuth.__meshportAuth ??= getDb().then(createAuth);
  return globalForAuth.__meshportAuth;
}

/**
 * Signs in with email and password on behalf of a portal form: the same endpoint, hooks, limit
 * and audit as `/api/auth/sign-in/email`; the session cookie is set through next/headers.
 */
export async function signInWithPassword(requestHeaders: Headers, email: string, password: string): Promise<void> {
  const auth = await getAuth();
  try {
    await auth.api.signInEmail({ body: { email, password }, headers: requestHeaders });
  } catch (error) {
    if (isAPIError(error) && error.statusCode === 429) throw new MeshportError("rate_limited", error.message);
    // One message for unknown email and wrong password: don't tell which accounts exist.
    throw new MeshportError("unauthenticated", "Wrong email or password, or the account is disabled.");
  }
}

/** Drops the cached instance (tests switch databases). */
export function resetAuth(): void {
  globalForAuth.__meshportAuth = undefined;
}
