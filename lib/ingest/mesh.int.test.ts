import { and, asc, count, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import type { AgentReport, DiscoveredBridge } from "@/agents/protocol.ts";
import * as ingestRoute from "@/app/api/v1/ingest/reports/route.ts";
import { auditEntry, broker, brokerLink, brokerTopic, ingestBatch } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { declareBroker } from "@/lib/brokers/brokers.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { amqpReport, dottedTopic, natsReport } from "./report-fixtures.ts";

function post(token: string, body: unknown) {
  return ingestRoute.POST(
    new Request("http://localhost:3000/api/v1/ingest/reports", {
      method: "POST",
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    }),
    { params: Promise.resolve({}) },
  );
}

const link = (over: Partial<DiscoveredBridge> = {}): DiscoveredBridge => ({
  kind: "nats-leafnode",
  name: "hub",
  remote: "nats-leaf://127.0.0.1:7422",
  direction: "both",
  topics: ["orders.>"],
  state: "running",
  ...over,
});

describeEachBackend("agent report ingest: NATS and RabbitMQ brokers, their inventory and links", ({ handle }) => {
  let agent: string;
  let admin: Principal;
  const now = Date.now();
  const at = (offsetSeconds: number) => new Date(now + offsetSeconds * 1000).toISOString();
  const db = () => handle().db;
  const links = async (brokerId: string) =>
    db().select().from(brokerLink).where(eq(brokerLink.brokerId, brokerId)).orderBy(asc(brokerLink.kind), asc(brokerLink.name));
  const discovered = async () => (await db().select().from(auditEntry).where(eq(auditEntry.action, "bridge.discover"))).map((e) => e.targetId).sort();
  const row = async (id: string) => (await db().select().from(broker).where(eq(broker.id, id)))[0]!;

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    agent = (await createToken(admin, { name: "agent", scopes: ["agent:report"], brokers: "*" })).secret;
    // The far ends, as an admin declared them: one by URL, one named in a link's remote.
    await declareBroker(admin, { id: "orders-hub", name: "Orders hub", url: "nats://127.0.0.1:7422", protocol: "nats" });
    await declareBroker(admin, { id: "plant-eu", name: "Plant EU", url: "mqtt://127.0.0.1:1883" });
  });

  it("stores a NATS report: the kind, JetStream, the links with their far ends resolved, each new link audited once", async () => {
    const first = natsReport(1, [dottedTopic("orders.{p1}.created", 12)], at(-30), at(-20), "orders-nats", {
      bridges: [
        link(),
        link({ kind: "nats-route", name: "route-9", remote: "nats-route://10.0.0.9:6222", direction: "both", topics: [], state: null }),
        link({ kind: "mqtt-bridge", name: "to-plant", remote: "bridge-plant-eu", direction: "out", topics: ["orders.*.created"] }),
      ],
      inventory: {
        streams: [{ name: "ORDERS", subjects: ["orders.>"], messages: 120, bytes: 12_000, consumers: 1 }],
        streamConsumers: [{ stream: "ORDERS", name: "audit", filter: "orders.*.created", pending: 3, durable: true }],
      },
    });
    const response = await post(agent, first);
    expect(response.status).toBe(202);
    const b = await row("orders-nats");
    expect(b).toMatchObject({ protocol: "nats", url: "nats://127.0.0.1:4222" });
    expect(b.inventory).toMatchObject({ streams: [{ name: "ORDERS" }], streamConsumers: [{ name: "audit", filter: "orders.*.created" }] });
    expect(b.inventoryAt?.toISOString()).toBe(first.window.end);
    expect((await links("orders-nats")).map((l) => [l.kind, l.name, l.remoteBrokerId, l.direction, l.topics, l.state])).toEqual([
      ["mqtt-bridge", "to-plant", "plant-eu", "out", ["orders.*.created"], "running"],
      ["nats-leafnode", "hub", "orders-hub", "both", ["orders.>"], "running"],
      ["nats-route", "route-9", null, "both", [], null],
    ]);
    expect(await discovered()).toEqual(["orders-nats/mqtt-bridge/to-plant", "orders-nats/nats-leafnode/hub", "orders-nats/nats-route/route-9"]);
    const [entry] = await db().select().from(auditEntry).where(and(eq(auditEntry.action, "bridge.discover"), eq(auditEntry.targetId, "orders-nats/nats-leafnode/hub")));
    expect(entry!.details).toMatchObject({ broker: "orders-nats", remote: "nats-leaf://127.0.0.1:7422", remoteBroker: "orders-hub", topics: ["orders.>"] });
    const [t] = await db().select().from(brokerTopic).where(eq(brokerTopic.brokerId, "orders-nats"));
    expect(t).toMatchObject({ template: "orders.{p1}.created", totalMessages: 12 });
  });

  it("keeps the links when a report carries none, updates them, and removes those a report with links no longer lists", async () => {
    expect((await post(agent, natsReport(2, [], at(-20), at(-15)))).status).toBe(202);
    expect(await links("orders-nats")).toHaveLength(3);
    const third = natsReport(3, [], at(-15), at(-10), "orders-nats", { bridges: [link({ state: "connecting", topics: ["orders.>", "orders.>", "billing.>"] })] });
    expect((await post(agent, third)).status).toBe(202);
    const [hub, ...rest] = await links("orders-nats");
    expect(rest).toEqual([]);
    expect(hub).toMatchObject({ name: "hub", state: "connecting", topics: ["orders.>", "billing.>"], remoteBrokerId: "orders-hub" });
    expect(hub!.lastSeen.toISOString()).toBe(third.window.end);
    expect(hub!.firstSeen < hub!.lastSeen).toBe(true);
    // Known links are not audited again; a link that comes back after it was removed is new again.
    expect(await discovered()).toHaveLength(3);
  });

  it("lets an older replayed window change neither the links, nor the inventory, nor the kind", async () => {
    const inventoryBefore = (await row("orders-nats")).inventory;
    const late = natsReport(0, [], at(-60), at(-50), "orders-nats", { bridges: [], inventory: { streams: [] } });
    expect((await post(agent, late)).status).toBe(202);
    expect(await links("orders-nats")).toHaveLength(1);
    expect((await row("orders-nats")).inventory).toEqual(inventoryBefore);
  });

  it("stores a RabbitMQ report: exchanges per routing-key template, exchanges, queues and bindings, shovels", async () => {
    const report = amqpReport(1, [dottedTopic("invoice.{p1}.paid", 5, { exchanges: ["billing"], producers: [{ clientId: "127.0.0.1:50312 -> 127.0.0.1:5672", messages: 5, bytes: 500 }] })], at(-30), at(-20), "billing-rabbit", {
      bridges: [{ kind: "rabbitmq-shovel", name: "to-orders", remote: "amqp://rabbit-2.example:5672/%2f", direction: "out", topics: ["invoice.#"], state: "running" }],
      inventory: {
        exchanges: [
          { name: "", type: "direct", durable: true },
          { name: "billing", type: "topic", durable: true },
        ],
        queues: [{ name: "invoices", messages: 2, consumers: 1, durable: true }],
        bindings: [{ exchange: "billing", queue: "invoices", routingKey: "invoice.*.paid" }],
      },
    });
    expect((await post(agent, report)).status).toBe(202);
    const b = await row("billing-rabbit");
    expect(b.protocol).toBe("amqp");
    expect(b.capabilities).toMatchObject({ producerSource: "firehose", consumerSource: "management", retainFlag: "none" });
    expect(b.inventory).toMatchObject({ exchanges: [{ name: "" }, { name: "billing", type: "topic" }], bindings: [{ routingKey: "invoice.*.paid" }] });
    // No broker of the mesh is at rabbit-2.example:5672, nor named in it.
    expect((await links("billing-rabbit")).map((l) => [l.kind, l.name, l.remoteBrokerId])).toEqual([["rabbitmq-shovel", "to-orders", null]]);
  });

  it("follows a broker that changes kind (the latest report wins) and audits the change with before and after", async () => {
    await declareBroker(admin, { id: "legacy-bus", name: "Legacy bus", url: "", protocol: "kafka" });
    expect((await post(agent, amqpReport(1, [], at(-20), at(-10), "legacy-bus"))).status).toBe(202);
    expect((await row("legacy-bus")).protocol).toBe("amqp");
    expect((await post(agent, amqpReport(2, [], at(-10), at(-5), "legacy-bus"))).status).toBe(202);
    const changes = await db().select().from(auditEntry).where(and(eq(auditEntry.action, "broker.register"), eq(auditEntry.targetId, "legacy-bus")));
    expect(changes.map((c) => c.details)).toEqual([expect.objectContaining({ before: { protocol: "kafka" }, after: { protocol: "amqp" } })]);
  });

  it("forgets the topics and links a broker reported in its old kind's syntax when it changes kind", async () => {
    const topicsOf = async () => (await db().select({ template: brokerTopic.template }).from(brokerTopic).where(eq(brokerTopic.brokerId, "turncoat"))).map((t) => t.template);
    expect((await post(agent, amqpReport(1, [dottedTopic("orders.{p1}.created", 3)], at(-20), at(-10), "turncoat", { bridges: [link({ kind: "rabbitmq-shovel", name: "s1" })] }))).status).toBe(202);
    expect(await topicsOf()).toEqual(["orders.{p1}.created"]);
    expect((await links("turncoat")).length).toBe(1);
    expect((await post(agent, natsReport(2, [dottedTopic("billing.{p1}.paid", 2)], at(-10), at(-5), "turncoat"))).status).toBe(202);
    expect(await topicsOf()).toEqual(["billing.{p1}.paid"]);
    expect(await links("turncoat")).toEqual([]);
  });

  it("refuses inconsistent or oversized mesh fields with 422 and stores nothing", async () => {
    const batches = async () => (await db().select({ n: count() }).from(ingestBatch))[0]!.n;
    const before = await batches();
    const bad: AgentReport[] = [
      { ...natsReport(9, [], at(-5), at(0)), broker: { ...natsReport(9, [], at(-5), at(0)).broker, protocolVersion: 4 } },
      natsReport(9, [], at(-5), at(0), "orders-nats", { bridges: [link({ kind: "kafka-mirror" as DiscoveredBridge["kind"] })] }),
      natsReport(9, [], at(-5), at(0), "orders-nats", { bridges: Array.from({ length: 201 }, (_, i) => link({ name: `l${i}` })) }),
      natsReport(9, [], at(-5), at(0), "orders-nats", { bridges: [link({ name: "x".repeat(256) })] }),
      natsReport(9, [], at(-5), at(0), "orders-nats", { inventory: { queues: Array.from({ length: 1001 }, (_, i) => ({ name: `q${i}`, messages: 0, consumers: 0, durable: true })) } }),
      amqpReport(9, [dottedTopic("a.b", 1, { exchanges: Array.from({ length: 21 }, (_, i) => `x${i}`) })], at(-5), at(0)),
    ];
    for (const body of bad) {
      const response = await post(agent, body);
      expect(response.status).toBe(422);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_input:agent_report");
    }
    expect(await batches()).toBe(before);
    expect(await links("orders-nats")).toHaveLength(1);
  });
});
