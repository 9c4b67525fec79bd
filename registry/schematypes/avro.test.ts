import { describe, expect, it } from "vitest";
import { registrySchemaHash } from "../flows/index.ts";
import type { CompatibilityMode } from "../types.ts";
import { checkCompatibility, MAX_SCHEMA_BYTES, parseSchema, SCHEMA_TYPE_FORMATS, type ParsedSchema, type ResolvedReference } from "./index.ts";

function avro(schema: unknown, references: ResolvedReference[] = [], version?: number): ParsedSchema {
  const outcome = parseSchema({ schemaType: "AVRO", schema: typeof schema === "string" ? schema : JSON.stringify(schema), references });
  if (!outcome.ok) throw new Error(outcome.message);
  return version === undefined ? outcome.schema : { ...outcome.schema, version };
}

function failure(schema: unknown, references: ResolvedReference[] = []): string {
  const outcome = parseSchema({ schemaType: "AVRO", schema: typeof schema === "string" ? schema : JSON.stringify(schema), references });
  if (outcome.ok) throw new Error("parsed");
  return outcome.message;
}

const record = (fields: unknown[], name = "Reading") => ({ type: "record", name, namespace: "plant", fields });
const ref = (name: string, schema: unknown, extra: Partial<ResolvedReference> = {}): ResolvedReference => ({ name, subject: extra.subject ?? name, version: extra.version ?? 1, schemaType: "AVRO", schema: JSON.stringify(schema), references: extra.references ?? [] });

/** The first message of a BACKWARD check of `to` after `from`, or undefined when compatible. */
const backward = (from: unknown, to: unknown) => checkCompatibility("BACKWARD", avro(to), [avro(from)]).messages[0];

describe("Avro: parse, canonical form and identity", () => {
  it("accepts a bare primitive schema", () => {
    const parsed = avro('"string"');
    expect(parsed.canonical).toBe('"string"');
    expect(parsed.schemaType).toBe("AVRO");
    expect(parsed.format).toBe(SCHEMA_TYPE_FORMATS.AVRO);
  });

  it("keeps field order in the canonical text (order is part of an Avro record) and sorts keys", () => {
    const a = avro('{"type":"record","name":"R","fields":[{"name":"b","type":"int"},{"name":"a","type":"string"}]}');
    expect(a.canonical).toBe('{"fields":[{"name":"b","type":"int"},{"name":"a","type":"string"}],"name":"R","type":"record"}');
    const swapped = avro('{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"}]}');
    expect(swapped.hash).not.toBe(a.hash);
    const spaced = avro('{ "name": "R", "type": "record", "fields": [ {"type":"int","name":"b"}, {"type":"string","name":"a"} ] }');
    expect(spaced.hash).toBe(a.hash);
  });

  it("hashes as the contract flows hash an Avro payload, so both paths share one id", () => {
    const schema = record([{ name: "celsius", type: "double" }]);
    expect(avro(schema).hash).toBe(registrySchemaHash("application/vnd.apache.avro;version=1.9.0", schema));
    // The same JSON as a JSON Schema is another schema.
    const asJson = parseSchema({ schemaType: "JSON", schema: '{"type":"string"}', references: [] });
    expect(asJson.ok && asJson.schema.hash).not.toBe(avro('{"type":"string"}').hash);
  });

  it("refuses invalid Avro with avsc's message, without throwing", () => {
    expect(failure(record([{ name: "a", type: "strin" }]))).toMatch(/Invalid Avro schema: undefined type name: plant.strin/);
    expect(failure(record([{ name: "a", type: "int", default: "x" }]))).toMatch(/Invalid Avro schema: incompatible field default/);
    expect(failure(record([{ name: "a", type: "int" }, { name: "a", type: "long" }]))).toMatch(/duplicate field name/);
    expect(failure({ type: "record", fields: [] })).toMatch(/missing name/);
    expect(failure(record([{ name: "a", type: ["null", "int"], default: 1 }]))).toMatch(/union defaults must match the first branch/);
    expect(failure("{not json")).toMatch(/not valid JSON/);
    expect(failure("42")).toMatch(/Invalid Avro schema/);
  });

  it("refuses an oversized text", () => {
    expect(failure(record([{ name: "a", type: "int", doc: "x".repeat(MAX_SCHEMA_BYTES) }]))).toMatch(/larger than 1048576 bytes/);
  });
});

describe("Avro: references", () => {
  const address = { type: "record", name: "Address", namespace: "com.acme", fields: [{ name: "street", type: "string" }] };
  const customer = record([{ name: "name", type: "string" }, { name: "address", type: "com.acme.Address" }], "Customer");

  it("registers the referenced named types first, transitively", () => {
    const parsed = avro(customer, [ref("com.acme.Address", address)]);
    expect(parsed.references).toEqual([{ name: "com.acme.Address", subject: "com.acme.Address", version: 1 }]);
    const order = record([{ name: "customer", type: "plant.Customer" }], "Order");
    expect(avro(order, [ref("plant.Customer", customer, { references: [ref("com.acme.Address", address)] })]).schemaType).toBe("AVRO");
  });

  it("refuses a schema whose referenced type is missing, of another type, or invalid", () => {
    expect(failure(customer)).toMatch(/undefined type name: com.acme.Address/);
    expect(failure(customer, [{ ...ref("com.acme.Address", address), schemaType: "JSON" }])).toMatch(/is a JSON schema/);
    expect(failure(customer, [ref("com.acme.Address", { type: "record", name: "Address", fields: [{ name: "s", type: "nope" }] })])).toMatch(/referenced schema "com.acme.Address".*not a valid Avro schema/);
  });

  it("gives other references another id, and the same references the same id", () => {
    const v1 = avro(customer, [ref("com.acme.Address", address, { subject: "addr", version: 1 })]);
    const v2 = avro(customer, [ref("com.acme.Address", address, { subject: "addr", version: 2 })]);
    expect(v1.hash).not.toBe(v2.hash);
    expect(avro(customer, [ref("com.acme.Address", address, { subject: "addr", version: 1 })]).hash).toBe(v1.hash);
    expect(v1.hash).not.toBe(registrySchemaHash(SCHEMA_TYPE_FORMATS.AVRO, customer));
  });

  it("judges the referenced types: a required field added to a referenced record is incompatible", () => {
    const v1 = avro(customer, [ref("com.acme.Address", address, { version: 1 })]);
    const stricter = { ...address, fields: [...address.fields, { name: "zip", type: "string" }] };
    const v2 = avro(customer, [ref("com.acme.Address", stricter, { version: 2 })]);
    const verdict = checkCompatibility("BACKWARD", v2, [v1]);
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages[0]).toBe("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'zip' at path '/fields/1/type/fields/1' in the new schema has no default value and is missing in the old schema', additionalInfo:'zip'}");
  });
});

describe("Avro: compatibility through checkCompatibility", () => {
  const v1 = record([
    { name: "id", type: "string" },
    { name: "celsius", type: "int" },
  ]);
  const cases: { name: string; to: unknown; backward: boolean; forward: boolean }[] = [
    { name: "a field with a default added", to: record([...v1.fields, { name: "unit", type: "string", default: "C" }]), backward: true, forward: true },
    { name: "a field without a default added", to: record([...v1.fields, { name: "unit", type: "string" }]), backward: false, forward: true },
    { name: "a field without a default removed", to: record([v1.fields[0]]), backward: true, forward: false },
    { name: "int widened to long", to: record([v1.fields[0], { name: "celsius", type: "long" }]), backward: true, forward: false },
    { name: "int changed to string", to: record([v1.fields[0], { name: "celsius", type: "string" }]), backward: false, forward: false },
    { name: "a documentation change", to: record([v1.fields[0], { name: "celsius", type: "int", doc: "degrees" }]), backward: true, forward: true },
  ];
  const modes: CompatibilityMode[] = ["BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"];

  for (const c of cases) {
    for (const mode of modes) {
      const needsBackward = mode.startsWith("BACKWARD") || mode.startsWith("FULL");
      const needsForward = mode.startsWith("FORWARD") || mode.startsWith("FULL");
      const expected = (!needsBackward || c.backward) && (!needsForward || c.forward);
      it(`${mode}: ${c.name} is ${expected ? "compatible" : "incompatible"}`, () => {
        const verdict = checkCompatibility(mode, avro(c.to), [avro(v1)]);
        expect(verdict.compatible).toBe(expected);
        expect(verdict.messages.length === 0).toBe(expected);
      });
    }
  }

  it("words a missing default as Confluent does, in each direction, with version and level", () => {
    const added = avro(record([...v1.fields, { name: "unit", type: "string" }]));
    expect(checkCompatibility("BACKWARD", added, [avro(v1, [], 4)]).messages).toEqual([
      "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'unit' at path '/fields/2' in the new schema has no default value and is missing in the old schema', additionalInfo:'unit'}",
      "{oldSchemaVersion: 4}",
      `{oldSchema: '${avro(v1).canonical}'}`,
      "{validateFields: 'false', compatibility: 'BACKWARD'}",
    ]);
    const removed = avro(record([v1.fields[0]]));
    expect(checkCompatibility("FORWARD", removed, [avro(v1)]).messages[0]).toBe(
      "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'celsius' at path '/fields/1' in the old schema has no default value and is missing in the new schema', additionalInfo:'celsius'}",
    );
  });

  it("names a type mismatch, a missing union branch, missing enum symbols, a name and a size mismatch", () => {
    expect(backward(v1, record([v1.fields[0], { name: "celsius", type: "string" }]))).toBe(
      "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/1/type') of a field in the new schema does not match with the old schema', additionalInfo:'reader type: STRING not compatible with writer type: INT'}",
    );
    const optional = record([{ name: "note", type: ["null", "string", "int"], default: null }]);
    expect(backward(optional, record([{ name: "note", type: ["null", "string"], default: null }]))).toBe(
      "{errorType:'MISSING_UNION_BRANCH', description:'The new schema is missing a type inside a union field at path '/fields/0/type/2' in the old schema', additionalInfo:'reader union lacking writer type: INT'}",
    );
    expect(backward(record([{ name: "n", type: "int" }]), record([{ name: "n", type: ["null", "string"] }]))).toMatch(/MISSING_UNION_BRANCH.*path '\/fields\/0\/type'.*reader union lacking writer type: INT/);
    expect(backward(record([{ name: "n", type: ["null", "int"] }]), record([{ name: "n", type: "int" }]))).toMatch(/TYPE_MISMATCH.*path '\/fields\/0\/type\/0'.*reader type: INT not compatible with writer type: NULL/);
    const colour = (symbols: string[], extra: object = {}) => ({ type: "enum", name: "Colour", symbols, ...extra });
    expect(backward(colour(["RED", "GREEN", "BLUE"]), colour(["RED"]))).toBe(
      "{errorType:'MISSING_ENUM_SYMBOLS', description:'The new schema is missing enum symbols '[GREEN, BLUE]' at path '/symbols' in the old schema', additionalInfo:'[GREEN, BLUE]'}",
    );
    // An enum default reads unknown symbols.
    expect(backward(colour(["RED", "GREEN"]), colour(["RED"], { default: "RED" }))).toBeUndefined();
    expect(backward(record([], "A"), record([], "B"))).toBe("{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path '/name')', additionalInfo:'expected: plant.A'}");
    // An alias keeps the old name readable.
    expect(backward(record([], "A"), { ...record([], "B"), aliases: ["plant.A"] })).toBeUndefined();
    expect(backward({ type: "fixed", name: "F", size: 4 }, { type: "fixed", name: "F", size: 8 })).toMatch(/FIXED_SIZE_MISMATCH.*path '\/size'.*expected: 4, found: 8/);
    expect(backward({ type: "array", items: "int" }, { type: "array", items: "boolean" })).toMatch(/TYPE_MISMATCH.*path '\/items'/);
    expect(backward({ type: "map", values: "int" }, { type: "map", values: "double" })).toBeUndefined();
  });

  it("reads a renamed field through its alias, and judges recursive types without looping", () => {
    expect(backward(record([{ name: "old", type: "int" }]), record([{ name: "new", type: "int", aliases: ["old"] }]))).toBeUndefined();
    const list = (extra: object[] = []) => ({ type: "record", name: "Node", fields: [{ name: "value", type: "int" }, { name: "next", type: ["null", "Node"], default: null }, ...extra] });
    expect(backward(list(), list([{ name: "tag", type: "string", default: "" }]))).toBeUndefined();
    // The new field is missing at the top, and so the recursive branch cannot be read either (Avro reports both).
    const messages = checkCompatibility("BACKWARD", avro(list([{ name: "tag", type: "string" }])), [avro(list())]).messages;
    expect(messages.slice(0, 2)).toEqual([
      "{errorType:'MISSING_UNION_BRANCH', description:'The new schema is missing a type inside a union field at path '/fields/1/type/1' in the old schema', additionalInfo:'reader union lacking writer type: RECORD'}",
      "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'tag' at path '/fields/2' in the new schema has no default value and is missing in the old schema', additionalInfo:'tag'}",
    ]);
  });

  it("runs the plain modes against the latest version only, the transitive ones against all", () => {
    // v1 → v2 drops `celsius`; v3 adds it back as a string, which v2 data never carries but v1 data does.
    const a = avro(v1, [], 1);
    const b = avro(record([v1.fields[0]]), [], 2);
    const c = avro(record([v1.fields[0], { name: "celsius", type: "string", default: "" }]), [], 3);
    expect(checkCompatibility("BACKWARD", c, [a, b])).toEqual({ compatible: true, messages: [] });
    const transitive = checkCompatibility("BACKWARD_TRANSITIVE", c, [a, b]);
    expect(transitive.compatible).toBe(false);
    expect(transitive.messages).toContain("{oldSchemaVersion: 1}");
    expect(transitive.messages[0]).toMatch(/TYPE_MISMATCH.*\/fields\/1\/type/);
  });

  it("refuses a candidate of another type than the version it is checked against, except under NONE", () => {
    const json = parseSchema({ schemaType: "JSON", schema: '{"type":"string"}', references: [] });
    if (!json.ok) throw new Error(json.message);
    const verdict = checkCompatibility("FORWARD", avro('"string"'), [{ ...json.schema, version: 2 }]);
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages[0]).toBe("Incompatible schema type: the new schema is AVRO, version 2 is JSON.");
    expect(checkCompatibility("NONE", avro('"string"'), [json.schema]).compatible).toBe(true);
  });

  it("falls back to avsc's refusal where Avro's name rule would let it through", () => {
    const verdict = checkCompatibility("BACKWARD", avro({ ...record([]), namespace: "other" }), [avro(record([]))]);
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages[0]).toMatch(/^\{errorType:'TYPE_MISMATCH', description:'The new schema cannot read data written with the old schema/);
  });
});
