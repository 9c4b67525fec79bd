/** Draft 2019-09/2020-12 keywords as Confluent's JSON Schema checker judges them, and what it leaves unjudged. */
import { describe, expect, it } from "vitest";
import { compare } from "../compare.ts";
import { payloadContract } from "../testing/payload-contract.ts";
import { diffSchemas, isUpdateCompatible } from "./diff.ts";

const DIALECT = "https://json-schema.org/draft/2020-12/schema";
const modern = (schema: Record<string, unknown>) => ({ $schema: DIALECT, ...schema });
const changes = (a: unknown, b: unknown) => diffSchemas(a, b).map((c) => `${c.type} ${c.path}`);

describe("2020-12 arrays", () => {
  it("reads prefixItems as tuple entries and items beside them as the additional items", () => {
    const tuple = modern({ type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: false });
    const longer = modern({ type: "array", prefixItems: [{ type: "string" }, { type: "number" }, { type: "boolean" }], items: true });
    expect(changes(tuple, longer)).toEqual(["ITEM_ADDED_TO_CLOSED_CONTENT_MODEL #/items/2", "ADDITIONAL_ITEMS_ADDED #/additionalItems"]);
    expect(isUpdateCompatible(tuple, longer)).toBe(true);
    expect(isUpdateCompatible(longer, tuple)).toBe(false);
    expect(changes(modern({ type: "array", prefixItems: [{ type: "string" }] }), modern({ type: "array" }))).toEqual(["ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL #/items/0"]);
    // Without prefixItems, `items` is the schema of every item, at #/items.
    expect(changes(modern({ type: "array", items: { type: "integer" } }), modern({ type: "array", items: { type: "number" } }))).toEqual(["TYPE_EXTENDED #/items"]);
  });

  it("covers added tuple entries by the items schema that followed them", () => {
    const open = modern({ type: "array", prefixItems: [{ type: "string" }], items: { type: "number" } });
    const covered = modern({ type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: { type: "number" } });
    const conflicting = modern({ type: "array", prefixItems: [{ type: "string" }, { type: "string" }], items: { type: "number" } });
    expect(changes(open, covered)).toEqual(["ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/items/1"]);
    expect(isUpdateCompatible(open, conflicting)).toBe(false);
  });

  it("judges unevaluatedItems and min/maxContains", () => {
    const base = { type: "array", prefixItems: [{ type: "string" }] };
    expect(changes(modern({ ...base, unevaluatedItems: false }), modern(base))).toEqual(["UNEVALUATED_ITEMS_ADDED #/unevaluatedItems"]);
    expect(isUpdateCompatible(modern(base), modern({ ...base, unevaluatedItems: false }))).toBe(false);
    const contains = { type: "array", contains: { type: "string" } };
    // A `contains` requires one match: adding one constrains the array.
    expect(changes(modern({ type: "array" }), modern(contains))).toEqual(["MIN_CONTAINS_ADDED #/minContains"]);
    expect(changes(modern({ ...contains, maxContains: 3 }), modern({ ...contains, maxContains: 5 }))).toEqual(["MAX_CONTAINS_INCREASED #/maxContains"]);
    expect(isUpdateCompatible(modern({ ...contains, minContains: 1 }), modern({ ...contains, minContains: 2 }))).toBe(false);
  });
});

const props = { a: { type: "string" } };

describe("2020-12 objects: open, closed and partially open content models", () => {
  it("closes a model with unevaluatedProperties: false", () => {
    const closed = modern({ type: "object", properties: props, unevaluatedProperties: false });
    const added = modern({ type: "object", properties: { ...props, b: { type: "number" } }, unevaluatedProperties: false });
    expect(changes(closed, added)).toEqual(["OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"]);
    expect(isUpdateCompatible(closed, added)).toBe(true);
    expect(changes(added, closed)).toEqual(["PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"]);
    expect(isUpdateCompatible(added, closed)).toBe(false);
  });

  it("opens it partially with an unevaluatedProperties schema", () => {
    const partial = modern({ type: "object", properties: props, unevaluatedProperties: { type: "string" } });
    const covered = modern({ type: "object", properties: { ...props, b: { type: "string" } }, unevaluatedProperties: { type: "string" } });
    expect(changes(partial, covered)).toEqual(["PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b", "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"]);
    expect(changes(modern({ type: "object", properties: props }), partial)).toEqual(["UNEVALUATED_PROPERTIES_NARROWED #/unevaluatedProperties"]);
    expect(isUpdateCompatible(modern({ type: "object", properties: props }), partial)).toBe(false);
  });

  it("splits a property added to an open model by whether it is required", () => {
    const open = { type: "object", properties: props };
    expect(changes(open, { ...open, properties: { ...props, b: { type: "number" } }, required: ["b"] })).toEqual(["REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"]);
    expect(changes(open, { ...open, properties: { ...props, b: { type: "number", default: 0 } }, required: ["b"] })).toEqual(["REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"]);
    expect(isUpdateCompatible(open, { ...open, properties: { ...props, b: { type: "number", default: 0 } }, required: ["b"] }, { lenient: true })).toBe(true);
  });

  it("reads dependentRequired and dependentSchemas at #/dependencies, and follows $defs references", () => {
    const a = modern({ type: "object", properties: props, dependentRequired: { a: ["b"] } });
    const b = modern({ type: "object", properties: props, dependentRequired: { a: ["b", "c"] } });
    expect(changes(a, b)).toEqual(["DEPENDENCY_ARRAY_EXTENDED #/dependencies/a"]);
    const refd = modern({ $defs: { id: { type: "integer" } }, type: "object", properties: { id: { $ref: "#/$defs/id" } } });
    const wider = modern({ $defs: { id: { type: "number" } }, type: "object", properties: { id: { $ref: "#/$defs/id" } } });
    expect(changes(refd, wider)).toEqual(["TYPE_EXTENDED #/properties/id"]);
  });

  it("loads an empty properties map as the empty schema, as Confluent's 2020-12 loader does", () => {
    expect(changes(modern({ type: "object", maxProperties: 3 }), modern({ properties: {} }))).toEqual([]);
  });
});

describe("const, enum and format", () => {
  it("treats const as a type of its own", () => {
    expect(changes({ const: "a" }, { const: "b" })).toEqual(["ENUM_ARRAY_CHANGED #/const"]);
    expect(changes({ const: "a" }, { enum: ["a", "b"] })).toEqual(["TYPE_CHANGED #/"]);
  });

  it("leaves format and contains to a reviewer, through compare(), never reporting no changes", async () => {
    for (const [before, after] of [
      [{ type: "string" }, { type: "string", format: "email" }],
      [{ type: "array", contains: { type: "string" } }, { type: "array", contains: { type: "number" } }],
      [{ type: "object", if: { required: ["a"] }, then: { required: ["b"] } }, { type: "object" }],
      [{ type: "object", properties: props }, { type: "object", properties: props, unevaluatedProperties: false }],
    ] as const) {
      const report = compare(await payloadContract(before), await payloadContract(after), { mode: "FULL" });
      const unjudged = report.findings.filter((f) => f.rule === "PAYLOAD_KEYWORD_CHANGED");
      expect(unjudged.length, JSON.stringify(after)).toBeGreaterThan(0);
      expect(unjudged.every((f) => f.verdict === "unclassified")).toBe(true);
      expect(report.semver).not.toBe("none");
    }
  });

  it("judges a payload in the 2020-12 dialect when its message's schema format says so", async () => {
    const contract = async (schema: unknown) => {
      const c = await payloadContract(schema);
      for (const channel of Object.values(c.channels)) for (const m of Object.values(channel.messages)) m.schemaFormat = "application/schema+json;version=2020-12";
      return c;
    };
    const closed = { type: "object", properties: props, unevaluatedProperties: false };
    const report = compare(await contract(closed), await contract({ type: "object", properties: props }), { mode: "FORWARD" });
    expect(report.findings.map((f) => f.rule)).toContain("UNEVALUATED_PROPERTIES_ADDED");
    expect(report.compatible).toBe(false);
  });
});
