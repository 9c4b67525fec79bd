import "server-only";
import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { getDb } from "@/db/client.ts";
import { apiToken, team, user, type ApiToken } from "@/db/schema.ts";
import { TOKEN_SCOPES, type Principal, type TokenScope } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand, defineQuery, idInput, noInput } from "@/lib/service.ts";
import { generateTokenSecret, hashTokenSecret, looksLikeToken } from "./secret.ts";

// Writing last-used on every request would turn each read into a write; a minute is precise enough.
const LAST_USED_RESOLUTION_MS = 60_000;

/** A token as listed (never its secret). */
export type TokenView = Omit<ApiToken, "secretHash"> & {
  createdByEmail: string | null;
  teamSlug: string | null;
  status: TokenStatus;
};

/** Whether a token still works. */
export type TokenStatus = "active" | "revoked" | "expired";

function tokenStatus(token: Pick<ApiToken, "revokedAt" | "expiresAt">, now = Date.now()): TokenStatus {
  if (token.revokedAt) return "revoked";
  if (token.expiresAt && token.expiresAt.getTime() <= now) return "expired";
  return "active";
}

/** Input to create a token. */
export const createTokenInput = z.object({
  name: z.string().trim().min(1, { message: "Enter a name." }).max(100),
  scopes: z
    .array(z.enum(TOKEN_SCOPES))
    .min(1, { message: "Choose at least one scope." })
    .transform((scopes) => [...new Set(scopes)]),
  teamSlug: z.string().trim().min(1).max(60).optional(),
  expiresInDays: z.coerce.number().int().min(1).max(3650).optional(),
});

/** Creates a token and returns its secret, which is shown this once and never stored. */
export const createToken = defineCommand({
  permission: "tokens:manage",
  input: createTokenInput,
  audit: "token.create",
  run: async ({ tx, principal, input: data, audit }): Promise<{ token: TokenView; secret: string }> => {
    let teamId: string | null = null;
    if (data.teamSlug) {
      const [found] = await tx.select({ id: team.id }).from(team).where(eq(team.slug, data.teamSlug));
      if (!found) {
        throw new MeshportError("invalid_input", "The input is not valid.", {
          details: { fieldErrors: { teamSlug: [`No team ${data.teamSlug}.`] }, formErrors: [] },
        });
      }
      teamId = found.id;
    }
    const { secret, hash, displayPrefix } = generateTokenSecret();
    const expiresAt = data.expiresInDays ? new Date(Date.now() + data.expiresInDays * 86_400_000) : null;
    const [created] = await tx
      .insert(apiToken)
      .values({
        id: newId("tok"),
        name: data.name,
        prefix: displayPrefix,
        secretHash: hash,
        scopes: data.scopes,
        teamId,
        createdBy: principal.kind === "user" ? principal.id : null,
        expiresAt,
      })
      .returning();
    audit({
      targetType: "api_token",
      targetId: created!.id,
      details: { name: data.name, scopes: data.scopes, team: data.teamSlug ?? null, expiresAt },
    });
    const { secretHash: _omit, ...visible } = created!;
    void _omit;
    return {
      token: {
        ...visible,
        createdByEmail: principal.kind === "user" ? principal.email : null,
        teamSlug: data.teamSlug ?? null,
        status: tokenStatus(created!),
      },
      secret,
    };
  },
});

/** Lists tokens, newest first, revoked ones included. */
export const listTokens = defineQuery({
  permission: "tokens:manage",
  input: noInput,
  run: async ({ db }): Promise<TokenView[]> => {
    const rows = await db
      .select({ token: apiToken, createdByEmail: user.email, teamSlug: team.slug })
      .from(apiToken)
      .leftJoin(user, eq(user.id, apiToken.createdBy))
      .leftJoin(team, eq(team.id, apiToken.teamId))
      .orderBy(desc(apiToken.createdAt));
    return rows.map(({ token, createdByEmail, teamSlug }) => {
      const { secretHash: _omit, ...visible } = token;
      void _omit;
      return { ...visible, createdByEmail, teamSlug, status: tokenStatus(token) };
    });
  },
});

/** Revokes a token (`revokeToken(principal, tokenId)`); it stops working on the next request. Revoking twice is refused. */
export const revokeToken = defineCommand({
  permission: "tokens:manage",
  input: idInput,
  audit: "token.revoke",
  run: async ({ tx, principal, input: tokenId, audit }): Promise<void> => {
    const [revoked] = await tx
      .update(apiToken)
      .set({ revokedAt: new Date(), revokedBy: principal.kind === "user" ? principal.id : null })
      .where(and(eq(apiToken.id, tokenId), isNull(apiToken.revokedAt)))
      .returning({ id: apiToken.id, name: apiToken.name });
    if (!revoked) {
      const [exists] = await tx.select({ id: apiToken.id }).from(apiToken).where(eq(apiToken.id, tokenId));
      throw exists
        ? new MeshportError("conflict", "This token is already revoked.", { subject: "token" })
        : new MeshportError("not_found", "No such token.", { subject: "token" });
    }
    audit({ targetType: "api_token", targetId: revoked.id, details: { name: revoked.name } });
  },
});

/**
 * Resolves a bearer secret to its principal, or null when the secret is unknown,
 * revoked or expired. Constant work per call: one indexed lookup by digest.
 */
export async function principalForToken(secret: string): Promise<Principal | null> {
  if (!looksLikeToken(secret)) return null;
  const db = await getDb();
  const [found] = await db.select().from(apiToken).where(eq(apiToken.secretHash, hashTokenSecret(secret)));
  const now = Date.now();
  if (!found || tokenStatus(found, now) !== "active") return null;
  if (!found.lastUsedAt || now - found.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.update(apiToken).set({ lastUsedAt: new Date(now) }).where(eq(apiToken.id, found.id));
  }
  return {
    kind: "token",
    id: found.id,
    name: found.name,
    scopes: found.scopes.filter((s): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s)),
    teamId: found.teamId,
    createdBy: found.createdBy,
  };
}
