import { describe, expect, it } from "vitest";
import { encodeSample, redact, sniff } from "./content.ts";

describe("sniff", () => {
  it("classifies payloads", () => {
    expect(sniff(Buffer.from('{"a":1}'))).toEqual({ kind: "json", value: { a: 1 } });
    expect(sniff(Buffer.from(" [1,2]")).kind).toBe("json");
    expect(sniff(Buffer.from("{not json")).kind).toBe("text");
    expect(sniff(Buffer.from("42")).kind).toBe("text");
    expect(sniff(Buffer.from([0xff, 0x00, 0x10])).kind).toBe("binary");
    expect(sniff(Buffer.alloc(0)).kind).toBe("empty");
  });
});

describe("redact", () => {
  it("replaces named fields at any depth, case-insensitively", () => {
    const r = redact({ user: { Password: "x", name: "n" }, list: [{ token: "t" }] }, new Set(["password", "token"]));
    expect(r).toEqual({ value: { user: { Password: "[redacted]", name: "n" }, list: [{ token: "[redacted]" }] }, hit: true });
  });
});

describe("encodeSample", () => {
  it("withholds truncated JSON when redaction is configured", () => {
    const bytes = Buffer.from('{"password":"secret","pad":"');
    const s = encodeSample({ at: 0, size: 5_000, bytes }, new Set(["password"]));
    expect(s.payload).not.toContain("secret");
    expect(s.truncated).toBe(true);
  });
  it("encodes binary as base64", () => {
    expect(encodeSample({ at: 0, size: 2, bytes: Buffer.from([0, 255]) }, new Set())).toMatchObject({ encoding: "base64", payload: "AP8=" });
  });
});
