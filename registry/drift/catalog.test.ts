import { beforeEach, describe, expect, it, vi } from "vitest";
import type { DeclaredFlow, DriftApp, ObservedTopic, OtherVersionFlow } from "./types.ts";

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

const { compileDriftCatalog, TEMPLATE_MEMO_SIZE } = await import("./catalog.ts");

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
