import { describe, expect, it } from "vitest";
import { checkCompatibility, MAX_REFERENCES, parseSchema, SCHEMA_TYPES, type ParsedSchema, type ResolvedReference, type SchemaType } from "./index.ts";

function parsed(schemaType: SchemaType, schema: string, version?: number): ParsedSchema {
  const outcome = parseSchema({ schemaType, schema, references: [] });
  if (!outcome.ok) throw new Error(outcome.message);
  return version === undefined ? outcome.schema : { ...outcome.schema, version };
}

const avro = (schema: unknown, version?: number) => parsed("AVRO", JSON.stringify(schema), version);

describe("parseSchema: bounds and dispatch", () => {
  it("dispatches each type to its engine", () => {
    expect(parsed("JSON", '{"type":"string"}').schemaType).toBe("JSON");
    expect(parsed("AVRO", '"long"').schemaType).toBe("AVRO");
    expect(parsed("PROTOBUF", 'syntax = "proto3";\nmessage Reading { double celsius = 1; }').schemaType).toBe("PROTOBUF");
    expect(SCHEMA_TYPES).toEqual(["AVRO", "JSON", "PROTOBUF"]);
  });

  it("never throws on hostile input, whatever the type", () => {
    const inputs = ["", "null", "[", '"', "{}".repeat(10), "[".repeat(100_000), "\u0000", '{"type":{"type":{"type":1}}}', "syntax = ", '{"$ref":"#/"}'];
    for (const schemaType of SCHEMA_TYPES) {
      for (const schema of inputs) {
        const outcome = parseSchema({ schemaType, schema, references: [] });
        expect(typeof outcome.ok).toBe("boolean");
        if (!outcome.ok) expect(outcome.message.length).toBeGreaterThan(0);
      }
    }
  });

  it("refuses bad references before parsing anything", () => {
    const ref = (name: string, version = 1): ResolvedReference => ({ name, subject: "s", version, schemaType: "AVRO", schema: '"string"', references: [] });
    const refuse = (references: ResolvedReference[]) => {
      const outcome = parseSchema({ schemaType: "AVRO", schema: '"string"', references });
      return outcome.ok ? "accepted" : outcome.message;
    };
    expect(refuse([ref("")])).toMatch(/reference name must be a non-empty string/);
    expect(refuse([ref("x".repeat(1001))])).toMatch(/at most 1000 characters/);
    expect(refuse([ref("a", 0)])).toMatch(/positive integer/);
    expect(refuse([ref("a", 2 ** 31)])).toMatch(/positive integer/);
    expect(refuse([{ ...ref("a"), subject: "" }])).toMatch(/subject of reference "a"/);
    expect(refuse(Array.from({ length: MAX_REFERENCES + 1 }, (_, i) => ({ ...ref(`r${i}`), subject: `s${i}` })))).toMatch(/at most 100 references/);
    // A reference chain deeper than the limit is refused too (each subject version counts once).
    let chain: ResolvedReference = { ...ref("c0"), subject: "c0" };
    for (let i = 1; i <= MAX_REFERENCES; i++) chain = { ...ref(`c${i}`), subject: `c${i}`, references: [chain] };
    expect(refuse([chain])).toMatch(/counting the references of referenced schemas/);
  });
});

describe("checkCompatibility: Confluent's Avro verdicts", () => {
  // The fixtures of Confluent's Avro compatibility tests, rewritten: one record evolving field by field.
  const f1 = { name: "f1", type: "string" };
  const schema1 = { type: "record", name: "myrecord", fields: [f1] };
  const schema2 = { type: "record", name: "myrecord", fields: [f1, { name: "f2", type: "string", default: "foo" }] };
  const schema3 = { type: "record", name: "myrecord", fields: [f1, { name: "f2", type: "string" }] };
  const schema4 = { type: "record", name: "myrecord", fields: [{ name: "f1_new", type: "string", aliases: ["f1"] }] };
  const schema6 = { type: "record", name: "myrecord", fields: [{ name: "f1", type: ["null", "string"], default: null }] };
  const schema7 = { type: "record", name: "myrecord", fields: [{ name: "f1", type: ["null", "string", "int"], default: null }] };
  const schema8 = { type: "record", name: "myrecord", fields: [f1, { name: "f2", type: "string", default: "foo" }, { name: "f3", type: "string", default: "bar" }] };

  const verdict = (mode: Parameters<typeof checkCompatibility>[0], candidate: unknown, earlier: unknown[]) => checkCompatibility(mode, avro(candidate), earlier.map((s, i) => avro(s, i + 1))).compatible;

  it("BACKWARD", () => {
    expect(verdict("BACKWARD", schema2, [schema1])).toBe(true); // a field with a default added
    expect(verdict("BACKWARD", schema3, [schema1])).toBe(false); // a field without a default added
    expect(verdict("BACKWARD", schema4, [schema1])).toBe(true); // a field renamed with an alias
    expect(verdict("BACKWARD", schema6, [schema1])).toBe(true); // a field evolved to a union
    expect(verdict("BACKWARD", schema1, [schema6])).toBe(false); // a type removed from a union
    expect(verdict("BACKWARD", schema7, [schema6])).toBe(true); // a type added to a union
    expect(verdict("BACKWARD", schema6, [schema7])).toBe(false); // a type removed from a union
  });

  it("BACKWARD_TRANSITIVE: removing a default is compatible with the latest, not with all", () => {
    expect(verdict("BACKWARD_TRANSITIVE", schema8, [schema1, schema2])).toBe(true); // fields with defaults added one by one
    expect(verdict("BACKWARD", schema3, [schema1, schema2])).toBe(true);
    expect(verdict("BACKWARD_TRANSITIVE", schema3, [schema1, schema2])).toBe(false);
  });

  it("FORWARD and FORWARD_TRANSITIVE", () => {
    expect(verdict("FORWARD", schema1, [schema2])).toBe(true); // a field with a default removed
    expect(verdict("FORWARD", schema2, [schema1])).toBe(true); // a field added
    expect(verdict("FORWARD", schema1, [schema3])).toBe(false); // a field without a default removed
    expect(verdict("FORWARD", schema3, [schema2])).toBe(true);
    // Only the transitive level sees that version 1 still reads f2 without a default.
    expect(verdict("FORWARD", schema1, [schema3, schema2])).toBe(true);
    expect(verdict("FORWARD_TRANSITIVE", schema1, [schema3, schema2])).toBe(false);
  });

  it("FULL and FULL_TRANSITIVE", () => {
    expect(verdict("FULL", schema2, [schema1])).toBe(true); // a field with a default added
    expect(verdict("FULL", schema1, [schema2])).toBe(true); // a field with a default removed
    expect(verdict("FULL", schema3, [schema1])).toBe(false);
    expect(verdict("FULL", schema1, [schema3])).toBe(false);
    expect(verdict("FULL_TRANSITIVE", schema8, [schema1, schema2])).toBe(true);
    expect(verdict("FULL", schema2, [schema3, schema1])).toBe(true);
    expect(verdict("FULL_TRANSITIVE", schema2, [schema3, schema1])).toBe(true);
    expect(verdict("FULL_TRANSITIVE", schema1, [schema3, schema2])).toBe(false);
  });

  it("refuses under a level it does not know rather than accept", () => {
    expect(checkCompatibility("SOMETIMES" as never, avro(schema1), [avro(schema1)])).toEqual({ compatible: false, messages: ['Unknown compatibility level "SOMETIMES".'] });
  });

  it("NONE accepts anything", () => {
    expect(verdict("NONE", schema3, [schema1])).toBe(true);
    expect(verdict("NONE", "string", [schema1])).toBe(true);
  });
});

describe("checkCompatibility: Protobuf goes to its checker", () => {
  it("refuses a field whose type changed, and accepts an added field", () => {
    const v1 = parsed("PROTOBUF", 'syntax = "proto3";\nmessage Reading { double celsius = 1; }', 1);
    const added = parsed("PROTOBUF", 'syntax = "proto3";\nmessage Reading { double celsius = 1; string unit = 2; }');
    const retyped = parsed("PROTOBUF", 'syntax = "proto3";\nmessage Reading { string celsius = 1; }');
    expect(checkCompatibility("BACKWARD", added, [v1])).toEqual({ compatible: true, messages: [] });
    const verdict = checkCompatibility("BACKWARD", retyped, [v1]);
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages.at(-1)).toBe("{validateFields: 'false', compatibility: 'BACKWARD'}");
    expect(verdict.messages).toContain("{oldSchemaVersion: 1}");
  });
});
