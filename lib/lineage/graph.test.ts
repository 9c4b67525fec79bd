import { describe, expect, it } from "vitest";
import { AMQP_DIALECT, MQTT_DIALECT, NATS_DIALECT } from "@/registry/topics/index.ts";
import { attributeClient, bridgePaths, channelTemplate, historyPrefixes, historyPrefixesIn, meetsChannel, schemaChanges, type BridgeLike } from "./graph.ts";

const channel = channelTemplate("plant/{lineId}/temperature")!;

describe("meetsChannel", () => {
  it("is met by a listed topic that is an instance of the channel, and names those topics", () => {
    const met = meetsChannel({ template: "plant/{p1}/{p2}", topics: ["plant/line-1/temperature", "plant/line-1/pressure"], distinctTopics: 2 }, channel);
    expect(met).toEqual({ meets: true, topics: ["plant/line-1/temperature"] });
  });

  it("falls back to the templates meeting only when the agent listed fewer topics than it saw", () => {
    const shape = { template: "plant/{p1}/{p2}", topics: ["plant/line-1/pressure"], distinctTopics: 1 };
    expect(meetsChannel(shape, channel).meets).toBe(false);
    expect(meetsChannel({ ...shape, distinctTopics: 80 }, channel)).toEqual({ meets: true, topics: [] });
    expect(meetsChannel({ template: "plant/{p1}/temperature", topics: [], distinctTopics: 0 }, channel).meets).toBe(true);
    expect(meetsChannel({ template: "orders/{p1}/temperature", topics: [], distinctTopics: 0 }, channel).meets).toBe(false);
  });

  it("refuses addresses that are no channel", () => {
    expect(channelTemplate("plant/+/temperature")).toBeNull();
    expect(channelTemplate("")).toBeNull();
  });
});

describe("historyPrefixes", () => {
  it("reads the templates under the channel's first level and those the agent collapsed there; all of them for a parameter", () => {
    expect(historyPrefixes(channel)).toEqual(["plant/", "{"]);
    expect(historyPrefixes(channelTemplate("plant")!)).toEqual(["plant", "{"]);
    expect(historyPrefixes(channelTemplate("{site}/temperature")!)).toEqual([undefined]);
  });
});

describe("bridgePaths", () => {
  const bridge = (id: string, from: string, to: string, topicFilter: string, direction: "out" | "both" = "out"): BridgeLike => ({ id, fromBrokerId: from, toBrokerId: to, topicFilter, direction });

  it("follows the bridges whose filter carries the channel, hop by hop, and not the others", () => {
    const { hops, reached, truncated } = bridgePaths(
      ["edge"],
      [bridge("b1", "edge", "core", "plant/#"), bridge("b2", "core", "cloud", "plant/+/temperature"), bridge("b3", "edge", "other", "orders/#"), bridge("b4", "core", "archive", "plant/+/pressure")],
      channel,
    );
    expect(hops.map((h) => [h.bridgeId, h.fromBrokerId, h.toBrokerId, h.hop])).toEqual([
      ["b1", "edge", "core", 1],
      ["b2", "core", "cloud", 2],
    ]);
    expect([...reached]).toEqual([
      ["core", 1],
      ["cloud", 2],
    ]);
    expect(truncated).toBe(false);
  });

  it("crosses a two-way bridge backwards, and stops at cycles", () => {
    const { hops, reached } = bridgePaths(
      ["core"],
      [bridge("b1", "edge", "core", "#", "both"), bridge("b2", "edge", "cloud", "plant/#"), bridge("b3", "cloud", "core", "plant/#")],
      channel,
    );
    expect(hops.map((h) => [h.bridgeId, h.fromBrokerId, h.toBrokerId, h.reverse, h.hop])).toEqual([
      ["b1", "core", "edge", true, 1],
      ["b1", "edge", "core", false, 2],
      ["b2", "edge", "cloud", false, 2],
      ["b3", "cloud", "core", false, 3],
    ]);
    expect([...reached.keys()]).toEqual(["edge", "cloud"]);
  });

  it("is bounded in hops and says so", () => {
    const chain = Array.from({ length: 20 }, (_, i) => bridge(`b${i}`, `n${i}`, `n${i + 1}`, "#"));
    const { hops, truncated } = bridgePaths(["n0"], chain, channel, { maxHops: 3 });
    expect(hops).toHaveLength(3);
    expect(truncated).toBe(true);
  });
});

describe("attributeClient", () => {
  const a = { id: "a" };
  const b = { id: "b" };
  it("counts a client for the matches that declare the role, else for the most specific match alone", () => {
    expect(attributeClient([a, b], new Set(["b"]))).toEqual({ applications: [b], declared: true });
    expect(attributeClient([a, b], new Set())).toEqual({ applications: [a], declared: false });
    expect(attributeClient([], new Set(["a"]))).toEqual({ applications: [], declared: false });
  });
});

describe("schemaChanges", () => {
  const v = (version: string, ids: Array<number | null>) => ({ version, schemas: ids.map((id, i) => ({ messageKey: `m${i}`, payloadSchemaId: id })) });
  it("marks where the channel appears, changes its schema, stays and goes", () => {
    const changes = schemaChanges([v("0.9.0", []), v("1.0.0", [1]), v("1.1.0", [1]), v("2.0.0", [2]), v("2.1.0", [2, 3]), v("3.0.0", []), v("3.1.0", [])]);
    expect(changes.map((c) => [c.version, c.change, c.schemaChanged])).toEqual([
      ["1.0.0", "added", false],
      ["1.1.0", "unchanged", false],
      ["2.0.0", "changed", true],
      ["2.1.0", "changed", true],
      ["3.0.0", "removed", true],
    ]);
  });
});

describe("matching in a broker's dialect", () => {
  it("reads the channel in the broker's syntax: on NATS a parameter is one token", () => {
    const nats = channelTemplate("orders.{region}.created", NATS_DIALECT)!;
    expect(meetsChannel({ template: "orders.{p1}.created", topics: ["orders.eu.created"], distinctTopics: 1 }, nats).meets).toBe(true);
    expect(meetsChannel({ template: "orders.{p1}.{p2}.created", topics: ["orders.eu.west.created"], distinctTopics: 1 }, nats).meets).toBe(false);
    // In MQTT syntax the dotted name is one level, and the parameter takes `eu.west`.
    expect(meetsChannel({ template: "orders.{p1}.{p2}.created", topics: ["orders.eu.west.created"], distinctTopics: 1 }, channelTemplate("orders.{region}.created")!).meets).toBe(true);
  });

  it("reads history under the channel's first level in every syntax, each prefix once", () => {
    expect(historyPrefixesIn("orders.eu.created", [MQTT_DIALECT, NATS_DIALECT, AMQP_DIALECT])).toEqual(["orders.", "{"]);
    expect(historyPrefixesIn("plant/{line}/temperature", [MQTT_DIALECT, NATS_DIALECT])).toEqual([undefined]);
  });

  it("follows bridges whose filter carries the channel in the syntax of the broker that declared or told it", () => {
    const channel = channelTemplate("orders.{region}.created")!;
    const { hops } = bridgePaths(
      ["nats"],
      [
        { id: "l1", fromBrokerId: "nats", toBrokerId: "rabbit", topicFilter: "orders.>", direction: "out", dialect: NATS_DIALECT },
        { id: "l1", fromBrokerId: "nats", toBrokerId: "rabbit", topicFilter: "orders.*.created", direction: "out", dialect: NATS_DIALECT },
        { id: "l2", fromBrokerId: "rabbit", toBrokerId: "mqtt", topicFilter: "#.created", direction: "out", dialect: AMQP_DIALECT },
        { id: "l3", fromBrokerId: "nats", toBrokerId: "other", topicFilter: "orders.>.x", direction: "out", dialect: NATS_DIALECT },
        { id: "l4", fromBrokerId: "nats", toBrokerId: "else", topicFilter: "billing.>", direction: "out", dialect: NATS_DIALECT },
      ],
      channel,
    );
    expect(hops.map((h) => [h.bridgeId, h.fromBrokerId, h.toBrokerId, h.hop])).toEqual([
      ["l1", "nats", "rabbit", 1],
      ["l2", "rabbit", "mqtt", 2],
    ]);
  });
});
