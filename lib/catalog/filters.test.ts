import { describe, expect, it } from "vitest";
import { isValidMqttFilter } from "./topics.ts";

describe("isValidMqttFilter", () => {
  it("accepts filters with + and # standing alone, # last", () => {
    for (const f of ["#", "plant/#", "plant/+/temperature", "+/+", "a/b/c", "/leading"]) expect(isValidMqttFilter(f)).toBe(true);
  });
  it("refuses misplaced wildcards and empty filters", () => {
    for (const f of ["", "plant/#/x", "plant/te#", "plant/+x/y", "a\u0000b"]) expect(isValidMqttFilter(f)).toBe(false);
  });
});
