import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { addressFromTemplate, additions, editRootFile, nextMinor, parametersOf, payloadFromInferred, type ImportPlan } from "./import.ts";

describe("import of an undocumented topic", () => {
  it("names the agent's placeholders after the level before them", () => {
    expect(addressFromTemplate("plant/{p1}/temperature")).toBe("plant/{plantId}/temperature");
    expect(addressFromTemplate("lines/{p1}/machines/{p3}/state")).toBe("lines/{lineId}/machines/{machineId}/state");
    expect(addressFromTemplate("factories/{p1}/{p2}/x")).toBe("factories/{factoryId}/{param1}/x");
    expect(addressFromTemplate("{p0}/status")).toBe("{param1}/status");
    expect(addressFromTemplate("plant/{p1}/plant/{p3}")).toBe("plant/{plantId}/plant/{plantId2}");
    expect(addressFromTemplate("line-items/{p1}")).toBe("line-items/{lineItemId}");
    expect(addressFromTemplate("site/{siteId}/{p2}")).toBe("site/{siteId}/{param1}");
    expect(addressFromTemplate("orders/created")).toBe("orders/created");
    expect(parametersOf("a/{x}/b/{y}/{x}")).toEqual(["x", "y"]);
  });

  it("names the placeholders of a NATS subject or AMQP routing key between its dots", () => {
    expect(addressFromTemplate("orders.{p1}.created", ".")).toBe("orders.{orderId}.created");
    expect(addressFromTemplate("billing.invoices.{p2}.{p3}", ".")).toBe("billing.invoices.{invoiceId}.{param1}");
    // Read as MQTT, the dotted subject is one level and its placeholder has no level before it.
    expect(addressFromTemplate("orders.{p1}.created")).toBe("orders.{p1}.created");
  });

  it("drops the 2020-12 dialect of the inferred schema", () => {
    expect(payloadFromInferred({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" })).toEqual({ type: "object" });
    expect(payloadFromInferred(undefined)).toBeUndefined();
  });

  it("picks the next free minor version", () => {
    expect(nextMinor("1.2.3", new Set(["1.2.3"]))).toBe("1.3.0");
    expect(nextMinor("1.2.3", new Set(["1.3.0", "1.4.0"]))).toBe("1.5.0");
  });

  const plan: ImportPlan = { address: "plant/{plantId}/humidity", channelId: "plantHumidity", message: "humidity", operation: "sendPlantHumidity", action: "send", payload: { type: "object" }, description: "Observed.", version: "1.3.0" };

  it("edits YAML keeping comments and the rest, and JSON as JSON", () => {
    const yaml = "asyncapi: 3.0.0\n# hello\ninfo:\n  title: T\n  version: 1.2.0\nchannels: {}\n";
    const out = editRootFile("asyncapi.yaml", yaml, additions("3.0.0", plan), "1.3.0");
    expect(out).toContain("# hello");
    const doc = parse(out);
    expect(doc.info.version).toBe("1.3.0");
    expect(doc.channels.plantHumidity).toMatchObject({ address: "plant/{plantId}/humidity", parameters: { plantId: {} }, messages: { humidity: { name: "humidity", payload: { type: "object" } } } });
    expect(doc.operations.sendPlantHumidity).toEqual({ action: "send", channel: { $ref: "#/channels/plantHumidity" }, messages: [{ $ref: "#/channels/plantHumidity/messages/humidity" }] });

    const json = editRootFile("c.json", '{\n    "asyncapi": "2.6.0",\n    "info": { "title": "T", "version": "1.0.0" }\n}\n', additions("2.6.0", { ...plan, action: "receive" }), "1.1.0");
    const parsed = JSON.parse(json);
    expect(json).toContain('\n    "asyncapi"');
    expect(parsed.info.version).toBe("1.1.0");
    expect(parsed.channels["plant/{plantId}/humidity"].publish).toMatchObject({ operationId: "sendPlantHumidity", message: { name: "humidity" } });
  });

  it("refuses a document whose sections live elsewhere", () => {
    const yaml = "asyncapi: 3.0.0\ninfo: { title: T, version: 1.0.0 }\nchannels: { $ref: 'channels.yaml' }\n";
    expect(() => editRootFile("asyncapi.yaml", yaml, additions("3.0.0", plan), "1.1.0")).toThrow(/cannot be edited/);
  });
});
