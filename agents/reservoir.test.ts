import { describe, expect, it } from "vitest";
import { Reservoir } from "./reservoir.ts";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** mulberry32: a small seeded generator whose successive draws are independent enough for chi-square tests. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Pearson's chi-square statistic of observed counts against one expected count for every cell. */
function chiSquare(observed: readonly number[], expected: number): number {
  return observed.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);
}

/** Streams 0..n-1 through a fresh reservoir with the allocation-free calls the observer makes. */
function sampleOf(capacity: number, n: number, random: () => number): number[] {
  const r = new Reservoir<number>(capacity, random);
  for (let i = 0; i < n; i++) {
    // The observer's hot path: count the offer, and look for a slot only when it may be kept.
    if (++r.seen < r.next) continue;
    const j = r.pick();
    if (j >= 0) r.put(j, i);
  }
  return r.items;
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

  // Chi-square critical values at p = 0.001: a correct sampler fails one of these about once in a thousand seeds;
  // the seeds are fixed, so the tests are deterministic.
  it("keeps every element of a stream with the same probability once it skips (chi-square over positions)", () => {
    const random = mulberry32(11);
    const n = 100;
    const hits = new Array<number>(n).fill(0);
    const trials = 20_000;
    for (let t = 0; t < trials; t++) for (const x of sampleOf(5, n, random)) hits[x]!++;
    // Each element is kept with probability 5/100; 99 degrees of freedom: critical value 148.2.
    expect(chiSquare(hits, (trials * 5) / n)).toBeLessThan(148.2);
    // The first elements (the fill) and the last (after many skips) alike, not only on average.
    const first = hits.slice(0, 5).reduce((a, b) => a + b, 0);
    const last = hits.slice(-5).reduce((a, b) => a + b, 0);
    expect(Math.abs(first - last)).toBeLessThan(300);
  });

  it("keeps every pair of elements with the same probability (a uniform sample, not only uniform marginals)", () => {
    const random = mulberry32(5);
    const n = 6;
    const pairs = new Map<string, number>();
    const trials = 30_000;
    for (let t = 0; t < trials; t++) {
      const key = [...sampleOf(2, n, random)].sort((a, b) => a - b).join(",");
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    // 15 pairs, each with probability 1/15; 14 degrees of freedom: critical value 36.12.
    expect(pairs.size).toBe(15);
    expect(chiSquare([...pairs.values()], trials / 15)).toBeLessThan(36.12);
  });

  it("stays uniform over long streams, where the skips are long", () => {
    const random = mulberry32(23);
    const n = 20_000;
    const deciles = new Array<number>(10).fill(0);
    const trials = 3_000;
    for (let t = 0; t < trials; t++) for (const x of sampleOf(5, n, random)) deciles[Math.floor((x * 10) / n)]!++;
    // 9 degrees of freedom: critical value 27.88.
    expect(chiSquare(deciles, (trials * 5) / 10)).toBeLessThan(27.88);
  });

  it("draws a random number only for the offers it keeps once full", () => {
    let draws = 0;
    const random = mulberry32(1);
    const r = new Reservoir<number>(5, () => (draws++, random()));
    for (let i = 0; i < 100_000; i++) r.offer(() => i);
    // About 5 × (1 + ln(100,000 / 5)) ≈ 55 keeps, three draws each: far fewer than one per offer.
    expect(r.seen).toBe(100_000);
    expect(draws).toBeLessThan(400);
  });

  it("gives draw() and the counted hot path the same sample", () => {
    const viaDraw = new Reservoir<number>(3, mulberry32(9));
    for (let i = 0; i < 5_000; i++) {
      const j = viaDraw.draw();
      if (j >= 0) viaDraw.put(j, i);
    }
    expect(sampleOf(3, 5_000, mulberry32(9))).toEqual(viaDraw.items);
  });

  it("keeps every offer when random() returns 0, and none past the fill when it returns almost 1", () => {
    const all = new Reservoir<number>(2, () => 0);
    let kept = 0;
    for (let i = 0; i < 100; i++) if (all.offer(() => i).kept) kept++;
    expect(kept).toBe(100);
    const none = new Reservoir<number>(2, () => 1 - 2 ** -53);
    kept = 0;
    for (let i = 0; i < 100; i++) if (none.offer(() => i).kept) kept++;
    expect(kept).toBe(2);
  });

  it("goes on sampling uniformly after a merge", () => {
    const random = mulberry32(17);
    const hits = new Array<number>(40).fill(0);
    const trials = 10_000;
    for (let t = 0; t < trials; t++) {
      const a = new Reservoir<number>(2, random);
      const b = new Reservoir<number>(2, random);
      for (let i = 0; i < 10; i++) a.offer(() => i);
      for (let i = 10; i < 20; i++) b.offer(() => i);
      a.merge(b);
      for (let i = 20; i < 40; i++) a.offer(() => i);
      for (const x of a.items) hits[x]!++;
    }
    // 2 of 40 kept, each with probability 1/20; 39 degrees of freedom: critical value 72.05.
    expect(chiSquare(hits, (trials * 2) / 40)).toBeLessThan(72.05);
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
