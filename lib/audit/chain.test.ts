import { describe, expect, it } from "vitest";
import { auditHash, canonicalJson, GENESIS_HASH, type AuditContent } from "./chain.ts";

const entry: AuditContent = {
  at: new Date("2026-01-02T03:04:05.678Z"),
  actorKind: "user",
  actorId: "u1",
  actorLabel: "ada@example.com",
  action: "token.create",
  targetType: "api_token",
  targetId: "t1",
  details: { scopes: ["read"], name: "ci" },
};

describe("canonicalJson", () => {
  it("does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });
  it("drops undefined members like JSON does", () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });
});

describe("auditHash", () => {
  it("chains on the previous hash", () => {
    const first = auditHash(GENESIS_HASH, entry);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(auditHash(first, entry)).not.toBe(first);
  });
  it("changes when any covered field changes", () => {
    const base = auditHash(GENESIS_HASH, entry);
    expect(auditHash(GENESIS_HASH, { ...entry, actorId: "u2" })).not.toBe(base);
    expect(auditHash(GENESIS_HASH, { ...entry, details: { scopes: ["admin"], name: "ci" } })).not.toBe(base);
    expect(auditHash(GENESIS_HASH, { ...entry, at: new Date(entry.at.getTime() + 1) })).not.toBe(base);
  });
});

describe("auditHash over a stored row", () => {
  it("ignores columns outside the covered content", () => {
    const stored = { ...entry, seq: 42, prevHash: GENESIS_HASH, hash: "x" };
    expect(auditHash(GENESIS_HASH, stored)).toBe(auditHash(GENESIS_HASH, entry));
  });
});
