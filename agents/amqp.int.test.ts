import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import amqp, { type Channel, type ChannelModel } from "amqplib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAgent, type AgentHandle } from "./agent.ts";
import { createAmqpSource, type AmqpSource, type AmqpSourceOptions } from "./amqp-source.ts";
import type { AgentReport, TopicObservation } from "./protocol.ts";
import { startFakePortal, type FakePortal } from "./testing/fake-portal.ts";
import { RABBITMQ_BIN_DIR, startRabbitMq, type RabbitMq } from "./testing/rabbitmq.ts";

const TOKEN = "test-token";
let server: RabbitMq;
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

const vhostUrl = (vhost: string) => `${server.url}/${encodeURIComponent(vhost)}`;

/** A client connection to the vhost, named as an application names it (connection_name), or unnamed. */
async function client(vhost: string, name?: string): Promise<Channel> {
  const c: ChannelModel = await amqp.connect(vhostUrl(vhost), name ? { clientProperties: { connection_name: name } } : {});
  cleanups.push(() => c.close());
  return c.createChannel();
}

async function agent(vhost: string, extra: Partial<AmqpSourceOptions> = {}): Promise<{ a: AgentHandle; source: AmqpSource }> {
  const source = createAmqpSource({ url: server.url, managementUrl: server.managementUrl, vhost, brokerId: "orders-rabbit", pollSeconds: 0.5, reconnectMs: 50, ...extra });
  const a = await startAgent({
    broker: server.url,
    source,
    brokerId: "orders-rabbit",
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
  return { a, source };
}

/** Flushes until a report satisfies the predicate (the management API is polled beside the traffic). */
async function flushUntil(a: AgentHandle, predicate: (r: AgentReport) => boolean, what: string): Promise<AgentReport> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = portal.reports.find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await a.flush();
    await new Promise((r) => setTimeout(r, 100));
  }
}

const templates = (reports: AgentReport[]) => reports.flatMap((r) => r.topics);
const created = (reports: AgentReport[]): TopicObservation | undefined => templates(reports).find((t) => /^orders\.eu\.\{[^}]+\}\.created$/.test(t.template));
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

if (!RABBITMQ_BIN_DIR) {
  if (process.env.CI) throw new Error("rabbitmq-server is required in CI (apt-get install rabbitmq-server)");
  console.warn("\n!!! rabbitmq-server is not installed: the RabbitMQ agent integration tests are skipped (apt-get install rabbitmq-server)\n");
}

describe.skipIf(!RABBITMQ_BIN_DIR && !process.env.CI)("agent against a real RabbitMQ", () => {
  // One node for the file (it takes seconds to start); each test keeps to a vhost of its own.
  beforeAll(async () => {
    server = await startRabbitMq();
    console.info(`rabbitmq ${server.nodeName} answered after ${server.startMs} ms`);
  });
  afterAll(async () => {
    await server?.cleanup();
  });
  beforeEach(async () => {
    portal = await startFakePortal(TOKEN);
    spoolDir = mkdtempSync(path.join(os.tmpdir(), "agent-amqp-spool-"));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    await portal.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  it("collapses routing keys into templates, lists consumers with their binding keys and the broker's exchanges, queues and bindings", async () => {
    await server.vhost("shop");
    const billing = await client("shop", "billing-service");
    await billing.assertExchange("orders", "topic", { durable: true });
    await billing.assertQueue("billing");
    await billing.bindQueue("billing", "orders", "orders.*.*.created");
    await billing.consume("billing", (m) => m && billing.ack(m));
    const audit = await client("shop", "audit");
    await audit.assertQueue("audit", { durable: false });
    await audit.bindQueue("audit", "orders", "orders.#");
    await audit.consume("audit", () => {}, { noAck: true });
    // A binding key of three words never matches the four-word template.
    const invoices = await client("shop", "invoicing");
    await invoices.assertQueue("invoices");
    await invoices.bindQueue("invoices", "orders", "orders.*.created");
    await invoices.consume("invoices", () => {}, { noAck: true });

    // Tracing is off for the vhost: asking for the firehose finds no producers.
    const { a } = await agent("shop", { firehose: true });
    await until(() => a.stats().consumersTracked >= 3, "the three consumers from the management API");
    const shop = await client("shop", "order-service");
    for (let i = 0; i < 60; i++) shop.publish("orders", `orders.eu.${1000 + i}.created`, json({ orderId: 1000 + i, total: i * 1.5 }));
    // A direct exchange is not observed.
    shop.publish("amq.direct", "billing", json({ ignored: true }));
    await until(() => a.stats().messagesTotal >= 60, "the agent seeing all messages");
    await a.flush();

    const reports = portal.reports;
    const t = created(reports);
    expect(t, `templates: ${templates(reports).map((x) => x.template).join(", ")}`).toBeDefined();
    expect(t!.messages).toBe(60);
    expect(t!.distinctTopics).toBe(60);
    expect(t!.exchanges).toEqual(["orders"]);
    expect(t!.qos).toEqual({ q0: 60, q1: 0, q2: 0 });
    expect(t!.retained).toBe(0);
    expect(t!.schema).toMatchObject({ type: "object" });
    expect(t!.producers).toEqual([]);
    expect(t!.consumers.map((c) => `${c.clientId} ${c.filter} ${c.qos}`).sort()).toEqual(["audit orders.# 0", "billing-service orders.*.*.created 1"]);
    expect(templates(reports).some((x) => x.template.includes("billing"))).toBe(false);
    expect(a.stats().messagesTotal).toBe(60);

    const r = reports.at(-1)!;
    expect(r.broker).toMatchObject({ protocol: "amqp", protocolVersion: null, version: "3.10.8", id: "orders-rabbit" });
    expect(r.broker.url).not.toContain("guest");
    expect(r.capabilities).toEqual({
      producers: false,
      producerSource: "none",
      consumers: true,
      consumerSource: "management",
      sys: false,
      retainFlag: "none",
      bridges: true,
      inventory: true,
    });
    expect(r.bridges).toEqual([]);
    expect(r.inventory?.exchanges).toContainEqual({ name: "orders", type: "topic", durable: true });
    expect(r.inventory?.queues?.map((q) => q.name).sort()).toEqual(["audit", "billing", "invoices"]);
    expect(r.inventory?.bindings).toEqual(
      expect.arrayContaining([
        { exchange: "orders", queue: "billing", routingKey: "orders.*.*.created" },
        { exchange: "orders", queue: "audit", routingKey: "orders.#" },
      ]),
    );
    // The agent's own queues and connection are left out.
    expect(JSON.stringify(r.inventory)).not.toContain("amq.gen-");
    expect(t!.consumers.some((c) => c.clientId === a.clientId)).toBe(false);
  });

  it("learns producers from the firehose, by the name their connection gave, when tracing is on", async () => {
    await server.vhost("traced", { tracing: true });
    const setup = await client("traced");
    await setup.assertExchange("orders", "topic", { durable: false });
    const { a } = await agent("traced", { firehose: true });
    const named = await client("traced", "order-service");
    const unnamed = await client("traced");
    for (let i = 0; i < 5; i++) named.publish("orders", `orders.eu.${2000 + i}.created`, json({ orderId: 2000 + i }));
    unnamed.publish("orders", "orders.eu.3000.created", json({ orderId: 3000 }));
    await until(() => a.stats().messagesTotal >= 6, "the agent seeing all messages");
    const report = await flushUntil(a, () => {
      const producers = templates(portal.reports).flatMap((x) => x.producers);
      return producers.some((p) => p.clientId === "order-service") && producers.some((p) => p.clientId.includes("->"));
    }, "both producers");
    const producers = new Map<string, number>();
    for (const x of templates(portal.reports)) for (const p of x.producers) producers.set(p.clientId, (producers.get(p.clientId) ?? 0) + p.messages);
    expect(producers.get("order-service")).toBe(5);
    // Without a client-provided name, the broker's connection name (`host:port -> host:port`).
    expect([...producers.entries()].filter(([id]) => id.includes("->")).map(([, n]) => n)).toEqual([1]);
    expect(report.capabilities).toMatchObject({ producers: true, producerSource: "firehose" });
  });

  it("reports a shovel to another broker as a link, without its credentials", async () => {
    await server.vhost("dc1");
    await server.vhost("dc2");
    const setup = await client("dc1");
    await setup.assertExchange("orders", "topic", { durable: true });
    const shovel = await server.api("PUT", `/api/parameters/shovel/dc1/to-dc2`, {
      value: {
        "src-protocol": "amqp091",
        "src-uri": "amqp:///dc1",
        "src-exchange": "orders",
        "src-exchange-key": "orders.#",
        "dest-protocol": "amqp091",
        // The same node over the network: to the agent of dc1, another broker.
        "dest-uri": `amqp://guest:guest@127.0.0.1:${server.port}/dc2`,
        "dest-queue": "from-dc1",
      },
    });
    expect(shovel.status).toBeLessThan(300);
    const { a } = await agent("dc1");
    const r = await flushUntil(a, (x) => x.bridges?.some((b) => b.state === "running") ?? false, "the running shovel");
    expect(r.bridges).toEqual([{ kind: "rabbitmq-shovel", name: "to-dc2", remote: `amqp://127.0.0.1:${server.port}/dc2`, direction: "out", topics: ["orders.#"], state: "running" }]);
    expect(JSON.stringify(r.bridges)).not.toContain("guest");
    // The federation plugin is off: no error, and still a source of links.
    expect(r.capabilities.bridges).toBe(true);
  });

  it("counts a malformed management answer and goes on observing", async () => {
    await server.vhost("garbled");
    const setup = await client("garbled", "setup");
    await setup.assertExchange("orders", "topic", { durable: false });
    // The real management API, except for consumers, which answer garbage.
    const proxy: Server = createServer((req, res) => {
      if (req.url?.startsWith("/api/consumers/")) {
        res.writeHead(200, { "content-type": "application/json" }).end('[{"queue": 7}, "truncat');
        return;
      }
      void fetch(server.managementUrl + req.url, { headers: { authorization: req.headers.authorization ?? "" } }).then(
        async (upstream) => res.writeHead(upstream.status, { "content-type": "application/json" }).end(Buffer.from(await upstream.arrayBuffer())),
        () => res.writeHead(502).end(),
      );
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => (proxy.closeAllConnections(), proxy.close(r))));
    const { a } = await agent("garbled", { managementUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    await until(() => a.stats().dropsTotal.malformed >= 1, "the malformed answer counted");
    setup.publish("orders", "audit.login", json({ user: "ada" }));
    await until(() => a.stats().messagesTotal >= 1, "a message");
    await a.flush();
    const r = portal.reports.at(-1)!;
    expect(r.drops.malformed).toBeGreaterThanOrEqual(1);
    expect(r.capabilities.consumers).toBe(false);
    expect(r.inventory?.exchanges).toContainEqual({ name: "orders", type: "topic", durable: false });
    expect(templates(portal.reports).find((x) => x.template === "audit.login")?.messages).toBe(1);
    expect(r.stats.brokerConnected).toBe(true);
  });

  it("reconnects when the broker closes its connection, and binds to exchanges created later", async () => {
    await server.vhost("flaky");
    const { a, source } = await agent("flaky");
    let name: string | undefined;
    await until(() => {
      void server.api("GET", "/api/vhosts/flaky/connections").then((r) => {
        name = (r.body as Array<{ name: string; user_provided_name?: string }>).find((c) => c.user_provided_name === a.clientId)?.name;
      });
      return name !== undefined;
    }, "the agent's connection listed");
    expect((await server.api("DELETE", `/api/connections/${encodeURIComponent(name!)}`)).status).toBeLessThan(300);
    await until(() => source.status().reconnects >= 1 && a.stats().subscribed, "the agent back");

    const pub = await client("flaky", "late-publisher");
    await pub.assertExchange("telemetry", "topic", { durable: false });
    await source.pollNow();
    expect(source.status().subscribed).toBe(true);
    pub.publish("telemetry", "plant.a.temperature", Buffer.from("21.5"));
    await until(() => a.stats().messagesTotal >= 1, "a message on the new exchange");
    await a.flush();
    const r = portal.reports.at(-1)!;
    expect(r.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(templates(portal.reports).find((x) => x.template === "plant.a.temperature")).toMatchObject({ exchanges: ["telemetry"], content: { kind: "text" } });
  });
});
