import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateContract } from "../testing/generate.ts";
import type { Diagnostic } from "../types.ts";
import { parseContract } from "./index.ts";
import { documentValidatorCompilations, documentValidators } from "./validate.ts";

const minimal = (extra = "") => `asyncapi: 3.0.0
info:
  title: Test
  version: 1.0.0
channels:
  readings:
    address: plant/readings
    messages:
      reading:
        payload:
          type: object
          properties:
            value:
              type: number
${extra}`;

const errors = (r: { diagnostics: Diagnostic[] }) => r.diagnostics.filter((d) => d.severity === "error");

describe("parseContract", () => {
  it("parses a valid document into a contract", async () => {
    const result = await parseContract(minimal());
    expect(errors(result)).toEqual([]);
    expect(result.validation).toBe("full");
    expect(result.contract?.channels["plant/readings"]?.messages.reading?.payload).toEqual({ type: "object", properties: { value: { type: "number" } } });
  });

  it("reports YAML syntax errors with line and column", async () => {
    const result = await parseContract("asyncapi: 3.0.0\ninfo:\n  title: [unclosed\n");
    expect(result.contract).toBeUndefined();
    expect(result.diagnostics[0]).toMatchObject({ code: "yaml-syntax", severity: "error" });
    expect(result.diagnostics[0]!.line).toBeGreaterThan(1);
  });

  it("refuses an upload over the size limit before reading it", async () => {
    const result = await parseContract(minimal(), { limits: { maxBytes: 100 } });
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: "too-large" })]);
  });

  it("refuses a YAML alias bomb quickly and in bounded memory", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 12; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    const started = performance.now();
    const result = await parseContract(`asyncapi: 3.0.0\n${levels.join("\n")}\n`);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(errors(result)).toEqual([expect.objectContaining({ code: "alias-bomb" })]);
  });

  it("refuses excessive nesting", async () => {
    const deep = "x: " + "[".repeat(300) + "]".repeat(300);
    const result = await parseContract(`asyncapi: 3.0.0\n${deep}\n`);
    expect(errors(result)).toEqual([expect.objectContaining({ code: "too-deep" })]);
  });

  it("refuses a file reference outside the upload, naming it", async () => {
    const result = await parseContract(minimal("components:\n  schemas:\n    secret:\n      $ref: '../../etc/passwd'\n    other:\n      $ref: 'missing.yaml#/Thing'\n"));
    expect(result.contract).toBeUndefined();
    const messages = errors(result).map((d) => d.message).join("\n");
    expect(messages).toContain("../../etc/passwd");
    expect(messages).toContain("missing.yaml#/Thing");
    expect(errors(result).every((d) => d.code === "ref-outside-upload" && d.line !== undefined)).toBe(true);
  });

  it("resolves references among files uploaded together", async () => {
    const result = await parseContract({
      "service/asyncapi.yaml": minimal().replace("payload:\n          type: object\n          properties:\n            value:\n              type: number", "payload:\n          $ref: '../common/schemas.yaml#/Reading'"),
      "common/schemas.yaml": "Reading:\n  type: object\n  properties:\n    celsius:\n      $ref: './units.yaml#/Celsius'\n",
      "common/units.yaml": "Celsius:\n  type: number\n  minimum: -273.15\n",
    });
    expect(errors(result)).toEqual([]);
    expect(result.root).toBe("service/asyncapi.yaml");
    expect(result.contract?.channels["plant/readings"]?.messages.reading?.payload).toEqual({ type: "object", properties: { celsius: { type: "number", minimum: -273.15 } } });
  });

  it("handles circular references without looping", async () => {
    const doc = minimal().replace(
      "payload:\n          type: object\n          properties:\n            value:\n              type: number",
      "payload:\n          $ref: '#/components/schemas/Node'",
    ) + "components:\n  schemas:\n    Node:\n      type: object\n      properties:\n        children:\n          type: array\n          items:\n            $ref: '#/components/schemas/Node'\n";
    const result = await parseContract(doc);
    expect(errors(result)).toEqual([]);
    expect(result.contract?.channels["plant/readings"]?.messages.reading?.payload).toEqual({
      type: "object",
      properties: { children: { type: "array", items: { $ref: "#" } } },
    });
  });

  it("refuses an invalid document with located diagnostics", async () => {
    const result = await parseContract("asyncapi: 2.2.0\ninfo:\n  title: x\nversion: 1.0.0\nchannels: {}\n");
    expect(result.contract).toBeUndefined();
    expect(errors(result).some((d) => d.line !== undefined)).toBe(true);
  });

  it("converts OpenAPI 3.0 payloads with the official schema parser", async () => {
    const doc = minimal().replace("payload:\n", "schemaFormat: x\n        payload:\n").replace(
      "schemaFormat: x\n        payload:\n          type: object\n          properties:\n            value:\n              type: number",
      "payload:\n          schemaFormat: application/vnd.oai.openapi;version=3.0.0\n          schema:\n            type: object\n            properties:\n              value:\n                type: number\n                nullable: true",
    );
    const result = await parseContract(doc);
    expect(errors(result)).toEqual([]);
    const payload = result.contract?.channels["plant/readings"]?.messages.reading?.payload as { properties: { value: { type: unknown } } };
    expect(payload.properties.value.type).toEqual(["number", "null"]);
  });

  it("validates a large upload as fully as a small one: one path for every size", async () => {
    const big = generateContract({ channels: 300 });
    expect(big.length).toBeGreaterThan(512 * 1024);
    const ok = await parseContract(big);
    expect(ok.validation).toBe("full");
    expect(errors(ok)).toEqual([]);
    expect(Object.keys(ok.contract!.channels)).toHaveLength(300);
    const broken = await parseContract(big.replace("    action: send\n", "    action: sideways\n"));
    expect(broken.contract).toBeUndefined();
    expect(errors(broken)).toEqual([
      expect.objectContaining({ code: "asyncapi-document-resolved", path: ["operations", "sendReading0", "action"], message: expect.stringContaining('"action" property must be equal to one of the allowed values'), line: expect.any(Number) }),
    ]);
    // A rule beyond the JSON Schema still runs on a large upload, located where the text says it.
    const undefinedParameter = await parseContract(big.replace("address: 'plant/{plantId}/line7/telemetry'", "address: 'plant/{plantId}/line7/{gateway}'"));
    expect(errors(undefinedParameter)).toEqual([
      expect.objectContaining({ code: "asyncapi3-channel-parameters", path: ["channels", "line7", "parameters"], message: expect.stringContaining("Missed: gateway"), line: expect.any(Number) }),
    ]);
  }, 30_000);

  it("accepts 2.0–2.4 documents whose channel parameters are references, at every size", async () => {
    const doc = (version: string, padding: number) => `asyncapi: ${version}
info:
  title: Parameters by reference
  version: 1.0.0
  description: Parameters by reference.${" Padding to make the upload large.".repeat(padding)}
channels:
  'user/{userId}/signedup':
    parameters:
      userId:
        $ref: '#/components/parameters/userId'
    subscribe:
      message:
        payload:
          type: object
          properties:
            name:
              type: string
components:
  parameters:
    userId:
      description: Id of the user.
      schema:
        type: string
`;
    for (const version of ["2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0"]) {
      for (const padding of [0, 20_000]) {
        const text = doc(version, padding);
        if (padding > 0) expect(text.length).toBeGreaterThan(600 * 1024);
        const result = await parseContract(text);
        expect(errors(result), `${version}, ${text.length} bytes`).toEqual([]);
        expect(result.validation).toBe("full");
        expect(result.contract?.asyncapi).toBe(version);
      }
    }
    // The same reference where the specification allows none is still refused.
    const misplaced = await parseContract(doc("2.4.0", 0).replace("  version: 1.0.0\n", "  version: 1.0.0\n  license:\n    $ref: '#/components/parameters/userId'\n"));
    expect(errors(misplaced)).toContainEqual(expect.objectContaining({ code: "asyncapi-document-unresolved", path: ["info", "license"], message: "Referencing in this place is not allowed" }));
  }, 30_000);

  it("compiles the AsyncAPI validators once per version and process", async () => {
    await parseContract(minimal());
    const compiled = documentValidatorCompilations();
    const validators = documentValidators("3.0.0");
    expect(validators).toBeDefined();
    for (let i = 0; i < 5; i++) await parseContract(minimal(`components:\n  schemas:\n    s${i}:\n      type: string\n`));
    await parseContract(generateContract({ channels: 5 }));
    expect(documentValidatorCompilations()).toBe(compiled);
    expect(documentValidators("3.0.0")).toBe(validators);
  });

  it("with validation 'schema-only', judges by the JSON Schema alone", async () => {
    const text = minimal().replace("address: plant/readings", "address: plant/{plant}/readings\n    parameters:\n      site: {}");
    expect(errors(await parseContract(text)).map((d) => d.code)).toEqual(["asyncapi3-channel-parameters", "asyncapi3-channel-parameters"]);
    const schemaOnly = await parseContract(text.replace("      reading:", "      reading:\n        x-note: fine"), { validation: "schema-only" });
    expect(schemaOnly.validation).toBe("schema-only");
    expect(errors(schemaOnly)).toEqual([]);
  });
});

describe("network and file isolation", () => {
  let server: Server;
  let requests = 0;
  let url = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      res.end('{"type":"string"}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/schema.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("refuses a $ref to a URL, naming it, without any request", async () => {
    const result = await parseContract(minimal(`components:\n  schemas:\n    remote:\n      $ref: '${url}'\n`));
    expect(result.contract).toBeUndefined();
    expect(errors(result)).toEqual([expect.objectContaining({ code: "ref-remote", message: expect.stringContaining(url) })]);
    expect(requests).toBe(0);
  });
});
