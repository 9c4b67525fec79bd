import { describe, expect, it } from "vitest";
import { MAX_COUNT } from "@/agents/protocol.ts";
import { addCounts, mergeClients, mergeDuplicateTemplates, sumCounts } from "./merge.ts";
import { topic } from "./report-fixtures.ts";

describe("mergeClients", () => {
  it("adds new clients, adds up messages and refreshes last-seen of known ones", () => {
    const known = [{ clientId: "a", messages: 5, lastSeen: "2026-01-01T00:00:00.000Z" }];
    const merged = mergeClients(known, [{ clientId: "a", messages: 3 }, { clientId: "b", messages: 1 }], "2026-01-02T00:00:00.000Z");
    expect(merged).toEqual([
      { clientId: "a", messages: 8, lastSeen: "2026-01-02T00:00:00.000Z" },
      { clientId: "b", messages: 1, lastSeen: "2026-01-02T00:00:00.000Z" },
    ]);
  });
  it("keeps clients absent from the report, and tells consumers apart by filter", () => {
    const known = [{ clientId: "c", filter: "plant/#", lastSeen: "2026-01-01T00:00:00.000Z" }];
    const merged = mergeClients(known, [{ clientId: "c", filter: "plant/+/temp" }], "2026-01-03T00:00:00.000Z");
    expect(merged.map((c) => c.filter)).toEqual(["plant/+/temp", "plant/#"]);
  });
  it("never moves last-seen backwards for a late, replayed batch", () => {
    const known = [{ clientId: "a", lastSeen: "2026-01-05T00:00:00.000Z" }];
    expect(mergeClients(known, [{ clientId: "a" }], "2026-01-01T00:00:00.000Z")[0]?.lastSeen).toBe("2026-01-05T00:00:00.000Z");
  });
  it("is bounded, dropping the least recently seen", () => {
    const seen = Array.from({ length: 10 }, (_, i) => ({ clientId: `c${i}` }));
    const merged = mergeClients([{ clientId: "old", lastSeen: "2020-01-01T00:00:00.000Z" }], seen, "2026-01-01T00:00:00.000Z", 10);
    expect(merged).toHaveLength(10);
    expect(merged.some((c) => c.clientId === "old")).toBe(false);
  });
});

describe("saturating counts and duplicate templates", () => {
  it("holds totals at the largest exact count instead of overflowing", () => {
    expect(addCounts(MAX_COUNT, MAX_COUNT)).toBe(MAX_COUNT);
    expect(sumCounts([MAX_COUNT, 1, MAX_COUNT])).toBe(MAX_COUNT);
    expect(mergeClients([{ clientId: "a", messages: MAX_COUNT, lastSeen: "2026-01-01T00:00:00.000Z" }], [{ clientId: "a", messages: 5 }], "2026-01-02T00:00:00.000Z")[0]!.messages).toBe(MAX_COUNT);
  });

  it("merges a template reported twice: counts add, clients unite, the earliest firstSeen wins", () => {
    const a = topic("t/{p1}", 2, { firstSeen: "2026-11-28T10:00:05.000Z", producers: [{ clientId: "x", messages: 2, bytes: 200 }], minSize: 50 });
    const b = topic("t/{p1}", 3, { lastSeen: "2026-11-28T10:00:20.000Z", producers: [{ clientId: "x", messages: 3, bytes: 300 }, { clientId: "y", messages: 1, bytes: 1 }], content: { kind: "text", json: 0, text: 3, binary: 0, empty: 0 } });
    const [merged, ...rest] = mergeDuplicateTemplates([a, topic("other", 1), b]);
    expect(rest.map((t) => t.template)).toEqual(["other"]);
    expect(merged).toMatchObject({
      template: "t/{p1}",
      messages: 5,
      bytes: 500,
      minSize: 50,
      firstSeen: "2026-11-28T10:00:00.000Z",
      lastSeen: "2026-11-28T10:00:20.000Z",
      content: { kind: "mixed", json: 2, text: 3 },
      producers: [{ clientId: "x", messages: 5, bytes: 500 }, { clientId: "y", messages: 1, bytes: 1 }],
      topics: [{ topic: "t/line-1", messages: 5 }],
    });
    expect(merged!.consumers).toHaveLength(1);
  });
});
