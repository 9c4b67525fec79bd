import { describe, expect, it } from "vitest";
import { PayloadValidators, isJsonSchemaFormat, type StoredSchema } from "./validate.ts";

const JSON_FORMAT = "application/schema+json;version=draft-07";

function store(schemas: Record<number, StoredSchema>) {
  const calls: number[] = [];
  const validators = new PayloadValidators((id) => {
    calls.push(id);
    return schemas[id];
  }, 2);
  return { validators, calls };
}

const reading = { type: "object", properties: { value: { type: "number" }, at: { type: "string", format: "date-time" } }, required: ["value"] };

describe("PayloadValidators", () => {
  it("says valid, or where and why not", () => {
    const { validators } = store({ 1: { format: JSON_FORMAT, schema: reading } });
    expect(validators.check(1, { value: 1 })).toEqual({ valid: true });
    expect(validators.check(1, { value: "hot" })).toEqual({ valid: false, path: "/value", problem: "must be number" });
    expect(validators.check(1, {})).toEqual({ valid: false, path: "/value", problem: "must have required property 'value'" });
    expect(validators.check(1, { value: 1, at: "yesterday" })).toEqual({ valid: false, path: "/at", problem: 'must match format "date-time"' });
  });

  it("points at the failing value: the missing or extra property, escaped; the root is the empty pointer", () => {
    const { validators } = store({
      1: { format: JSON_FORMAT, schema: { type: "object", properties: { reading: { type: "object", required: ["a/b~c"] } } } },
      2: { format: JSON_FORMAT, schema: { type: "object", properties: { reading: { type: "object", additionalProperties: false } } } },
    });
    expect(validators.check(1, { reading: {} })).toEqual({ valid: false, path: "/reading/a~1b~0c", problem: "must have required property 'a/b~c'" });
    expect(validators.check(2, { reading: { "x/y": 1 } })).toEqual({ valid: false, path: "/reading/x~1y", problem: "must NOT have additional properties" });
    expect(validators.check(1, 5)).toEqual({ valid: false, path: "", problem: "must be object" });
  });

  it("validates 2020-12 schemas in their dialect and ignores AsyncAPI keywords", () => {
    const { validators } = store({
      1: { format: JSON_FORMAT, schema: { $schema: "https://json-schema.org/draft/2020-12/schema", type: "array", prefixItems: [{ type: "string" }], items: false } },
      2: { format: "application/vnd.aai.asyncapi+json;version=3.0.0", schema: { type: "object", discriminator: "kind", "x-owner": "a", properties: { kind: { type: "string" } } } },
    });
    expect(validators.check(1, ["a"])).toEqual({ valid: true });
    expect(validators.check(1, [1])).toMatchObject({ valid: false, path: "/0" });
    expect(validators.check(1, ["a", "b"])).toMatchObject({ valid: false });
    expect(validators.check(2, { kind: 3 })).toMatchObject({ valid: false, path: "/kind" });
  });

  it("compiles each id once, and schemas sharing an $id side by side", () => {
    const { validators, calls } = store({ 1: { format: JSON_FORMAT, schema: { $id: "https://example.com/reading.json", type: "number" } }, 2: { format: JSON_FORMAT, schema: { $id: "https://example.com/reading.json", type: "string" } } });
    for (let i = 0; i < 3; i++) {
      expect(validators.check(1, 1).valid).toBe(true);
      expect(validators.check(2, 1).valid).toBe(false);
    }
    expect(calls).toEqual([1, 2]);
  });

  it("cannot judge unknown ids, other formats or schemas ajv refuses, and remembers so", () => {
    const { validators, calls } = store({ 2: { format: "application/vnd.apache.avro;version=1.9.0", schema: { type: "record" } }, 3: { format: JSON_FORMAT, schema: { $ref: "#/nowhere" } } });
    for (let i = 0; i < 2; i++) {
      expect(validators.check(1, {})).toMatchObject({ valid: null, reason: expect.stringContaining("No schema") });
      expect(validators.check(2, {})).toMatchObject({ valid: null, reason: expect.stringContaining("not validated") });
    }
    expect(validators.check(3, {})).toMatchObject({ valid: null, reason: expect.stringContaining("cannot be compiled") });
    expect(validators.check(3, {})).toMatchObject({ valid: null });
    expect(calls).toEqual([1, 2, 3]);
  });

  it("keeps the most recently used schemas within its size", () => {
    const schema: StoredSchema = { format: JSON_FORMAT, schema: { type: "number" } };
    const { validators, calls } = store({ 1: schema, 2: schema, 3: schema });
    validators.check(1, 1);
    validators.check(2, 1);
    validators.check(1, 1); // 1 is now the most recent
    validators.check(3, 1); // evicts 2
    expect(validators.size).toBe(2);
    validators.check(1, 1);
    expect(calls).toEqual([1, 2, 3]);
    validators.check(2, 1);
    expect(calls).toEqual([1, 2, 3, 2]);
  });

  it("recognises JSON Schema formats only", () => {
    expect(isJsonSchemaFormat(JSON_FORMAT)).toBe(true);
    expect(isJsonSchemaFormat("application/vnd.aai.asyncapi;version=2.6.0")).toBe(true);
    expect(isJsonSchemaFormat("application/vnd.apache.avro+json;version=1.9.0")).toBe(false);
    expect(isJsonSchemaFormat("application/vnd.oai.openapi;version=3.0.0")).toBe(false);
  });
});
