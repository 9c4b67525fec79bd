import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTemplate, patternsOverlap, templatesOverlap, topicMatchesTemplate, type LevelPattern, type StepCounter } from "./index.ts";

function patternOf(level: string): LevelPattern {
  const parsed = parseTemplate(level);
  if (!parsed.ok || parsed.value.levels[0]!.kind !== "pattern") throw new Error(`not a pattern: ${level}`);
  return parsed.value.levels[0]!.pattern;
}

describe("templatesOverlap", () => {
  it.each([
    ["plant/{line}/temperature", "plant/{id}/temperature", true],
    ["plant/{line}/temperature", "plant/line-{n}/{metric}", true],
    ["plant/line-{a}/t", "plant/{b}-7/t", true],
    ["plant/line-{a}/t", "plant/cell-{b}/t", false],
    ["plant/{a}-x/t", "plant/{b}-y/t", false],
    ["a/{x}b{y}/c", "a/{z}c{w}/c", true],
    ["a/ab{x}/c", "a/a{y}c/c", true],
    ["a/ab{x}/c", "a/ac{y}/c", false],
    ["a/{x}{y}z/c", "a/z/c", false],
    ["a/{x}{y}z/c", "a/qqz/c", true],
    ["orders/created", "orders/created", true],
    ["orders/created", "orders/cancelled", false],
    ["orders/{id}", "orders/{id}/lines", false],
    ["orders/{id}", "orders/", false],
    ["bad{", "orders/x", false],
    ["a/+/b", "a/{x}/b", false],
  ] as const)("%s ~ %s → %s", (a, b, expected) => {
    expect(templatesOverlap(a, b)).toBe(expected);
    expect(templatesOverlap(b, a)).toBe(expected);
  });

  it("agrees with a witness topic: when some topic is an instance of both, they overlap", () => {
    const level = fc.stringMatching(/^[ab{}]{0,6}$/).filter((s) => parseTemplate(s || "x").ok);
    const template = fc.array(fc.oneof(level, fc.constantFrom("{p}", "a", "ab")), { minLength: 1, maxLength: 3 }).map((ls) => ls.map((l) => l || "x").join("/"));
    const topic = fc.array(fc.stringMatching(/^[ab]{1,5}$/), { minLength: 1, maxLength: 3 }).map((ls) => ls.join("/"));
    fc.assert(
      fc.property(template, template, topic, (a, b, t) => {
        if (topicMatchesTemplate(t, a) && topicMatchesTemplate(t, b)) expect(templatesOverlap(a, b)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("finds no overlap that has no witness over a small alphabet", () => {
    // Every level of these patterns needs at most 6 characters to show an overlap, so brute force decides.
    const words: string[] = [];
    for (let n = 1; n <= 6; n++) {
      const walk = (prefix: string) => (prefix.length === n ? words.push(prefix) : ["a", "b"].forEach((c) => walk(prefix + c)));
      walk("");
    }
    const level = fc.array(fc.constantFrom("a", "b", "{p}"), { minLength: 1, maxLength: 3 }).map((xs) => xs.join("")).filter((s) => s.includes("{"));
    fc.assert(
      fc.property(level, level, (a, b) => {
        const witness = words.some((w) => topicMatchesTemplate(w, a) && topicMatchesTemplate(w, b));
        expect(patternsOverlap(patternOf(a), patternOf(b))).toBe(witness);
      }),
      { numRuns: 1000 },
    );
  });

  it("visits each pair of positions at most once", () => {
    const long = "x".repeat(300);
    const counter: StepCounter = { steps: 0 };
    expect(patternsOverlap(patternOf(`${long}{a}${long}y`), patternOf(`${long}{b}${long}z`), counter)).toBe(false);
    expect(counter.steps).toBe(0);
    const a = patternOf(`{a}${"ab".repeat(150)}{b}q`);
    const b = patternOf(`{c}${"ba".repeat(150)}{d}r`);
    expect(patternsOverlap(a, b, counter)).toBe(false);
    expect(counter.steps).toBeLessThanOrEqual(305 * 305);
  });
});
