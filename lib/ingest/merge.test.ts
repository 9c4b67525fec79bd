import { describe, expect, it } from "vitest";
import { mergeClients } from "./merge.ts";

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
