import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { createLogger, startAgent, type AgentHandle, type AgentOptions } from "./agent.ts";
import { NATS_DIALECT } from "../registry/topics/index.ts";
import type { AgentReport } from "./protocol.ts";
import type { BrokerSource, SourceSink } from "./source.ts";
import { countMessages, startFakePortal, type FakePortal } from "./testing/fake-portal.ts";
import { MOSQUITTO_BIN, startMosquitto, type Mosquitto } from "./testing/mosquitto.ts";

const TOKEN = "test-token";
let broker: Mosquitto;
let portal: FakePortal;
let spoolDir: string;
const cleanups: Array<() => Promise<unknown>> = [];

async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function agent(extra: Partial<AgentOptions> = {}): Promise<AgentHandle> {
  const a = await startAgent({
    broker: broker.url,
    brokerId: "plant-eu",
    portal: portal.url,
    token: TOKEN,
    spool: spoolDir,
    intervalSeconds: 3_600,
    backoffBaseMs: 50,
    backoffMaxMs: 400,
    reconnectPeriodMs: 100,
    logLevel: "silent",
    ...extra,
  });
  cleanups.push(() => a.stop({ flush: false }));
  await a.whenSubscribed();
  return a;
}

async function client(clientId: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, { clientId, reconnectPeriod: 100 });
  cleanups.push(() => c.endAsync(true));
  return c;
}

async function publish(c: MqttClient, n: number, topic: (i: number) => string, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await c.publishAsync(topic(i), JSON.stringify({ i, unit: "C", at: new Date().toISOString() }), { qos: 1 });
}

/** Sum of a template's producers' messages across reports. */
function producerMessages(reports: AgentReport[], template: string, clientId: string): number {
  let n = 0;
  for (const r of reports) for (const t of r.topics) if (t.template === template) for (const p of t.producers) if (p.clientId === clientId) n += p.messages;
  return n;
}

if (!MOSQUITTO_BIN) {
  // Loud locally, fatal in CI: a skipped broker test proves nothing.
  if (process.env.CI) throw new Error("mosquitto is required in CI (apt-get install mosquitto)");
  console.warn("\n!!! mosquitto is not installed: the agent integration tests are skipped (apt-get install mosquitto)\n");
}

describe.skipIf(!MOSQUITTO_BIN && !process.env.CI)("agent against a real Mosquitto", () => {
  beforeEach(async () => {
    broker = await startMosquitto();
    portal = await startFakePortal(TOKEN);
    spoolDir = mkdtempSync(path.join(os.tmpdir(), "agent-spool-"));
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    await portal.close();
    await broker.cleanup();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it("learns producers and consumers by client id", async () => {
    portal.channels = [{ address: "plant/{lineId}/temperature", application: "line-monitor", contractVersion: "1.0.0" }];
    const a = await agent({ brokerLog: broker.logFile, brokerLogPollMs: 50, channelsRefreshSeconds: 1 });
    const dashboard = await client("dashboard-1");
    await dashboard.subscribeAsync("plant/+/temperature", { qos: 1 });
    const sensor = await client("sensor-7");
    await publish(sensor, 20, (i) => `plant/line-${i % 4}/temperature`);
    await until(() => a.stats().messagesTotal >= 20, "messages");
    // The broker log is followed asynchronously: flush until the producer's messages are all reported.
    await until(() => a.stats().channels === 1, "channel templates");
    const deadline = Date.now() + 20_000;
    while (producerMessages(portal.reports, "plant/{p1}/temperature", "sensor-7") < 20 && Date.now() < deadline) {
      await a.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    const reports = portal.reports;
    expect(producerMessages(reports, "plant/{p1}/temperature", "sensor-7")).toBe(20);
    expect(countMessages(reports)).toBe(20);
    const tpl = reports.flatMap((r) => r.topics).find((t) => t.template === "plant/{p1}/temperature" && t.messages > 0)!;
    expect(tpl.consumers).toContainEqual({ clientId: "dashboard-1", filter: "plant/+/temperature", qos: 1 });
    expect(tpl.consumers.map((c) => c.clientId)).not.toContain(a.clientId);
    expect(tpl.distinctTopics).toBe(4);
    expect(tpl.channel).toEqual({ address: "plant/{lineId}/temperature", application: "line-monitor", contractVersion: "1.0.0" });
    expect(tpl.schema).toMatchObject({ type: "object", required: ["at", "i", "unit"] });
    const last = reports.at(-1)!;
    expect(last.capabilities).toMatchObject({ producers: true, consumers: true, producerSource: "broker-log", consumerSource: "sys-log", sys: true });
    expect(last.broker.version).toMatch(/mosquitto/);
  });

  it("loses no batch during a portal outage and counts each message once after replay", async () => {
    portal.mode = "unavailable";
    const a = await agent({ intervalSeconds: 0.3 });
    const sensor = await client("sensor-1");
    await publish(sensor, 150, (i) => `line/${i % 10}/pressure`);
    await until(() => a.stats().messagesTotal >= 150, "messages");
    await until(() => a.stats().spoolPending >= 2, "several spooled windows");
    expect(portal.reports).toHaveLength(0);
    expect(portal.requests.some((r) => r.status === 503)).toBe(true);

    // Back, but the answer to the first replayed batch is lost: the agent resends it, the portal dedupes.
    portal.loseAnswers = 1;
    portal.mode = "ok";
    await publish(sensor, 50, (i) => `line/${i % 10}/pressure`, 150);
    await until(() => a.stats().messagesTotal >= 200, "messages");
    await a.flush();
    await until(() => a.stats().spoolPending === 0, "spool drained");
    expect(portal.requests.some((r) => r.status === 409)).toBe(true);
    expect(countMessages(portal.reports)).toBe(200);
    const sequences = portal.reports.map((r) => r.sequence);
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
  });

  it("reconnects after the broker restarts and keeps counting", async () => {
    const a = await agent();
    const first = await client("sensor-a");
    await publish(first, 10, () => "room/temp");
    await until(() => a.stats().messagesTotal >= 10, "first messages");
    await broker.restart();
    await until(() => a.stats().reconnects >= 1 && a.stats().subscribed, "agent reconnected", 30_000);
    const second = await client("sensor-b");
    await publish(second, 10, () => "room/temp");
    await until(() => a.stats().messagesTotal >= 20, "messages after restart");
    await a.flush();
    expect(countMessages(portal.reports)).toBe(20);
    expect(portal.reports.at(-1)!.stats.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("moves a batch the portal refuses as malformed to rejected/ with the reason", async () => {
    portal.mode = "malformed";
    const a = await agent();
    const sensor = await client("sensor-x");
    await publish(sensor, 3, () => "bad/topic");
    await until(() => a.stats().messagesTotal >= 3, "messages");
    const result = await a.flush();
    expect(result.rejected).toBe(1);
    expect(a.stats().spoolPending).toBe(0);
    const rejected = readdirSync(path.join(spoolDir, "rejected"));
    const reason = rejected.find((n) => n.endsWith(".reason.json"))!;
    expect(rejected.filter((n) => n.endsWith(".json.gz"))).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(spoolDir, "rejected", reason), "utf8"))).toMatchObject({ status: 422 });
    // The next batch goes through once the portal accepts again.
    portal.mode = "ok";
    expect((await a.flush()).sent).toBe(1);
  });

  it("resumes from its spool after a restart", async () => {
    portal.mode = "unavailable";
    const first = await agent();
    const sensor = await client("sensor-r");
    await publish(sensor, 30, () => "tank/level");
    await until(() => first.stats().messagesTotal >= 30, "messages");
    await first.flush();
    await first.stop({ flush: false });
    const pending = readdirSync(path.join(spoolDir, "pending")).filter((n) => n.endsWith(".json.gz"));
    expect(pending.length).toBeGreaterThanOrEqual(1);
    expect(portal.reports).toHaveLength(0);

    portal.mode = "ok";
    const second = await agent();
    await until(() => existsSync(spoolDir) && readdirSync(path.join(spoolDir, "pending")).length === 0, "replayed spool");
    expect(second.agentId).toBe(first.agentId);
    expect(countMessages(portal.reports)).toBe(30);
    await second.flush();
    const sequences = portal.reports.map((r) => r.sequence);
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
  });

  it("keeps batches spooled while the portal refuses the token, and never logs the token", async () => {
    portal.mode = "unauthorized";
    let logs = "";
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    const a = await agent({ logger: createLogger("debug", sink) });
    const sensor = await client("sensor-auth");
    await publish(sensor, 5, () => "auth/topic");
    await until(() => a.stats().messagesTotal >= 5, "messages");
    const result = await a.flush();
    expect(result.sent).toBe(0);
    expect(result.blockedBy).toMatch(/401/);
    expect(a.stats().spoolPending).toBe(1);
    expect(logs).toMatch(/refused the agent token/);
    portal.mode = "ok";
    await a.flush();
    expect(countMessages(portal.reports)).toBe(5);
    expect(logs).not.toContain(TOKEN);
  });

  it("speaks MQTT 5 and sees the retain flag as published", async () => {
    const a = await agent({ mqttVersion: 5 });
    const sensor = await client("sensor-v5");
    await sensor.publishAsync("status/door", "open", { qos: 1, retain: true });
    await sensor.publishAsync("status/door", "closed", { qos: 0 });
    await until(() => a.stats().messagesTotal >= 2, "messages");
    await a.flush();
    const t = portal.reports.flatMap((r) => r.topics).find((x) => x.template === "status/door")!;
    expect(t).toMatchObject({ messages: 2, retained: 1, qos: { q0: 1, q1: 1, q2: 0 }, content: { kind: "text" } });
    expect(portal.reports.at(-1)!.capabilities.retainFlag).toBe("exact");
    expect(portal.reports.at(-1)!.broker.protocolVersion).toBe(5);
  });

  it("discovers another Mosquitto's bridge: what it subscribes flows out, what it publishes flows in", async () => {
    const a = await agent({ brokerLog: broker.logFile, brokerLogPollMs: 50 });
    // A second broker bridges to this one (a `connection` section), after the agent listens.
    const edge = await startMosquitto({
      bridge: { name: "hub", port: broker.port, clientId: "edge.hub", topics: ["orders/# out 1", "commands/# in 1"] },
    });
    cleanups.push(() => edge.cleanup());
    const bridgeOf = (reports: AgentReport[]) => reports.flatMap((r) => r.bridges ?? []).find((b) => b.name === "edge.hub");
    const subscribedAt = Date.now() + 20_000;
    while (!bridgeOf(portal.reports)?.topics.includes("commands/#")) {
      if (Date.now() > subscribedAt) throw new Error("timed out waiting for the bridge's subscription");
      await a.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    // A bridge is a link, not a consumer of this broker.
    expect(a.stats().consumersTracked).toBe(0);
    const shop = await mqtt.connectAsync(edge.url, { clientId: "shop" });
    cleanups.push(() => shop.endAsync(true));
    await publish(shop, 3, (i) => `orders/${100 + i}/created`);
    await until(() => a.stats().messagesTotal >= 3, "orders crossing the bridge");
    const deadline = Date.now() + 20_000;
    while ((bridgeOf(portal.reports)?.topics.length ?? 0) < 4 && Date.now() < deadline) {
      await a.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    const last = portal.reports.at(-1)!;
    expect(last.capabilities.bridges).toBe(true);
    const bridge = bridgeOf([last])!;
    expect(bridge).toMatchObject({ kind: "mqtt-bridge", name: "edge.hub", direction: "both", state: "connected" });
    expect(bridge.remote).toMatch(/^edge\.hub@127\.0\.0\.1:\d+$/);
    expect([...bridge.topics].sort()).toEqual(["commands/#", "orders/100/created", "orders/101/created", "orders/102/created"]);
    // What it brings in is the link's traffic, not the bridge's publishing: it is no producer.
    expect(portal.reports.flatMap((r) => r.topics).find((t) => t.template === "orders/{p1}/created")?.messages).toBe(3);
    expect(producerMessages(portal.reports, "orders/{p1}/created", "edge.hub")).toBe(0);

    // Once the bridge is gone, it is no longer reported.
    await edge.stop();
    const gone = Date.now() + 20_000;
    while (bridgeOf([portal.reports.at(-1)!]) && Date.now() < gone) {
      await a.flush();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(bridgeOf([portal.reports.at(-1)!])).toBeUndefined();
  });

  it("runs any broker source: the report's broker block, capabilities and links come from it", async () => {
    let sink: SourceSink | null = null;
    const source: BrokerSource = {
      protocol: "nats",
      dialect: NATS_DIALECT,
      url: "nats://127.0.0.1:4222",
      clientId: "meshport-agent",
      async start(s) {
        sink = s;
        s.ready();
      },
      status: () => ({
        connected: true,
        subscribed: true,
        reconnects: 0,
        brokerVersion: "2.9.10",
        clientsConnected: 2,
        protocolVersion: null,
        capabilities: { producers: false, consumers: true, producerSource: "none", consumerSource: "monitoring", sys: false, retainFlag: "none", bridges: true, inventory: true },
        bridges: [{ kind: "nats-route", name: "r1", remote: "nats://10.0.0.2:6222", direction: "both", topics: [], state: null }],
        inventory: { streams: [{ name: "ORDERS", subjects: ["orders.>"], messages: 2, bytes: 20, consumers: 0 }] },
        logLinesRead: 0,
      }),
      async stop() {
        sink = null;
      },
    };
    const a = await agent({ source });
    sink!.subscriptions([
      { clientId: "billing", filter: "orders.*.created", qos: 0 },
      { clientId: "meshport-agent", filter: ">", qos: 0 },
    ]);
    for (let i = 0; i < 3; i++) sink!.message(`orders.${4711 + i}.created`, Buffer.from(JSON.stringify({ i })), 0, false);
    await a.flush();
    const report = portal.reports.at(-1)!;
    expect(report.broker).toMatchObject({ url: "nats://127.0.0.1:4222", protocol: "nats", protocolVersion: null, version: "2.9.10", clientsConnected: 2 });
    expect(report.capabilities).toMatchObject({ consumerSource: "monitoring", retainFlag: "none", inventory: true });
    expect(report.bridges).toEqual([{ kind: "nats-route", name: "r1", remote: "nats://10.0.0.2:6222", direction: "both", topics: [], state: null }]);
    expect(report.inventory?.streams?.[0]?.name).toBe("ORDERS");
    const t = report.topics.find((x) => x.template === "orders.{p1}.created")!;
    expect(t.messages).toBe(3);
    expect(t.consumers).toEqual([{ clientId: "billing", filter: "orders.*.created", qos: 0 }]);
    expect(a.clientId).toBe("meshport-agent");
    await a.stop({ flush: false });
    expect(sink).toBeNull();
  });

  it("says so when the broker lets it see topics only", async () => {
    // Mosquitto grants a subscription its ACL denies, then delivers nothing: capabilities must not claim $SYS.
    await broker.cleanup();
    broker = await startMosquitto({ acl: ["topic readwrite #"] });
    const a = await agent();
    const sensor = await client("sensor-acl");
    await publish(sensor, 3, () => "plain/topic");
    await until(() => a.stats().messagesTotal >= 3, "messages");
    await a.flush();
    expect(countMessages(portal.reports)).toBe(3);
    expect(portal.reports.at(-1)!.capabilities).toMatchObject({ sys: false, producers: false, consumers: false, producerSource: "none", consumerSource: "none" });
    expect(portal.reports.at(-1)!.topics[0]!.producers).toEqual([]);
  });
});
