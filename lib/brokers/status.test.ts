import { describe, expect, it } from "vitest";
import { agentStatus } from "./status.ts";

describe("agentStatus", () => {
  it("is online within three intervals, stale after, never without a report", () => {
    const now = Date.parse("2026-01-01T00:10:00Z");
    expect(agentStatus(new Date(now - 20_000), now)).toBe("online");
    expect(agentStatus(new Date(now - 5 * 60_000), now)).toBe("stale");
    expect(agentStatus(null, now)).toBe("never");
  });
});
