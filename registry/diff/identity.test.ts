/** Messages without a stable identity are matched by what they are: channel, payload, then position. */
import { describe, expect, it } from "vitest";
import { compare } from "../compare.ts";
import { parseContract } from "../parse/index.ts";
import { COMPATIBILITY_MODES, type Contract } from "../types.ts";

async function contract(text: string): Promise<Contract> {
  const result = await parseContract({ "asyncapi.yaml": text }, { validation: "schema-only" });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.contract!;
}

const v2 = `
asyncapi: 2.6.0
info: { title: Lights, version: 1.0.0 }
channels:
  light/{streetlightId}/measured:
    parameters:
      streetlightId: { schema: { type: string } }
    subscribe:
      message:
        oneOf:
          - payload: { type: object, properties: { lumens: { type: integer, minimum: 0 } } }
          - payload: { type: object, properties: { error: { type: string } }, required: [error] }
`;

const v3 = `
asyncapi: 3.0.0
info: { title: Lights, version: 1.0.0 }
channels:
  lightMeasured:
    address: light/{streetlightId}/measured
    parameters:
      streetlightId: {}
    messages:
      failure:
        payload: { type: object, properties: { error: { type: string } }, required: [error] }
      reading:
        payload: { type: object, properties: { lumens: { type: integer, minimum: 0 } } }
operations:
  sendLightMeasured:
    action: send
    channel: { $ref: '#/channels/lightMeasured' }
    messages:
      - $ref: '#/channels/lightMeasured/messages/reading'
      - $ref: '#/channels/lightMeasured/messages/failure'
`;

describe("message identity across versions", () => {
  it("compares a 2.x document and a faithful 3.0 rewrite with anonymous messages as compatible, both ways, in every mode", async () => {
    const a = await contract(v2);
    const b = await contract(v3);
    expect(Object.values(a.channels)[0]!.messages).not.toHaveProperty("reading");
    for (const mode of COMPATIBILITY_MODES) {
      for (const [x, y] of [[a, b], [b, a]] as const) {
        const report = compare(x, y, { mode, against: [x] });
        expect(report.findings.filter((f) => f.verdict === "breaking"), mode).toEqual([]);
        expect(report.findings.map((f) => f.rule)).not.toContain("MESSAGE_REMOVED");
      }
    }
  });

  it("pairs anonymous messages by position when their payloads changed, so the change is judged as a payload change", async () => {
    const a = await contract(v2);
    const b = await contract(v2.replace("minimum: 0", "minimum: 10"));
    const report = compare(a, b);
    expect(report.findings.map((f) => f.rule)).toEqual(["MINIMUM_INCREASED"]);
    expect(report.compatible).toBe(false);
    // Reordering anonymous alternatives is no change at all: they pair by payload first.
    const reordered = v2.replace(/( {10}- payload: \{ type: object, properties: \{ lumens.*\n)( {10}- payload: .*error.*\n)/, "$2$1");
    expect(reordered).not.toBe(v2);
    expect(compare(a, await contract(reordered)).findings.filter((f) => f.verdict === "breaking")).toEqual([]);
  });

  it("keeps named messages named: a renamed message is removed and added", async () => {
    const named = v3.replace("      reading:\n        payload", "      reading:\n        name: reading\n        payload");
    const renamed = named.replace(/reading/g, "measurement");
    const report = compare(await contract(named), await contract(renamed));
    expect(report.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(["MESSAGE_REMOVED", "MESSAGE_ADDED"]));
  });
});
