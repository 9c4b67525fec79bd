import { describe, expect, it } from "vitest";
import { registrySchemaHash } from "../flows/index.ts";
import { flowsOf } from "../flows/index.ts";
import { modeAccepts } from "../jsonschema/reader-writer.ts";
import type { CompatibilityMode, Contract } from "../types.ts";
import { checkCompatibility, MAX_SCHEMA_BYTES, parseSchema, SCHEMA_TYPE_FORMATS, type ParsedSchema, type ResolvedReference } from "./index.ts";

function json(schema: unknown, references: ResolvedReference[] = []): ParsedSchema {
  const outcome = parseSchema({ schemaType: "JSON", schema: typeof schema === "string" ? schema : JSON.stringify(schema), references });
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.schema;
}

function failure(schema: string, references: ResolvedReference[] = []): string {
  const outcome = parseSchema({ schemaType: "JSON", schema, references });
  if (outcome.ok) throw new Error("parsed");
  return outcome.message;
}

const ref = (name: string, schema: unknown, extra: Partial<ResolvedReference> = {}): ResolvedReference => ({ name, subject: extra.subject ?? name, version: extra.version ?? 1, schemaType: "JSON", schema: JSON.stringify(schema), references: extra.references ?? [] });

const closed = (properties: Record<string, unknown>, required: string[] = []) => ({ type: "object", properties, required, additionalProperties: false });
const open = (properties: Record<string, unknown>, required: string[] = []) => ({ type: "object", properties, required });

describe("JSON Schema: parse, canonical form and identity", () => {
  it("canonicalises: key order and whitespace do not change the canonical text or the hash", () => {
    const a = json('{ "type": "object", "properties": { "b": {"type":"string"}, "a": {"type":"integer"} } }');
    const b = json('{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}');
    expect(a.canonical).toBe('{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}');
    expect(a.hash).toBe(b.hash);
    expect(a.format).toBe(SCHEMA_TYPE_FORMATS.JSON);
    expect(a.schemaType).toBe("JSON");
    expect(a.references).toEqual([]);
  });

  it("hashes as the contract flows do, so a contract payload and the same schema over the API share one id", () => {
    const schema = { type: "object", properties: { celsius: { type: "number" } }, required: ["celsius"] };
    const contract = {
      channels: { temp: { address: "plant/temperature", messages: { reading: { key: "reading", payload: schema, schemaFormat: "application/schema+json;version=draft-07" } } } },
      operations: { send: { id: "send", action: "send", channel: "temp", messages: ["reading"] } },
    } as unknown as Contract;
    const [flow] = flowsOf(contract);
    expect(json(schema).hash).toBe(flow!.payload!.hash);
    expect(json(schema).hash).toBe(registrySchemaHash("application/schema+json;version=draft-07", schema));
  });

  it("accepts a boolean schema and the modern dialects", () => {
    expect(json(true).canonical).toBe("true");
    expect(json({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "array", prefixItems: [{ type: "string" }] }).canonical).toContain("prefixItems");
    expect(json({ $schema: "https://json-schema.org/draft/2019-09/schema", type: "string" }).schemaType).toBe("JSON");
    expect(json({ $schema: "http://json-schema.org/draft-04/schema#", type: "number", minimum: 0, exclusiveMinimum: true }).schemaType).toBe("JSON");
    expect(json({ $schema: "http://json-schema.org/draft-06/schema#", type: "number", exclusiveMinimum: 0 }).schemaType).toBe("JSON");
  });

  it("refuses text that is not JSON, not a schema, or not a valid JSON Schema, without throwing", () => {
    expect(failure("{not json")).toMatch(/not valid JSON/);
    expect(failure("[1,2]")).toMatch(/object or a boolean/);
    expect(failure("42")).toMatch(/object or a boolean/);
    expect(failure('{"type":"strin"}')).toMatch(/not a valid JSON Schema/);
    expect(failure('{"type":"object","required":"a"}')).toMatch(/not a valid JSON Schema/);
  });

  it("refuses an oversized text and too deep nesting", () => {
    const big = JSON.stringify({ type: "string", description: "x".repeat(MAX_SCHEMA_BYTES) });
    expect(failure(big)).toMatch(/larger than 1048576 bytes/);
    // Multi-byte characters count by their UTF-8 size.
    expect(failure(JSON.stringify({ description: "é".repeat(MAX_SCHEMA_BYTES / 2 + 1) }))).toMatch(/larger than/);
    let deep: unknown = { type: "string" };
    for (let i = 0; i < 300; i++) deep = { type: "array", items: deep };
    expect(failure(JSON.stringify(deep))).toMatch(/nests deeper than 256/);
  });

  it("refuses a $ref that is neither local nor a reference name, and never fetches it", () => {
    expect(failure(JSON.stringify(open({ a: { $ref: "https://example.com/other.json" } })))).toMatch(/Unresolved reference "https:\/\/example.com\/other.json/);
    expect(failure(JSON.stringify(open({ a: { $ref: "#/definitions/missing" } })))).toMatch(/Unresolved reference|does not compile/);
    expect(json({ definitions: { s: { type: "string" } }, $ref: "#/definitions/s" }).canonical).toContain("definitions");
  });

  it("resolves local pointers, anchors, embedded ids, the root id and meta-schemas without generating a validator", () => {
    expect(json({ $id: "https://acme.example/order.json", definitions: { a: { $id: "#amount", type: "number" }, b: { $id: "item.json", type: "string" } }, properties: { x: { $ref: "#amount" }, y: { $ref: "item.json" }, z: { $ref: "order.json#/definitions/a" }, s: { $ref: "http://json-schema.org/draft-07/schema#" } } }).schemaType).toBe("JSON");
    expect(json({ $schema: "https://json-schema.org/draft/2020-12/schema", $defs: { a: { $anchor: "money", type: "number" } }, properties: { x: { $ref: "#money" } } }).schemaType).toBe("JSON");
    expect(failure(JSON.stringify({ properties: { x: { $ref: "#nowhere" } } }))).toMatch(/Unresolved reference "#nowhere"/);
    // A `$ref` inside data (an enum value) is not a reference.
    expect(json({ enum: [{ $ref: "https://example.com/x" }] }).schemaType).toBe("JSON");
    // A large schema is checked in time linear in its size: nothing is compiled for it.
    const wide = { type: "object", properties: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`p${i}`, { type: "string", maxLength: 10 }])) };
    expect(json(wide).canonical.length).toBeGreaterThan(400_000);
  });

  it("refuses an unknown schema type", () => {
    const outcome = parseSchema({ schemaType: "XML" as never, schema: "{}", references: [] });
    expect(outcome).toEqual({ ok: false, message: expect.stringMatching(/Unknown schema type "XML"/) });
  });
});

describe("JSON Schema: references", () => {
  const address = { type: "object", properties: { street: { type: "string" } }, required: ["street"] };
  const customer = (addressRef = "address.json") => open({ name: { type: "string" }, address: { $ref: addressRef } });

  it("resolves a $ref to a reference name, also with a fragment and transitively", () => {
    const parsed = json(customer(), [ref("address.json", address)]);
    expect(parsed.references).toEqual([{ name: "address.json", subject: "address.json", version: 1 }]);
    const withDefs = { definitions: { street: { type: "string" } }, type: "object", properties: { street: { $ref: "#/definitions/street" } } };
    expect(json(open({ s: { $ref: "lib.json#/definitions/street" } }), [ref("lib.json", withDefs)]).hash).toMatch(/^sha256:/);
    const order = open({ customer: { $ref: "customer.json" } });
    expect(json(order, [ref("customer.json", customer(), { references: [ref("address.json", address)] })]).references).toHaveLength(1);
  });

  it("refuses a schema whose reference is missing, of another type, or invalid", () => {
    expect(failure(JSON.stringify(customer()))).toMatch(/Unresolved reference "address.json/);
    expect(failure(JSON.stringify(customer()), [ref("other.json", address)])).toMatch(/Unresolved reference/);
    expect(failure(JSON.stringify(customer()), [{ ...ref("address.json", address), schemaType: "AVRO" }])).toMatch(/is a AVRO schema/);
    expect(failure(JSON.stringify(customer()), [{ ...ref("address.json", address), schema: "{oops" }])).toMatch(/referenced schema "address.json".*not valid JSON/);
    expect(failure(JSON.stringify(customer()), [ref("address.json", address), ref("address.json", address, { subject: "b" })])).toMatch(/used twice/);
    expect(failure(JSON.stringify(open({ a: { $ref: "address.json#/definitions/none" } })), [ref("address.json", address)])).toMatch(/Unresolved reference "address.json#\/definitions\/none"/);
    expect(failure(JSON.stringify(customer()), [ref("address.json", open({ z: { $ref: "zip.json" } }))])).toMatch(/Unresolved reference "zip.json" in the referenced schema "address.json"/);
  });

  it("refuses more than 100 references, counting transitive ones once each", () => {
    const many = Array.from({ length: 101 }, (_, i) => ref(`r${i}.json`, { type: "string" }));
    expect(failure("{}", many)).toMatch(/at most 100 references/);
    const chain = Array.from({ length: 60 }, (_, i) => ref(`c${i}.json`, { type: "string" }));
    const nested = ref("n.json", { type: "string" }, { references: chain });
    expect(failure("{}", [nested, ...Array.from({ length: 45 }, (_, i) => ref(`d${i}.json`, { type: "string" }))])).toMatch(/at most 100 references/);
    // A dependency shared by many references counts once.
    const shared = ref("shared.json", { type: "string" });
    const users = Array.from({ length: 50 }, (_, i) => ref(`u${i}.json`, { type: "string" }, { references: [shared] }));
    expect(json({}, users).references).toHaveLength(50);
  });

  it("gives a schema with references another id than the same text without, and other references another id", () => {
    const a = json(customer(), [ref("address.json", address, { subject: "addr", version: 1 })]);
    const b = json(customer(), [ref("address.json", address, { subject: "addr", version: 2 })]);
    const c = json(customer(), [ref("address.json", address, { subject: "addr", version: 1 })]);
    expect(a.hash).not.toBe(b.hash);
    expect(a.hash).toBe(c.hash);
    expect(a.hash).not.toBe(registrySchemaHash(SCHEMA_TYPE_FORMATS.JSON, JSON.parse(a.canonical)));
    expect(a.canonical).toBe(b.canonical);
  });

  it("judges what a reference points at: a narrowed referenced schema is incompatible", () => {
    const v1 = json(customer(), [ref("address.json", address, { subject: "addr", version: 1 })]);
    const stricter = closed({ street: { type: "string" } }, ["street"]);
    const v2 = json(customer(), [ref("address.json", stricter, { subject: "addr", version: 2 })]);
    const verdict = checkCompatibility("BACKWARD", v2, [v1]);
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages[0]).toMatch(/Difference\{jsonPath='#\/properties\/address.*', type=ADDITIONAL_PROPERTIES_REMOVED\}/);
    const same = json(customer(), [ref("address.json", address, { subject: "addr", version: 2 })]);
    expect(checkCompatibility("FULL", same, [v1])).toEqual({ compatible: true, messages: [] });
  });

  it("judges a schema that moved a part into a reference as the same schema", () => {
    const inline = json(open({ address }));
    const moved = json(open({ address: { $ref: "address.json" } }), [ref("address.json", address)]);
    expect(checkCompatibility("FULL", moved, [inline])).toEqual({ compatible: true, messages: [] });
    expect(checkCompatibility("FULL", inline, [moved])).toEqual({ compatible: true, messages: [] });
  });

  it("judges a referenced schema's own local references where it was moved", () => {
    const lib = (t: string) => ({ definitions: { code: { type: t } }, type: "object", properties: { code: { $ref: "#/definitions/code" } } });
    const v1 = json(open({ x: { $ref: "lib.json" } }), [ref("lib.json", lib("integer"), { version: 1 })]);
    const v2 = json(open({ x: { $ref: "lib.json" } }), [ref("lib.json", lib("number"), { version: 2 })]);
    expect(checkCompatibility("BACKWARD", v2, [v1]).compatible).toBe(true);
    expect(checkCompatibility("FORWARD", v2, [v1]).compatible).toBe(false);
  });
});

describe("JSON Schema: compatibility through checkCompatibility", () => {
  const v1 = closed({ id: { type: "string" }, note: { type: "string" } }, ["id"]);
  // Each change with the modes it is compatible under.
  const cases: { name: string; from: unknown; to: unknown; backward: boolean; forward: boolean }[] = [
    { name: "an optional property added to a closed model", from: v1, to: closed({ id: { type: "string" }, note: { type: "string" }, extra: { type: "integer" } }, ["id"]), backward: true, forward: false },
    { name: "a property removed from a closed model", from: v1, to: closed({ id: { type: "string" } }, ["id"]), backward: false, forward: true },
    { name: "a required property added", from: v1, to: closed({ id: { type: "string" }, note: { type: "string" } }, ["id", "note"]), backward: false, forward: true },
    { name: "a description changed", from: v1, to: { ...v1, description: "now documented" }, backward: true, forward: true },
    { name: "a type changed", from: v1, to: closed({ id: { type: "integer" }, note: { type: "string" } }, ["id"]), backward: false, forward: false },
  ];
  const modes: CompatibilityMode[] = ["BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"];

  for (const c of cases) {
    for (const mode of modes) {
      const backward = mode.startsWith("BACKWARD") || mode.startsWith("FULL");
      const forward = mode.startsWith("FORWARD") || mode.startsWith("FULL");
      const expected = (!backward || c.backward) && (!forward || c.forward);
      it(`${mode}: ${c.name} is ${expected ? "compatible" : "incompatible"}`, () => {
        const verdict = checkCompatibility(mode, json(c.to), [json(c.from)]);
        expect(verdict.compatible).toBe(expected);
        expect(verdict.messages.length === 0).toBe(expected);
        // The same verdict as the engine's one verdict path.
        expect(modeAccepts(mode, c.to, [c.from]).compatible).toBe(expected);
      });
    }
  }

  it("words an incompatible change as Confluent's verbose output, with version and level", () => {
    const old = { ...json(v1), version: 3 };
    const verdict = checkCompatibility("BACKWARD", json(closed({ id: { type: "string" } }, ["id"])), [old]);
    expect(verdict.messages).toEqual([
      "Found incompatible change: Difference{jsonPath='#/properties/note', type=PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL}",
      "{oldSchemaVersion: 3}",
      `{oldSchema: '${old.canonical}'}`,
      "{validateFields: 'false', compatibility: 'BACKWARD'}",
    ]);
  });

  it("runs the plain modes against the latest version only, the transitive ones against all", () => {
    // v1 closed with `note`; v2 drops `note` (forward-only); v3 adds `note` back as an integer.
    const a = json(v1);
    const b = json(closed({ id: { type: "string" } }, ["id"]));
    const c = json(closed({ id: { type: "string" }, note: { type: "integer" } }, ["id"]));
    expect(checkCompatibility("BACKWARD", c, [a, b]).compatible).toBe(true);
    const transitive = checkCompatibility("BACKWARD_TRANSITIVE", c, [a, b]);
    expect(transitive.compatible).toBe(false);
    expect(transitive.messages[0]).toMatch(/jsonPath='#\/properties\/note'/);
    expect(checkCompatibility("BACKWARD", c, [b, a]).compatible).toBe(false);
  });

  it("accepts anything with no earlier version, and under NONE", () => {
    expect(checkCompatibility("FULL_TRANSITIVE", json(v1), [])).toEqual({ compatible: true, messages: [] });
    expect(checkCompatibility("NONE", json({ type: "string" }), [json(v1)])).toEqual({ compatible: true, messages: [] });
  });

  it("refuses a candidate of another type than the version it is checked against", () => {
    const avro = parseSchema({ schemaType: "AVRO", schema: '"string"', references: [] });
    if (!avro.ok) return; // Avro parsing lands in its own commit.
    const verdict = checkCompatibility("BACKWARD", json({ type: "string" }), [{ ...avro.schema, version: 1 }]);
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages[0]).toBe("Incompatible schema type: the new schema is JSON, version 1 is AVRO.");
  });

  it("reports a comparison past its bounds as incompatible, saying so", { timeout: 120_000 }, () => {
    // Shared definitions keep the text small while the alternatives to match grow exponentially.
    const make = (leaf: string) => {
      const definitions: Record<string, unknown> = { d0: { type: leaf } };
      for (let k = 1; k <= 10; k++) definitions[`d${k}`] = { anyOf: Array.from({ length: 6 }, (_, i) => ({ type: "object", title: `t${i}`, properties: { [`p${i}`]: { $ref: `#/definitions/d${k - 1}` } } })) };
      return { definitions, $ref: "#/definitions/d10" };
    };
    const verdict = checkCompatibility("BACKWARD", json(make("number")), [json(make("string"))]);
    expect(verdict.compatible).toBe(false);
    expect(verdict.messages[0]).toMatch(/too intricate/);
  });
});
