import { describe, expect, it } from "vitest";
import { toPrefixTsquery } from "./search.ts";

describe("toPrefixTsquery", () => {
  it("requires every word and prefix-matches the last", () => {
    expect(toPrefixTsquery("Plant temp")).toBe("plant & temp:*");
  });
  it("drops operators and punctuation so user text cannot break the query", () => {
    expect(toPrefixTsquery("a & !b | (c):*")).toBe("a & b & c:*");
    expect(toPrefixTsquery("  ' & |  ")).toBeNull();
  });
  it("keeps identifiers with underscores and digits", () => {
    expect(toPrefixTsquery("order_id v2")).toBe("order_id & v2:*");
  });
});
