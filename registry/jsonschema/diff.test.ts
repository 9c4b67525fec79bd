import { describe, expect, it } from "vitest";
import { checkSchemaCompatibility, diffSchemas, isUpdateCompatible, SCHEMA_CHANGE_TYPES } from "./index.ts";
import { rulesCatalogue } from "../rules/index.ts";

const changes = (a: unknown, b: unknown) => diffSchemas(a, b).map((c) => `${c.type} ${c.path}`);

describe("diffSchemas", () => {
  it("reports Confluent change types with JSON Pointer paths", () => {
    expect(changes({ type: "string", maxLength: 10 }, { type: "string", maxLength: 12 })).toEqual(["MAX_LENGTH_INCREASED #/maxLength"]);
    expect(changes({ properties: { foo: { type: "string" } } }, { properties: { foo: { type: "number" } } })).toEqual(["TYPE_CHANGED #/properties/foo"]);
  });

  it("treats adding a property to an open content model as incompatible, and to a closed one as compatible", () => {
    expect(isUpdateCompatible({ properties: { a: { type: "string" } } }, { properties: { a: { type: "string" }, b: { type: "number" } } })).toBe(false);
    const closed = { properties: { a: { type: "string" } }, additionalProperties: false };
    expect(isUpdateCompatible(closed, { ...closed, properties: { a: { type: "string" }, b: { type: "number" } } })).toBe(true);
  });

  it("accepts the open-model addition under the lenient policy", () => {
    expect(isUpdateCompatible({ properties: {} }, { properties: { b: { type: "number" } } }, { lenient: true })).toBe(true);
  });

  it("follows local $refs and stops on circular ones", () => {
    const tree = { type: "object", properties: { value: { type: "string" }, children: { type: "array", items: { $ref: "#" } } } };
    expect(diffSchemas(tree, structuredClone(tree))).toEqual([]);
    const changed = structuredClone(tree);
    changed.properties.value = { type: "number" } as never;
    expect(changes(tree, changed)).toEqual(["TYPE_CHANGED #/properties/value"]);
    expect(changes({ $ref: "#/definitions/a", definitions: { a: { type: "string" } } }, { type: "string" })).toEqual([]);
  });

  it("compares combined schemas by matching subschemas", () => {
    expect(changes({ oneOf: [{ type: "string" }] }, { oneOf: [{ type: "number" }, { type: "string" }] })).toEqual(["SUM_TYPE_EXTENDED #/"]);
    expect(changes({ type: "string", enum: ["a", "b"] }, { type: "string", enum: ["a"] })).toEqual(["ENUM_ARRAY_NARROWED #/enum"]);
  });

  it("knows every change type it emits and has a rule for each", () => {
    const ids = new Set<string>(rulesCatalogue.map((r) => r.id));
    for (const id of SCHEMA_CHANGE_TYPES.keys()) expect(ids.has(id), id).toBe(true);
  });
});

describe("checkSchemaCompatibility", () => {
  const previous = { type: "string", maxLength: 10 };
  const current = { type: "string", maxLength: 12 };

  it("applies each Confluent mode", () => {
    expect(checkSchemaCompatibility(previous, current, "BACKWARD").compatible).toBe(true);
    expect(checkSchemaCompatibility(previous, current, "FORWARD").compatible).toBe(false);
    expect(checkSchemaCompatibility(previous, current, "FULL").compatible).toBe(false);
    expect(checkSchemaCompatibility(previous, current, "NONE").compatible).toBe(true);
  });

  it("checks every earlier version under a transitive mode", () => {
    const oldest = { type: "string", maxLength: 14 };
    expect(checkSchemaCompatibility(previous, current, "BACKWARD_TRANSITIVE", { against: [oldest] }).compatible).toBe(false);
    expect(checkSchemaCompatibility(previous, current, "BACKWARD", { against: [oldest] }).compatible).toBe(true);
  });

  it("finds every schema compatible with itself in every mode", () => {
    for (const schema of [previous, { type: "object", properties: { a: { oneOf: [{ type: "string" }, { type: "null" }] } }, required: ["a"] }, true, false]) {
      for (const mode of ["BACKWARD", "FORWARD", "FULL_TRANSITIVE"] as const) {
        expect(checkSchemaCompatibility(schema, structuredClone(schema), mode, { against: [schema] }).compatible).toBe(true);
      }
    }
  });
});

describe("keywords next to a type", () => {
  it("reports an added or removed enum as a product change of the same type", () => {
    expect(changes({ type: "string" }, { type: "string", enum: ["a"] })).toEqual(["PRODUCT_TYPE_EXTENDED #/"]);
    expect(changes({ type: "string", maxLength: 5, enum: ["a"] }, { type: "string", maxLength: 3 })).toEqual(["MAX_LENGTH_DECREASED #/maxLength", "PRODUCT_TYPE_NARROWED #/"]);
    expect(changes({ type: "string" }, { type: ["string", "null"] })).toEqual(["SUM_TYPE_EXTENDED #/"]);
  });
});

describe("complexity bound", () => {
  it("gives up on exponentially nested combinations instead of hanging, and says so", () => {
    let a: unknown = { type: "string" };
    let b: unknown = { type: "number" };
    for (let depth = 0; depth < 12; depth++) {
      a = { oneOf: Array.from({ length: 6 }, (_, i) => ({ ...(a as object), title: `a${depth}-${i}` })) };
      b = { oneOf: Array.from({ length: 6 }, (_, i) => ({ ...(b as object), title: `b${depth}-${i}` })) };
    }
    // Bounded by COMPARISON_BUDGET steps per direction (the test's own timeout is the backstop, not a timed assertion).
    const result = checkSchemaCompatibility(a, b, "FULL");
    expect(result).toMatchObject({ compatible: false, tooComplex: true });
  }, 30_000);
});
