import { describe, expect, it } from "vitest";
import { lineageEdges, lineageEdgesCsv, lineageFileName, lineageVersionsCsv } from "./csv.ts";
import type { ChannelLineage } from "./lineage.ts";

const app = (slug: string) => ({ id: `app_${slug}`, slug, name: slug, team: { slug: "t", name: "T" } });

const lineage: ChannelLineage = {
  channel: "plant/{lineId}/temperature",
  message: null,
  application: null,
  at: null,
  window: null,
  generatedAt: "2026-12-01T12:00:00.000Z",
  declaredChannels: ["plant/{lineId}/temperature"],
  producers: [
    {
      application: app("line-sensors"),
      mark: "both",
      declared: [{ version: "2.0.0", channel: "plant/{lineId}/temperature", messages: ["reading"] }],
      observed: [
        { brokerId: "edge", template: "plant/{p1}/temperature", clientId: "sensor-1", messages: 5, filter: null, lastSeen: "2026-12-01T10:00:00.000Z" },
        { brokerId: "edge", template: "plant/{p1}/temperature", clientId: "sensor-2", messages: 5, filter: null, lastSeen: "2026-12-01T11:00:00.000Z" },
      ],
    },
  ],
  consumers: [
    { application: app("dashboard"), mark: "declared", declared: [{ version: "1.0.0", channel: "plant/{line}/temperature", messages: ["m"] }], observed: [] },
  ],
  unknownClients: [{ brokerId: "core", template: "plant/{p1}/temperature", clientId: "=HYPERLINK(\"x\")", role: "consumer", messages: null, filter: "#", lastSeen: null }],
  brokers: [
    { brokerId: "edge", name: "Edge", observed: true, hop: null, topics: [], messages: 10, ratePerSecond: 1, firstSeen: null, lastSeen: "2026-12-01T11:00:00.000Z" },
    { brokerId: "core", name: "Core", observed: true, hop: 1, topics: [], messages: 10, ratePerSecond: 1, firstSeen: null, lastSeen: "2026-12-01T11:30:00.000Z" },
  ],
  bridges: [{ id: "brg_1", fromBrokerId: "edge", toBrokerId: "core", topicFilter: "plant/#", direction: "out", reverse: false, hop: 1 }],
  versions: [
    {
      application: { slug: "line-sensors", name: "Line sensors" },
      version: "1.0.0",
      state: "deprecated",
      publishedAt: "2026-11-01T00:00:00.000Z",
      publishedByLabel: "ada@example.com",
      changeRequest: null,
      action: "send",
      schemas: [{ channel: "plant/{lineId}/temperature", messageKey: "reading", payloadSchemaId: 1 }],
      change: "added",
      schemaChanged: false,
    },
    {
      application: { slug: "line-sensors", name: "Line sensors" },
      version: "2.0.0",
      state: "released",
      publishedAt: "2026-11-20T00:00:00.000Z",
      publishedByLabel: "-ben, \"the\" reviewer",
      changeRequest: { id: "cr_1", number: 7 },
      action: "send",
      schemas: [{ channel: "plant/{lineId}/temperature", messageKey: "reading", payloadSchemaId: 2 }],
      change: "changed",
      schemaChanged: true,
    },
  ],
  changes: { visible: true, entries: [], truncated: false },
  truncated: false,
};

describe("lineage edges", () => {
  it("lists producer, unknown client, bridge and consumer edges with their marks and the latest sighting", () => {
    expect(lineageEdges(lineage)).toEqual([
      { from: "line-sensors", to: "edge:plant/{p1}/temperature", kind: "produces", broker: "edge", mark: "both", lastSeen: "2026-12-01T11:00:00.000Z" },
      { from: "core:plant/{p1}/temperature", to: '=HYPERLINK("x")', kind: "consumes", broker: "core", mark: "observed", lastSeen: null },
      { from: "edge", to: "core", kind: "bridge", broker: "edge", mark: "declared", lastSeen: "2026-12-01T11:30:00.000Z" },
      { from: "plant/{lineId}/temperature", to: "dashboard", kind: "consumes", broker: null, mark: "declared", lastSeen: null },
    ]);
  });

  it("writes RFC 4180 CSV with CRLF, quoting, and formulas defused", () => {
    const csv = lineageEdgesCsv(lineage);
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("from,to,kind,broker,declared_observed,last_seen");
    expect(lines[2]).toBe(`core:plant/{p1}/temperature,"'=HYPERLINK(""x"")",consumes,core,observed,`);
    expect(lines.at(-1)).toBe("");
    expect(lines).toHaveLength(6);
  });

  it("writes the version history, one row per message, with the change request and the schema change", () => {
    const lines = lineageVersionsCsv(lineage).split("\r\n");
    expect(lines[0]).toBe("application,version,state,published_at,published_by,change_request,action,channel,message,payload_schema_id,change,schema_changed");
    expect(lines[1]).toBe("line-sensors,1.0.0,deprecated,2026-11-01T00:00:00.000Z,ada@example.com,,send,plant/{lineId}/temperature,reading,1,added,no");
    expect(lines[2]).toBe(`line-sensors,2.0.0,released,2026-11-20T00:00:00.000Z,"'-ben, ""the"" reviewer",#7,send,plant/{lineId}/temperature,reading,2,changed,yes`);
  });

  it("names the file after the channel with safe characters only", () => {
    expect(lineageFileName('plant/{lineId}/"temp"\r\n', new Date("2026-12-01T14:05:00.123Z"))).toBe("meshport-lineage-plant_lineId_temp-20261201T140500Z.csv");
  });
});
