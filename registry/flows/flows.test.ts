import { describe, expect, it } from "vitest";
import { canonicalJson, schemaHash } from "../hash.ts";
import { parseContract } from "../parse/index.ts";
import { parseSchema, SCHEMA_TYPE_FORMATS } from "../schematypes/index.ts";
import type { Contract, Message } from "../types.ts";
import { flowsOf, headersSchemaOf, JSON_SCHEMA_FORMAT, normaliseSchemaFormat, payloadSchemaOf, registrySchemaHash, schemasOf } from "./index.ts";

async function contract(text: string): Promise<Contract> {
  const result = await parseContract(text, { validation: "schema-only" });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.contract!;
}

const v2 = `asyncapi: 2.6.0
info: { title: Lights, version: 1.0.0 }
channels:
  lights/{id}/on:
    parameters:
      id: { schema: { type: string } }
    subscribe:
      operationId: turnOn
      message:
        name: turnOn
        headers: { type: object, properties: { traceId: { type: string } } }
        payload: { type: object, properties: { on: { type: boolean } } }
  lights/{id}/measured:
    parameters:
      id: { schema: { type: string } }
    publish:
      operationId: lightMeasured
      message: { name: measured, payload: { type: number } }
  lights/{id}/avro:
    parameters:
      id: { schema: { type: string } }
    subscribe:
      message:
        name: avroReading
        schemaFormat: application/vnd.apache.avro;version=1.9.0
        payload: { type: record, name: Reading, fields: [{ name: value, type: double }] }
`;

const v3 = `asyncapi: 3.0.0
info: { title: Lines, version: 1.0.0 }
channels:
  readings:
    address: plant/{lineId}/reading
    parameters: { lineId: {} }
    messages:
      temperature: { name: temperature, payload: { type: object, properties: { value: { type: number } } } }
      humidity: { name: humidity, payload: { type: object, properties: { value: { type: number } } } }
      raw: { name: raw }
  commands:
    address: plant/{lineId}/command
    parameters: { lineId: {} }
    messages:
      command: { name: command, payload: { type: string } }
  unused:
    address: plant/unused
    messages:
      lonely: { name: lonely, payload: { type: integer } }
operations:
  sendTemperature:
    action: send
    channel: { $ref: '#/channels/readings' }
    messages: [{ $ref: '#/channels/readings/messages/temperature' }]
  alsoSendTemperature:
    action: send
    channel: { $ref: '#/channels/readings' }
    messages: [{ $ref: '#/channels/readings/messages/temperature' }, { $ref: '#/channels/readings/messages/raw' }]
  receiveReadings:
    action: receive
    channel: { $ref: '#/channels/readings' }
  receiveCommand:
    action: receive
    channel: { $ref: '#/channels/commands' }
`;

describe("flowsOf", () => {
  it("derives 2.x flows with the application's direction (subscribe = send, publish = receive)", async () => {
    const flows = flowsOf(await contract(v2));
    expect(flows.map((f) => [f.channel, f.action, f.messageKey])).toEqual([
      ["lights/{id}/avro", "send", "avroReading"],
      ["lights/{id}/measured", "receive", "measured"],
      ["lights/{id}/on", "send", "turnOn"],
    ]);
    const on = flows.find((f) => f.messageKey === "turnOn")!;
    expect(on.operations).toEqual(["turnOn"]);
    expect(on.payload?.format).toBe(JSON_SCHEMA_FORMAT);
    expect(JSON.parse(on.payload!.canonical)).toEqual({ type: "object", properties: { on: { type: "boolean" } } });
    expect(on.headers?.canonical).toBe(canonicalJson({ type: "object", properties: { traceId: { type: "string" } } }));
    expect(flows.find((f) => f.messageKey === "measured")!.headers).toBeNull();
  });

  it("keeps a non-JSON Schema format with its schema", async () => {
    const avro = flowsOf(await contract(v2)).find((f) => f.messageKey === "avroReading")!;
    expect(avro.payload?.format).toBe("application/vnd.apache.avro;version=1.9.0");
    expect(avro.payload?.format).toBe(SCHEMA_TYPE_FORMATS.AVRO);
    expect(avro.payload?.hash).toBe(registrySchemaHash("application/vnd.apache.avro;version=1.9.0", avro.payload!.schema));
  });

  it("records JSON Schema and Avro in the registry's format for their type, so the registry API's registration is the same schema", async () => {
    const c = await contract(`asyncapi: 3.0.0
info: { title: Formats, version: 1.0.0 }
channels:
  formats:
    address: formats
    messages:
      avroJson:
        name: avroJson
        payload:
          schemaFormat: application/vnd.apache.avro+json;version=1.9.0
          schema: { type: record, name: A, fields: [{ name: value, type: double }] }
      avroYaml:
        name: avroYaml
        payload:
          schemaFormat: application/vnd.apache.avro+yaml;version=1.10.0
          schema: { type: record, name: B, fields: [{ name: value, type: string }] }
      asyncapi:
        name: asyncapi
        payload:
          schemaFormat: application/vnd.aai.asyncapi+json;version=3.0.0
          schema: { type: object, properties: { value: { type: number } } }
      openapi:
        name: openapi
        payload:
          schemaFormat: application/vnd.oai.openapi;version=3.0.0
          schema: { type: object, properties: { value: { type: string, nullable: true } } }
`);
    const messages = c.channels.formats!.messages;
    for (const key of ["avroJson", "avroYaml"]) {
      const payload = payloadSchemaOf(messages[key]!)!;
      expect(payload.format).toBe(SCHEMA_TYPE_FORMATS.AVRO);
      const api = parseSchema({ schemaType: "AVRO", schema: JSON.stringify(payload.schema), references: [] });
      expect(api.ok && api.schema.hash).toBe(payload.hash);
    }
    for (const key of ["asyncapi", "openapi"]) {
      const payload = payloadSchemaOf(messages[key]!)!;
      expect(payload.format).toBe(JSON_SCHEMA_FORMAT);
      const api = parseSchema({ schemaType: "JSON", schema: JSON.stringify(payload.schema), references: [] });
      expect(api.ok && api.schema.hash).toBe(payload.hash);
    }
  });

  it("records comparable payloads and headers as JSON Schema whatever format the message declares, Avro headers as Avro", () => {
    const base = { key: "m", bindings: {}, examples: [], tags: [], sourcePath: [] } as unknown as Message;
    const json: Message = { ...base, schemaFormat: "application/vnd.aai.asyncapi+json;version=3.0.0", payload: { type: "string" }, payloadComparable: true, headers: { type: "object" }, headersComparable: true };
    expect(payloadSchemaOf(json)!.hash).toBe(registrySchemaHash(JSON_SCHEMA_FORMAT, { type: "string" }));
    expect(headersSchemaOf(json)!.format).toBe(JSON_SCHEMA_FORMAT);
    const avro: Message = { ...base, schemaFormat: "Application/Vnd.Apache.Avro+JSON; version=1.10.0", payload: { type: "record", name: "R", fields: [] }, payloadComparable: false, headers: { type: "map", values: "string" }, headersComparable: false };
    expect(payloadSchemaOf(avro)!.format).toBe(SCHEMA_TYPE_FORMATS.AVRO);
    expect(headersSchemaOf(avro)!.format).toBe(SCHEMA_TYPE_FORMATS.AVRO);
    const other: Message = { ...base, schemaFormat: "application/vnd.google.protobuf;version=3", payload: { syntax: "proto3" }, payloadComparable: false, headersComparable: true };
    expect(payloadSchemaOf(other)!.format).toBe("application/vnd.google.protobuf;version=3");
  });

  it("derives 3.0 flows, restricted to the operation's messages, merged across operations", async () => {
    const flows = flowsOf(await contract(v3));
    expect(flows.map((f) => [f.channel, f.action, f.messageKey, f.operations])).toEqual([
      ["plant/{lineId}/command", "receive", "command", ["receiveCommand"]],
      // An operation without `messages` covers every message of its channel.
      ["plant/{lineId}/reading", "receive", "humidity", ["receiveReadings"]],
      ["plant/{lineId}/reading", "receive", "raw", ["receiveReadings"]],
      ["plant/{lineId}/reading", "receive", "temperature", ["receiveReadings"]],
      ["plant/{lineId}/reading", "send", "raw", ["alsoSendTemperature"]],
      ["plant/{lineId}/reading", "send", "temperature", ["alsoSendTemperature", "sendTemperature"]],
    ]);
    // A message without a payload has a flow without a payload schema.
    expect(flows.find((f) => f.messageKey === "raw")!.payload).toBeNull();
  });

  it("gives a channel without an operation no flow", async () => {
    const flows = flowsOf(await contract(v3));
    expect(flows.some((f) => f.channel === "plant/unused")).toBe(false);
  });

  it("gives identical schemas the same hash, within and across contracts", async () => {
    const flows = flowsOf(await contract(v3));
    const temperature = flows.find((f) => f.messageKey === "temperature")!;
    const humidity = flows.find((f) => f.messageKey === "humidity")!;
    expect(temperature.payload!.hash).toBe(humidity.payload!.hash);
    const reordered = await contract(v3.replace("{ type: object, properties: { value: { type: number } } } }\n      humidity", "{ properties: { value: { type: number } }, type: object } }\n      humidity"));
    expect(flowsOf(reordered).find((f) => f.messageKey === "temperature")!.payload!.hash).toBe(temperature.payload!.hash);
  });

  it("is deterministic", async () => {
    const c = await contract(v3);
    expect(flowsOf(c)).toEqual(flowsOf(structuredClone(c)));
  });
});

describe("schemasOf", () => {
  it("lists every distinct payload and headers schema, used by a flow or not", async () => {
    const schemas = schemasOf(await contract(v3));
    const bodies = schemas.map((s) => JSON.parse(s.canonical));
    // temperature and humidity share one schema; the unused channel's schema is still registered.
    expect(bodies).toHaveLength(3);
    expect(bodies).toContainEqual({ type: "integer" });
    expect(bodies).toContainEqual({ type: "string" });
    expect(new Set(schemas.map((s) => s.hash)).size).toBe(3);
    expect([...schemas].sort((a, b) => (a.hash < b.hash ? -1 : 1))).toEqual(schemas);
  });

  it("covers every schema the flows point to", async () => {
    for (const doc of [v2, v3]) {
      const c = await contract(doc);
      const hashes = new Set(schemasOf(c).map((s) => s.hash));
      for (const f of flowsOf(c)) {
        if (f.payload) expect(hashes.has(f.payload.hash)).toBe(true);
        if (f.headers) expect(hashes.has(f.headers.hash)).toBe(true);
      }
    }
  });
});

describe("registrySchemaHash", () => {
  it("covers the format: the same JSON in two formats is two schemas", () => {
    const schema = { type: "string" };
    expect(registrySchemaHash(JSON_SCHEMA_FORMAT, schema)).not.toBe(registrySchemaHash("application/vnd.apache.avro;version=1.9.0", schema));
  });

  it("ignores key order and the spelling of the format", () => {
    expect(registrySchemaHash("Application/Schema+JSON; version=draft-07", { b: 1, a: 2 })).toBe(registrySchemaHash(JSON_SCHEMA_FORMAT, { a: 2, b: 1 }));
    expect(normaliseSchemaFormat(" application/vnd.apache.avro ; version=1.9.0 ")).toBe("application/vnd.apache.avro;version=1.9.0");
  });

  it("differs from the bare content hash, which ignores the format", () => {
    expect(registrySchemaHash(JSON_SCHEMA_FORMAT, {})).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(registrySchemaHash(JSON_SCHEMA_FORMAT, {})).not.toBe(schemaHash({}));
  });
});
