import { describe, expect, it } from "vitest";
import { ACTIONS, allowedActions, assertCan, can, effectiveTokenScopes, roleGrantsScope } from "./permissions.ts";
import { ROLES, TOKEN_SCOPES, type Principal, type TokenScope } from "./principal.ts";
import type { Role } from "@/db/schema.ts";

const userWith = (role: Role): Principal => ({ kind: "user", id: "u", email: "u@example.com", name: "U", role });
const tokenWith = (...scopes: TokenScope[]): Principal => ({ kind: "token", id: "t", name: "t", scopes, teamId: null, createdBy: null });

describe("role permissions", () => {
  it("grow from viewer to admin", () => {
    const order: Role[] = ["viewer", "editor", "reviewer", "admin"];
    for (let i = 1; i < order.length; i++) {
      const lower = allowedActions(userWith(order[i - 1]!));
      const higher = allowedActions(userWith(order[i]!));
      for (const action of lower) expect(higher).toContain(action);
      expect(higher.length).toBeGreaterThan(lower.length);
    }
  });
  it("keep admin work to admins", () => {
    for (const role of ROLES) {
      expect(can(userWith(role), "users:manage")).toBe(role === "admin");
      expect(can(userWith(role), "tokens:manage")).toBe(role === "admin");
    }
    expect(can(userWith("viewer"), "contracts:write")).toBe(false);
    expect(can(userWith("editor"), "contracts:write")).toBe(true);
    expect(can(userWith("editor"), "reviews:decide")).toBe(false);
    expect(can(userWith("reviewer"), "audit:read")).toBe(true);
  });
  it("never let a user report as an agent", () => {
    for (const role of ROLES) expect(can(userWith(role), "agent:report")).toBe(false);
  });
});

describe("token scopes", () => {
  it("grant only what they name", () => {
    expect(allowedActions(tokenWith("read"))).toEqual(["catalog:read"]);
    expect(can(tokenWith("agent:report"), "agent:report")).toBe(true);
    expect(can(tokenWith("agent:report"), "contracts:write")).toBe(false);
    expect(can(tokenWith("contracts:write"), "contracts:write")).toBe(true);
    expect(can(tokenWith("contracts:write"), "users:manage")).toBe(false);
    expect(can(tokenWith("admin"), "users:manage")).toBe(true);
  });
  it("combine", () => {
    const both = tokenWith("read", "agent:report");
    expect(can(both, "agent:report") && can(both, "catalog:read")).toBe(true);
    expect(TOKEN_SCOPES.every((s) => can(tokenWith(s), "catalog:read"))).toBe(true);
  });
});

describe("assertCan", () => {
  it("throws a 403 that names the action", () => {
    expect(() => assertCan(userWith("viewer"), "users:manage")).toThrowError(/manage users/);
    try {
      assertCan(tokenWith("read"), "tokens:manage");
    } catch (error) {
      expect(error).toMatchObject({ status: 403, code: "forbidden", details: { action: "tokens:manage" } });
    }
    expect(() => assertCan({ kind: "system", id: "system:cli", name: "cli" }, "users:manage")).not.toThrow();
  });
  it("covers every action in the phrase table", () => {
    for (const action of ACTIONS) {
      expect(() => assertCan(tokenWith(), action)).toThrowError(/You are not allowed to [a-z]/);
    }
  });
});

describe("token scopes limited by their creator's current role", () => {
  it("needs an admin for admin and agent:report, an editor for contracts:write, any account for read", () => {
    expect(effectiveTokenScopes(["admin", "agent:report", "contracts:write", "read"], { role: "admin", disabled: false })).toEqual([
      "admin",
      "agent:report",
      "contracts:write",
      "read",
    ]);
    expect(effectiveTokenScopes(["admin", "agent:report", "contracts:write", "read"], { role: "reviewer", disabled: false })).toEqual([
      "contracts:write",
      "read",
    ]);
    expect(effectiveTokenScopes(["admin", "contracts:write", "read"], { role: "editor", disabled: false })).toEqual(["contracts:write", "read"]);
    expect(effectiveTokenScopes(["admin", "contracts:write", "read"], { role: "viewer", disabled: false })).toEqual(["read"]);
    for (const role of ROLES) expect(roleGrantsScope(role, "read")).toBe(true);
    expect(roleGrantsScope("reviewer", "agent:report")).toBe(false);
  });
  it("leaves a disabled creator's tokens nothing and system tokens everything", () => {
    expect(effectiveTokenScopes(["read", "admin"], { role: "admin", disabled: true })).toEqual([]);
    expect(effectiveTokenScopes(["read", "admin"], null)).toEqual(["read", "admin"]);
  });
  it("never grants through a limited token what the creator's role lacks", () => {
    for (const role of ROLES) {
      const token = tokenWith(...effectiveTokenScopes([...TOKEN_SCOPES], { role, disabled: false }));
      for (const action of allowedActions(token)) {
        if (action !== "agent:report") expect(can(userWith(role), action), `${role} ${action}`).toBe(true);
      }
    }
  });
});
