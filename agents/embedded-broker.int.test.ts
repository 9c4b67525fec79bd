import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type AgentHandle } from "./agent.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "./embedded-broker.ts";
import { countMessages, startFakePortal, type FakePortal } from "./testing/fake-portal.ts";
import { MOSQUITTO_BIN, startMosquitto } from "./testing/mosquitto.ts";

describe("agent on the embedded broker", () => {
  let broker: EmbeddedBroker;
  let portal: FakePortal;
  let agent: AgentHandle;
  let spool: string;

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
    portal = await startFakePortal("t");
    spool = mkdtempSync(path.join(os.tmpdir(), "agent-embedded-"));
    agent = await startAgent({
      broker: broker.url,
      brokerId: "demo",
      portal: portal.url,
      token: "t",
      spool,
      brokerEvents: broker.events,
      metricsPort: 0,
      intervalSeconds: 3_600,
      logLevel: "silent",
      redact: ["serial"],
    });
    await agent.whenSubscribed();
  });

  afterAll(async () => {
    await agent.stop({ flush: false });
    await broker.close();
    await portal.close();
    rmSync(spool, { recursive: true, force: true });
  });

  it("learns producers and consumers from the broker's hooks", async () => {
    const consumer = await mqtt.connectAsync(broker.url, { clientId: "billing" });
    await consumer.subscribeAsync("orders/#", { qos: 1 });
    const producer = await mqtt.connectAsync(broker.url, { clientId: "shop" });
    for (let i = 0; i < 12; i++) await producer.publishAsync(`orders/${1000 + i}/created`, JSON.stringify({ id: 1000 + i, serial: "S-1" }), { qos: 1 });
    const deadline = Date.now() + 10_000;
    while (agent.stats().messagesTotal < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await agent.flush();
    await producer.endAsync();
    await consumer.endAsync();

    expect(countMessages(portal.reports)).toBe(12);
    const tpl = portal.reports.flatMap((r) => r.topics).find((t) => t.template === "orders/{p1}/created")!;
    expect(tpl.producers).toEqual([{ clientId: "shop", messages: 12, bytes: expect.any(Number) }]);
    expect(tpl.consumers).toEqual([{ clientId: "billing", filter: "orders/#", qos: 1 }]);
    expect(tpl.samples.every((s) => !s.payload.includes("S-1"))).toBe(true);
    expect(portal.reports.at(-1)!.capabilities).toMatchObject({ producers: true, consumers: true, producerSource: "hooks", consumerSource: "hooks" });
  });

  it.skipIf(!MOSQUITTO_BIN && !process.env.CI)("sees a Mosquitto bridge connect by its CONNECT's bridge bit, and what crosses it", async () => {
    // aedes drops a client that publishes on $SYS, as Mosquitto's bridge notifications do.
    const edge = await startMosquitto({ bridge: { name: "demo", port: broker.port, clientId: "edge.demo", topics: ["plant/# out 1", "setpoints/# in 1"], notifications: false } });
    try {
      const bridgeOf = () => portal.reports.at(-1)!.bridges?.find((b) => b.name === "edge.demo");
      const sensor = await mqtt.connectAsync(edge.url, { clientId: "sensor" });
      const deadline = Date.now() + 15_000;
      // The bridge connects on its own schedule: publish until its messages arrive here.
      while (!portal.reports.some((r) => r.topics.some((t) => t.template === "plant/{p1}/temp" && t.producers.some((p) => p.clientId === "edge.demo"))) && Date.now() < deadline) {
        await sensor.publishAsync("plant/l7/temp", "21.5", { qos: 1 });
        await new Promise((r) => setTimeout(r, 50));
        await agent.flush();
      }
      await sensor.endAsync();
      const bridge = bridgeOf()!;
      expect(bridge).toMatchObject({ kind: "mqtt-bridge", name: "edge.demo", direction: "both", state: "connected" });
      expect(bridge.remote).toMatch(/^edge\.demo@.*127\.0\.0\.1:\d+$/);
      expect(bridge.topics).toEqual(expect.arrayContaining(["setpoints/#", "plant/l7/temp"]));
      expect(portal.reports.at(-1)!.capabilities.bridges).toBe(true);
    } finally {
      await edge.cleanup();
    }
    const gone = Date.now() + 15_000;
    while (portal.reports.at(-1)!.bridges?.some((b) => b.name === "edge.demo") && Date.now() < gone) {
      await new Promise((r) => setTimeout(r, 50));
      await agent.flush();
    }
    expect(portal.reports.at(-1)!.bridges).toEqual([]);
  });

  it("serves health and Prometheus metrics", async () => {
    const health = await fetch(`${agent.metricsUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", brokerConnected: true });
    expect((await fetch(`${agent.metricsUrl}/readyz`)).status).toBe(200);
    const text = await (await fetch(`${agent.metricsUrl}/metrics`)).text();
    expect(text).toMatch(/^meshport_agent_messages_total \d+/m);
    expect(text).toMatch(/^meshport_agent_batches_sent_total [1-9]/m);
    expect(text).toContain('meshport_agent_dropped_total{reason="topicCap"} 0');
    expect(text).toMatch(/^meshport_agent_last_report_timestamp_seconds [1-9]/m);
  });
});
