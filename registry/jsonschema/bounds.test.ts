/** The checker's bounds: comparison steps, reported unjudged keywords, and pattern properties from uploads. */
import { describe, expect, it } from "vitest";
import { COMPARISON_BUDGET, diffSchemas } from "./diff.ts";
import { checkEvolution, readerAccepts } from "./reader-writer.ts";
import { unjudgedChanges } from "./unjudged.ts";

const object = (properties: Record<string, unknown>) => ({ type: "object", properties });

describe("bounds of the checker", () => {
  it("reports at most 25 unjudged keyword changes, the first ones, however many there are", () => {
    const names = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, "0")}`);
    const before = object(Object.fromEntries(names.map((n) => [n, { type: "string" }])));
    const after = object(Object.fromEntries(names.map((n) => [n, { type: "string", format: "email" }])));
    const twentyFive = object(Object.fromEntries(names.map((n, i) => [n, i < 25 ? { type: "string", format: "email" } : { type: "string" }])));
    expect(unjudgedChanges(before, twentyFive)).toHaveLength(25);
    const reported = unjudgedChanges(before, after);
    expect(reported).toHaveLength(25);
    expect(reported[0]).toEqual({ keyword: "format", path: "#/properties/p00/format", current: "email" });
  });

  it("gives up past its step budget instead of hanging, and says so as data", () => {
    let a: unknown = { type: "string" };
    let b: unknown = { type: "number" };
    for (let depth = 0; depth < 8; depth++) {
      a = { anyOf: Array.from({ length: 6 }, (_, i) => ({ ...(a as object), title: `a${depth}-${i}` })) };
      b = { anyOf: Array.from({ length: 6 }, (_, i) => ({ ...(b as object), title: `b${depth}-${i}` })) };
    }
    expect(COMPARISON_BUDGET).toBe(100_000);
    expect(readerAccepts(b, a)).toMatchObject({ compatible: false, tooComplex: true });
    expect(checkEvolution(a, b)).toMatchObject({ backward: false, forward: false, tooComplex: true });
  });

  it("runs uploaded pattern properties on RE2: a catastrophic pattern answers at once, one over 1,000 characters matches nothing", () => {
    const evil = "^(a+)+$";
    const covered = { type: "object", properties: {}, additionalProperties: false, patternProperties: { [evil]: { type: "string" } } };
    const name = "a".repeat(5_000) + "!";
    // A backtracking engine would take longer than the universe has to decide this name; RE2 answers in linear time.
    expect(diffSchemas(covered, { ...covered, properties: { [name]: { type: "string" } } }).map((c) => c.type)).toEqual(["OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"]);
    expect(diffSchemas(covered, { ...covered, properties: { aaa: { type: "string" } } }).map((c) => c.type)).toEqual([
      "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
      "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    ]);
    const atBound = "^a" + "b?".repeat(499);
    // Still matches "a", but is longer than the bound: refused, so it covers nothing.
    const overBound = atBound + "b?";
    expect(atBound.length).toBe(1_000);
    const model = (pattern: string) => ({ type: "object", properties: {}, additionalProperties: false, patternProperties: { [pattern]: { type: "string" } } });
    expect(diffSchemas(model(atBound), { ...model(atBound), properties: { a: { type: "string" } } }).map((c) => c.type)).toContain("PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
    expect(diffSchemas(model(overBound), { ...model(overBound), properties: { a: { type: "string" } } }).map((c) => c.type)).not.toContain("PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL");
  });
});
