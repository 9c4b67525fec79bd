import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedBridge, type EmbeddedBridge } from "./embedded-bridge.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "./embedded-broker.ts";
import { startMosquitto } from "./testing/mosquitto.ts";

/** Messages a client received, in order, and a wait for one of them. */
function recorder(client: MqttClient) {
  const seen: Array<{ topic: string; payload: string; retain: boolean }> = [];
  const waiters: Array<{ topic: string; resolve: () => void }> = [];
  client.on("message", (topic, payload, packet) => {
    seen.push({ topic, payload: payload.toString(), retain: packet.retain });
    for (const w of waiters.filter((x) => x.topic === topic)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    seen,
    topics: () => seen.map((m) => m.topic),
    waitFor: (topic: string) =>
      seen.some((m) => m.topic === topic) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ topic, resolve })),
  };
}

describe("embedded bridge between two embedded brokers", () => {
  let plant: EmbeddedBroker;
  let cloud: EmbeddedBroker;
  let bridge: EmbeddedBridge;
  const connects: Array<{ broker: string; clientId: string; bridgeMode: boolean }> = [];
  const clients: MqttClient[] = [];

  const client = async (broker: EmbeddedBroker, clientId: string, filters: string[]) => {
    const c = await mqtt.connectAsync(broker.url, { clientId, protocolVersion: 4 });
    clients.push(c);
    const r = recorder(c);
    if (filters.length > 0) await c.subscribeAsync(filters, { qos: 1 });
    return { client: c, ...r };
  };

  beforeAll(async () => {
    plant = await startEmbeddedBroker({ port: 0 });
    cloud = await startEmbeddedBroker({ port: 0 });
    // Watch CONNECT packets, keeping whatever hook the broker module installed.
    for (const [name, broker] of [["plant", plant], ["cloud", cloud]] as const) {
      const previous = broker.aedes.preConnect.bind(broker.aedes);
      broker.aedes.preConnect = (c, packet, done) => {
        connects.push({ broker: name, clientId: packet.clientId, bridgeMode: (packet as { bridgeMode?: boolean }).bridgeMode === true });
        previous(c, packet, done);
      };
    }
    bridge = await startEmbeddedBridge({
      name: "plant.cloud",
      // Both-way lines need the local end's bit too.
      local: { url: plant.url, bridgeBit: true },
      remote: { url: cloud.url },
      topics: [
        { filter: "erp/#", direction: "out" },
        { filter: "scm/#", direction: "in" },
        { filter: "sync/+", direction: "both", qos: 1 },
      ],
    });
    await bridge.whenReady();
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync()));
    await bridge.close();
    await plant.close();
    await cloud.close();
  });

  it("connects to the remote with the bridge bit, under Mosquitto's default client ids", () => {
    expect(connects).toContainEqual({ broker: "cloud", clientId: "plant.cloud", bridgeMode: true });
    expect(connects).toContainEqual({ broker: "plant", clientId: "local.plant.cloud", bridgeMode: true });
    expect([bridge.remoteClientId, bridge.localClientId]).toEqual(["plant.cloud", "local.plant.cloud"]);
  });

  it("forwards out topics to the remote and in topics to the local broker, nothing else", async () => {
    const crm = await client(cloud, "crm-order-sync-1", ["erp/#", "scm/#"]);
    const archive = await client(plant, "document-archive-1", ["scm/#", "erp/#"]);
    const erp = await client(plant, "erp-order-source-1", []);
    const scm = await client(cloud, "scm-asn-source-1", []);

    await erp.client.publishAsync("erp/orders/SO-1/confirmed", "order", { qos: 1 });
    // Not an out topic: stays on the plant broker.
    await erp.client.publishAsync("scm/suppliers/S-1/asn", "local asn", { qos: 1 });
    await scm.client.publishAsync("scm/suppliers/S-2/asn", "asn", { qos: 1 });
    // Not an in topic: stays in the cloud.
    await scm.client.publishAsync("erp/orders/SO-9/confirmed", "cloud order", { qos: 1 });
    // Markers behind them on the same connections: once they crossed, everything before them has.
    await erp.client.publishAsync("erp/marker", "m1", { qos: 1 });
    await scm.client.publishAsync("scm/marker", "m2", { qos: 1 });
    await crm.waitFor("erp/marker");
    await archive.waitFor("scm/marker");

    expect(crm.topics().sort()).toEqual(["erp/marker", "erp/orders/SO-1/confirmed", "erp/orders/SO-9/confirmed", "scm/marker", "scm/suppliers/S-2/asn"]);
    expect(archive.topics().sort()).toEqual(["erp/marker", "erp/orders/SO-1/confirmed", "scm/marker", "scm/suppliers/S-1/asn", "scm/suppliers/S-2/asn"]);
    expect(crm.seen.find((m) => m.topic === "erp/orders/SO-1/confirmed")!.payload).toBe("order");
  });

  it("forwards both-way topics once, never back where they came from", async () => {
    const before = bridge.stats();
    const plantSide = await client(plant, "plant-sync", ["sync/+"]);
    const cloudSide = await client(cloud, "cloud-sync", ["sync/+"]);
    await plantSide.client.publishAsync("sync/from-plant", "p", { qos: 1 });
    await cloudSide.client.publishAsync("sync/from-cloud", "c", { qos: 1 });
    await cloudSide.waitFor("sync/from-plant");
    await plantSide.waitFor("sync/from-cloud");
    // A bounce of either would reach the bridge before these, on the same connections, and cross before them.
    await cloudSide.client.publishAsync("sync/last-cloud", "", { qos: 1 });
    await plantSide.client.publishAsync("sync/last-plant", "", { qos: 1 });
    await plantSide.waitFor("sync/last-cloud");
    await cloudSide.waitFor("sync/last-plant");

    expect(plantSide.topics().sort()).toEqual(["sync/from-cloud", "sync/from-plant", "sync/last-cloud", "sync/last-plant"]);
    expect(cloudSide.topics().sort()).toEqual(["sync/from-cloud", "sync/from-plant", "sync/last-cloud", "sync/last-plant"]);
    const after = bridge.stats();
    expect([after.out - before.out, after.in - before.in, after.dropped]).toEqual([2, 2, 0]);
  });

  it("keeps the retain flag across the bridge", async () => {
    const watcher = await client(cloud, "marker-watch", ["erp/marker-retained"]);
    const erp = await client(plant, "erp-status", []);
    await erp.client.publishAsync("erp/status/plant-eu", "online", { qos: 1, retain: true });
    // Forwarded behind the retained message on the same connection: once it is in the cloud, so is the status.
    await erp.client.publishAsync("erp/marker-retained", "", { qos: 1 });
    await watcher.waitFor("erp/marker-retained");
    const late = await client(cloud, "late-subscriber", ["erp/status/+"]);
    await late.waitFor("erp/status/plant-eu");
    expect(late.seen[0]).toEqual({ topic: "erp/status/plant-eu", payload: "online", retain: true });
  });

  it("is a plain client on the local broker by default, as Mosquitto's bridge is inside it", async () => {
    const second = await startEmbeddedBridge({
      name: "plant.cloud.2",
      local: { url: plant.url },
      remote: { url: cloud.url },
      topics: [
        { filter: "erp2/#", direction: "out" },
        { filter: "scm2/#", direction: "in" },
      ],
    });
    try {
      await second.whenReady();
      expect(connects).toContainEqual({ broker: "plant", clientId: "local.plant.cloud.2", bridgeMode: false });
      expect(connects).toContainEqual({ broker: "cloud", clientId: "plant.cloud.2", bridgeMode: true });
      const cloudSide = await client(cloud, "erp2-reader", ["erp2/#"]);
      const plantSide = await client(plant, "scm2-reader", ["scm2/#"]);
      await (await client(plant, "erp2-writer", [])).client.publishAsync("erp2/x", "1", { qos: 1 });
      await (await client(cloud, "scm2-writer", [])).client.publishAsync("scm2/y", "2", { qos: 1 });
      await cloudSide.waitFor("erp2/x");
      await plantSide.waitFor("scm2/y");
      expect(second.stats()).toEqual({ out: 1, in: 1, dropped: 0 });
    } finally {
      await second.close();
    }
  });

  it("refuses a bridge it cannot run safely, before connecting", async () => {
    const start = (topics: Array<{ filter: string; direction?: "out" | "in" | "both" }>, name = "x") =>
      startEmbeddedBridge({ name, local: { url: plant.url }, remote: { url: cloud.url }, topics });
    await expect(start([])).rejects.toThrow(/at least one topic/);
    await expect(start([{ filter: "erp/#/x" }])).rejects.toThrow(/Not an MQTT topic filter/);
    await expect(start([{ filter: "erp/#", direction: "sideways" as "out" }])).rejects.toThrow(/direction/);
    await expect(start(Array.from({ length: 101 }, (_, i) => ({ filter: `t/${i}` })))).rejects.toThrow(/at most 100/);
    await expect(start([{ filter: "erp/#" }], "../etc")).rejects.toThrow(/name/);
    // A local end without the bit would be sent back what comes in.
    await expect(start([{ filter: "sync/#", direction: "both" }])).rejects.toThrow(/local end needs the bridge bit/);
    await expect(start([{ filter: "erp/+/x", direction: "out" }, { filter: "erp/#", direction: "in" }])).rejects.toThrow(/local end needs the bridge bit/);
    await expect(startEmbeddedBridge({ name: "z", local: { url: plant.url, bridgeBit: true }, remote: { url: cloud.url, bridgeBit: false }, topics: [{ filter: "a/+", direction: "in" }, { filter: "+/b", direction: "out" }] })).rejects.toThrow(/remote end needs the bridge bit/);
    await expect(startEmbeddedBridge({ name: "y", local: { url: "http://nowhere" }, remote: { url: cloud.url }, topics: [{ filter: "a" }] })).rejects.toThrow(/URL/);
  });
});

describe("embedded bridge to a Mosquitto over MQTT 5", () => {
  it("forwards both ways once, with no-local subscriptions on the remote end", async () => {
    const plant = await startEmbeddedBroker({ port: 0 });
    const mosquitto = await startMosquitto({ logAll: false });
    const bridge = await startEmbeddedBridge({
      name: "plant.mosquitto",
      local: { url: plant.url, bridgeBit: true },
      remote: { url: mosquitto.url, mqttVersion: 5 },
      topics: [{ filter: "sync/+", direction: "both" }],
    });
    const clients: MqttClient[] = [];
    try {
      await bridge.whenReady();
      const plantSide = await mqtt.connectAsync(plant.url, { clientId: "plant-sync", protocolVersion: 4 });
      const cloudSide = await mqtt.connectAsync(mosquitto.url, { clientId: "cloud-sync", protocolVersion: 5 });
      clients.push(plantSide, cloudSide);
      const onPlant = recorder(plantSide);
      const onCloud = recorder(cloudSide);
      await plantSide.subscribeAsync("sync/+", { qos: 1 });
      await cloudSide.subscribeAsync("sync/+", { qos: 1 });
      await plantSide.publishAsync("sync/from-plant", "p", { qos: 1 });
      await cloudSide.publishAsync("sync/from-cloud", "c", { qos: 1 });
      await onCloud.waitFor("sync/from-plant");
      await onPlant.waitFor("sync/from-cloud");
      // Bounces would cross before these, on the same connections.
      await cloudSide.publishAsync("sync/last-cloud", "", { qos: 1 });
      await plantSide.publishAsync("sync/last-plant", "", { qos: 1 });
      await onPlant.waitFor("sync/last-cloud");
      await onCloud.waitFor("sync/last-plant");
      expect(onPlant.topics().sort()).toEqual(["sync/from-cloud", "sync/from-plant", "sync/last-cloud", "sync/last-plant"]);
      expect(onCloud.topics().sort()).toEqual(["sync/from-cloud", "sync/from-plant", "sync/last-cloud", "sync/last-plant"]);
      expect(bridge.stats()).toEqual({ out: 2, in: 2, dropped: 0 });
    } finally {
      await Promise.all(clients.map((c) => c.endAsync()));
      await bridge.close();
      await plant.close();
      await mosquitto.cleanup();
    }
  });
});
