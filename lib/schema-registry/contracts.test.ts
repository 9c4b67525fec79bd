import { describe, expect, it } from "vitest";
import type { Contract, Message } from "@/registry/index.ts";
import { contractSchemaType, keySchemaOf, plannedSubjects, recordNameOf, subjectNameOf } from "./contracts.ts";

const AVRO = "application/vnd.apache.avro;version=1.9.0";

function message(key: string, extra: Partial<Message> = {}): Message {
  return {
    key,
    schemaFormat: "application/schema+json;version=draft-07",
    payload: { type: "object", title: "Order placed", properties: { id: { type: "string" } } },
    payloadComparable: true,
    headersComparable: true,
    bindings: {},
    examples: [],
    tags: [],
    sourcePath: [],
    ...extra,
  };
}

const avroMessage = (key: string, payload: unknown, extra: Partial<Message> = {}) =>
  message(key, { schemaFormat: AVRO, payload: payload as Message["payload"], payloadComparable: false, ...extra });

function contract(channels: Record<string, Message[]>): Contract {
  return {
    asyncapi: "3.0.0",
    title: "t",
    version: "1.0.0",
    owners: [],
    tags: [],
    servers: {},
    operations: {},
    securitySchemes: {},
    channels: Object.fromEntries(
      Object.entries(channels).map(([address, messages]) => [
        address,
        { address, id: address, parameters: {}, servers: [], bindings: {}, tags: [], sourcePath: [], messages: Object.fromEntries(messages.map((m) => [m.key, m])) },
      ]),
    ),
  };
}

describe("subjectNameOf", () => {
  const m = message("orderPlaced");

  it("names by channel and message by default", () => {
    expect(subjectNameOf(null, "shop/orders", m, "payload", 1)).toBe("shop/orders-orderPlaced");
    expect(subjectNameOf("channel-message", "shop/orders", m, "headers", 1)).toBe("shop/orders-orderPlaced-headers");
    expect(subjectNameOf("channel-message", "shop/orders", m, "key", 3)).toBe("shop/orders-orderPlaced-key");
  });

  it("names by topic, with the message in the name when the channel carries several", () => {
    expect(subjectNameOf("topic", "orders", m, "payload", 1)).toBe("orders-value");
    expect(subjectNameOf("topic", "orders", m, "key", 1)).toBe("orders-key");
    expect(subjectNameOf("topic", "orders", m, "headers", 1)).toBe("orders-headers");
    expect(subjectNameOf("topic", "orders", m, "payload", 2)).toBe("orders-orderPlaced-value");
    expect(subjectNameOf("topic", "orders", m, "key", 2)).toBe("orders-orderPlaced-key");
  });

  it("names by record: the Avro full name, the JSON Schema title, else channel-message", () => {
    expect(subjectNameOf("record", "orders", avroMessage("o", { type: "record", name: "Order", namespace: "com.shop", fields: [] }), "payload", 1)).toBe("com.shop.Order");
    expect(subjectNameOf("record", "orders", avroMessage("o", { type: "record", name: "com.shop.Order", namespace: "ignored", fields: [] }), "payload", 1)).toBe("com.shop.Order");
    expect(subjectNameOf("record", "orders", avroMessage("o", { type: "record", name: "Order", fields: [] }), "payload", 1)).toBe("Order");
    expect(subjectNameOf("record", "orders", m, "payload", 1)).toBe("Order placed");
    expect(subjectNameOf("record", "orders", message("untitled", { payload: { type: "string" } }), "payload", 1)).toBe("orders-untitled");
    // No headers schema: the fallback name.
    expect(subjectNameOf("record", "orders", m, "headers", 1)).toBe("orders-orderPlaced-headers");
  });
});

describe("schemas the registry serves", () => {
  it("maps JSON Schema to JSON and Avro formats to AVRO, others to none", () => {
    expect(contractSchemaType("application/schema+json;version=draft-07")).toBe("JSON");
    expect(contractSchemaType("application/vnd.apache.avro+json;version=1.9.0")).toBe("AVRO");
    expect(contractSchemaType("application/vnd.google.protobuf")).toBeNull();
    expect(contractSchemaType("application/raml+yaml;version=1.0")).toBeNull();
  });

  it("reads a Kafka key schema from the message binding, in the message's format", () => {
    expect(keySchemaOf(message("a"))).toBeNull();
    const json = keySchemaOf(message("a", { bindings: { kafka: { key: { type: "string" } } } }));
    expect(json).toMatchObject({ format: "application/schema+json;version=draft-07", canonical: '{"type":"string"}' });
    expect(keySchemaOf(message("a", { bindings: { kafka: { key: "string" } } }))).toBeNull();
    expect(keySchemaOf(avroMessage("a", { type: "record", name: "A", fields: [] }, { bindings: { kafka: { key: "string" } } }))).toMatchObject({ format: AVRO, canonical: '"string"' });
  });

  it("records a name only for named Avro types and titled JSON Schemas", () => {
    expect(recordNameOf({ hash: "", format: AVRO, canonical: "", schema: { type: "string" } })).toBeNull();
    expect(recordNameOf({ hash: "", format: "application/schema+json;version=draft-07", canonical: "", schema: { title: "  " } })).toBeNull();
  });
});

describe("plannedSubjects", () => {
  it("plans one subject per message and part of every channel, skipping formats the registry does not serve", () => {
    const c = contract({
      orders: [message("placed", { headers: { type: "object" }, bindings: { kafka: { key: { type: "string" } } } }), message("cancelled")],
      raml: [message("r", { schemaFormat: "application/raml+yaml;version=1.0", payloadComparable: false })],
    });
    expect(plannedSubjects(c, null).map((p) => `${p.name} ${p.part} ${p.schemaType}`)).toEqual([
      "orders-cancelled payload JSON",
      "orders-placed payload JSON",
      "orders-placed-headers headers JSON",
      "orders-placed-key key JSON",
    ]);
  });

  it("refuses a name longer than 255 characters, naming the channel and message", () => {
    const c = contract({ ["a".repeat(249)]: [message("placed")] });
    expect(() => plannedSubjects(c, null)).toThrow(/channel a+, message placed.*255/);
    expect(plannedSubjects(c, "topic")[0]!.name).toBe(`${"a".repeat(249)}-value`);
  });

  it("refuses two different schemas under one name, and keeps one subject for the same schema", () => {
    const same = contract({ a: [message("x")], b: [message("y")] });
    expect(plannedSubjects(same, "record").map((p) => p.name)).toEqual(["Order placed"]);
    const different = contract({ a: [message("x")], b: [message("y", { payload: { title: "Order placed", type: "string" } })] });
    expect(() => plannedSubjects(different, "record")).toThrow(/Order placed would hold two different schemas/);
  });
});
