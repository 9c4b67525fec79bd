import { randomUUID } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Observer } from "./observer.ts";
import {
  agentReportSchema,
  AGENT_PROTOCOL_VERSION,
  channelListSchema,
  emptyDrops,
  ingestResponseSchema,
  jsonShapeProblem,
  MAX_CLIENTS_PER_TEMPLATE,
  MAX_TEMPLATE_BYTES,
  MAX_TEMPLATES_PER_BATCH,
  REPORT_JSON_LIMITS,
  storableJson,
  utf8Length,
  type AgentReport,
} from "./protocol.ts";
import { buildReports, encodePart, encodeReport, gzipText, planParts, planWindow, renderPart, type ReportContext } from "./report.ts";
import { ConsumerTracker } from "./tracker.ts";

const ctx: ReportContext = {
  agent: { id: "agent-1", version: "0.1.0", hostname: "h", startedAt: new Date(0).toISOString() },
  broker: { id: "plant-eu", url: "mqtt://127.0.0.1:1883", protocol: "mqtt", protocolVersion: 4, version: null, clientsConnected: null },
  capabilities: { producers: false, consumers: false, producerSource: "none", consumerSource: "none", sys: false, retainFlag: "subscribe-only" },
  extraDrops: { spoolCap: 2 },
  stats: {
    uptimeSeconds: 1,
    messagesSeen: 0,
    bytesSeen: 0,
    topicsTracked: 0,
    templatesTracked: 0,
    samplesKept: 0,
    brokerConnected: true,
    reconnects: 0,
    spooledBatches: 0,
    spooledBytes: 0,
    rejectedBatches: 0,
    logLinesRead: 0,
    rssBytes: 1,
  },
};

describe("agentReportSchema", () => {
  it("accepts what the observer and report builder produce", () => {
    const obs = new Observer({ redact: ["password"] }, 1_000);
    obs.observe("plant/line-1/temperature", Buffer.from(JSON.stringify({ t: 20.5, password: "s3cret" })), 1, false, 1_500);
    obs.observe("plant/line-1/raw", Buffer.from([0, 1, 2, 255]), 0, true, 1_600);
    obs.observe("plant/status", Buffer.from("running"), 2, false, 1_700);
    obs.observeProducer("plant/line-1/temperature", "sensor-1", 20, 1_500);
    const [report] = buildReports(obs.snapshot(11_000), ctx, 5);
    const parsed = agentReportSchema.parse(JSON.parse(JSON.stringify(report)));
    expect(parsed.protocolVersion).toBe(AGENT_PROTOCOL_VERSION);
    expect(parsed.sequence).toBe(5);
    expect(parsed.drops.spoolCap).toBe(2);
    const temp = parsed.topics.find((t) => t.template === "plant/{p1}/temperature")!;
    expect(temp.samples[0]!.payload).not.toContain("s3cret");
    expect(temp.samples[0]!.redacted).toBe(true);
    expect(temp.producers).toEqual([{ clientId: "sensor-1", messages: 1, bytes: 20 }]);
    expect(parsed.topics.find((t) => t.template === "plant/{p1}/raw")!.samples[0]!.encoding).toBe("base64");
  });

  it("splits large windows into parts and counts drops once", () => {
    const obs = new Observer({ collapseThreshold: 100_000 });
    const letters = (n: number) => [...n.toString(26)].map((c) => String.fromCharCode(97 + parseInt(c, 26))).join("");
    for (let i = 0; i < MAX_TEMPLATES_PER_BATCH + 10; i++) obs.observe(`t/${letters(i)}`, Buffer.from("1"), 0, false);
    const reports = buildReports(obs.snapshot(), ctx, 0);
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports.map((r) => r.part)).toEqual(reports.map((_, i) => ({ index: i, count: reports.length })));
    expect(reports.reduce((n, r) => n + r.drops.spoolCap, 0)).toBe(2);
    for (const r of reports) expect(agentReportSchema.safeParse(r).success).toBe(true);
    expect(new Set(reports.map((r) => r.batchId)).size).toBe(reports.length);
  });

  it("refuses a report with a bad batch id, version or oversized lists", () => {
    const obs = new Observer();
    const [report] = buildReports(obs.snapshot(), ctx, 0);
    expect(agentReportSchema.safeParse({ ...report, batchId: "nope" }).success).toBe(false);
    expect(agentReportSchema.safeParse({ ...report, protocolVersion: 2 }).success).toBe(false);
    expect(agentReportSchema.safeParse({ ...report, drops: { ...emptyDrops(), malformed: -1 } }).success).toBe(false);
  });

  it("describes the portal's answers and channel list", () => {
    expect(ingestResponseSchema.parse({ accepted: true, duplicate: false, batchId: randomUUID() }).accepted).toBe(true);
    expect(channelListSchema.parse({ channels: [{ address: "plant/{lineId}/temperature", application: "a", contractVersion: "1.0.0" }] }).channels).toHaveLength(1);
  });

  it("splits by size so a batch stays under the portal's body limit", () => {
    const obs = new Observer();
    const big = JSON.stringify({ text: "x".repeat(3_000) });
    for (let i = 0; i < 40; i++) obs.observe(`big/${["alpha", "beta", "gamma", "delta"][i % 4]}/${"abcdefghij"[Math.floor(i / 4)]}`, Buffer.from(big), 0, false);
    const reports = buildReports(obs.snapshot(), ctx, 0, 30_000);
    expect(reports.length).toBeGreaterThan(1);
    for (const r of reports) expect(JSON.stringify(r.topics).length).toBeLessThan(30_000 + 20_000);
    expect(reports.reduce((n, r) => n + r.topics.length, 0)).toBe(40);
  });

  it("plans parts from estimates that bound the rendered size", () => {
    const obs = new Observer({ collapseThreshold: 1_000 });
    const deep = (i: number) => ({ id: i, at: new Date(i).toISOString(), nested: { a: [1, 2, 3], b: { c: "x".repeat(i % 50), d: i % 2 ? null : true } }, note: "é\"\n".repeat(i % 7) });
    for (let i = 0; i < 600; i++) {
      const payload = i % 3 === 0 ? Buffer.from(JSON.stringify(deep(i))) : i % 3 === 1 ? Buffer.from([i % 256, 0, 255, 10, 13]) : Buffer.from(`text ${i} ${"z".repeat(i % 300)}`);
      obs.observe(`plant/${["north", "south", "east"][i % 3]}/m${"abcdefghijklmnopqrst"[i % 20]}/${"xyz"[i % 3]}`, payload, i % 3, i % 5 === 0);
      obs.observeProducer(`plant/${["north", "south", "east"][i % 3]}/m${"abcdefghijklmnopqrst"[i % 20]}/${"xyz"[i % 3]}`, `client-${i % 9}`, payload.length);
    }
    const closed = obs.close();
    for (let i = 0; i < closed.size; i++) expect(closed.estimateBytes(i)).toBeGreaterThanOrEqual(JSON.stringify(closed.render(i)).length);
    const ranges = planWindow(closed, 20_000);
    expect(ranges.length).toBeGreaterThan(1);
    const reports = ranges.map((_, i) => renderPart(closed, ctx, ranges, i, 10 + i));
    expect(reports.map((r) => r.sequence)).toEqual(ranges.map((_, i) => 10 + i));
    expect(reports.reduce((n, r) => n + r.topics.length, 0)).toBe(closed.size);
    for (const r of reports) expect(agentReportSchema.safeParse(r).success).toBe(true);
  });

  it("encodes a part observation by observation into the same body as the rendered report", async () => {
    const obs = new Observer({ collapseThreshold: 1_000 }, 0);
    for (let i = 0; i < 300; i++) {
      const payload = i % 2 ? Buffer.from(JSON.stringify({ id: i, note: "a\u0000\"b\ud800".repeat(i % 3) })) : Buffer.from(`text ${i}`);
      obs.observe(`plant/m${"abcdefghijklmnopqrst"[i % 20]}/${"xyz"[i % 3]}`, payload, i % 3, i % 5 === 0, i);
    }
    const closed = obs.close(1_000);
    const ranges = planWindow(closed, 20_000);
    expect(ranges.length).toBeGreaterThan(1);
    const odd = { ...ctx, agent: { ...ctx.agent, hostname: 'h"topics":[],"drops":\u0000' } };
    for (let i = 0; i < ranges.length; i++) {
      const encoded = await encodePart(closed, odd, ranges, i, 7 + i);
      const decoded = JSON.parse(gunzipSync(encoded.body).toString("utf8")) as AgentReport;
      const report = renderPart(closed, odd, ranges, i, 7 + i);
      const expected = JSON.parse(gunzipSync(await encodeReport({ ...report, batchId: encoded.batchId })).toString("utf8")) as AgentReport;
      expect(decoded).toEqual(expected);
      expect(decoded.topics.length).toBe(ranges[i]![1] - ranges[i]![0]);
      expect(encoded.sequence).toBe(7 + i);
      expect(encoded.drops).toEqual(report.drops);
      expect(agentReportSchema.safeParse(decoded).success).toBe(true);
    }
  });

  it("encodes a part larger than one gzip chunk into the same body as the rendered report", async () => {
    const obs = new Observer({ collapseThreshold: 1_000 }, 0);
    const letters = "abcdefghijklmnopqrst";
    for (let i = 0; i < 2_000; i++) obs.observe(`fleet/m${letters[i % 20]}${letters[Math.floor(i / 20) % 20]}/t${letters[i % 5]}`, Buffer.from(JSON.stringify({ id: i, note: "é".repeat(i % 40) })), 0, false, i);
    const closed = obs.close(1_000);
    const ranges = planWindow(closed);
    expect(ranges).toHaveLength(1);
    const encoded = await encodePart(closed, ctx, ranges, 0, 3);
    const text = gunzipSync(encoded.body).toString("utf8");
    // Several chunks of text went to gzip one after the other.
    expect(text.length).toBeGreaterThan(3 * 64 * 1024);
    const expected = JSON.parse(gunzipSync(await encodeReport({ ...renderPart(closed, ctx, ranges, 0, 3), batchId: encoded.batchId })).toString("utf8")) as AgentReport;
    expect(JSON.parse(text)).toEqual(expected);
  });

  it("gzips text pieces chunk by chunk into the bytes of the whole text", async () => {
    const pieces = Array.from({ length: 500 }, (_, i) => `{"n":${i},"s":"${"ü".repeat(i % 13)}"},`);
    const body = await gzipText(pieces, 100);
    expect(gunzipSync(body).toString("utf8")).toBe(pieces.join(""));
    expect(body.equals(gzipSync(Buffer.from(pieces.join(""), "utf8")))).toBe(true);
    expect(gunzipSync(await gzipText([])).toString("utf8")).toBe("");
  });

  it("gives up a part whose rendering fails", async () => {
    function* failing(): Generator<string> {
      yield "x".repeat(200);
      throw new Error("render failed");
    }
    await expect(gzipText(failing(), 100)).rejects.toThrow("render failed");
  });

  it("plans at least one part, and gives an oversized item its own", () => {
    expect(planParts([])).toEqual([[0, 0]]);
    expect(planParts([5, 50, 5, 5], 20)).toEqual([
      [0, 1],
      [1, 2],
      [2, 4],
    ]);
  });
});

describe("bounds the agent keeps to what the portal stores", () => {
  it("reports no topic, template, producer or filter the portal would refuse; counts them as malformed", () => {
    const tracker = new ConsumerTracker();
    tracker.subscribed("c", "f/".repeat(600) + "#", 0);
    tracker.subscribed("c".repeat(300), "ok/#", 0);
    tracker.subscribed("consumer", "#", 0);
    expect(tracker.invalid).toBe(2);
    const o = new Observer({}, 0);
    o.observe("t/" + "é".repeat(600), Buffer.from("1"), 0, false, 1);
    // One-character levels turn into longer placeholders: this topic fits, its template would not.
    for (let i = 0; i < 20; i++) o.observe(`${i}/` + Array.from({ length: 500 }, (_, j) => `${(i + j) % 10}`).join("/"), Buffer.from("1"), 0, false, 1);
    o.observeProducer("ok/topic", "p".repeat(300), 1, 1);
    o.observe("ok/topic", Buffer.from(JSON.stringify({ ["k".repeat(600_000)]: 1 })), 0, false, 1);
    const snap = o.snapshot(10, (template) => tracker.consumersOf(template, MAX_CLIENTS_PER_TEMPLATE));
    const reports = buildReports(snap, ctx, 1);
    for (const r of reports) expect(agentReportSchema.safeParse(r).success).toBe(true);
    // the long topic, the 20 whose numeric levels become placeholders, the long producer id
    expect(snap.drops.malformed).toBe(22);
    const topics = reports.flatMap((r) => r.topics);
    for (const t of topics) expect(utf8Length(t.template)).toBeLessThanOrEqual(MAX_TEMPLATE_BYTES);
    const ok = topics.find((t) => t.template === "ok/topic");
    expect(ok?.producers).toEqual([]);
    // The schema with a 600 KB key is left out rather than sinking the batch.
    expect(ok?.schema).toBeNull();
  });

  it("measures UTF-8 like Buffer does", () => {
    for (const s of ["", "abc", "é", "€", "😀", "a\ud800b", "\udc00"]) expect(utf8Length(s)).toBe(Buffer.byteLength(s, "utf8"));
  });

  it("finds the first shape problem with an iterative walk (no stack overflow on deep input)", () => {
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonShapeProblem(deep, REPORT_JSON_LIMITS)).toMatch(/deeper than 64/);
    expect(jsonShapeProblem({ a: Array.from({ length: 2_001 }, () => 0) }, REPORT_JSON_LIMITS)).toMatch(/longer than 2000/);
    expect(jsonShapeProblem(Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`k${i}`, 0])), REPORT_JSON_LIMITS)).toMatch(/more than 1000 keys/);
    expect(jsonShapeProblem({ a: "x\u0000" }, REPORT_JSON_LIMITS)).toMatch(/NUL/);
    expect(jsonShapeProblem({ a: "😀", b: [1, null, true] }, REPORT_JSON_LIMITS)).toBeNull();
  });

  it("encodes reports without NUL or lone surrogates", async () => {
    const snap = new Observer({}, 0).snapshot(10);
    const [report] = buildReports(snap, { ...ctx, agent: { ...ctx.agent, hostname: "h\u0000\ud800" } }, 1);
    const decoded = JSON.parse(gunzipSync(await encodeReport(report!)).toString("utf8")) as AgentReport;
    expect(decoded.agent.hostname).toBe("h\ufffd\ufffd");
    expect(storableJson(JSON.stringify({ a: "\\u0000", b: "😀" }))).toBe(JSON.stringify({ a: "\\u0000", b: "😀" }));
  });
});
