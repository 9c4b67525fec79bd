import { describe, expect, it } from "vitest";
import { contractDeclaration, readDeclaration, systemSlugOf } from "./declaration.ts";

const fields = { kind: "kind", systems: "systems" };

function refusal(fn: () => unknown): { status: number; code: string; message: string; fieldErrors: Record<string, string[]> } {
  try {
    fn();
  } catch (error) {
    const e = error as { status: number; code: string; message: string; details: { fieldErrors: Record<string, string[]> } };
    return { status: e.status, code: e.code, message: e.message, fieldErrors: e.details.fieldErrors };
  }
  throw new Error("not refused");
}

describe("mesh declarations", () => {
  it("reads names and objects, with roles defaulting from the kind", () => {
    expect(
      contractDeclaration({ mesh: { kind: "source-integration", systems: ["  SAP   S/4HANA ", { name: "Archive", type: "file-store", role: "target", description: "Nightly files" }] } }),
    ).toEqual({
      kind: "source-integration",
      systems: [
        { name: "SAP S/4HANA", type: "other", role: "source", description: "" },
        { name: "Archive", type: "file-store", role: "target", description: "Nightly files" },
      ],
    });
    expect(contractDeclaration({ mesh: { kind: "target-integration", systems: [{ name: "CRM", type: "crm" }] } })?.systems?.[0]?.role).toBe("target");
  });

  it("is null for a contract without the extensions, and keeps a part that is absent absent", () => {
    expect(contractDeclaration({})).toBeNull();
    expect(contractDeclaration({ mesh: { kind: "gateway" } })).toEqual({ kind: "gateway" });
  });

  it("drops a system listed twice with the same role, whatever its case", () => {
    const d = readDeclaration({ kind: "source-integration", systems: ["ERP", "erp", { name: "ERP", role: "target" }] }, fields);
    expect(d.systems?.map((s) => `${s.name}/${s.role}`)).toEqual(["ERP/source", "ERP/target"]);
  });

  it("refuses invalid values with 422, naming the contract's field", () => {
    const kind = refusal(() => contractDeclaration({ mesh: { kind: "microservice" } }));
    expect(kind).toMatchObject({ status: 422, code: "invalid_input:contract" });
    expect(Object.keys(kind.fieldErrors)).toEqual(["info.x-meshport-kind"]);
    expect(kind.message).toContain("info.x-meshport-kind");

    const role = refusal(() => contractDeclaration({ mesh: { kind: "service", systems: ["Ledger"] } }));
    expect(Object.keys(role.fieldErrors)).toEqual(["info.x-meshport-systems.0.role"]);
    const noKind = refusal(() => contractDeclaration({ mesh: { systems: ["Ledger"] } }));
    expect(Object.keys(noKind.fieldErrors)).toEqual(["info.x-meshport-systems.0.role"]);

    expect(Object.keys(refusal(() => contractDeclaration({ mesh: { systems: [{ name: "" , role: "source" }] } })).fieldErrors)).toEqual(["info.x-meshport-systems.0.name"]);
    expect(Object.keys(refusal(() => contractDeclaration({ mesh: { systems: [{ name: "x".repeat(101), role: "source" }] } })).fieldErrors)).toEqual(["info.x-meshport-systems.0.name"]);
    expect(Object.keys(refusal(() => contractDeclaration({ mesh: { systems: [{ name: "A", role: "source", type: "mainframe" }] } })).fieldErrors)).toEqual(["info.x-meshport-systems.0.type"]);
    expect(Object.keys(refusal(() => contractDeclaration({ mesh: { systems: [{ name: "A", role: "source", description: "d".repeat(2001) }] } })).fieldErrors)).toEqual(["info.x-meshport-systems.0.description"]);
    expect(Object.keys(refusal(() => contractDeclaration({ mesh: { systems: [{ name: "A", role: "source", owner: "me" }] } })).fieldErrors)).toEqual(["info.x-meshport-systems.0"]);
    expect(Object.keys(refusal(() => contractDeclaration({ mesh: { systems: [{ name: "A\u0007", role: "source" }] } })).fieldErrors)).toEqual(["info.x-meshport-systems.0.name"]);
    expect(Object.keys(refusal(() => contractDeclaration({ mesh: { systems: "SAP" } })).fieldErrors)).toEqual(["info.x-meshport-systems"]);
    const many = Array.from({ length: 21 }, (_, i) => ({ name: `S${i}`, role: "source" }));
    expect(Object.keys(refusal(() => contractDeclaration({ mesh: { systems: many } })).fieldErrors)).toEqual(["info.x-meshport-systems"]);
  });

  it("takes the current kind's default role when only systems are given", () => {
    expect(readDeclaration({ systems: ["CRM"] }, fields, "target-integration").systems?.[0]?.role).toBe("target");
  });

  it("makes URL slugs of names", () => {
    expect(systemSlugOf("SAP S/4HANA")).toBe("sap-s-4hana");
    expect(systemSlugOf("Café Ledger")).toBe("cafe-ledger");
    expect(systemSlugOf("データ")).toMatch(/^system-[a-z0-9]{6}$/);
    expect(systemSlugOf("データ")).toBe(systemSlugOf("データ"));
    expect(systemSlugOf("データ")).not.toBe(systemSlugOf("在庫"));
    expect(systemSlugOf("X")).toBe("system-x");
    expect(systemSlugOf("a".repeat(100)).length).toBe(60);
  });
});
