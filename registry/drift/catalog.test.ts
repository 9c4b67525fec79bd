import { beforeEach, describe, expect, it, vi } from "vitest";
import type { TopicDialect } from "../topics/index.ts";
import type { DeclaredFlow, DriftApp, ObservedTopic, OtherVersionFlow } from "./types.ts";
import type { ServedOn } from "./catalog.ts";

// Counts the template-overlap checks, to see that the compiled catalog remembers them.
const overlapCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock("../topics/index.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../topics/index.ts")>();
  return {
    ...actual,
    templatesOverlap: (...args: Parameters<typeof actual.templatesOverlap>) => {
      overlapCalls.count++;
      return actual.templatesOverlap(...args);
    },
  };
});

const { channelDialects, compileDriftCatalog, TEMPLATE_MEMO_SIZE } = await import("./catalog.ts");
const { AMQP_DIALECT, NATS_DIALECT } = await import("../topics/index.ts");

const sensors: DriftApp = { id: "id-sensors", slug: "sensors", name: "Sensors", teamId: "team" };
const flow = (channel: string, action: "send" | "receive" = "send"): DeclaredFlow => ({
  application: sensors,
  versionId: "v2",
  version: "2.0.0",
  channel,
  action,
  messageKey: "reading",
  payloadSchemaId: 1,
  payloadFormat: "application/schema+json;version=draft-07",
  publishedAt: "2026-11-01T00:00:00.000Z",
});
const other = (channel: string): OtherVersionFlow => ({
  applicationId: sensors.id,
  versionId: "v1",
  version: "1.0.0",
  relation: "older",
  channel,
  action: "send",
  messageKey: "reading",
  payloadSchemaId: 2,
  payloadFormat: "application/schema+json;version=draft-07",
});
const observed = (template: string, topics: string[] = [], distinctTopics = 500): ObservedTopic => ({
  brokerId: "b",
  template,
  topics,
  distinctTopics,
  messages: 10,
  firstSeen: "2026-12-01T09:00:00.000Z",
  lastSeen: "2026-12-01T10:00:00.000Z",
  schema: null,
  samples: [],
  producers: [],
  consumers: [],
  knowsProducers: false,
  knowsConsumers: false,
});

const catalog = () =>
  compileDriftCatalog({
    flows: [flow("plant/{line}/temperature"), flow("plant/{line}/pressure"), flow("plant/line-{n}/{metric}", "receive")],
    otherVersions: [other("plant/{id}/temperature"), other("plant/{id}/pressure"), other("plant/line-1/temperature")],
    applications: [sensors],
    mapClient: () => [sensors],
  });

describe("CompiledDriftCatalog", () => {
  beforeEach(() => {
    overlapCalls.count = 0;
  });

  it("remembers, per template, the channels it overlaps when it lists no or too few topics", () => {
    const compiled = catalog();
    const topic = observed("plant/{p1}/temperature");
    const first = compiled.channelsMet(topic).map((c) => c.address);
    expect(first).toEqual(["plant/line-{n}/{metric}", "plant/{line}/temperature"]);
    const checks = overlapCalls.count;
    expect(checks).toBeGreaterThan(0);
    // Window after window, the same template: no new overlap checks, the same channels (with its listed topics too).
    expect(compiled.channelsMet(topic).map((c) => c.address)).toEqual(first);
    expect(overlapCalls.count).toBe(checks);
    expect(compiled.meet(observed("plant/{p1}/temperature", ["plant/7/temperature"], 90)).channels.map((c) => c.address)).toEqual(first);
    expect(overlapCalls.count).toBe(checks);
    expect(compiled.otherChannelsMet(topic).map((c) => c.address)).toEqual(["plant/line-1/temperature", "plant/{id}/temperature"]);
    const withOthers = overlapCalls.count;
    expect(compiled.otherChannelsMet(topic).map((c) => c.address)).toEqual(["plant/line-1/temperature", "plant/{id}/temperature"]);
    expect(overlapCalls.count).toBe(withOthers);
    expect(TEMPLATE_MEMO_SIZE).toBeGreaterThan(0);
  });

  it("meets nothing by overlap for an invalid template, and nothing it does not overlap", () => {
    const compiled = catalog();
    expect(compiled.channelsMet(observed("plant/#/x"))).toEqual([]);
    expect(compiled.channelsMet(observed("factory/{p1}"))).toEqual([]);
  });

  it("names the channels of other versions that are the same channel as a declared one", () => {
    const compiled = catalog();
    const same = (address: string) => compiled.otherChannelsOverlapping(address).map((c) => c.address).sort();
    expect(same("plant/{line}/temperature")).toEqual(["plant/line-1/temperature", "plant/{id}/temperature"]);
    expect(same("plant/{line}/pressure")).toEqual(["plant/{id}/pressure"]);
    expect(same("plant/line-2/temperature")).toEqual(["plant/{id}/temperature"]);
    const checks = overlapCalls.count;
    same("plant/{line}/temperature");
    expect(overlapCalls.count).toBe(checks);
  });
});

describe("the syntaxes a channel is served in", () => {
  const server = (name: string, protocol: string) => ({ name, url: `${name}.example:1`, protocol, variables: {} }) as never;
  const channel = (servers: string[]) => ({ servers }) as never;
  const compiledFor = (contract: Parameters<typeof channelDialects>[0]) => {
    const served: DeclaredFlow & ServedOn = { ...flow("orders.{region}.created"), dialects: channelDialects(contract, "orders.{region}.created") };
    return compileDriftCatalog({
      flows: [served],
      otherVersions: [],
      applications: [sensors],
      mapClient: () => [sensors],
    });
  };
  const met = (compiled: ReturnType<typeof compiledFor>, dialect: TopicDialect) =>
    compiled.channelsMet({ ...observed("orders.{p1}.created", ["orders.eu.created"], 1), dialect }).map((c) => c.address);

  it("a contract on an AMQP server is met by routing keys, not by NATS subjects", () => {
    const compiled = compiledFor({ servers: { rabbit: server("rabbit", "amqp") }, channels: {} });
    expect(met(compiled, AMQP_DIALECT)).toEqual(["orders.{region}.created"]);
    expect(met(compiled, NATS_DIALECT)).toEqual([]);
  });

  it("the channel's own servers win over the contract's", () => {
    const contract = { servers: { rabbit: server("rabbit", "amqps"), nats: server("nats", "nats") }, channels: { "orders.{region}.created": channel(["nats"]) } };
    expect(channelDialects(contract, "orders.{region}.created")).toEqual(["nats"]);
    const compiled = compiledFor(contract);
    expect(met(compiled, NATS_DIALECT)).toEqual(["orders.{region}.created"]);
    expect(met(compiled, AMQP_DIALECT)).toEqual([]);
  });

  it("a contract with no server, or none of a known kind, is met in every syntax", () => {
    const contracts: Parameters<typeof channelDialects>[0][] = [{ servers: {}, channels: {} }, { servers: { k: server("k", "kafka") }, channels: {} }];
    for (const contract of contracts) {
      expect(channelDialects(contract, "orders.{region}.created")).toEqual([]);
      const compiled = compiledFor(contract);
      for (const dialect of [AMQP_DIALECT, NATS_DIALECT]) expect(met(compiled, dialect)).toEqual(["orders.{region}.created"]);
      expect(compiled.channelsMet(observed("orders.eu.created", ["orders.eu.created"], 1)).map((c) => c.address)).toEqual(["orders.{region}.created"]);
    }
  });
});
