import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { AckPolicy, connect, type NatsConnection } from "nats";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startAgent, type AgentHandle } from "./agent.ts";
import { createNatsSource, type NatsSourceOptions } from "./nats-source.ts";
import type { AgentReport, TopicObservation } from "./protocol.ts";
import type { SourceSink, SubscriptionSnapshot } from "./source.ts";
import { startFakePortal, type FakePortal } from "./testing/fake-portal.ts";
import { NATS_SERVER_BIN, startNatsPair, startNatsServer, type NatsServer } from "./testing/nats.ts";

const TOKEN = "test-token";
const enc = new TextEncoder();
let server: NatsServer;
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

async function client(name: string, on = server): Promise<NatsConnection> {
  const c = await connect({ servers: on.url, name });
  cleanups.push(() => c.close());
  return c;
}

async function agent(on: NatsServer, extra: Partial<NatsSourceOptions> = {}): Promise<AgentHandle> {
  const source = createNatsSource({ servers: on.url, monitorUrl: on.monitorUrl, pollSeconds: 1, reconnectWaitMs: 100, brokerId: "orders-nats", ...extra });
  const a = await startAgent({
    broker: on.url,
    source,
    brokerId: "orders-nats",
    portal: portal.url,
    token: TOKEN,
    spool: spoolDir,
    intervalSeconds: 3_600,
    backoffBaseMs: 50,
    backoffMaxMs: 400,
    logLevel: "silent",
  });
  cleanups.push(() => a.stop({ flush: false }));
  await a.whenSubscribed();
  return a;
}

/** Flushes until a report satisfies the predicate (monitoring is polled beside the traffic). */
async function flushUntil(a: AgentHandle, predicate: (r: AgentReport) => boolean, what: string): Promise<AgentReport> {
  let found: AgentReport | undefined;
  await until(
    () => {
      found = portal.reports.find(predicate);
      if (!found) void a.flush();
      return !!found;
    },
    what,
  );
  return found!;
}

const templates = (reports: AgentReport[]) => reports.flatMap((r) => r.topics);
const topicOf = (reports: AgentReport[], template: string): TopicObservation | undefined => templates(reports).find((t) => t.template === template);

if (!NATS_SERVER_BIN) {
  if (process.env.CI) throw new Error("nats-server is required in CI (apt-get install nats-server)");
  console.warn("\n!!! nats-server is not installed: the NATS agent integration tests are skipped (apt-get install nats-server)\n");
}

describe.skipIf(!NATS_SERVER_BIN && !process.env.CI)("agent against a real nats-server", () => {
  beforeEach(async () => {
    server = await startNatsServer();
    portal = await startFakePortal(TOKEN);
    spoolDir = mkdtempSync(path.join(os.tmpdir(), "agent-nats-spool-"));
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    await portal.close();
    await server.cleanup();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it("collapses subjects into templates, counts them, lists consumers with their filters and JetStream's streams", async () => {
    const shipping = await client("shipping");
    shipping.subscribe("orders.*.created", { callback: () => {} });
    const billing = await client("billing");
    billing.subscribe("orders.>", { queue: "billing-workers", callback: () => {} });
    await Promise.all([shipping.flush(), billing.flush()]);
    const jsm = await billing.jetstreamManager();
    await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    await jsm.consumers.add("ORDERS", { durable_name: "invoicer", filter_subject: "orders.*.created", ack_policy: AckPolicy.Explicit });

    const a = await agent(server);
    // The source polls connz beside the traffic: wait until it has seen both consumers.
    await until(() => a.stats().consumersTracked >= 2, "both consumers from connz");
    const shop = await client("shop");
    for (let i = 0; i < 60; i++) shop.publish(`orders.${1000 + i}.created`, enc.encode(JSON.stringify({ orderId: 1000 + i, total: i * 1.5 })));
    await shop.flush();
    await until(() => a.stats().messagesTotal >= 60, "the agent seeing all messages");
    // JetStream's own API traffic flows on `$JS.API.…` subjects and is observed like any subject.
    await a.flush();

    const reports = portal.reports;
    const created = templates(reports).find((t) => /^orders\.\{[^}]+\}\.created$/.test(t.template));
    expect(created, `templates: ${templates(reports).map((t) => t.template).join(", ")}`).toBeDefined();
    expect(created!.messages).toBe(60);
    expect(created!.distinctTopics).toBe(60);
    expect(created!.qos).toEqual({ q0: 60, q1: 0, q2: 0 });
    expect(created!.retained).toBe(0);
    expect(created!.schema).toMatchObject({ type: "object" });
    expect(created!.producers).toEqual([]);
    expect(created!.consumers.map((c) => `${c.clientId} ${c.filter}`).sort()).toEqual(["billing orders.>", "shipping orders.*.created"]);
    expect(created!.consumers.every((c) => !c.clientId.startsWith("meshport-agent-"))).toBe(true);

    const r = reports.at(-1)!;
    expect(r.broker).toMatchObject({ protocol: "nats", protocolVersion: null, version: "2.9.10", id: "orders-nats" });
    expect(r.capabilities).toMatchObject({ producers: false, producerSource: "none", consumers: true, consumerSource: "monitoring", retainFlag: "none", sys: false, inventory: true, bridges: true });
    expect(r.bridges).toEqual([]);
    expect(r.inventory?.streams).toEqual([expect.objectContaining({ name: "ORDERS", subjects: ["orders.>"], consumers: 1 })]);
    // Wait for a poll after the publishes to see the stored count.
    const stored = await flushUntil(a, (x) => x.inventory?.streams?.[0]?.messages === 60, "the stream's stored messages");
    // shipping, billing, shop and the agent itself
    expect(stored.broker.clientsConnected).toBeGreaterThanOrEqual(4);
    expect(stored.inventory?.streamConsumers).toEqual([{ stream: "ORDERS", name: "invoicer", filter: "orders.*.created", pending: 60, durable: true }]);
  });

  it("keeps observing across a server restart", async () => {
    const a = await agent(server);
    const pub = await connect({ servers: server.url, name: "pub", maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    cleanups.push(() => pub.close());
    pub.publish("plant.a.temperature", enc.encode("21.5"));
    await pub.flush();
    await until(() => a.stats().messagesTotal >= 1, "a first message");
    await server.restart();
    await until(() => a.stats().brokerConnected && a.stats().subscribed, "the agent back", 30_000);
    // The source confirms its subscription after a reconnect; publish until one gets through.
    await until(
      () => {
        pub.publish("plant.b.temperature", enc.encode("22"));
        return a.stats().messagesTotal >= 2;
      },
      "a message after the restart",
    );
    await a.flush();
    const r = portal.reports.at(-1)!;
    expect(r.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(r.stats.brokerConnected).toBe(true);
    expect(topicOf(portal.reports, "plant.b.temperature")?.content.kind).toBe("text");
  });

  it("counts a malformed monitoring answer and goes on reporting", async () => {
    // A monitoring endpoint that answers garbage for connz and forwards nothing else.
    const bad: Server = createServer((req, res) => {
      if (req.url?.startsWith("/connz")) res.writeHead(200, { "content-type": "application/json" }).end('{"connections": [{"cid": "seven"}], "truncated');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => bad.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => (bad.closeAllConnections(), bad.close(r))));
    const a = await agent(server, { monitorUrl: `http://127.0.0.1:${(bad.address() as AddressInfo).port}` });
    await until(() => a.stats().dropsTotal.malformed >= 1, "the malformed answer counted");
    const pub = await client("pub");
    pub.publish("audit.login", enc.encode("{}"));
    await pub.flush();
    await until(() => a.stats().messagesTotal >= 1, "a message");
    await a.flush();
    const r = portal.reports.at(-1)!;
    expect(r.drops.malformed).toBeGreaterThanOrEqual(1);
    expect(r.capabilities.consumers).toBe(false);
    expect(r.inventory).toBeUndefined();
    expect(topicOf(portal.reports, "audit.login")?.messages).toBe(1);
  });
});

describe.skipIf(!NATS_SERVER_BIN && !process.env.CI)("NATS links to other servers", () => {
  beforeEach(async () => {
    portal = await startFakePortal(TOKEN);
    spoolDir = mkdtempSync(path.join(os.tmpdir(), "agent-nats-spool-"));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    await portal.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it("reports a leafnode with the interest it carries, and traffic across it", async () => {
    const pair = await startNatsPair("leafnode");
    cleanups.push(() => pair.cleanup());
    // A consumer on the spoke: its interest reaches the hub over the leafnode.
    const spokeConsumer = await client("warehouse", pair.b);
    spokeConsumer.subscribe("stock.>", { callback: () => {} });
    await spokeConsumer.flush();
    const a = await agent(pair.a);
    const r = await flushUntil(a, (x) => (x.bridges ?? []).some((b) => b.kind === "nats-leafnode" && b.topics.includes("stock.>")), "the leafnode with its interest");
    const leaf = r.bridges!.find((b) => b.kind === "nats-leafnode")!;
    expect(leaf).toMatchObject({ direction: "both", state: "connected" });
    expect(leaf.remote).toMatch(/^nats-leaf:\/\/127\.0\.0\.1:\d+$/);
    expect(r.capabilities.bridges).toBe(true);
    // JetStream is off on the pair: no inventory.
    expect(r.capabilities.inventory).toBe(false);
    // The agent's `>` on the hub draws the spoke's messages over the leafnode.
    const spokePublisher = await client("scanner", pair.b);
    const crossedTopic = (r: AgentReport) => r.topics.find((t) => t.topics.some((x) => x.topic === "stock.4711.level"));
    await until(
      () => {
        spokePublisher.publish("stock.4711.level", enc.encode(JSON.stringify({ sku: 4711, level: 3 })));
        if (!portal.reports.some(crossedTopic)) void a.flush();
        return portal.reports.some(crossedTopic);
      },
      "a message from the spoke",
    );
    expect(crossedTopic(portal.reports.find(crossedTopic)!)!.schema).toMatchObject({ type: "object" });
  });

  it("reports a cluster route", async () => {
    const pair = await startNatsPair("route");
    cleanups.push(() => pair.cleanup());
    const a = await agent(pair.b);
    const r = await flushUntil(a, (x) => (x.bridges ?? []).some((b) => b.kind === "nats-route"), "the route");
    const route = r.bridges!.find((b) => b.kind === "nats-route")!;
    // b solicited the route to a: it knows a's route URL, and names a by what the server tells of it (2.9: its server id).
    const aId = ((await (await fetch(`${pair.a.monitorUrl}/varz`)).json()) as { server_id: string }).server_id;
    expect([aId, pair.a.name]).toContain(route.name);
    expect(route.remote).toMatch(/^nats-route:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe.skipIf(!NATS_SERVER_BIN && !process.env.CI)("NATS source alone", () => {
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  it("feeds every subject but its own inbox, and the subscriptions of others", async () => {
    const s = await startNatsServer({ jetstream: false });
    cleanups.push(() => s.cleanup());
    const seen: string[] = [];
    const snapshots: SubscriptionSnapshot[][] = [];
    let ready = 0;
    const sink: SourceSink = {
      message: (topic) => void seen.push(topic),
      event: () => {},
      subscriptions: (all) => void snapshots.push([...all]),
      malformed: () => {},
      ready: () => void ready++,
    };
    const src = createNatsSource({ servers: s.url, monitorUrl: s.monitorUrl, pollSeconds: 1, name: "meshport-agent-probe", brokerId: "b" });
    await src.start(sink, pino({ level: "silent" }));
    cleanups.push(() => src.stop());
    await until(() => ready > 0, "ready");
    const c = await connect({ servers: s.url, name: "probe-client" });
    cleanups.push(() => c.close());
    c.subscribe("x.*", { callback: () => {} });
    c.publish("_INBOX.meshport-agent-probe.reply", enc.encode("mine"));
    c.publish("_INBOX.other.reply", enc.encode("theirs"));
    c.publish("x.1", enc.encode("1"));
    await c.flush();
    await until(() => seen.includes("x.1") && snapshots.some((snap) => snap.some((x) => x.clientId === "probe-client")), "the message and the snapshot");
    expect(seen).toContain("_INBOX.other.reply");
    expect(seen).not.toContain("_INBOX.meshport-agent-probe.reply");
    const last = snapshots.at(-1)!;
    expect(last.filter((x) => x.clientId === "probe-client").map((x) => x.filter)).toContain("x.*");
    expect(last.some((x) => x.clientId === "meshport-agent-probe")).toBe(false);
    await src.stop();
    const n = seen.length;
    c.publish("x.2", enc.encode("2"));
    await c.flush();
    expect(seen.length).toBe(n);
    expect(src.status().connected).toBe(false);
  });
});
