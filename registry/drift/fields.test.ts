import { describe, expect, it } from "vitest";
import { undocumentedFields } from "./fields.ts";

// The agent's inferred shape (agents/schema-infer.ts): 2020-12, properties sorted, items, x-observed annotations.
const inferred = (properties: Record<string, unknown>) => ({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties, required: Object.keys(properties) });
const num = { type: "number", "x-observed-minimum": 1, "x-observed-maximum": 2 };
const str = { type: "string" };
const obj = (properties: Record<string, unknown>) => ({ type: "object", properties });

describe("undocumentedFields", () => {
  it("reports fields no documented schema names, nested once per undocumented parent", () => {
    const seen = inferred({ value: num, humidity: num, reading: obj({ unit: str, raw: num }), extra: obj({ a: num }) });
    const documented = { type: "object", properties: { value: { type: "number" }, reading: { type: "object", properties: { raw: { type: "number" } } } } };
    expect(undocumentedFields(seen, [documented])).toEqual(["/humidity", "/extra", "/reading/unit"]);
    expect(undocumentedFields(inferred({ value: num }), [documented])).toEqual([]);
  });

  it("counts a field documented by any of the schemas and their allOf/anyOf/oneOf branches", () => {
    const seen = inferred({ a: num, b: num, c: num, d: num });
    const one = { properties: { a: {} } };
    const two = { allOf: [{ properties: { b: {} } }], anyOf: [{ properties: { c: {} } }, { oneOf: [{ properties: { x: {} } }] }] };
    expect(undocumentedFields(seen, [one, two])).toEqual(["/d"]);
  });

  it("walks array items as `-`: items, prefixItems and draft-07 tuples", () => {
    const seen = inferred({ items: { type: "array", items: obj({ x: num, y: num }) }, pairs: { type: "array", items: obj({ k: num }) } });
    const documented = {
      properties: {
        items: { type: "array", items: { properties: { x: { type: "number" } } } },
        pairs: { type: "array", items: [{ properties: { k: {} } }] },
      },
    };
    expect(undocumentedFields(seen, [documented])).toEqual(["/items/-/y"]);
    expect(undocumentedFields(seen, [{ properties: { items: { prefixItems: [{ properties: { y: {} } }] }, pairs: {} } }])).toEqual(["/items/-/x", "/pairs/-/k"]);
  });

  it("resolves local $refs, also cyclic ones, and ignores others", () => {
    const documented = { $defs: { node: { properties: { name: {}, child: { $ref: "#" } } } }, $ref: "#/$defs/node" };
    const seen = inferred({ name: str, child: obj({ name: str, child: obj({ name: str, age: num }) }) });
    expect(undocumentedFields(seen, [documented])).toEqual(["/child/child/age"]);
  });

  it("counts everything below a property documented as `true` or by a $ref it cannot resolve as documented", () => {
    const seen = inferred({ a: obj({ x: num, y: obj({ z: num }) }), b: obj({ x: num }), c: { type: "array", items: obj({ x: num }) }, d: num });
    expect(undocumentedFields(seen, [{ properties: { a: true, b: { $ref: "http://elsewhere/x.json" }, c: { $ref: "#/$defs/missing" } } }])).toEqual(["/d"]);
    expect(undocumentedFields(seen, [{ properties: { a: {}, b: {}, c: { items: true } } }])).toEqual(["/d", "/a/x", "/a/y", "/b/x"]);
    expect(undocumentedFields(seen, [{ properties: { a: true, b: true, c: { items: [true] }, d: {} } }])).toEqual([]);
    expect(undocumentedFields(seen, [{ properties: { a: true, b: true, c: { additionalItems: true }, d: {} } }])).toEqual(["/c/-/x"]);
    // the whole payload behind a schema it cannot see
    expect(undocumentedFields(inferred({ a: num }), [{ $ref: "http://elsewhere/x.json" }])).toEqual([]);
  });

  it("walks dependentSchemas and if/then/else as branches", () => {
    const seen = inferred({ kind: str, a: num, b: num, x: num, y: num, z: num });
    const documented = {
      properties: { a: {} },
      dependentSchemas: { a: { properties: { b: {} } } },
      if: { properties: { kind: { const: "x" } } },
      then: { properties: { x: {} } },
      else: { properties: { y: {} } },
    };
    expect(undocumentedFields(seen, [documented])).toEqual(["/z"]);
    // draft-07 `dependencies`: schemas are branches, lists of names document nothing
    expect(undocumentedFields(seen, [{ properties: { kind: {}, a: {}, x: {}, y: {} }, dependencies: { a: ["z"], kind: { properties: { b: {} } } } }])).toEqual(["/z"]);
  });

  it("lets patternProperties and additionalProperties schemas document keys, deciding literal patterns only", () => {
    const seen = inferred({ tag_a: num, other: num, free: obj({ z: num }) });
    expect(undocumentedFields(seen, [{ patternProperties: { "^tag_": {} } }])).toEqual(["/other", "/free"]);
    expect(undocumentedFields(seen, [{ patternProperties: { "^tag_a$": {}, "^fre": { properties: { z: {} } } } }])).toEqual(["/other"]);
    expect(undocumentedFields(seen, [{ patternProperties: { "[a-z]+": {} } }])).toEqual(["/free/z"]);
    expect(undocumentedFields(seen, [{ additionalProperties: { properties: { z: {} } } }])).toEqual([]);
    // `true` only allows unknown keys; it documents none.
    expect(undocumentedFields(seen, [{ properties: { tag_a: {} }, additionalProperties: true }])).toEqual(["/other", "/free"]);
  });

  it("escapes pointer tokens", () => {
    expect(undocumentedFields(inferred({ "a/b": num, "c~d": num }), [{}])).toEqual(["/a~1b", "/c~0d"]);
  });

  it("stays within its depth and field limits", () => {
    let deep: Record<string, unknown> = obj({ leaf: num });
    let doc: Record<string, unknown> = { properties: {} };
    for (let i = 0; i < 20; i++) {
      deep = obj({ n: deep });
      doc = { properties: { n: doc } };
    }
    expect(undocumentedFields(inferred({ n: deep }), [{ properties: { n: doc } }])).toEqual([]);
    const wide = inferred(Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`f${String(i).padStart(2, "0")}`, num])));
    const found = undocumentedFields(wide, [{}]);
    expect(found).toHaveLength(50);
    expect(found[0]).toBe("/f00");
    expect(undocumentedFields(wide, [{}], { maxFields: 5 })).toHaveLength(5);
  });
});
