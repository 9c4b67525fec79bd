import { describe, expect, it } from "vitest";
import { generateTokenSecret, hashTokenSecret, looksLikeToken } from "./secret.ts";

describe("token secrets", () => {
  it("are unique, well-formed, and stored only as a digest", () => {
    const a = generateTokenSecret();
    const b = generateTokenSecret();
    expect(a.secret).not.toBe(b.secret);
    expect(looksLikeToken(a.secret)).toBe(true);
    expect(a.hash).toBe(hashTokenSecret(a.secret));
    expect(a.hash).not.toContain(a.secret.slice(4));
    expect(a.secret.startsWith(a.displayPrefix)).toBe(true);
  });
  it("rejects strings of another shape", () => {
    expect(looksLikeToken("mpt_short")).toBe(false);
    expect(looksLikeToken(`xyz_${"a".repeat(43)}`)).toBe(false);
    expect(looksLikeToken(`mpt_${"a".repeat(43)} `)).toBe(false);
  });
});
