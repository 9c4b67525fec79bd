import { describe, expect, it } from "vitest";
import type { ParsedSchema } from "@/registry/schematypes/index.ts";
import { BoundedLru, cacheSchemaView, clearRegistryCaches, evictionEpoch, evictSchemas, parsedSchemas, parsedWeight, schemaViews, type CachedSchema } from "./cache.ts";

describe("BoundedLru", () => {
  it("drops the least recently used entry past the entry bound", () => {
    const lru = new BoundedLru<number, string>(2, 1000, (v) => v.length);
    lru.set(1, "a");
    lru.set(2, "b");
    expect(lru.get(1)).toBe("a");
    lru.set(3, "c");
    expect(lru.get(2)).toBeUndefined();
    expect(lru.get(1)).toBe("a");
    expect(lru.get(3)).toBe("c");
  });

  it("keeps the total weight bounded and never holds an entry heavier than the bound", () => {
    const lru = new BoundedLru<number, string>(100, 10, (v) => v.length);
    lru.set(1, "aaaa");
    lru.set(2, "bbbb");
    lru.set(3, "cccc");
    expect(lru.size).toBe(2);
    expect(lru.get(1)).toBeUndefined();
    lru.set(4, "x".repeat(11));
    expect(lru.get(4)).toBeUndefined();
    expect(lru.size).toBe(2);
  });

  it("replaces and deletes entries, keeping the weight right", () => {
    const lru = new BoundedLru<number, string>(100, 8, (v) => v.length);
    lru.set(1, "aaaa");
    lru.set(1, "bbbbbbbb");
    expect(lru.get(1)).toBe("bbbbbbbb");
    lru.delete(1);
    lru.set(2, "cccc");
    lru.set(3, "dddd");
    expect(lru.size).toBe(2);
    lru.clear();
    expect(lru.size).toBe(0);
  });
});

describe("BoundedLru expiry", () => {
  it("drops an entry once its time to live has passed", () => {
    let now = 1_000;
    const lru = new BoundedLru<number, string>(10, 100, (v) => v.length, { ttlMs: 60_000, now: () => now });
    lru.set(1, "a");
    now += 59_999;
    expect(lru.get(1)).toBe("a");
    now += 1;
    expect(lru.get(1)).toBeUndefined();
    expect(lru.size).toBe(0);
  });
});

describe("registry caches", () => {
  const view = (schema: string): CachedSchema => ({ view: { schema } });

  it("does not put back a view read before an eviction ran", () => {
    clearRegistryCaches();
    const before = evictionEpoch();
    evictSchemas([41]);
    cacheSchemaView(41, view('"string"'), before);
    expect(schemaViews.get(41)).toBeUndefined();
    cacheSchemaView(41, view('"string"'), evictionEpoch());
    expect(schemaViews.get(41)).toEqual(view('"string"'));
    evictSchemas([41]);
    expect(schemaViews.get(41)).toBeUndefined();
  });

  it("weighs parsed schemas by their estimated heap and holds at most 2,000", () => {
    clearRegistryCaches();
    expect(parsedWeight({ canonical: "x".repeat(1000) })).toBeGreaterThanOrEqual(20_000);
    const parsed = { canonical: "{}" } as unknown as ParsedSchema;
    for (let id = 1; id <= 2001; id++) parsedSchemas.set(id, parsed);
    expect(parsedSchemas.size).toBe(2000);
    expect(parsedSchemas.get(1)).toBeUndefined();
    // A 20 MB text weighs past the budget: it is not kept at all.
    parsedSchemas.set(9999, { canonical: "x".repeat(20 * 1024 * 1024) } as unknown as ParsedSchema);
    expect(parsedSchemas.get(9999)).toBeUndefined();
    clearRegistryCaches();
  });
});
