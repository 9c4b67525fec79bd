import "server-only";
import { betterAuth } from "better-auth";
import { APIError } from "better-auth/api";
import { eq } from "drizzle-orm";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { nextCookies } from "better-auth/next-js";
import type { Database } from "@/db/client.ts";
import { getDb, schema } from "@/db/client.ts";
import { recordAudit } from "@/lib/audit/record.ts";
import { portalUrl, trustedOrigins } from "@/lib/http/origins.ts";
import { authSecret } from "./secret.ts";

/** Minimum password length for every account. */
export const MIN_PASSWORD_LENGTH = 10;

// Pure, so the proxy can share them.
export { portalUrl, trustedOrigins };

/** Sign-ins are recorded in the audit log, with the account as the actor. */
async function auditSessionStart(db: Database, userId: string, ipAddress: string | null): Promise<void> {
  const [owner] = await db
    .select({ id: schema.user.id, email: schema.user.email, name: schema.user.name, role: schema.user.role })
    .from(schema.user)
    .where(eq(schema.user.id, userId));
  if (!owner) return;
  await db.transaction((tx) =>
    recordAudit(tx, { kind: "user", ...owner }, {
      action: "session.sign_in",
      targetType: "user",
      targetId: owner.id,
      details: { ip: ipAddress },
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
          async after(created) {
            await auditSessionStart(db, created.userId, created.ipAddress ?? null);
          },
        },
      },
    },
    session: {
      expiresIn: 60 * 60 * 24 * 7,
      updateAge: 60 * 60 * 24,
    },
    advanced: {
      useSecureCookies: portalUrl().startsWith("https://"),
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

/** Drops the cached instance (tests switch databases). */
export function resetAuth(): void {
  globalForAuth.__meshportAuth = undefined;
}
