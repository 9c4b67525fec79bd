import { describe, expect, it } from "vitest";
import { DEFAULT_NEXT_PATH, safeNextPath } from "./next-path.ts";

const PORTAL = "https://meshport.example.com";

describe("safeNextPath", () => {
  it.each([
    ["/catalog", "/catalog"],
    ["/applications/orders?tab=versions#v2", "/applications/orders?tab=versions#v2"],
    ["/reviews/42", "/reviews/42"],
    ["/a/../admin", "/admin"],
    ["/search?q=%2F%2Fevil.example", "/search?q=%2F%2Fevil.example"],
    ["/caf%C3%A9", "/caf%C3%A9"],
  ])("follows the portal's own path %j", (next, expected) => {
    expect(safeNextPath(next, PORTAL)).toBe(expected);
  });

  it.each([
    undefined,
    null,
    "",
    "catalog",
    "//evil.example",
    "//evil.example/catalog",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/ /evil.example",
    "/\u0000/evil.example",
    "/\u007f/evil.example",
    "/\u0085/evil.example",
    "/x\\y",
    " /catalog",
    "https://evil.example/",
    "https:evil.example",
    "http://meshport.example.com/catalog",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "///evil.example",
    "/%2F%2Fevil.example".replace("%2F%2F", "//"),
    `/${"a".repeat(5000)}`,
  ])("refuses %j", (next) => {
    expect(safeNextPath(next, PORTAL)).toBe(DEFAULT_NEXT_PATH);
  });

  it("keeps an encoded double slash as a path, never a host", () => {
    const path = safeNextPath("/%2F%2Fevil.example", PORTAL);
    expect(new URL(path, PORTAL).origin).toBe(PORTAL);
  });

  it("compares against the portal's configured origin", () => {
    expect(safeNextPath("/catalog", "http://localhost:3000")).toBe("/catalog");
    expect(safeNextPath("/catalog", "not a url")).toBe(DEFAULT_NEXT_PATH);
  });
});
