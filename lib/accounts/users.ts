import "server-only";
import { hashPassword } from "better-auth/crypto";
import { asc, count, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Transaction } from "@/db/client.ts";
import { account, session, user, type Role, type User } from "@/db/schema.ts";
import { MIN_PASSWORD_LENGTH } from "@/lib/auth/better-auth.ts";
import { ROLES } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand, defineQuery, idInput, noInput } from "@/lib/service.ts";
import { forgetTokenPrincipalsOf, revokeTokensOf, tokensLimitedByRole } from "@/lib/tokens/tokens.ts";

// Serialises the first-admin set-up so two racing requests cannot both create one.
const FIRST_ADMIN_LOCK_KEY = 7_316_542_003;

/** The user fields that are safe to show. */
export type PublicUser = Pick<User, "id" | "name" | "email" | "role" | "disabledAt" | "createdAt">;

const publicColumns = {
  id: user.id,
  name: user.name,
  email: user.email,
  role: user.role,
  disabledAt: user.disabledAt,
  createdAt: user.createdAt,
};

const email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ message: "Enter a valid email address." }).max(254));
const password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, { message: `Use at least ${MIN_PASSWORD_LENGTH} characters.` })
  .max(256);
const name = z.string().trim().min(1, { message: "Enter a name." }).max(120);

/** Input to create an account. */
export const createUserInput = z.object({
  name,
  email,
  password,
  role: z.enum(ROLES).default("viewer"),
});

// The password is hashed while the input is read, before the transaction opens.
const withPasswordHash = <T extends { password: string }>({ password: plain, ...rest }: T) =>
  hashPassword(plain).then((passwordHash) => ({ ...rest, passwordHash }));

/** Creates an account with an email + password credential. Admins only. */
export const createUser = defineCommand({
  permission: "users:manage",
  input: createUserInput.transform(withPasswordHash),
  audit: "user.create",
  run: async ({ tx, input, audit }): Promise<PublicUser> => {
    const created = await insertUser(tx, input, input.passwordHash);
    audit({ targetType: "user", targetId: created.id, details: { email: created.email, role: created.role } });
    return created;
  },
});

/** True when no account exists yet (the portal then offers the first-admin set-up). */
export async function needsFirstAdmin(): Promise<boolean> {
  const db = await getDb();
  const [row] = await db.select({ n: count() }).from(user);
  return (row?.n ?? 0) === 0;
}

/** Input to create the first admin. */
export const firstAdminInput = createUserInput.omit({ role: true });

/**
 * Creates the first admin of an empty portal. Anyone reaching the set-up page may do it,
 * but only while no account exists; afterwards accounts are created by admins.
 */
export const createFirstAdmin = defineCommand({
  // No role to check: nobody has one yet. The empty portal, checked under a lock, is the permission.
  permission: null,
  input: firstAdminInput.transform(withPasswordHash),
  audit: "user.create_first_admin",
  run: async ({ tx, input, audit }): Promise<PublicUser> => {
    await tx.execute(sql`select pg_advisory_xact_lock(${FIRST_ADMIN_LOCK_KEY})`);
    const [row] = await tx.select({ n: count() }).from(user);
    if ((row?.n ?? 0) > 0) {
      throw new MeshportError("conflict", "The portal already has accounts; ask an admin for one.", {
        subject: "first_admin",
      });
    }
    const created = await insertUser(tx, { ...input, role: "admin" }, input.passwordHash);
    audit({ targetType: "user", targetId: created.id, details: { email: created.email, role: created.role } });
    return created;
  },
});

async function insertUser(
  tx: Transaction,
  data: { name: string; email: string; role: Role },
  passwordHash: string,
): Promise<PublicUser> {
  const id = newId("usr");
  const inserted = await tx
    .insert(user)
    .values({ id, name: data.name, email: data.email, role: data.role, emailVerified: true })
    .onConflictDoNothing({ target: user.email })
    .returning(publicColumns);
  if (inserted.length === 0) {
    throw new MeshportError("conflict", `An account with the email ${data.email} already exists.`, {
      subject: "user",
      details: { fieldErrors: { email: ["An account with this email already exists."] } },
    });
  }
  // The credential account mirrors what better-auth's own sign-up writes, so its sign-in accepts it.
  await tx.insert(account).values({
    id: newId("acc"),
    accountId: id,
    providerId: "credential",
    userId: id,
    password: passwordHash,
  });
  return inserted[0]!;
}

/** Lists accounts, by name. */
export const listUsers = defineQuery({
  permission: "users:manage",
  input: noInput,
  run: ({ db }): Promise<PublicUser[]> => db.select(publicColumns).from(user).orderBy(asc(user.name), asc(user.email)),
});

/** Looks up one account. */
export const getUser = defineQuery({
  permission: "users:manage",
  input: idInput,
  run: async ({ db, input: userId }): Promise<PublicUser> => {
    const [found] = await db.select(publicColumns).from(user).where(eq(user.id, userId));
    if (!found) throw new MeshportError("not_found", "No such user.", { subject: "user" });
    return found;
  },
});

/** Input to change an account. */
export const updateUserInput = z
  .object({
    role: z.enum(ROLES).optional(),
    disabled: z.boolean().optional(),
  })
  .refine((v) => v.role !== undefined || v.disabled !== undefined, { message: "Nothing to change." });

/**
 * Changes an account's role or disables it. A disabled account loses its sessions at once
 * and its active API tokens are revoked; a demoted one's tokens keep only the scopes the
 * new role allows (enforced when a token is used; the audit entry lists which and to what).
 * The last active admin can be neither demoted nor disabled, so the portal keeps an admin.
 */
export const updateUser = defineCommand({
  permission: "users:manage",
  input: updateUserInput,
  audit: "user.update",
  run: async ({ tx, principal, input: data, audit }, userId: string): Promise<PublicUser> => {
    await tx.execute(sql`select pg_advisory_xact_lock(${FIRST_ADMIN_LOCK_KEY})`);
    const [current] = await tx.select(publicColumns).from(user).where(eq(user.id, userId)).for("update");
    if (!current) throw new MeshportError("not_found", "No such user.", { subject: "user" });
    const nextRole = data.role ?? current.role;
    const nextDisabled = data.disabled ?? current.disabledAt !== null;
    const losesAdmin = current.role === "admin" && current.disabledAt === null && (nextRole !== "admin" || nextDisabled);
    if (losesAdmin) {
      const [admins] = await tx
        .select({ n: count() })
        .from(user)
        .where(sql`${user.role} = 'admin' and ${user.disabledAt} is null`);
      if ((admins?.n ?? 0) <= 1) {
        throw new MeshportError("conflict", "This is the last active admin; make another admin first.", {
          subject: "last_admin",
        });
      }
    }
    const disabledAt = nextDisabled ? (current.disabledAt ?? new Date()) : null;
    const [updated] = await tx
      .update(user)
      .set({ role: nextRole, disabledAt })
      .where(eq(user.id, userId))
      .returning(publicColumns);
    if (nextDisabled) await tx.delete(session).where(eq(session.userId, userId));
    // Their tokens' scopes follow the role: cached principals must not outlive it.
    if (nextRole !== current.role) await forgetTokenPrincipalsOf(tx, userId);
    const actingUser = principal.kind === "user" ? principal.id : principal.kind === "token" ? principal.createdBy : null;
    const revokedTokens = nextDisabled ? await revokeTokensOf(tx, userId, actingUser) : [];
    const limitedTokens = !nextDisabled && nextRole !== current.role ? await tokensLimitedByRole(tx, userId, nextRole) : [];
    audit({
      targetType: "user",
      targetId: userId,
      details: {
        email: current.email,
        ...(current.role !== nextRole ? { role: { from: current.role, to: nextRole } } : {}),
        ...((current.disabledAt !== null) !== nextDisabled ? { disabled: nextDisabled } : {}),
        ...(revokedTokens.length > 0 ? { revokedTokens } : {}),
        ...(limitedTokens.length > 0 ? { limitedTokens } : {}),
      },
    });
    return updated!;
  },
});
