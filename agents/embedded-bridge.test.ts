import { describe, expect, it } from "vitest";
import { parseFilter } from "../registry/topics/index.ts";
import { filtersOverlap } from "./embedded-bridge.ts";

const filter = (text: string) => {
  const parsed = parseFilter(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
};

describe("filtersOverlap", () => {
  it("is true when some topic matches both filters", () => {
    for (const [a, b] of [
      ["erp/#", "erp/orders/+/confirmed"],
      ["#", "scm/x"],
      ["a/+", "+/b"],
      ["a/b", "a/b"],
      ["a/#", "a"],
      ["+/+/c", "a/#"],
    ]) {
      expect(filtersOverlap(filter(a!), filter(b!)), `${a} ${b}`).toBe(true);
      expect(filtersOverlap(filter(b!), filter(a!)), `${b} ${a}`).toBe(true);
    }
  });

  it("is false when no topic does", () => {
    for (const [a, b] of [
      ["erp/#", "scm/#"],
      ["a/+", "a/+/c"],
      ["a/b", "a/c"],
      ["a", "a/b"],
      ["+/x/#", "a/y/#"],
    ]) {
      expect(filtersOverlap(filter(a!), filter(b!)), `${a} ${b}`).toBe(false);
      expect(filtersOverlap(filter(b!), filter(a!)), `${b} ${a}`).toBe(false);
    }
  });
});
