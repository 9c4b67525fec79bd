import { describe, expect, it } from "vitest";
import { auditFilterParams, parseAuditInstant } from "./audit.ts";

describe("time filters", () => {
  it("reads dates and dates with times, UTC unless an offset is given", () => {
    expect(parseAuditInstant("2026-12-01")?.toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(parseAuditInstant("2026-12-01T14:05")?.toISOString()).toBe("2026-12-01T14:05:00.000Z");
    expect(parseAuditInstant("2026-12-01 14:05:09.5")?.toISOString()).toBe("2026-12-01T14:05:09.500Z");
    expect(parseAuditInstant("2026-12-01T14:05+02:00")?.toISOString()).toBe("2026-12-01T12:05:00.000Z");
    expect(parseAuditInstant("2026-12-01t14:05z")?.toISOString()).toBe("2026-12-01T14:05:00.000Z");
  });

  it("as an end, takes in the whole unit named", () => {
    expect(parseAuditInstant("2026-12-31", true)?.toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(parseAuditInstant("2026-12-01T14:05", true)?.toISOString()).toBe("2026-12-01T14:06:00.000Z");
    expect(parseAuditInstant("2026-12-01T14:05:09", true)?.toISOString()).toBe("2026-12-01T14:05:10.000Z");
    expect(parseAuditInstant("2026-12-01T14:05:09.123Z", true)?.toISOString()).toBe("2026-12-01T14:05:09.124Z");
  });

  it("refuses what is no instant", () => {
    for (const text of ["yesterday", "2026-02-31", "2026-13-01", "2026-12-01T25:00", "1764597900", "2026-12-01T14:05:09.1234Z", ""]) {
      expect(parseAuditInstant(text), text).toBeUndefined();
    }
  });
});

describe("filter parameters", () => {
  it("keeps the report's filters, each once, and every action given", () => {
    const params = new URLSearchParams("from=2026-12-01&from=2027-01-01&action=contract.publish&action=change_request.,team.&limit=9&evil=1&actor=");
    expect(auditFilterParams(params)).toEqual({ from: "2026-12-01", action: ["contract.publish", "change_request.,team."] });
  });
});
