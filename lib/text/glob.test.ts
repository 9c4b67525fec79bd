import { describe, expect, it } from "vitest";
import { globSpecificity, matchesGlob } from "./glob.ts";

describe("matchesGlob", () => {
  it.each([
    ["machine-monitor-*", "machine-monitor-7", true],
    ["machine-monitor-*", "machine-monitor-", true],
    ["machine-monitor-*", "machine-monitor", false],
    ["*-eu", "plant-eu", true],
    ["*-eu", "plant-us", false],
    ["a*b*c", "aXXbYYc", true],
    ["a*b*c", "aXXcYYb", false],
    ["*", "", true],
    ["", "", true],
    ["", "x", false],
    ["exact", "exact", true],
    ["exact", "exacter", false],
    ["a.b", "aXb", false],
    ["(a+)+$", "aaaa", false],
  ])("%s ~ %s → %s", (pattern, text, expected) => {
    expect(matchesGlob(pattern, text)).toBe(expected);
  });

  it("stays quadratic on a pattern built to backtrack", () => {
    expect(matchesGlob("*a".repeat(200) + "b", "a".repeat(5000))).toBe(false);
  });

  it("ranks patterns by their literal characters", () => {
    expect(globSpecificity("machine-*")).toBeGreaterThan(globSpecificity("m*"));
    expect(globSpecificity("**")).toBe(0);
  });
});
