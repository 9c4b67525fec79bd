/**
 * The bad-input corpus: the text cases in testdata/, and the large or binary ones built here
 * (invalid UTF-8, NUL bytes, deep nesting, gzip bombs, 10 KB values).
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const TESTDATA = path.join(path.dirname(fileURLToPath(import.meta.url)), "testdata");

/** One hostile body, with the headers it is sent with. */
export interface BodyCase {
  name: string;
  body: Buffer;
  headers: Record<string, string>;
}

const YAML = { "content-type": "application/yaml" };
const JSON_TYPE = { "content-type": "application/json" };

function files(folder: string): Array<{ name: string; bytes: Buffer }> {
  const dir = path.join(TESTDATA, folder);
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name: `${folder}/${name}`, bytes: readFileSync(path.join(dir, name)) }));
}

function lines(file: string): string[] {
  return readFileSync(path.join(TESTDATA, file), "utf8")
    .split("\n")
    .filter((line) => line !== "");
}

/** A nested JSON value `depth` levels deep, built as text (a recursive builder would itself overflow). */
function deepJson(depth: number, open = '{"a":', close = "}", leaf = "1"): string {
  return open.repeat(depth) + leaf + close.repeat(depth);
}

/** AsyncAPI uploads that must be refused (or, where valid, accepted) without a 500. */
export function documentCases(): BodyCase[] {
  const fromFiles = files("documents").map(({ name, bytes }) => ({
    name,
    body: bytes,
    headers: name.endsWith(".json") ? JSON_TYPE : YAML,
  }));
  const header = "asyncapi: 3.0.0\ninfo: { title: t, version: 1.0.0 }\n";
  const deepPayload = `${header}channels:\n  c:\n    address: a/b\n    messages:\n      m:\n        payload: ${deepJson(3_000, "{type: object, properties: {p: ", "}}", "{type: string}")}\noperations:\n  o: { action: send, channel: { $ref: '#/channels/c' } }\n`;
  return [
    ...fromFiles,
    { name: "generated/invalid-utf8", body: Buffer.concat([Buffer.from("asyncapi: 3.0.0\ninfo: { title: "), Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from(", version: 1.0.0 }\nchannels: {}\n")]), headers: YAML },
    { name: "generated/nul-bytes", body: Buffer.from(`asyncapi: 3.0.0\u0000\ninfo: { title: "a\u0000b", version: 1.0.0 }\nchannels: {}\n`), headers: YAML },
    { name: "generated/nul-bytes-json", body: Buffer.from(`{"asyncapi":"3.0.0","info":{"title":"a\\u0000b","version":"1.0.0\\u0000"},"channels":{"\\u0000":{"address":"\\u0000"}}}`), headers: JSON_TYPE },
    { name: "generated/deep-json", body: Buffer.from(`{"asyncapi":"3.0.0","info":{"title":"d","version":"1.0.0"},"x-deep":${deepJson(100_000, "[", "]", "")}}`), headers: JSON_TYPE },
    { name: "generated/deep-yaml-flow", body: Buffer.from(`${header}x-deep: ${deepJson(50_000, "[", "]", "")}\nchannels: {}\n`), headers: YAML },
    { name: "generated/deep-yaml-block", body: Buffer.from(header + "x-deep:\n" + Array.from({ length: 5_000 }, (_, i) => `${" ".repeat(i + 1)}- `).join("\n") + "x\nchannels: {}\n"), headers: YAML },
    { name: "generated/deep-payload-schema", body: Buffer.from(deepPayload), headers: YAML },
    { name: "generated/long-version", body: Buffer.from(`asyncapi: 3.0.0\ninfo: { title: t, version: 1.0.0-${"a".repeat(10_000)} }\nchannels: {}\n`), headers: YAML },
    { name: "generated/many-channels-one-line", body: Buffer.from(`${header}channels: {${Array.from({ length: 20_000 }, (_, i) => `c${i}: {address: 'a/${i}'}`).join(", ")}}\n`), headers: YAML },
    { name: "generated/over-upload-limit", body: Buffer.from(header + "x-pad: '" + "x".repeat(6 * 1024 * 1024) + "'\nchannels: {}\n"), headers: YAML },
    { name: "generated/multi-file-many", body: Buffer.from(JSON.stringify({ files: Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`f${i}.yaml`, "a: 1"])) })), headers: JSON_TYPE },
    { name: "generated/json-as-yaml-type", body: Buffer.from('{"asyncapi":"3.0.0"'), headers: YAML },
    { name: "generated/gzip-document", body: gzipSync(Buffer.from(header)), headers: { ...YAML, "content-encoding": "gzip" } },
  ];
}

/** A syntactically complete report whose window is recent, for the report cases to bend. */
export function baseReport(brokerId = "fuzz-broker"): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    protocolVersion: 1,
    batchId: randomUUID(),
    sequence: 1,
    part: { index: 0, count: 1 },
    agent: { id: "fuzz-agent", version: "0.1.0", hostname: "fuzz", startedAt: now },
    broker: { id: brokerId, url: "mqtt://127.0.0.1:1883", protocol: "mqtt", protocolVersion: 4, version: "mosquitto 2.0.11", clientsConnected: 1 },
    window: { start: now, end: now },
    capabilities: { producers: true, consumers: true, producerSource: "broker-log", consumerSource: "sys-log", sys: true, retainFlag: "subscribe-only" },
    topics: [
      {
        template: "fuzz/topic",
        channel: null,
        topics: [{ topic: "fuzz/topic", messages: 1 }],
        distinctTopics: 1,
        messages: 1,
        bytes: 10,
        minSize: 10,
        maxSize: 10,
        avgSize: 10,
        ratePerSecond: 1,
        firstSeen: now,
        lastSeen: now,
        qos: { q0: 1, q1: 0, q2: 0 },
        retained: 0,
        content: { kind: "json", json: 1, text: 0, binary: 0, empty: 0 },
        schema: { type: "object" },
        schemaSamples: 1,
        samples: [],
        producers: [],
        consumers: [],
        omittedProducers: 0,
        omittedConsumers: 0,
      },
    ],
    drops: { topicCap: 0, templateCap: 0, sampleCap: 0, clientCap: 0, spoolCap: 0, malformed: 0 },
    stats: {
      uptimeSeconds: 1, messagesSeen: 1, bytesSeen: 10, topicsTracked: 1, templatesTracked: 1, samplesKept: 0,
      brokerConnected: true, reconnects: 0, spooledBatches: 0, spooledBytes: 0, rejectedBatches: 0, logLinesRead: 0, rssBytes: 1,
    },
  };
}

/** Agent report batches: malformed, oversized numbers, future windows, bombs. */
export function reportCases(): BodyCase[] {
  const now = new Date().toISOString();
  const future = new Date(Date.now() + 365 * 86_400_000).toISOString();
  const fromFiles = files("reports").map(({ name, bytes }) => ({
    name,
    body: Buffer.from(bytes.toString("utf8").replaceAll("{{now}}", now).replaceAll("{{future}}", future).replaceAll("{{uuid}}", randomUUID())),
    headers: JSON_TYPE,
  }));
  const withDeepSchema = baseReport();
  // Valid JSON nested deeper than anything stringifies or stores recursively, inside a field the schema leaves open.
  const deepSchemaText = JSON.stringify(withDeepSchema).replace('"schema":{"type":"object"}', `"schema":${deepJson(200_000)}`);
  const manyTopics = baseReport();
  const topic = (manyTopics.topics as unknown[])[0];
  manyTopics.topics = Array.from({ length: 2_001 }, (_, i) => ({ ...(topic as object), template: `fuzz/${i}` }));
  return [
    ...fromFiles,
    { name: "generated/gzip-bomb-zeros", body: gzipSync(Buffer.alloc(64 * 1024 * 1024)), headers: { ...JSON_TYPE, "content-encoding": "gzip" } },
    { name: "generated/gzip-nested-bomb", body: gzipSync(Buffer.from("[".repeat(15 * 1024 * 1024))), headers: { ...JSON_TYPE, "content-encoding": "gzip" } },
    { name: "generated/gzip-deep-schema", body: gzipSync(Buffer.from(deepSchemaText)), headers: { ...JSON_TYPE, "content-encoding": "gzip" } },
    { name: "generated/deep-schema-plain", body: Buffer.from(deepSchemaText), headers: JSON_TYPE },
    { name: "generated/not-gzip", body: Buffer.from("definitely not gzip"), headers: { ...JSON_TYPE, "content-encoding": "gzip" } },
    { name: "generated/brotli-claimed", body: Buffer.from(JSON.stringify(baseReport())), headers: { ...JSON_TYPE, "content-encoding": "br" } },
    { name: "generated/too-many-templates", body: gzipSync(Buffer.from(JSON.stringify(manyTopics))), headers: { ...JSON_TYPE, "content-encoding": "gzip" } },
    { name: "generated/invalid-utf8-report", body: invalidUtf8Report(), headers: JSON_TYPE },
    { name: "generated/binary-report", body: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x00, 0x22]), headers: JSON_TYPE },
  ];
}

function invalidUtf8Report(): Buffer {
  const [before, after] = JSON.stringify(baseReport()).split("fuzz-agent");
  return Buffer.concat([Buffer.from(before!), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from(after!)]);
}

/** JSON bodies for the other write routes (users, tokens, teams, applications, brokers, bridges, lifecycle). */
export function jsonBodyCases(): BodyCase[] {
  const values: Array<[string, string]> = [
    ["empty", ""],
    ["malformed", '{"name":'],
    ["array", "[1,2,3]"],
    ["null", "null"],
    ["string", '"x"'],
    ["huge-number", '{"name":"x","slug":"x","expiresInDays":1e400,"limit":99999999999999999999,"scopes":["read"]}'],
    ["nul", '{"name":"a\\u0000b","slug":"a\\u0000b","email":"a\\u0000@b.c","team":"\\u0000","password":"\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000"}'],
    ["lone-surrogate", '{"name":"\\ud800","slug":"\\udfff","description":"\\ud800\\udbff"}'],
    // Otherwise valid inputs (a token, a team), so the lone surrogate reaches what is stored and audited.
    ["lone-surrogate-token", '{"name":"\\ud800x","scopes":["read"]}'],
    ["lone-surrogate-team", '{"slug":"surrogate-team","name":"\\udfffx","description":"\\ud800"}'],
    ["proto", '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"role":"admin","scopes":["admin"]}'],
    ["wrong-types", '{"name":1,"slug":[],"team":{},"scopes":"admin","role":["admin"],"state":1,"compatibilityMode":true,"tags":"a"}'],
    ["long-strings", JSON.stringify({ name: "n".repeat(10_000), slug: "s".repeat(10_000), email: `${"e".repeat(10_000)}@x.y`, description: "d".repeat(100_000), tags: Array.from({ length: 10_000 }, (_, i) => `t${i}`) })],
    ["deep", deepJson(100_000)],
    ["over-limit", JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) })],
  ];
  return values.map(([name, text]) => ({ name: `json/${name}`, body: Buffer.from(text), headers: JSON_TYPE }));
}

/** Raw query values, already percent-encoded where they need it. */
export function queryValues(): string[] {
  return [...lines("query-values.txt"), "x".repeat(10 * 1024), encodeURIComponent("ü".repeat(2_000))];
}

/** Raw path segments, already percent-encoded where they need it. */
export function pathSegments(): string[] {
  return [...lines("path-segments.txt"), "s".repeat(10 * 1024)];
}
