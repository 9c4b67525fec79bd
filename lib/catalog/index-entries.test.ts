import { describe, expect, it } from "vitest";
import { parseContract } from "@/registry/index.ts";
import { buildIndexEntries, payloadFields } from "./index-entries.ts";

const DOC = `
asyncapi: 3.0.0
info: { title: Orders, version: 1.0.0, description: Order events }
channels:
  orderCreated:
    address: orders/{orderId}/created
    parameters: { orderId: { description: The order } }
    messages:
      created:
        name: OrderCreated
        payload:
          type: object
          required: [orderId]
          properties:
            orderId: { type: string, format: uuid, description: Identifier of the order }
            customer:
              type: object
              properties: { address: { type: object, properties: { city: { type: string } } } }
            items: { type: array, items: { type: object, properties: { sku: { type: string } } } }
operations:
  publishCreated:
    action: send
    channel: { $ref: '#/channels/orderCreated' }
`;

describe("payloadFields", () => {
  it("lists nested and array fields with dotted paths", () => {
    const fields = payloadFields({
      type: "object",
      required: ["a"],
      properties: { a: { type: "string" }, b: { type: "object", properties: { c: { type: "integer" } } }, d: { type: "array", items: { properties: { e: {} } } } },
    });
    expect(fields.map((f) => f.path)).toEqual(["a", "b", "b.c", "d", "d[].e"]);
    expect(fields[0]).toMatchObject({ required: true, type: "string" });
  });
  it("stops on circular schemas", () => {
    const node: Record<string, unknown> = { type: "object", properties: {} };
    (node.properties as Record<string, unknown>).self = node;
    expect(payloadFields(node as never).length).toBeLessThan(10);
  });
});

describe("buildIndexEntries", () => {
  it("indexes the application, channels, messages and fields with their direction", async () => {
    const parsed = await parseContract(DOC);
    expect(parsed.contract).toBeDefined();
    const entries = buildIndexEntries({ name: "Order service", slug: "orders", description: "", tags: ["sales"], domain: "sales" }, parsed.contract!);
    const kinds = entries.map((e) => `${e.kind}:${e.fieldPath ?? e.address ?? ""}`);
    expect(kinds).toEqual([
      "application:",
      "channel:orders/{orderId}/created",
      "message:orders/{orderId}/created",
      "field:orderId",
      "field:customer",
      "field:customer.address",
      "field:customer.address.city",
      "field:items",
      "field:items[].sku",
    ]);
    const field = entries.find((e) => e.fieldPath === "orderId")!;
    expect(field).toMatchObject({ action: "send", fieldName: "orderid", levelCount: 3, firstLevel: "orders" });
  });
});
