import { describe, expect, it } from "vitest";
import { lineageEdges, lineageEdgesCsv, lineageFileName, lineageVersionsCsv } from "./csv.ts";
import { sampleLineage as lineage } from "./fixtures.ts";

describe("lineage edges", () => {
  it("lists producer, unknown client, bridge and consumer edges with their marks and the latest sighting", () => {
    expect(lineageEdges(lineage)).toEqual([
      { from: "line-sensors", to: "edge:plant/{p1}/temperature", kind: "produces", broker: "edge", mark: "both", lastSeen: "2026-12-01T11:00:00.000Z" },
      { from: "edge", to: "core", kind: "bridge", broker: "edge", mark: "declared", lastSeen: "2026-12-01T11:30:00.000Z" },
      { from: "plant/{lineId}/temperature", to: "dashboard", kind: "consumes", broker: null, mark: "declared", lastSeen: null },
      { from: "core:plant/{p1}/temperature", to: '=HYPERLINK("x")', kind: "consumes", broker: "core", mark: "observed", lastSeen: null },
    ]);
  });

  it("writes RFC 4180 CSV with CRLF, quoting, and formulas defused", () => {
    const csv = lineageEdgesCsv(lineage);
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("from,to,kind,broker,declared_observed,last_seen");
    expect(lines[4]).toBe(`core:plant/{p1}/temperature,"'=HYPERLINK(""x"")",consumes,core,observed,`);
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
