import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createNatsSource, MAX_POLLED_SUBSCRIPTIONS_PER_CLIENT, parseConnz, QUIET_POLL_EVERY, parseGatewayz, parseJsz, parseLeafz, parseRoutez, parseVarz } from "./nats-source.ts";
import { MAX_BRIDGE_TOPICS, MAX_INVENTORY_ITEMS, type DiscoveredBridge } from "./protocol.ts";
import type { BrokerSource, SourceSink, SubscriptionSnapshot } from "./source.ts";
import { freePort } from "./testing/mosquitto.ts";

const silent = pino({ level: "silent" });

// Shapes as nats-server 2.9 answers them (trimmed).
const connz = {
  num_connections: 3,
  connections: [
    {
      cid: 4,
      kind: "Client",
      name: "order-service",
      subscriptions_list_detail: [
        { subject: "orders.*.created", sid: "1", msgs: 1, cid: 4 },
        { subject: "orders.>", qgroup: "workers", sid: "2", msgs: 1, cid: 4 },
      ],
    },
    { cid: 5, subscriptions_list_detail: [{ subject: "audit.>", sid: "1" }] },
    { cid: 6, name: "meshport-agent-x", subscriptions_list_detail: [{ subject: ">", sid: "1" }] },
  ],
};

describe("NATS monitoring answers", () => {
  it("lists each client's subscriptions by name or cid, queue groups included, without the agent", () => {
    const r = parseConnz(connz, { cid: 6, name: "meshport-agent-x" })!;
    expect(r.malformed).toBe(0);
    expect(r.value).toEqual([
      { clientId: "order-service", filter: "orders.*.created", qos: 0 },
      { clientId: "order-service", filter: "orders.>", qos: 0 },
      { clientId: "cid:5", filter: "audit.>", qos: 0 },
    ]);
    // By name alone too (before the agent knows its cid).
    expect(parseConnz(connz, { name: "meshport-agent-x" })!.value.some((s) => s.filter === ">")).toBe(false);
  });

  it("counts malformed connections and subscriptions and keeps the rest; refuses a non-connz answer", () => {
    const r = parseConnz(
      { connections: [{ cid: "x" }, { cid: 7, name: "ok", subscriptions_list: ["a.b", 42, "", "x".repeat(2_000)] }, null] },
      { name: "agent" },
    )!;
    expect(r.value).toEqual([{ clientId: "ok", filter: "a.b", qos: 0 }]);
    expect(r.malformed).toBe(5);
    expect(parseConnz({ connections: "nope" }, { name: "agent" })).toBeNull();
    expect(parseConnz("<html>", { name: "agent" })).toBeNull();
    expect(parseConnz({ connections: null }, { name: "agent" })!.value).toEqual([]);
  });

  it("bounds subscriptions per client and connections", () => {
    const many = { connections: [{ cid: 1, subscriptions_list: Array.from({ length: MAX_POLLED_SUBSCRIPTIONS_PER_CLIENT + 50 }, (_, i) => `s.${i}`) }] };
    expect(parseConnz(many, { name: "agent" })!.value).toHaveLength(MAX_POLLED_SUBSCRIPTIONS_PER_CLIENT);
    const conns = { connections: Array.from({ length: 20 }, (_, i) => ({ cid: i + 10, subscriptions_list: ["a"] })) };
    expect(parseConnz(conns, { name: "agent" }, 5)!.value).toHaveLength(5);
  });

  it("reads the version and connection count; clamps numbers", () => {
    expect(parseVarz({ version: "2.9.10", connections: 3, extra: {} })).toEqual({ version: "2.9.10", connections: 3 });
    expect(parseVarz({ connections: 1e300 })!.connections).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseVarz({ version: 7 })).toBeNull();
  });

  it("reports routes by their peer, with the URL only where this side solicited", () => {
    const r = parseRoutez({
      num_routes: 2,
      routes: [
        { rid: 4, remote_id: "NCT3", did_solicit: true, ip: "127.0.0.1", port: 6222, subscriptions_list: ["$SYS.REQ.X", "orders.>", "_INBOX.a.*"] },
        { rid: 5, remote_id: "NDRF", remote_name: "eu-2", did_solicit: false, ip: "127.0.0.1", port: 41042 },
        { rid: "bad" },
      ],
    })!;
    expect(r.malformed).toBe(1);
    expect(r.value).toEqual<DiscoveredBridge[]>([
      { kind: "nats-route", name: "NCT3", remote: "nats-route://127.0.0.1:6222", direction: "both", topics: ["orders.>"], state: "connected" },
      { kind: "nats-route", name: "eu-2", remote: "eu-2", direction: "both", topics: [], state: "connected" },
    ]);
    expect(parseRoutez({ routes: {} })).toBeNull();
  });

  it("reports leafnodes with the interest they carry, bounded", () => {
    const subs = ["$LDS.x", ...Array.from({ length: MAX_BRIDGE_TOPICS + 10 }, (_, i) => `plant.${i}.>`)];
    const r = parseLeafz({ leafnodes: 1, leafs: [{ account: "$G", ip: "10.0.0.2", port: 7422, subscriptions_list: subs }] })!;
    expect(r.value).toHaveLength(1);
    expect(r.value[0]).toMatchObject({ kind: "nats-leafnode", name: "leafnode 10.0.0.2:7422 ($G)", remote: "nats-leaf://10.0.0.2:7422", direction: "both" });
    expect(r.value[0]!.topics).toHaveLength(MAX_BRIDGE_TOPICS);
    expect(r.value[0]!.topics[0]).toBe("plant.0.>");
    expect(parseLeafz({ leafnodes: 0, leafs: null })!.value).toEqual([]);
  });

  it("merges gateways in and out of one cluster into one link", () => {
    const r = parseGatewayz({
      outbound_gateways: { us: { configured: true, connection: { ip: "10.1.0.1", port: 7222 } } },
      inbound_gateways: { us: [{ connection: { ip: "10.1.0.1", port: 5555 } }], ap: [{ connection: {} }], bad: "x" },
    })!;
    expect(r.malformed).toBe(1);
    expect(r.value).toEqual([
      { kind: "nats-gateway", name: "us", remote: "nats://10.1.0.1:7222", direction: "both", topics: [], state: "connected" },
      { kind: "nats-gateway", name: "ap", remote: "ap", direction: "in", topics: [], state: "connected" },
    ]);
  });

  it("lists JetStream streams and consumers; null when JetStream is disabled", () => {
    const jsz = {
      account_details: [
        {
          name: "$G",
          stream_detail: [
            {
              name: "ORDERS",
              config: { subjects: ["orders.>"] },
              state: { messages: 3, bytes: 144, consumer_count: 2 },
              consumer_detail: [
                { stream_name: "ORDERS", name: "shipper", config: { durable_name: "shipper", filter_subject: "orders.*.created" }, num_pending: 1 },
                { stream_name: "ORDERS", name: "eph-1", config: {}, num_pending: 18446744073709551615 },
                { name: 12 },
              ],
            },
            { name: "" },
          ],
        },
      ],
    };
    const r = parseJsz(jsz)!;
    expect(r.malformed).toBe(2);
    expect(r.value).toEqual({
      streams: [{ name: "ORDERS", subjects: ["orders.>"], messages: 3, bytes: 144, consumers: 2 }],
      streamConsumers: [
        { stream: "ORDERS", name: "shipper", filter: "orders.*.created", pending: 1, durable: true },
        { stream: "ORDERS", name: "eph-1", filter: null, pending: Number.MAX_SAFE_INTEGER, durable: false },
      ],
    });
    expect(parseJsz({ disabled: true, streams: 0 })).toEqual({ value: null, malformed: 0 });
    expect(parseJsz({ account_details: 3 })).toBeNull();
  });

  it("bounds the inventory and says how much it left out", () => {
    const streams = Array.from({ length: MAX_INVENTORY_ITEMS + 5 }, (_, i) => ({ name: `S${i}`, state: {} }));
    const r = parseJsz({ account_details: [{ stream_detail: streams }] })!;
    expect(r.value!.streams).toHaveLength(MAX_INVENTORY_ITEMS);
    expect(r.value!.omitted).toBe(5);
  });
});

describe("createNatsSource", () => {
  it("refuses bad configuration", () => {
    expect(() => createNatsSource({ servers: "", brokerId: "b" })).toThrow(/NATS server/);
    expect(() => createNatsSource({ servers: "http://x:80", brokerId: "b" })).toThrow(/nats:\/\//);
    expect(() => createNatsSource({ servers: "nats://x:4222", monitorUrl: "file:///etc", brokerId: "b" })).toThrow(/http/);
    expect(() => createNatsSource({ servers: "nats://x:4222", ca: "/no/such/ca.pem", brokerId: "b" })).toThrow(/no such file/);
    const s = createNatsSource({ servers: "nats://user:secret@127.0.0.1:4222, 127.0.0.1:4223", brokerId: "b" });
    expect(s.url).not.toContain("secret");
    expect(s.protocol).toBe("nats");
    expect(s.dialect.protocol).toBe("nats");
  });
});

/** A monitoring endpoint answering what the test says, path by path. */
interface FakeMonitor {
  url: string;
  answers: Record<string, (res: ServerResponse) => void>;
  hits: Record<string, number>;
  close(): Promise<void>;
}

async function startFakeMonitor(): Promise<FakeMonitor> {
  const m: FakeMonitor = { url: "", answers: {}, hits: {}, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const p = new URL(req.url!, "http://x").pathname.slice(1);
    m.hits[p] = (m.hits[p] ?? 0) + 1;
    const answer = m.answers[p];
    if (answer) answer(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  m.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  m.close = () => new Promise((r) => (server.closeAllConnections(), server.close(() => r())));
  return m;
}

const json = (body: unknown) => (res: ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));

function fakeSink() {
  const sink = {
    snapshots: [] as SubscriptionSnapshot[][],
    malformedCount: 0,
    messages: 0,
    message() {
      sink.messages++;
    },
    event() {},
    subscriptions(all: readonly SubscriptionSnapshot[]) {
      sink.snapshots.push([...all]);
    },
    malformed(n = 1) {
      sink.malformedCount += n;
    },
    ready() {},
  } satisfies SourceSink & Record<string, unknown>;
  return sink;
}

async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("NATS source polling the monitoring endpoint", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  async function source(monitor: FakeMonitor, pollSeconds = 1): Promise<{ src: BrokerSource; sink: ReturnType<typeof fakeSink> }> {
    // No server listens there: polling must work while the client keeps reconnecting.
    const src = createNatsSource({ servers: `nats://127.0.0.1:${await freePort()}`, monitorUrl: monitor.url, pollSeconds, pollTimeoutMs: 300, reconnectWaitMs: 50, brokerId: "b" });
    const sink = fakeSink();
    await src.start(sink, silent);
    cleanups.push(() => src.stop());
    return { src, sink };
  }

  it("feeds subscriptions, links and inventory, and says what it can see", async () => {
    const monitor = await startFakeMonitor();
    cleanups.push(() => monitor.close());
    monitor.answers.varz = json({ version: "2.9.10", connections: 3 });
    monitor.answers.connz = json(connz);
    monitor.answers.routez = json({ routes: [] });
    monitor.answers.leafz = json({ leafs: [{ ip: "10.0.0.2", port: 7422, subscriptions_list: ["plant.>"] }] });
    monitor.answers.gatewayz = json({ outbound_gateways: {}, inbound_gateways: {} });
    monitor.answers.jsz = json({ disabled: true });
    const { src, sink } = await source(monitor);
    expect(src.status().capabilities).toMatchObject({ producers: false, producerSource: "none", consumers: false, retainFlag: "none", sys: false });
    await until(() => sink.snapshots.length > 0, "a subscription snapshot");
    expect(sink.snapshots[0]!.map((s) => `${s.clientId} ${s.filter}`)).toContain("order-service orders.>");
    const st = src.status();
    expect(st).toMatchObject({ connected: false, brokerVersion: "2.9.10", clientsConnected: 3, protocolVersion: null, logLinesRead: 0 });
    expect(st.capabilities).toMatchObject({ consumers: true, consumerSource: "monitoring", bridges: true, inventory: false });
    expect(st.bridges).toEqual([expect.objectContaining({ kind: "nats-leafnode", topics: ["plant.>"] })]);
    expect(st.inventory).toBeUndefined();
    expect(sink.malformedCount).toBe(0);
  });

  it("counts a malformed answer, keeps the previous state, and is not stalled by an endpoint that never answers", async () => {
    const monitor = await startFakeMonitor();
    cleanups.push(() => monitor.close());
    monitor.answers.varz = json({ version: "2.9.10", connections: 1 });
    monitor.answers.connz = json(connz);
    monitor.answers.leafz = json({ leafs: [{ ip: "10.0.0.2", port: 7422 }] });
    monitor.answers.jsz = json({ account_details: [{ stream_detail: [{ name: "ORDERS", state: { messages: 1 } }] }] });
    // routez and gatewayz are not served (404): no answer, not a malformed one.
    const { src, sink } = await source(monitor);
    await until(() => src.status().inventory !== undefined && sink.snapshots.length > 0, "a first full poll");
    expect(sink.malformedCount).toBe(0);
    const snapshots = sink.snapshots.length;
    // Now: garbage from connz, a truncated body from leafz, a hang from jsz, varz down.
    monitor.answers.connz = (res) => res.writeHead(200, { "content-type": "application/json" }).end("{not json");
    monitor.answers.leafz = json({ leafs: "nope" });
    monitor.answers.jsz = () => {};
    delete monitor.answers.varz;
    const hitsBefore = monitor.hits.jsz ?? 0;
    await until(() => (monitor.hits.jsz ?? 0) >= hitsBefore + 2 && sink.malformedCount >= 4, "two more polls past a hanging endpoint");
    expect(sink.snapshots.length).toBe(snapshots);
    const st = src.status();
    expect(st.inventory?.streams?.[0]?.name).toBe("ORDERS");
    expect(st.bridges).toHaveLength(1);
    expect(st.brokerVersion).toBe("2.9.10");
    expect(st.capabilities.consumers).toBe(true);
  });

  it("reads endpoints that answered empty only every few polls, and at once again once they have content", async () => {
    const monitor = await startFakeMonitor();
    cleanups.push(() => monitor.close());
    monitor.answers.connz = json(connz);
    monitor.answers.routez = json({ routes: [] });
    monitor.answers.leafz = json({ leafs: [] });
    monitor.answers.gatewayz = json({ outbound_gateways: {}, inbound_gateways: {} });
    monitor.answers.jsz = json({ disabled: true });
    const { src } = await source(monitor, 0.1);
    const polls = QUIET_POLL_EVERY + 2;
    await until(() => (monitor.hits.connz ?? 0) >= polls, `${polls} polls`);
    for (const quiet of ["routez", "leafz", "gatewayz", "jsz"]) expect(monitor.hits[quiet]).toBeLessThanOrEqual(2);
    monitor.answers.leafz = json({ leafs: [{ ip: "10.0.0.2", port: 7422 }] });
    await until(() => (src.status().bridges ?? []).length === 1, "the leafnode seen at a later look");
    const hits = monitor.hits.leafz!;
    const connzHits = monitor.hits.connz!;
    await until(() => monitor.hits.connz! >= connzHits + QUIET_POLL_EVERY, "more polls");
    // With content, the endpoint is read at every poll again.
    expect(monitor.hits.leafz! - hits).toBeGreaterThanOrEqual(QUIET_POLL_EVERY);
  });

  it("refuses an answer larger than its budget", async () => {
    const monitor = await startFakeMonitor();
    cleanups.push(() => monitor.close());
    const huge = JSON.stringify({ connections: [{ cid: 1, subscriptions_list: Array.from({ length: 400_000 }, (_, i) => `subject.${i}`) }] });
    monitor.answers.connz = (res) => res.writeHead(200).end(huge);
    const src = createNatsSource({ servers: `nats://127.0.0.1:${await freePort()}`, monitorUrl: monitor.url, pollSeconds: 1, maxAnswerBytes: 1_000_000, reconnectWaitMs: 50, brokerId: "b" });
    const sink = fakeSink();
    await src.start(sink, silent);
    cleanups.push(() => src.stop());
    await until(() => sink.malformedCount > 0, "the oversized answer counted");
    expect(sink.snapshots).toHaveLength(0);
    expect(src.status().capabilities.consumers).toBe(false);
  });

  it("stops polling and feeding once stopped", async () => {
    const monitor = await startFakeMonitor();
    cleanups.push(() => monitor.close());
    monitor.answers.connz = json(connz);
    const { src, sink } = await source(monitor);
    await until(() => sink.snapshots.length > 0, "a snapshot");
    await src.stop();
    const n = sink.snapshots.length;
    const hits = monitor.hits.connz;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(sink.snapshots.length).toBe(n);
    expect(monitor.hits.connz).toBe(hits);
  });
});
