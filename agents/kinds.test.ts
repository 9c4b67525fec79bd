import { describe, expect, it } from "vitest";
import { AMQP_DIALECT, NATS_DIALECT } from "../registry/topics/index.ts";
import { BridgeTracker } from "./mqtt-source.ts";
import { Observer } from "./observer.ts";
import { MAX_BRIDGE_TOPICS, MAX_EXCHANGES_PER_TEMPLATE, agentReportSchema, type Capabilities } from "./protocol.ts";
import { planParts, renderPart, type ReportContext } from "./report.ts";
import { compileChannels, matchChannel, TemplateTrie } from "./templates.ts";
import { ConsumerTracker } from "./tracker.ts";

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const channel = (address: string, application = "app") => ({ address, application, contractVersion: "1.0.0" });

describe("templates per broker kind", () => {
  it("collapses NATS subjects and AMQP routing keys per `.` token", () => {
    const nats = new TemplateTrie({ dialect: NATS_DIALECT });
    expect(nats.resolve("orders.eu.4711.created")).toBe("orders.eu.{p2}.created");
    // A slash is an ordinary character of a NATS token.
    expect(nats.resolve("files.a/b.42")).toBe("files.a/b.{p2}");
    const amqp = new TemplateTrie({ dialect: AMQP_DIALECT, collapseThreshold: 2 });
    for (const site of ["berlin", "paris", "rome"]) amqp.resolve(`sensor.${site}.temp`);
    expect(amqp.resolve("sensor.oslo.temp")).toBe("sensor.{p1}.temp");
    expect(amqp.peek("sensor.madrid.temp")).toBe("sensor.{p1}.temp");
  });

  it("labels observations with contract channels in the broker's syntax", () => {
    const nats = compileChannels([channel("orders.{region}.{orderId}.created", "shop"), channel("orders.eu.{orderId}.created", "eu-shop")], NATS_DIALECT);
    expect(matchChannel("orders.eu.{p2}.created", nats)?.application).toBe("eu-shop");
    expect(matchChannel("orders.us.{p2}.created", nats)?.application).toBe("shop");
    expect(matchChannel("orders/eu/{p2}/created", nats)).toBeNull();
    // An AMQP routing key may hold `*`: it is a literal there, not a wildcard.
    const amqp = compileChannels([channel("alerts.{level}", "ops")], AMQP_DIALECT);
    expect(matchChannel("alerts.high", amqp)?.application).toBe("ops");
    expect(matchChannel("alerts.*", amqp)?.application).toBe("ops");
    expect(matchChannel("alerts.high.x", amqp)).toBeNull();
  });

  it("observes a NATS subject into a dotted template and lists consumers by NATS filters", () => {
    const o = new Observer({ dialect: NATS_DIALECT }, 0);
    const tracker = new ConsumerTracker({ dialect: NATS_DIALECT });
    tracker.subscribed("billing", "orders.*.*.created", 0);
    tracker.subscribed("audit", "orders.>", 0);
    tracker.subscribed("other", "invoices.>", 0);
    for (let i = 0; i < 3; i++) o.observe(`orders.eu.${4711 + i}.created`, json({ i }), 0, false, 1);
    o.observe("bad..subject", json({}), 0, false, 1);
    const snap = o.snapshot(1_000, (template) => tracker.consumersOf(template));
    expect(snap.observations.map((t) => t.template)).toEqual(["orders.eu.{p2}.created"]);
    expect(snap.observations[0]!.consumers.map((c) => c.clientId)).toEqual(["audit", "billing"]);
    expect(snap.observations[0]).not.toHaveProperty("exchanges");
    expect(snap.drops.malformed).toBe(1);
  });
});

describe("AMQP exchanges per template", () => {
  it("keeps the distinct exchanges of a template, boundedly, and merges them when templates collapse", () => {
    const o = new Observer({ dialect: AMQP_DIALECT, collapseThreshold: 2 }, 0);
    o.observe("sensor.berlin.temp", json({}), 0, false, 1, "telemetry");
    o.observe("sensor.paris.temp", json({}), 0, false, 1, "backup");
    o.observe("sensor.rome.temp", json({}), 0, false, 1, "telemetry");
    for (let i = 0; i < MAX_EXCHANGES_PER_TEMPLATE + 5; i++) o.observe("audit.log", json({}), 0, false, 1, `x${String(i).padStart(2, "0")}`);
    o.observe("audit.log", json({}), 0, false, 1, "y".repeat(300));
    const snap = o.snapshot(1_000);
    const sensor = snap.observations.find((t) => t.template === "sensor.{p1}.temp")!;
    expect(sensor.exchanges).toEqual(["backup", "telemetry"]);
    expect(sensor.messages).toBe(3);
    const audit = snap.observations.find((t) => t.template === "audit.log")!;
    expect(audit.exchanges).toHaveLength(MAX_EXCHANGES_PER_TEMPLATE);
    expect(audit.exchanges!.every((x) => x.length < 10)).toBe(true);
  });
});

describe("ConsumerTracker.replaceAll", () => {
  it("replaces what was known with a polled snapshot, touching only what changed", () => {
    const t = new ConsumerTracker({ dialect: NATS_DIALECT, ignoreClientIds: ["agent"] });
    t.replaceAll([
      { clientId: "a", filter: "orders.>", qos: 0 },
      { clientId: "b", filter: "orders.*.created", qos: 0 },
      { clientId: "agent", filter: ">", qos: 0 },
    ]);
    expect(t.consumersOf("orders.{p1}.created").consumers.map((c) => c.clientId)).toEqual(["a", "b"]);
    expect(t.informed).toBe(true);
    t.replaceAll([
      { clientId: "b", filter: "orders.*.created", qos: 0 },
      { clientId: "b", filter: "invoices.>", qos: 0 },
      { clientId: "c", filter: "orders.eu.created", qos: 0 },
    ]);
    expect(t.consumersOf("orders.{p1}.created").consumers.map((c) => c.clientId)).toEqual(["b", "c"]);
    expect(t.consumersOf("invoices.x").consumers.map((c) => c.filter)).toEqual(["invoices.>"]);
    expect(t.consumerCount).toBe(2);
    t.replaceAll([]);
    expect(t.consumerCount).toBe(0);
    expect(t.indexSize.filters).toBe(0);
  });

  it("counts an invalid subscription once while it stays in the snapshots", () => {
    const t = new ConsumerTracker({ dialect: NATS_DIALECT });
    const snap = [
      { clientId: "a", filter: "orders..x", qos: 0 },
      { clientId: "a", filter: "orders.x", qos: 0 },
    ];
    t.replaceAll(snap);
    t.replaceAll(snap);
    expect(t.invalid).toBe(1);
    expect(t.consumerCount).toBe(1);
  });

  it("lets a subscription a cap refused in once a slot frees", () => {
    const t = new ConsumerTracker({ maxClients: 1 });
    t.replaceAll([
      { clientId: "a", filter: "x/#", qos: 0 },
      { clientId: "b", filter: "y/#", qos: 0 },
    ]);
    expect(t.consumerCount).toBe(1);
    t.replaceAll([{ clientId: "b", filter: "y/#", qos: 0 }]);
    expect(t.consumersOf("y/1").consumers.map((c) => c.clientId)).toEqual(["b"]);
  });
});

describe("BridgeTracker", () => {
  it("reports a connected bridge with what flows out (its subscriptions) and in (its publishes)", () => {
    const b = new BridgeTracker();
    b.event({ type: "connect", clientId: "edge.hub", clean: true, protocolLevel: 4, username: null, bridge: true, address: "10.0.0.7:40112" });
    b.event({ type: "connect", clientId: "plain", clean: true, protocolLevel: 4, username: null });
    b.event({ type: "subscribe", clientId: "edge.hub", filter: "orders/#", qos: 1 });
    b.event({ type: "subscribe", clientId: "plain", filter: "x/#", qos: 1 });
    expect(b.list()).toEqual([{ kind: "mqtt-bridge", name: "edge.hub", remote: "edge.hub@10.0.0.7:40112", direction: "out", topics: ["orders/#"], state: "connected" }]);
    b.event({ type: "publish", clientId: "edge.hub", topic: "plant/1/temp", qos: 0, retain: false, bytes: 3 });
    b.event({ type: "publish", clientId: "edge.hub", topic: "$SYS/broker/connection/edge.hub/state", qos: 1, retain: true, bytes: 1 });
    expect(b.list()[0]).toMatchObject({ direction: "both", topics: ["orders/#", "plant/1/temp"] });
    b.event({ type: "unsubscribe", clientId: "edge.hub", filter: "orders/#" });
    expect(b.list()[0]).toMatchObject({ direction: "in", topics: ["plant/1/temp"] });
    b.event({ type: "disconnect", clientId: "edge.hub" });
    expect(b.list()).toEqual([]);
  });

  it("bounds the topics of a bridge, and forgets a bridge whose id an ordinary client takes", () => {
    const b = new BridgeTracker();
    b.event({ type: "connect", clientId: "br", clean: true, protocolLevel: 4, username: null, bridge: true });
    for (let i = 0; i < MAX_BRIDGE_TOPICS + 10; i++) b.event({ type: "publish", clientId: "br", topic: `t/${i}`, qos: 0, retain: false, bytes: 1 });
    expect(b.list()[0]!.topics).toHaveLength(MAX_BRIDGE_TOPICS);
    expect(b.list()[0]!.remote).toBe("br");
    b.event({ type: "connect", clientId: "br", clean: true, protocolLevel: 4, username: null });
    expect(b.size).toBe(0);
  });
});

describe("report parts of a window with bridges and inventory", () => {
  it("puts bridges and inventory on the first part only", () => {
    const o = new Observer({}, 0);
    o.observe("a/1", json({}), 0, false, 1);
    o.observe("b/x", json({}), 0, false, 1);
    const closed = o.close(1_000);
    const capabilities: Capabilities = { producers: false, consumers: false, producerSource: "none", consumerSource: "none", sys: false, retainFlag: "none", bridges: true, inventory: true };
    const ctx: ReportContext = {
      agent: { id: "agent", version: "0.1.0", hostname: "h", startedAt: new Date(0).toISOString() },
      broker: { id: "b", url: "nats://127.0.0.1:4222", protocol: "nats", protocolVersion: null, version: null, clientsConnected: null },
      capabilities,
      extraDrops: {},
      stats: {
        uptimeSeconds: 1,
        messagesSeen: 2,
        bytesSeen: 4,
        topicsTracked: 2,
        templatesTracked: 2,
        samplesKept: 2,
        brokerConnected: true,
        reconnects: 0,
        spooledBatches: 0,
        spooledBytes: 0,
        rejectedBatches: 0,
        logLinesRead: 0,
        rssBytes: 1,
      },
      bridges: [{ kind: "nats-route", name: "r1", remote: "nats://10.0.0.2:6222", direction: "both", topics: [], state: null }],
      inventory: { streams: [{ name: "ORDERS", subjects: ["orders.>"], messages: 3, bytes: 30, consumers: 1 }] },
    };
    const ranges = planParts([1, 1], 1);
    expect(ranges).toHaveLength(2);
    const first = renderPart(closed, ctx, ranges, 0, 1);
    const second = renderPart(closed, ctx, ranges, 1, 2);
    expect(first.bridges).toEqual(ctx.bridges);
    expect(first.inventory).toEqual(ctx.inventory);
    expect(second).not.toHaveProperty("bridges");
    expect(second).not.toHaveProperty("inventory");
    expect(agentReportSchema.safeParse(first).success).toBe(true);
    expect(agentReportSchema.safeParse(second).success).toBe(true);
  });
});
