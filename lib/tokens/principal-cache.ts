import type { Principal } from "@/lib/auth/principal.ts";

/** A token principal as the cache keeps it. */
export type TokenPrincipal = Principal & { kind: "token" };

/** What a resolved secret is remembered as: its principal and the token fields each hit re-checks. */
export interface CachedToken {
  principal: TokenPrincipal;
  /** epoch ms, or null for a token that never expires: checked on every hit, so a cached token still expires on time */
  expiresAt: number | null;
  /** epoch ms of the last `lastUsedAt` written (or read), so hits keep updating it at its resolution */
  lastUsedAt: number | null;
}

/** Sizes and clock of a cache; the defaults are the portal's. */
export interface TokenCacheOptions {
  /** resolved tokens kept (least recently used dropped first) */
  capacity?: number;
  /** unknown, revoked or expired secrets kept, apart, so a flood of bad secrets never evicts good ones */
  unknownCapacity?: number;
  /** longest an unknown secret is remembered */
  unknownTtlMs?: number;
  /**
   * How long after an invalidation the affected tokens are not cached again. It is called while the change's
   * transaction is still open: a lookup in that window reads the old row, and must not keep it.
   */
  holdMs?: number;
  /** most tokens and creators held at once; beyond, nothing is cached until the holds lapse */
  maxHolds?: number;
  now?: () => number;
}

interface Slot<T> {
  value: T;
  until: number;
  /** when it was remembered */
  since: number;
}

/**
 * An in-process LRU of resolved token secrets, keyed by the secret's digest (the secret itself is never kept).
 * Bounded in entries and in time: an entry lives at most its TTL. Changes made in this process invalidate at
 * once; those of other instances arrive through the change feed (lib/tokens/tokens.ts wires it), and while the
 * feed is down a reader asks for entries no older than a second (`get`'s `maxAgeMs`).
 */
export class TokenPrincipalCache {
  readonly #resolved = new Map<string, Slot<CachedToken>>();
  readonly #unknown = new Map<string, Slot<null>>();
  /** `t:<token id>` or `c:<creator id>` → until when it is not cached */
  readonly #held = new Map<string, number>();
  #allHeldUntil = 0;
  #generation = 0;
  readonly #capacity: number;
  readonly #unknownCapacity: number;
  readonly #unknownTtlMs: number;
  readonly #holdMs: number;
  readonly #maxHolds: number;
  readonly #now: () => number;

  constructor(options: TokenCacheOptions = {}) {
    this.#capacity = options.capacity ?? 10_000;
    this.#unknownCapacity = options.unknownCapacity ?? 1_000;
    this.#unknownTtlMs = options.unknownTtlMs ?? 1_000;
    this.#holdMs = options.holdMs ?? 60_000;
    this.#maxHolds = options.maxHolds ?? 10_000;
    this.#now = options.now ?? (() => Date.now());
  }

  /**
   * The remembered outcome for a digest: a token (still unexpired), `null` for a secret known to be bad, or
   * `undefined` when the database must be asked. An entry remembered `maxAgeMs` ago or earlier is not trusted
   * (and dropped).
   */
  get(digest: string, maxAgeMs = Number.POSITIVE_INFINITY): CachedToken | null | undefined {
    const now = this.#now();
    const resolved = this.#resolved.get(digest);
    if (resolved) {
      this.#resolved.delete(digest);
      if (resolved.until <= now || now - resolved.since >= maxAgeMs) return undefined;
      const { expiresAt } = resolved.value;
      if (expiresAt !== null && expiresAt <= now) return null;
      this.#resolved.set(digest, resolved);
      return resolved.value;
    }
    const unknown = this.#unknown.get(digest);
    if (unknown) {
      if (unknown.until > now) return null;
      this.#unknown.delete(digest);
    }
    return undefined;
  }

  /**
   * Counts `clear()` calls: a lookup takes it before reading the database and hands it to `remember`, so a row
   * read before a clear is not kept after it.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Remembers a resolved token for `ttlMs`, unless it or its creator changed within the hold window, or the
   * cache was cleared since `generation` (when given) was taken. Its age counts from `readAt` (when the row was
   * read, if given): a revocation committed while the read was on its way is refused a second after it at most.
   */
  remember(digest: string, token: CachedToken, ttlMs: number, generation = this.#generation, readAt?: number): void {
    if (ttlMs <= 0 || generation !== this.#generation || this.#isHeld(token.principal)) return;
    const now = Math.min(this.#now(), readAt ?? Number.POSITIVE_INFINITY);
    this.#unknown.delete(digest);
    this.#resolved.delete(digest);
    this.#resolved.set(digest, { value: token, until: now + ttlMs, since: now });
    trim(this.#resolved, this.#capacity);
  }

  /** Remembers, briefly, that a digest resolves to nobody (unknown, revoked, expired, or a disabled creator). */
  rememberUnknown(digest: string, ttlMs: number): void {
    const ttl = Math.min(ttlMs, this.#unknownTtlMs);
    if (ttl <= 0) return;
    this.#resolved.delete(digest);
    this.#unknown.delete(digest);
    const now = this.#now();
    this.#unknown.set(digest, { value: null, until: now + ttl, since: now });
    trim(this.#unknown, this.#unknownCapacity);
  }

  /** Drops a token at once (it was revoked) and keeps it out for the hold window. */
  forgetToken(tokenId: string): void {
    this.#hold(`t:${tokenId}`);
    this.#drop((token) => token.principal.id === tokenId);
  }

  /** Drops every token a creator made (their role or account changed) and keeps them out for the hold window. */
  forgetCreator(creatorId: string): void {
    this.#hold(`c:${creatorId}`);
    this.#drop((token) => token.principal.createdBy === creatorId);
  }

  /** Forgets every resolved token (changes may have been missed); the holds stay. */
  clear(): void {
    this.#generation++;
    this.#resolved.clear();
  }

  /** How many resolved tokens and unknown secrets are kept (for tests). */
  get size(): { resolved: number; unknown: number } {
    return { resolved: this.#resolved.size, unknown: this.#unknown.size };
  }

  #drop(matches: (token: CachedToken) => boolean): void {
    for (const [digest, slot] of this.#resolved) if (matches(slot.value)) this.#resolved.delete(digest);
  }

  #hold(key: string): void {
    const now = this.#now();
    for (const [held, until] of this.#held) if (until <= now) this.#held.delete(held);
    if (this.#held.size >= this.#maxHolds) {
      // Too many changes at once to track one by one: cache nothing until they have all lapsed.
      this.#held.clear();
      this.#resolved.clear();
      this.#allHeldUntil = now + this.#holdMs;
      return;
    }
    this.#held.set(key, now + this.#holdMs);
  }

  #isHeld(principal: TokenPrincipal): boolean {
    const now = this.#now();
    if (this.#allHeldUntil > now) return true;
    const token = this.#held.get(`t:${principal.id}`);
    if (token !== undefined && token > now) return true;
    if (principal.createdBy === null) return false;
    const creator = this.#held.get(`c:${principal.createdBy}`);
    return creator !== undefined && creator > now;
  }
}

function trim(map: Map<string, unknown>, capacity: number): void {
  while (map.size > capacity) {
    const oldest = map.keys().next();
    if (oldest.done) return;
    map.delete(oldest.value);
  }
}

/** Longest a cached token is trusted while revocations from other instances may not arrive (the change feed is down). */
export const UNCONFIRMED_TTL_MS = 1_000;

const DEFAULT_TTL_SECONDS = 5;
const MAX_TTL_SECONDS = 300;

/**
 * How long a resolved token is trusted without asking the database: `MESHPORT_TOKEN_CACHE_SECONDS` (default 5,
 * 0 turns the cache off, at most 300). Revocations reach every instance through the change feed; while it is
 * down an entry is trusted for at most UNCONFIRMED_TTL_MS.
 */
export function tokenCacheTtlMs(env: Record<string, string | undefined> = process.env): number {
  const text = env.MESHPORT_TOKEN_CACHE_SECONDS?.trim();
  if (!text) return DEFAULT_TTL_SECONDS * 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) return DEFAULT_TTL_SECONDS * 1000;
  return Math.round(Math.min(seconds, MAX_TTL_SECONDS) * 1000);
}

// On globalThis: route handlers and server actions may load this module separately, and a revocation made by
// one must reach the cache the others read.
const globalForCache = globalThis as typeof globalThis & { __meshportTokenCache?: TokenPrincipalCache };

/** The process's one token cache. */
export function tokenPrincipalCache(): TokenPrincipalCache {
  globalForCache.__meshportTokenCache ??= new TokenPrincipalCache();
  return globalForCache.__meshportTokenCache;
}
