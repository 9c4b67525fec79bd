import { describe, expect, it } from "vitest";
import { BoundedLru } from "./cache.ts";

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
