import "server-only";
import { hashPassword, verifyPassword } from "better-auth/crypto";
import { and, count, eq, gt, ne } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Transaction } from "@/db/client.ts";
import { account, session, user } from "@/db/schema.ts";
import { MIN_PASSWORD_LENGTH } from "@/lib/auth/better-auth.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { reservePasswordCheck } from "@/lib/http/sign-in-limit.ts";
import { defineCommand, type AuthorizeContext } from "@/lib/service.ts";

/*
 * A signed-in person's own account: their name, their password, their other sessions. No role is
 * needed (everyone may look after their own account); the principal must be a user, never a token.
 */

/** The request a self-service change comes from: its session (kept) and client address (for the limit). */
export interface SelfServiceContext {
  sessionId: string | null;
  address: string | null;
}

/** What the account page shows. */
export interface AccountOverview {
  id: string;
  name: string;
  email: string;
  role: string;
  createdAt: Date;
  /** Live sessions of this account other than the current one. */
  otherSessions: number;
}

const FORBIDDEN_FOR_TOKENS = "Only a signed-in person changes their own account; API tokens cannot.";

interface OwnAccount {
  id: string;
  name: string;
  email: string;
}

/** The principal's own account row, locked for the change; a token or a disabled account is refused. */
async function ownAccount({ tx, principal }: Pick<AuthorizeContext<unknown>, "tx" | "principal">): Promise<OwnAccount> {
  if (principal.kind !== "user") throw new MeshportError("forbidden", FORBIDDEN_FOR_TOKENS);
  const [found] = await tx
    .select({ id: user.id, name: user.name, email: user.email, disabledAt: user.disabledAt })
    .from(user)
    .where(eq(user.id, principal.id))
    .for("update");
  if (!found || found.disabledAt) throw new MeshportError("unauthenticated", "Your session has ended; sign in again.");
  return { id: found.id, name: found.name, email: found.email };
}

/** The same, for commands that also take the request's session and address. */
function ownAccountFrom(ctx: Pick<AuthorizeContext<unknown>, "tx" | "principal">, _request: SelfServiceContext): Promise<OwnAccount> {
  return ownAccount(ctx);
}

/** Input to change one's profile. */
export const updateProfileInput = z.object({
  name: z.string().trim().min(1, { message: "Enter a name." }).max(120),
});

/** Changes one's display name. Recorded only when it changed. */
export const updateProfile = defineCommand({
  // Everyone may change their own name; `authorize` makes sure it is their own.
  permission: null,
  input: updateProfileInput,
  audit: "account.profile_update",
  auditOptional: true,
  authorize: ownAccountFrom,
  run: async ({ tx, input, target, audit }, request: SelfServiceContext): Promise<{ name: string }> => {
    if (input.name === target.name) return { name: target.name };
    await tx.update(user).set({ name: input.name }).where(eq(user.id, target.id));
    audit({
      targetType: "user",
      targetId: target.id,
      details: { name: { from: target.name, to: input.name }, ip: request.address },
    });
    return { name: input.name };
  },
});

const checkbox = z
  .union([z.boolean(), z.literal("on"), z.literal("true"), z.literal("false")])
  .optional()
  .transform((value) => value === true || value === "on" || value === "true");

/** Input to change one's password. */
export const changePasswordInput = z
  .object({
    currentPassword: z.string().min(1, { message: "Enter your current password." }).max(256),
    newPassword: z
      .string()
      .min(MIN_PASSWORD_LENGTH, { message: `Use at least ${MIN_PASSWORD_LENGTH} characters.` })
      .max(256),
    confirmPassword: z.string().max(256).optional(),
    signOutOtherSessions: checkbox,
  })
  .superRefine((value, ctx) => {
    if (value.confirmPassword !== undefined && value.confirmPassword !== value.newPassword) {
      ctx.addIssue({ code: "custom", path: ["confirmPassword"], message: "The two new passwords differ." });
    }
    if (value.newPassword === value.currentPassword) {
      ctx.addIssue({ code: "custom", path: ["newPassword"], message: "Choose a password different from the current one." });
    }
  });

/**
 * Changes one's password, after checking the current one (counted by the sign-in limit, so the
 * form is no way around it), and optionally ends one's other sessions. The new hash, the ended
 * sessions and the audit entry commit together.
 */
export const changePassword = defineCommand({
  permission: null,
  input: changePasswordInput,
  audit: "account.password_change",
  authorize: ownAccountFrom,
  run: async ({ tx, input, target, audit }, request: SelfServiceContext): Promise<{ otherSessionsEnded: number }> => {
    const [credential] = await tx
      .select({ id: account.id, password: account.password })
      .from(account)
      .where(and(eq(account.userId, target.id), eq(account.providerId, "credential")))
      .for("update");
    if (!credential?.password) {
      throw new MeshportError("conflict", "This account has no password to change.", { subject: "credential" });
    }
    const attempt = reservePasswordCheck(request.address, target.email);
    if (!(await verifyPassword({ hash: credential.password, password: input.currentPassword }))) {
      throw new MeshportError("invalid_input", "The current password is wrong.", {
        details: { fieldErrors: { currentPassword: ["The current password is wrong."] }, formErrors: [] },
      });
    }
    attempt.release();
    await tx
      .update(account)
      .set({ password: await hashPassword(input.newPassword), updatedAt: new Date() })
      .where(eq(account.id, credential.id));
    const otherSessionsEnded = input.signOutOtherSessions ? await endOtherSessions(tx, target.id, request.sessionId) : 0;
    audit({ targetType: "user", targetId: target.id, details: { otherSessionsEnded, ip: request.address } });
    return { otherSessionsEnded };
  },
});

/** Ends every session of the account except the current one. Recorded only when one ended. */
export const signOutOtherSessions = defineCommand({
  permission: null,
  input: z.undefined(),
  audit: "session.sign_out_others",
  auditOptional: true,
  authorize: ownAccountFrom,
  run: async ({ tx, target, audit }, request: SelfServiceContext): Promise<{ sessionsEnded: number }> => {
    const sessionsEnded = await endOtherSessions(tx, target.id, request.sessionId);
    if (sessionsEnded > 0) audit({ targetType: "user", targetId: target.id, details: { sessionsEnded, ip: request.address } });
    return { sessionsEnded };
  },
});

async function endOtherSessions(tx: Transaction, userId: string, keepSessionId: string | null): Promise<number> {
  const ended = await tx
    .delete(session)
    .where(keepSessionId ? and(eq(session.userId, userId), ne(session.id, keepSessionId)) : eq(session.userId, userId))
    .returning({ id: session.id });
  return ended.length;
}

/** One's own account, for the account page. */
export async function accountOverview(principal: Principal, currentSessionId: string | null): Promise<AccountOverview> {
  if (principal.kind !== "user") throw new MeshportError("forbidden", FORBIDDEN_FOR_TOKENS);
  const db = await getDb();
  const [found] = await db
    .select({ id: user.id, name: user.name, email: user.email, role: user.role, createdAt: user.createdAt })
    .from(user)
    .where(eq(user.id, principal.id));
  if (!found) throw new MeshportError("not_found", "No such user.", { subject: "user" });
  const live = and(eq(session.userId, principal.id), gt(session.expiresAt, new Date()));
  const [others] = await db
    .select({ n: count() })
    .from(session)
    .where(currentSessionId ? and(live, ne(session.id, currentSessionId)) : live);
  return { ...found, otherSessions: others?.n ?? 0 };
}
