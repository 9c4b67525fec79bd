import { describe, expect, it } from "vitest";
import { parseContract } from "../parse/index.ts";
import type { Contract } from "../types.ts";

async function contract(text: string): Promise<Contract> {
  const result = await parseContract(text, { validation: "schema-only" });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.contract!;
}

const v2 = `asyncapi: 2.6.0
info: { title: Lights, version: 1.0.0, x-owner: team-lights }
servers:
  prod:
    url: mqtt://broker.example.com:1883
    protocol: mqtt
    security: [{ creds: [] }]
channels:
  lights/{id}/on:
    parameters:
      id: { schema: { type: string, enum: [a, b] } }
    subscribe:
      operationId: turnOn
      message:
        name: turnOn
        traits: [{ contentType: application/json, headers: { type: object } }]
        payload: { type: object }
  lights/{id}/measured:
    parameters:
      id: { schema: { type: string, enum: [a, b] } }
    publish:
      operationId: lightMeasured
      message: { payload: { type: number } }
components:
  securitySchemes:
    creds: { type: userPassword }
`;

const v3 = `asyncapi: 3.0.0
info: { title: Lights, version: 1.0.0, x-owner: team-lights }
servers:
  prod:
    host: broker.example.com:1883
    protocol: mqtt
    security: [{ $ref: '#/components/securitySchemes/creds' }]
channels:
  on:
    address: lights/{id}/on
    parameters: { id: { enum: [b, a] } }
    messages:
      turnOn: { name: turnOn, contentType: application/json, headers: { type: object }, payload: { type: object } }
  measured:
    address: lights/{id}/measured
    parameters: { id: { enum: [a, b] } }
    messages:
      lightMeasured.message: { payload: { type: number } }
operations:
  turnOn: { action: send, channel: { $ref: '#/channels/on' }, messages: [{ $ref: '#/channels/on/messages/turnOn' }] }
  lightMeasured: { action: receive, channel: { $ref: '#/channels/measured' } }
components:
  securitySchemes:
    creds: { type: userPassword }
`;

describe("normalise", () => {
  it("reads 2.x subscribe as what the application sends and publish as what it receives", async () => {
    const c = await contract(v2);
    expect(c.operations.turnOn).toMatchObject({ action: "send", channel: "lights/{id}/on", messages: ["turnOn"] });
    expect(c.operations.lightMeasured).toMatchObject({ action: "receive", channel: "lights/{id}/measured" });
  });

  it("applies message traits, keeps owners, and spells servers and security the same in 2.x and 3.0", async () => {
    const a = await contract(v2);
    const b = await contract(v3);
    expect(a.channels["lights/{id}/on"]?.messages.turnOn).toMatchObject({ contentType: "application/json", headers: { type: "object" } });
    expect(a.owners).toEqual(["team-lights"]);
    expect(a.servers.prod).toMatchObject({ url: "broker.example.com:1883", protocol: "mqtt", security: [["userPassword"]] });
    expect(b.servers.prod).toEqual({ ...a.servers.prod });
  });

  it("gives the same canonical model for the same contract in 2.6 and 3.0", async () => {
    const a = await contract(v2);
    const b = await contract(v3);
    const shape = (c: Contract) =>
      Object.values(c.channels).map((ch) => ({
        address: ch.address,
        parameters: ch.parameters,
        messages: Object.values(ch.messages).map((m) => ({ key: m.key, payload: m.payload, payloadHash: m.payloadHash, contentType: m.contentType })),
      }));
    expect(shape(b)).toEqual(shape(a));
    expect(Object.values(b.operations).map((o) => [o.action, o.channel, o.messages])).toEqual(Object.values(a.operations).map((o) => [o.action, o.channel, o.messages]));
  });
});

describe("mesh extensions on info", () => {
  it("carries x-meshport-kind and x-meshport-systems as written, in 2.x and 3.0", async () => {
    const info = `info:
  title: ERP orders
  version: 1.0.0
  x-meshport-kind: source-integration
  x-meshport-systems:
    - SAP S/4HANA
    - { name: Files, type: file-store, role: target }
`;
    for (const head of ["asyncapi: 2.6.0\n", "asyncapi: 3.0.0\n"]) {
      const c = await contract(`${head}${info}channels: {}\n`);
      expect(c.mesh).toEqual({ kind: "source-integration", systems: ["SAP S/4HANA", { name: "Files", type: "file-store", role: "target" }] });
    }
  });

  it("leaves a document without them as it was", async () => {
    expect((await contract(v3)).mesh).toBeUndefined();
    expect("mesh" in (await contract(v2))).toBe(false);
  });
});
