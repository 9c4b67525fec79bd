import { describe, expect, it } from "vitest";
import { TokenPrincipalCache, tokenCacheTtlMs, type CachedToken } from "./principal-cache.ts";

function token(id: string, createdBy: string | null = "usr_a", expiresAt: number | null = null): CachedToken {
  return { principal: { kind: "token", id, name: id, scopes: ["read"], teamId: null, createdBy }, expiresAt, lastUsedAt: 0 };
}

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("token principal cache", () => {
  it("keeps a resolved token for its TTL and no longer", () => {
    const time = clock();
    const cache = new TokenPrincipalCache({ now: time.now });
    cache.remember("d1", token("tok_1"), 5_000);
    time.advance(4_999);
    expect(cache.get("d1")?.principal.id).toBe("tok_1");
    time.advance(1);
    expect(cache.get("d1")).toBeUndefined();
    expect(cache.size.resolved).toBe(0);
  });

  it("refuses a cached token once its own expiry passes, within the TTL", () => {
    const time = clock();
    const cache = new TokenPrincipalCache({ now: time.now });
    cache.remember("d1", token("tok_1", "usr_a", time.now() + 1_000), 60_000);
    expect(cache.get("d1")).not.toBeNull();
    time.advance(1_000);
    expect(cache.get("d1")).toBeNull();
  });

  it("caches nothing with a TTL of 0", () => {
    const cache = new TokenPrincipalCache();
    cache.remember("d1", token("tok_1"), 0);
    cache.rememberUnknown("d2", 0);
    expect(cache.get("d1")).toBeUndefined();
    expect(cache.get("d2")).toBeUndefined();
  });

  it("drops the least recently used token beyond its capacity", () => {
    const cache = new TokenPrincipalCache({ capacity: 2 });
    cache.remember("d1", token("tok_1"), 5_000);
    cache.remember("d2", token("tok_2"), 5_000);
    expect(cache.get("d1")).toBeTruthy(); // d1 is now the most recent
    cache.remember("d3", token("tok_3"), 5_000);
    expect(cache.get("d2")).toBeUndefined();
    expect(cache.get("d1")).toBeTruthy();
    expect(cache.get("d3")).toBeTruthy();
    expect(cache.size.resolved).toBe(2);
  });

  it("remembers unknown secrets briefly and apart, so a flood of them never evicts resolved tokens", () => {
    const time = clock();
    const cache = new TokenPrincipalCache({ capacity: 2, unknownCapacity: 3, unknownTtlMs: 1_000, now: time.now });
    cache.remember("good", token("tok_1"), 5_000);
    for (let i = 0; i < 100; i++) cache.rememberUnknown(`bad${i}`, 5_000);
    expect(cache.size).toEqual({ resolved: 1, unknown: 3 });
    expect(cache.get("good")).toBeTruthy();
    expect(cache.get("bad99")).toBeNull();
    expect(cache.get("bad0")).toBeUndefined();
    time.advance(1_000);
    expect(cache.get("bad99")).toBeUndefined();
  });

  it("forgets a revoked token at once and does not take it back during the hold window", () => {
    const time = clock();
    const cache = new TokenPrincipalCache({ holdMs: 10_000, now: time.now });
    cache.remember("d1", token("tok_1"), 5_000);
    cache.remember("d2", token("tok_2"), 5_000);
    cache.forgetToken("tok_1");
    expect(cache.get("d1")).toBeUndefined();
    expect(cache.get("d2")).toBeTruthy();
    // A lookup that read the row before the revocation committed must not keep it.
    cache.remember("d1", token("tok_1"), 5_000);
    expect(cache.get("d1")).toBeUndefined();
    time.advance(10_000);
    cache.remember("d1", token("tok_1"), 5_000);
    expect(cache.get("d1")).toBeTruthy();
  });

  it("forgets every token of a creator whose role or account changed", () => {
    const cache = new TokenPrincipalCache();
    cache.remember("d1", token("tok_1", "usr_a"), 5_000);
    cache.remember("d2", token("tok_2", "usr_a"), 5_000);
    cache.remember("d3", token("tok_3", "usr_b"), 5_000);
    cache.remember("d4", token("tok_4", null), 5_000);
    cache.forgetCreator("usr_a");
    expect([cache.get("d1"), cache.get("d2")]).toEqual([undefined, undefined]);
    expect(cache.get("d3")).toBeTruthy();
    expect(cache.get("d4")).toBeTruthy();
    cache.remember("d2", token("tok_2", "usr_a"), 5_000);
    expect(cache.get("d2")).toBeUndefined();
  });

  it("bounds its holds: past the limit it caches nothing until they lapse", () => {
    const time = clock();
    const cache = new TokenPrincipalCache({ maxHolds: 3, holdMs: 1_000, now: time.now });
    cache.remember("d9", token("tok_9", "usr_z"), 5_000);
    for (let i = 0; i < 4; i++) cache.forgetToken(`tok_${i}`);
    expect(cache.get("d9")).toBeUndefined();
    cache.remember("d9", token("tok_9", "usr_z"), 5_000);
    expect(cache.get("d9")).toBeUndefined();
    time.advance(1_000);
    cache.remember("d9", token("tok_9", "usr_z"), 5_000);
    expect(cache.get("d9")).toBeTruthy();
  });

  it("does not trust an entry older than the age a reader allows, and drops it", () => {
    const time = clock();
    const cache = new TokenPrincipalCache({ now: time.now });
    cache.remember("d1", token("tok_1"), 60_000);
    time.advance(999);
    expect(cache.get("d1", 1_000)?.principal.id).toBe("tok_1");
    time.advance(1);
    expect(cache.get("d1", 1_000)).toBeUndefined();
    expect(cache.get("d1")).toBeUndefined();
  });

  it("counts an entry's age and TTL from when its row was read, not when it was remembered", () => {
    const time = clock();
    const cache = new TokenPrincipalCache({ now: time.now });
    const readAt = time.now();
    time.advance(400);
    cache.remember("d1", token("tok_1"), 60_000, cache.generation, readAt);
    time.advance(599);
    expect(cache.get("d1", 1_000)?.principal.id).toBe("tok_1");
    time.advance(1);
    expect(cache.get("d1", 1_000)).toBeUndefined();
    cache.remember("d2", token("tok_2"), 1_000, cache.generation, time.now() - 500);
    time.advance(499);
    expect(cache.get("d2")?.principal.id).toBe("tok_2");
    time.advance(1);
    expect(cache.get("d2")).toBeUndefined();
  });

  it("forgets every resolved token on clear, and keeps no row read before it", () => {
    const cache = new TokenPrincipalCache();
    cache.remember("d1", token("tok_1"), 60_000);
    const before = cache.generation;
    cache.clear();
    expect(cache.get("d1")).toBeUndefined();
    cache.remember("d2", token("tok_2"), 60_000, before);
    expect(cache.get("d2")).toBeUndefined();
    cache.remember("d2", token("tok_2"), 60_000, cache.generation);
    expect(cache.get("d2")?.principal.id).toBe("tok_2");
  });

  it("reads its TTL from MESHPORT_TOKEN_CACHE_SECONDS, bounded", () => {
    expect(tokenCacheTtlMs({})).toBe(5_000);
    expect(tokenCacheTtlMs({ MESHPORT_TOKEN_CACHE_SECONDS: "0" })).toBe(0);
    expect(tokenCacheTtlMs({ MESHPORT_TOKEN_CACHE_SECONDS: "2.5" })).toBe(2_500);
    expect(tokenCacheTtlMs({ MESHPORT_TOKEN_CACHE_SECONDS: "86400" })).toBe(300_000);
    expect(tokenCacheTtlMs({ MESHPORT_TOKEN_CACHE_SECONDS: "-1" })).toBe(5_000);
    expect(tokenCacheTtlMs({ MESHPORT_TOKEN_CACHE_SECONDS: "soon" })).toBe(5_000);
  });
});
