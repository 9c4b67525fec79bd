import { describe, expect, it } from "vitest";
import { driftHref, duration, isFiltered, payloadLines, pointerSegments, readDriftFilters, RULES } from "./format.ts";

describe("drift page helpers", () => {
  it("reads the filters leniently: unknown values and overlong texts are dropped", () => {
    expect(readDriftFilters({})).toEqual({ status: "active", rule: undefined, severity: undefined, team: undefined, application: undefined, broker: undefined, channel: undefined, template: undefined, text: undefined });
    const f = readDriftFilters({ status: "resolved", rule: ["SILENT_CHANNEL", "X"], severity: "bad", text: "x".repeat(201), broker: " plant-eu " });
    expect(f).toMatchObject({ status: "resolved", rule: "SILENT_CHANNEL", severity: undefined, text: undefined, broker: "plant-eu" });
    expect(isFiltered(readDriftFilters({}))).toBe(false);
    expect(isFiltered(f)).toBe(true);
  });

  it("links to the dashboard with the filters and the page", () => {
    expect(driftHref({ status: "active" })).toBe("/drift");
    expect(driftHref({ rule: "UNKNOWN_CLIENT", channel: "plant/{lineId}/t" }, 2)).toBe("/drift?rule=UNKNOWN_CLIENT&channel=plant%2F%7BlineId%7D%2Ft&page=2");
  });

  it("knows every rule's title and doc line", () => {
    expect(RULES.map((r) => r.id)).toContain("UNDOCUMENTED_TOPIC");
    for (const r of RULES) expect(r.doc.length).toBeGreaterThan(10);
  });

  it("marks the lines of the failing value of a JSON payload", () => {
    const lines = payloadLines('{"reading":{"value":"hot","unit":"C"},"line":7}', "/reading/value")!;
    expect(lines.filter((l) => l.hit).map((l) => l.text.trim())).toEqual(['"value": "hot",']);
    const object = payloadLines('{"reading":{"value":1},"items":[{"a":1},{"a":2}]}', "/items/1")!;
    expect(object.filter((l) => l.hit).map((l) => l.text.trim())).toEqual(["{", '"a": 2', "}"]);
    expect(payloadLines('{"a":1}', undefined)!.some((l) => l.hit)).toBe(false);
    expect(payloadLines('{"a":1', "/a")).toBeNull();
    expect(pointerSegments("/a~1b/c~0d")).toEqual(["a/b", "c~d"]);
  });

  it("writes durations in words", () => {
    expect(duration(86_400)).toBe("1 day");
    expect(duration(7200)).toBe("2 hours");
    expect(duration(45)).toBe("45 s");
  });
});
