import { describe, expect, it } from "vitest";
import { decodeParam, pageNumber, positiveInteger, queryText } from "./page-query.ts";

describe("page query parameters", () => {
  it.each([
    [undefined, 1],
    ["2", 2],
    ["1e309", 1],
    ["-1", 1],
    ["NaN", 1],
    ["1.5", 1],
    ["0x10", 1],
    ["99999999999999999999999", 1],
    ["2147483648", 400],
    [["3", "4"], 3],
  ] as const)("reads page %j as %d", (value, page) => {
    expect(pageNumber(value as string | string[] | undefined, 400)).toBe(page);
  });
  it("takes the first of repeated text, and drops blank or overlong text", () => {
    expect(queryText(["a", "b"])).toBe("a");
    expect(queryText("  ")).toBeUndefined();
    expect(queryText("x".repeat(201))).toBeUndefined();
    expect(queryText(" orders ")).toBe("orders");
  });
  it("reads cursors as positive safe integers only", () => {
    expect(positiveInteger("42")).toBe(42);
    expect(positiveInteger("9007199254740993")).toBeUndefined();
    expect(positiveInteger("0")).toBeUndefined();
    expect(positiveInteger("4e2")).toBeUndefined();
  });
  it("decodes a path parameter once more, keeping what does not decode", () => {
    expect(decodeParam("plant%2F%2B%2Ftemp")).toBe("plant/+/temp");
    expect(decodeParam("%E0%A4%A")).toBe("%E0%A4%A");
    expect(decodeParam("100%")).toBe("100%");
  });
});
