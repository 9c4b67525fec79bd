import { describe, expect, it } from "vitest";
import { Reservoir } from "./reservoir.ts";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("Reservoir", () => {
  it("keeps at most its capacity and calls make only when keeping", () => {
    const r = new Reservoir<number>(5, seeded(1));
    let made = 0;
    for (let i = 0; i < 10_000; i++) r.offer(() => (made++, i));
    expect(r.items).toHaveLength(5);
    expect(r.seen).toBe(10_000);
    expect(made).toBeLessThan(100);
  });

  it("samples uniformly", () => {
    const hits = new Array(10).fill(0);
    const random = seeded(7);
    for (let round = 0; round < 4_000; round++) {
      const r = new Reservoir<number>(2, random);
      for (let i = 0; i < 10; i++) r.offer(() => i);
      for (const x of r.items) hits[x]++;
    }
    // Each element is kept with probability 2/10: 800 expected per element.
    for (const h of hits) {
      expect(h).toBeGreaterThan(650);
      expect(h).toBeLessThan(950);
    }
  });

  it("merges two streams in proportion to their sizes", () => {
    const random = seeded(3);
    let fromBig = 0;
    for (let round = 0; round < 2_000; round++) {
      const a = new Reservoir<string>(1, random);
      const b = new Reservoir<string>(1, random);
      for (let i = 0; i < 90; i++) a.offer(() => "a");
      for (let i = 0; i < 10; i++) b.offer(() => "b");
      a.merge(b);
      expect(a.seen).toBe(100);
      if (a.items[0] === "a") fromBig++;
    }
    expect(fromBig / 2_000).toBeGreaterThan(0.85);
  });
});
