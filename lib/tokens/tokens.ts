import "server-only";
import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Database, type Executor, type Transaction } from "@/db/client.ts";
import { apiToken, team, user, type ApiToken } from "@/db/schema.ts";
import { effectiveTokenScopes } from "@/lib/auth/permissions.ts";
import { ROLES, TOKEN_SCOPES, type Principal, type TokenScope } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { announceChange, changeFeed, type ChangeFeed } from "@/lib/events/changes.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand, defineQuery, idInput, noInput } from "@/lib/service.ts";
import { brokerBindingSchema } from "./binding.ts";
import { tokenCacheTtlMs, TokenPrincipalCache, tokenPrincipalCache, UNCONFIRMED_TTL_MS } from "./principal-cache.ts";
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
  /** the broker id, or `*` pattern, an agent:report token may report for (required with that scope) */
  brokers: z
    .preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), brokerBindingSchema.optional()),
})
  .superRefine((v, ctx) => {
    const agent = v.scopes.includes("agent:report");
    if (agent && v.brokers === undefined) {
      ctx.addIssue({ code: "custom", path: ["brokers"], message: "An agent:report token needs the broker id (or a pattern such as plant-*) it reports for." });
    }
    if (!agent && v.brokers !== undefined) {
      ctx.addIssue({ code: "custom", path: ["brokers"], message: "Only agent:report tokens are bound to brokers." });
    }
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
        brokerBinding: data.brokers ?? null,
        teamId,
        createdBy: tokenCreator(principal),
        expiresAt,
      })
      .returning();
    audit({
      targetType: "api_token",
      targetId: created!.id,
      details: { name: data.name, scopes: data.scopes, brokers: data.brokers ?? null, team: data.teamSlug ?? null, expiresAt },
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

/**
 * Whose authority a new token rests on: the signed-in user, or for a token made with a
 * token the person behind that one, so a chain of tokens never outlives its human.
 * Only the system (CLI, demo seed) makes tokens that rest on nobody.
 */
function tokenCreator(principal: Principal): string | null {
  if (principal.kind === "user") return principal.id;
  if (principal.kind === "token") return principal.createdBy;
  return null;
}

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
    tokenPrincipalCache().forgetToken(revoked.id);
    await announceChange(tx, "tokens", `t:${revoked.id}`);
    audit({ targetType: "api_token", targetId: revoked.id, details: { name: revoked.name } });
  },
});

/** What resolving a secret reads: the database, the cache and the change feed that keeps it honest, the clock. */
export interface TokenResolver {
  db: () => Promise<Database>;
  cache: TokenPrincipalCache;
  feed: ChangeFeed;
  ttlMs: () => number;
  now: () => number;
}

let ttlFromEnv: { text: string | undefined; ms: number } | undefined;

/** `tokenCacheTtlMs()`, read again only when the setting changes (it is asked on every request). */
function currentTtlMs(): number {
  const text = process.env.MESHPORT_TOKEN_CACHE_SECONDS;
  if (ttlFromEnv === undefined || ttlFromEnv.text !== text) ttlFromEnv = { text, ms: tokenCacheTtlMs() };
  return ttlFromEnv.ms;
}

// On globalThis, like the cache: every copy of this module must wire the one cache once.
const globalForFollow = globalThis as typeof globalThis & {
  __meshportTokenFollowers?: WeakMap<TokenPrincipalCache, WeakSet<ChangeFeed>>;
  __meshportTokenResolver?: TokenResolver;
};

/** The process's resolver: its database, its one cache, following its change feed. */
function processResolver(): TokenResolver {
  const cache = tokenPrincipalCache();
  const feed = changeFeed();
  const known = globalForFollow.__meshportTokenResolver;
  if (known?.cache === cache && known.feed === feed) return known;
  followTokenChanges(cache, feed);
  globalForFollow.__meshportTokenResolver = { db: getDb, cache, feed, ttlMs: currentTtlMs, now: () => Date.now() };
  return globalForFollow.__meshportTokenResolver;
}

/**
 * Makes a cache hear the token changes announced by every instance (`t:<tokenId>`, `c:<creatorId>`) and start
 * over after any gap in the feed. Once per cache and feed; returns a function that stops it.
 */
export function followTokenChanges(cache: TokenPrincipalCache, feed: ChangeFeed): () => void {
  globalForFollow.__meshportTokenFollowers ??= new WeakMap();
  const feeds = globalForFollow.__meshportTokenFollowers.get(cache) ?? new WeakSet<ChangeFeed>();
  globalForFollow.__meshportTokenFollowers.set(cache, feeds);
  if (feeds.has(feed)) return () => undefined;
  feeds.add(feed);
  const stops = [
    feed.onChange("tokens", (payload) => {
      if (payload.startsWith("t:")) cache.forgetToken(payload.slice(2));
      else if (payload.startsWith("c:")) cache.forgetCreator(payload.slice(2));
    }),
    feed.onFeedReset(() => cache.clear()),
  ];
  return () => {
    feeds.delete(feed);
    for (const stop of stops) stop();
  };
}

/**
 * Resolves a bearer secret to its principal, or null when the secret is unknown,
 * revoked or expired, or its creator's account is disabled. The scopes are those the
 * creator's current role still allows. A hot path (every API request): the outcome is
 * cached per digest for `MESHPORT_TOKEN_CACHE_SECONDS` (principal-cache.ts), so most calls
 * make no database round trip; a miss is one indexed lookup by digest. Revoking a token, or
 * changing its creator's role or account, invalidates this process's cache at once and every
 * other instance's when the change feed delivers it (live: a probe sent under a second ago came
 * back, so every change committed before it has); while it is not live, a cached token is
 * trusted for at most a second after it was read.
 */
export function principalForToken(secret: string): Promise<Principal | null> {
  return resolveTokenSecret(secret, processResolver());
}

/** `principalForToken` with its database, cache, feed and clock given (another instance, in tests). */
export async function resolveTokenSecret(secret: string, resolver: TokenResolver): Promise<Principal | null> {
  if (!looksLikeToken(secret)) return null;
  const digest = hashTokenSecret(secret);
  const ttlMs = resolver.ttlMs();
  const { cache } = resolver;
  const now = resolver.now();
  if (ttlMs > 0) {
    const cached = cache.get(digest, resolver.feed.live() ? Number.POSITIVE_INFINITY : UNCONFIRMED_TTL_MS);
    if (cached === null) return null;
    if (cached) {
      if (cached.lastUsedAt === null || now - cached.lastUsedAt > LAST_USED_RESOLUTION_MS) {
        // Marked first, so concurrent hits write it once.
        cached.lastUsedAt = now;
        await (await resolver.db()).update(apiToken).set({ lastUsedAt: new Date(now) }).where(eq(apiToken.id, cached.principal.id));
      }
      // A copy: callers annotate the principal of their request (its address).
      return { ...cached.principal, scopes: [...cached.principal.scopes] };
    }
  }
  // Taken before the read: a clear while it runs (the feed came back) means the row may be stale.
  const generation = cache.generation;
  const db = await resolver.db();
  const [row] = await db
    .select({ token: apiToken, creatorRole: user.role, creatorDisabledAt: user.disabledAt })
    .from(apiToken)
    .leftJoin(user, eq(user.id, apiToken.createdBy))
    .where(eq(apiToken.secretHash, digest));
  const found = row?.token;
  const creator = found?.createdBy ? creatorStanding(row!.creatorRole, row!.creatorDisabledAt) : null;
  if (!found || tokenStatus(found, now) !== "active" || creator?.disabled) {
    cache.rememberUnknown(digest, ttlMs);
    return null;
  }
  let lastUsedAt = found.lastUsedAt?.getTime() ?? null;
  if (lastUsedAt === null || now - lastUsedAt > LAST_USED_RESOLUTION_MS) {
    await db.update(apiToken).set({ lastUsedAt: new Date(now) }).where(eq(apiToken.id, found.id));
    lastUsedAt = now;
  }
  const principal: Principal & { kind: "token" } = {
    kind: "token",
    id: found.id,
    name: found.name,
    scopes: effectiveTokenScopes(knownScopes(found.scopes), creator),
    teamId: found.teamId,
    createdBy: found.createdBy,
  };
  cache.remember(digest, { principal, expiresAt: found.expiresAt?.getTime() ?? null, lastUsedAt }, ttlMs, generation, now);
  return { ...principal, scopes: [...principal.scopes] };
}

/**
 * Makes every instance forget the cached principals of a creator's tokens: call it in the transaction that
 * changes their role or disables their account. This process forgets at once (and keeps the tokens out of the
 * cache for a while, so a lookup racing the commit does not keep the old row); the others when it commits.
 */
export async function forgetTokenPrincipalsOf(tx: Executor, creatorId: string): Promise<void> {
  tokenPrincipalCache().forgetCreator(creatorId);
  await announceChange(tx, "tokens", `c:${creatorId}`);
}

function knownScopes(scopes: readonly string[]): TokenScope[] {
  return scopes.filter((s): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s));
}

/** The creator as the token sees them now; a creator row that is gone counts as disabled. */
function creatorStanding(role: string | null, disabledAt: Date | null): { role: (typeof ROLES)[number]; disabled: boolean } {
  const known = ROLES.find((r) => r === role);
  return known ? { role: known, disabled: disabledAt !== null } : { role: "viewer", disabled: true };
}

/** The scopes each of a creator's active tokens keeps under a new role, for those it limits. */
export async function tokensLimitedByRole(
  tx: Transaction,
  creatorId: string,
  role: (typeof ROLES)[number],
): Promise<Array<{ id: string; scopes: TokenScope[] }>> {
  const tokens = await activeTokensOf(tx, creatorId);
  return tokens.flatMap((t) => {
    const scopes = knownScopes(t.scopes);
    const kept = effectiveTokenScopes(scopes, { role, disabled: false });
    return kept.length < scopes.length ? [{ id: t.id, scopes: kept }] : [];
  });
}

/** Revokes every active token a creator made (their account is being disabled); returns the ids. */
export async function revokeTokensOf(tx: Transaction, creatorId: string, revokedBy: string | null): Promise<string[]> {
  await forgetTokenPrincipalsOf(tx, creatorId);
  const revoked = await tx
    .update(apiToken)
    .set({ revokedAt: new Date(), revokedBy })
    .where(and(eq(apiToken.createdBy, creatorId), isNull(apiToken.revokedAt)))
    .returning({ id: apiToken.id });
  return revoked.map((t) => t.id).sort();
}

async function activeTokensOf(tx: Transaction, creatorId: string) {
  const rows = await tx
    .select({ id: apiToken.id, scopes: apiToken.scopes, revokedAt: apiToken.revokedAt, expiresAt: apiToken.expiresAt })
    .from(apiToken)
    .where(and(eq(apiToken.createdBy, creatorId), isNull(apiToken.revokedAt)))
    .orderBy(apiToken.id);
  return rows.filter((t) => tokenStatus(t) === "active");
}

/** The broker binding of a token (null when unbound or unknown). */
export async function brokerBindingOf(tx: Transaction, tokenId: string): Promise<string | null> {
  const [found] = await tx.select({ binding: apiToken.brokerBinding }).from(apiToken).where(eq(apiToken.id, tokenId));
  return found?.binding ?? null;
}
