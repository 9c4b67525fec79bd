import { describe, expect, it } from "vitest";
import { jsonNestingExceeds, MAX_JSON_DEPTH, parseBoundedJson } from "./input.ts";

describe("jsonNestingExceeds", () => {
  it("counts arrays and objects, not brackets inside strings or after escapes", () => {
    expect(jsonNestingExceeds('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(jsonNestingExceeds('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(jsonNestingExceeds(JSON.stringify({ text: "[[[[{{{{", quoted: '\\"[[[[' }), 1)).toBe(false);
    expect(jsonNestingExceeds("[".repeat(65), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonNestingExceeds(`${"[".repeat(64)}${"]".repeat(64)}`, MAX_JSON_DEPTH)).toBe(false);
  });

  it("refuses over-deep text before parsing it, and malformed text, with invalid_input", () => {
    expect(() => parseBoundedJson("[".repeat(15 * 1024 * 1024), "The report")).toThrow(/deeper than 64 levels/);
    expect(() => parseBoundedJson('{"a":', "The body")).toThrow(/not valid JSON/);
    expect(parseBoundedJson('{"a":[1,{"b":"]]]"}]}', "The body")).toEqual({ a: [1, { b: "]]]" }] });
  });
});

describe("jsonNestingExceeds on strings", () => {
  it("skips strings with escaped quotes and backslashes, and leaves unterminated text to the parser", () => {
    expect(jsonNestingExceeds(JSON.stringify(['\\"[[[', "\\\\", '"{{{']), 1)).toBe(false);
    expect(jsonNestingExceeds(`[${JSON.stringify("\\")},[[1]]]`, 2)).toBe(true);
    expect(jsonNestingExceeds('["unterminated [[[[', 1)).toBe(false);
  });
});
