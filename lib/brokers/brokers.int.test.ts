import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditEntry } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { ingestReport } from "@/lib/ingest/reports.ts";
import { amqpReport, dottedTopic, natsReport, report, topic } from "@/lib/ingest/report-fixtures.ts";
import { declareBridge, declareBroker, getBroker, listBridges, listBrokers, removeBridge } from "./brokers.ts";

describeEachBackend("brokers and bridges", ({ handle }) => {
  let admin: Principal;
  const reader: Principal = { kind: "token", id: "t", name: "t", scopes: ["read"], teamId: null, createdBy: null };

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
  });

  it("declares brokers (admins), updates them on a second declaration, and audits each", async () => {
    await declareBroker(admin, { id: "plant-eu", name: "Plant EU", url: "mqtt://plant-eu:1883" });
    const saved = await declareBroker(admin, { id: "plant-eu", name: "Plant Europe", url: "mqtt://plant-eu:1883" });
    expect(saved).toMatchObject({ id: "plant-eu", name: "Plant Europe", protocol: "mqtt" });
    await expect(declareBroker(reader, { id: "plant-xx", name: "X" })).rejects.toMatchObject({ status: 403, code: "forbidden" });
    await expect(declareBroker(admin, { id: "Plant EU!", name: "X" })).rejects.toMatchObject({ status: 422, code: "invalid_input" });
    await expect(declareBroker(admin, "not an object")).rejects.toMatchObject({ status: 422, code: "invalid_input" });
    const entries = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "broker.declare"));
    expect(entries.map((e) => e.targetId)).toEqual(["plant-eu", "plant-eu"]);
    expect((await listBrokers(reader)).map((b) => [b.id, b.status, b.topicCount])).toEqual([["plant-eu", "never", 0]]);
    await expect(getBroker(reader, "nowhere")).rejects.toMatchObject({ status: 404, code: "not_found:broker" });
  });

  it("declares bridges between known brokers only, with valid filters", async () => {
    await declareBroker(admin, { id: "plant-us", name: "Plant US", url: "mqtt://plant-us:1883" });
    const bridge = await declareBridge(admin, { fromBrokerId: "plant-eu", toBrokerId: "plant-us", topicFilter: "plant/#" });
    expect(bridge.direction).toBe("out");
    await expect(declareBridge(admin, { fromBrokerId: "plant-eu", toBrokerId: "plant-us", topicFilter: "plant/#" })).rejects.toMatchObject({ status: 409 });
    await expect(declareBridge(admin, { fromBrokerId: "plant-eu", toBrokerId: "plant-us", topicFilter: "plant/#/x" })).rejects.toMatchObject({ status: 422 });
    await expect(declareBridge(admin, { fromBrokerId: "plant-eu", toBrokerId: "nowhere", topicFilter: "a/+" })).rejects.toMatchObject({
      status: 422,
      details: { fieldErrors: { toBrokerId: ["No broker nowhere."] } },
    });
    await expect(declareBridge(reader, { fromBrokerId: "plant-us", toBrokerId: "plant-eu", topicFilter: "a/+" })).rejects.toMatchObject({ status: 403 });
    expect((await getBroker(admin, "plant-us")).bridges).toHaveLength(1);
    expect(await listBridges(reader)).toHaveLength(1);
  });

  it("removes a bridge once, and audits it", async () => {
    const [bridge] = await listBridges(admin);
    await expect(removeBridge(reader, bridge!.id)).rejects.toMatchObject({ status: 403 });
    await removeBridge(admin, bridge!.id);
    await expect(removeBridge(admin, bridge!.id)).rejects.toMatchObject({ status: 404, code: "not_found:bridge" });
    expect(await listBridges(admin)).toEqual([]);
    const [entry] = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "bridge.remove"));
    expect(entry).toMatchObject({ targetType: "bridge", targetId: bridge!.id, details: { from: "plant-eu", to: "plant-us", topicFilter: "plant/#" } });
  });

  describe("a mesh of several kinds", () => {
    const agent = systemPrincipal("agent");
    const at = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString();

    beforeAll(async () => {
      await ingestReport(
        agent,
        natsReport(1, [dottedTopic("orders.{p1}.created", 10)], at(-20), at(-10), "orders-nats", {
          bridges: [
            { kind: "mqtt-bridge", name: "to-plant", remote: "mqtt://plant-us:1883", direction: "out", topics: ["orders.>"], state: "running" },
            { kind: "nats-route", name: "r1", remote: "nats-route://10.9.9.9:6222", direction: "both", topics: [], state: null },
          ],
          inventory: { streams: [{ name: "ORDERS", subjects: ["orders.>"], messages: 5, bytes: 50, consumers: 0 }] },
        }),
      );
      await ingestReport(agent, amqpReport(1, [dottedTopic("invoice.{p1}.paid", 3)], at(-20), at(-10), "billing-rabbit", { capabilities: { ...amqpReport(1, [], at(-1), at(0)).capabilities, producers: false, producerSource: "none" } }));
      await ingestReport(agent, report(1, [topic("plant/{p1}/temperature", 4)], at(-20), at(-10), "plant-eu"));
    });

    it("lists each broker's kind, and filters by kind", async () => {
      const all = await listBrokers(reader);
      expect(all.map((b) => [b.id, b.protocol, b.kind])).toEqual([
        ["billing-rabbit", "amqp", "RabbitMQ"],
        ["orders-nats", "nats", "NATS"],
        ["plant-eu", "mqtt", "MQTT"],
        ["plant-us", "mqtt", "MQTT"],
      ]);
      expect((await listBrokers(reader, { kind: "nats" })).map((b) => b.id)).toEqual(["orders-nats"]);
      expect((await listBrokers(reader, { kind: "amqp" })).map((b) => b.id)).toEqual(["billing-rabbit"]);
      await expect(listBrokers(reader, { kind: "carrier-pigeon" })).rejects.toMatchObject({ status: 422 });
    });

    it("says what a NATS broker's agent sees, its subjects in NATS syntax, JetStream, and its links resolved or not", async () => {
      const d = await getBroker(reader, "orders-nats");
      expect(d.broker.kind).toBe("NATS");
      expect(d.words).toEqual({ topic: "subject", filter: "subject filter" });
      expect(d.visibility?.producers).toEqual({ known: false, text: "NATS does not tell who publishes a subject: producers are unknown." });
      expect(d.visibility?.consumers.known).toBe(true);
      expect(d.visibility?.retain).toBeNull();
      expect(d.topics.map((t) => [t.template, t.subscription])).toEqual([["orders.{p1}.created", "orders.*.created"]]);
      expect(d.inventory?.streams?.[0]).toMatchObject({ name: "ORDERS", subjects: ["orders.>"] });
      expect(d.links.map((l) => [l.source, l.kind, l.name, l.remoteBroker?.id ?? null, l.direction, l.topics])).toEqual([
        ["discovered", "mqtt-bridge", "to-plant", "plant-us", "out", ["orders.>"]],
        ["discovered", "nats-route", "r1", null, "both", []],
      ]);
    });

    it("shows a link on the far end too, seen from there, and declared bridges beside it", async () => {
      const d = await getBroker(reader, "plant-us");
      expect(d.visibility).toBeNull();
      expect(d.links.map((l) => [l.source, l.kind, l.remote, l.remoteBroker?.id ?? null, l.direction, l.reportedBy])).toEqual([
        ["discovered", "mqtt-bridge", "orders-nats", "orders-nats", "in", "orders-nats"],
      ]);
      const rabbit = await getBroker(reader, "billing-rabbit");
      expect(rabbit.visibility?.producers.text).toContain("firehose tracer");
      expect(rabbit.topics[0]!.subscription).toBe("invoice.*.paid");
      expect(rabbit.inventory).toBeNull();
    });

    it("checks a declared bridge's filter in the syntax of the broker it leaves", async () => {
      const nats = await declareBridge(admin, { fromBrokerId: "orders-nats", toBrokerId: "plant-eu", topicFilter: "orders.>" });
      expect(nats.topicFilter).toBe("orders.>");
      await expect(declareBridge(admin, { fromBrokerId: "orders-nats", toBrokerId: "plant-eu", topicFilter: "orders.>.x" })).rejects.toMatchObject({
        status: 422,
        details: { fieldErrors: { topicFilter: [expect.stringContaining("NATS subject filter")] } },
      });
      await expect(declareBridge(admin, { fromBrokerId: "plant-eu", toBrokerId: "orders-nats", topicFilter: "orders.>" })).resolves.toMatchObject({ topicFilter: "orders.>" });
      const d = await getBroker(reader, "plant-eu");
      expect(d.links.filter((l) => l.source === "declared").map((l) => [l.remote, l.direction, l.topics])).toEqual([
        ["orders-nats", "in", ["orders.>"]],
        ["orders-nats", "out", ["orders.>"]],
      ]);
    });
  });
});
