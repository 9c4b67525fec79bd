import { afterEach, describe, expect, it } from "vitest";
import { resolutionFor } from "./history.ts";
import { partitionDay, partitionName } from "./partitions.ts";
import { bucketStart, dailyRetentionDays, hourlyRetentionDays, rawRetentionDays } from "./retention.ts";
import { rollupConsumers, rollupProducers } from "./rollups.ts";

const saved = { ...process.env };
afterEach(() => {
  for (const key of ["MESHPORT_OBSERVATION_RETENTION_DAYS", "MESHPORT_OBSERVATION_HOURLY_RETENTION_DAYS", "MESHPORT_OBSERVATION_DAILY_RETENTION_DAYS"]) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

describe("observation history helpers", () => {
  it("names a day's partition by its UTC date and reads the name back", () => {
    expect(partitionName(new Date("2026-12-01T23:59:59.999Z"))).toBe("observation_p20261201");
    expect(partitionName(new Date("2026-12-02T00:00:00.000+01:00"))).toBe("observation_p20261201");
    expect(partitionDay("observation_p20261201")?.toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(partitionDay("observation_p20261301")).toBeNull();
    expect(partitionDay("observation_default")).toBeNull();
    expect(partitionDay("observation_p20261201x")).toBeNull();
  });

  it("puts a time in the UTC hour and day that hold it", () => {
    const at = new Date("2026-12-01T10:59:55.000Z");
    expect(bucketStart(at, "hour").toISOString()).toBe("2026-12-01T10:00:00.000Z");
    expect(bucketStart(at, "day").toISOString()).toBe("2026-12-01T00:00:00.000Z");
  });

  it("reads each retention from the environment, falling back on unreadable values", () => {
    expect([rawRetentionDays(), hourlyRetentionDays(), dailyRetentionDays()]).toEqual([30, 90, 730]);
    process.env.MESHPORT_OBSERVATION_RETENTION_DAYS = "7";
    process.env.MESHPORT_OBSERVATION_HOURLY_RETENTION_DAYS = "-1";
    process.env.MESHPORT_OBSERVATION_DAILY_RETENTION_DAYS = "forever";
    expect([rawRetentionDays(), hourlyRetentionDays(), dailyRetentionDays()]).toEqual([7, 90, 730]);
  });

  it("picks the finest resolution still kept for the start of a range", () => {
    const now = new Date("2026-12-01T12:00:00.000Z");
    const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
    expect(resolutionFor(daysAgo(29), now)).toBe("raw");
    expect(resolutionFor(daysAgo(31), now)).toBe("hour");
    expect(resolutionFor(daysAgo(91), now)).toBe("day");
    expect(resolutionFor(daysAgo(2_000), now)).toBe("day");
  });

  it("folds a topic's clients: producers by client id, busiest first; consumers by client and filter, first seen first; both capped", () => {
    expect(rollupProducers([{ clientId: "b", messages: 1 }, { clientId: "a", messages: 2 }, { clientId: "b", messages: 4 }])).toEqual([
      { clientId: "b", messages: 5 },
      { clientId: "a", messages: 2 },
    ]);
    expect(rollupProducers([{ clientId: "a", messages: Number.MAX_SAFE_INTEGER }, { clientId: "a", messages: 5 }])).toEqual([{ clientId: "a", messages: Number.MAX_SAFE_INTEGER }]);
    expect(rollupConsumers([{ clientId: "z", filter: "a/#" }, { clientId: "a", filter: "a/#" }, { clientId: "z", filter: "a/#" }, { clientId: "z", filter: "b/#" }])).toEqual([
      { clientId: "z", filter: "a/#" },
      { clientId: "a", filter: "a/#" },
      { clientId: "z", filter: "b/#" },
    ]);
    const many = Array.from({ length: 150 }, (_, i) => ({ clientId: `c${i}`, messages: i, filter: "#" }));
    expect(rollupProducers(many)).toHaveLength(100);
    expect(rollupProducers(many)[0]).toEqual({ clientId: "c149", messages: 149 });
    expect(rollupConsumers(many).map((c) => c.clientId)).toEqual(Array.from({ length: 100 }, (_, i) => `c${i}`));
  });
});
