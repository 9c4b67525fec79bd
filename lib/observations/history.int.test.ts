import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_COUNT } from "@/agents/protocol.ts";
import { observationRollup } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { report, topic } from "@/lib/ingest/report-fixtures.ts";
import { ingestReport, pruneObservations } from "@/lib/ingest/reports.ts";
import { observedBetween, observedTimeline } from "./history.ts";
import { partitionName, rowsOf } from "./partitions.ts";
import { DAY_MS, HOUR_MS, bucketStart } from "./retention.ts";

const system = systemPrincipal("test");
const iso = (ms: number) => new Date(ms).toISOString();

describeEachBackend("observation history", ({ backend, handle }) => {
  const db = () => handle().db;
  const now = Date.now();
  const today = bucketStart(new Date(now), "day").getTime();
  // Yesterday 10:00 and 11:00 UTC: always past, always in one day.
  const h10 = today - DAY_MS + 10 * HOUR_MS;
  const h11 = h10 + HOUR_MS;
  const threeDaysAgo = today - 3 * DAY_MS + 8 * HOUR_MS;

  const partitions = async () =>
    rowsOf<{ name: string }>(
      await db().execute(sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'observation'::regclass order by 1`),
    ).map((r) => r.name);
  const placement = async () =>
    rowsOf<{ part: string; template: string; n: number }>(
      await db().execute(sql`select tableoid::regclass::text as part, template, count(*)::int as n from observation group by 1, 2 order by 1, 2`),
    );
  const rollup = async (resolution: "hour" | "day", at: number, template: string, brokerId = "plant-eu") =>
    (await db().select().from(observationRollup)).find(
      (r) => r.resolution === resolution && r.bucketStart.getTime() === at && r.template === template && r.brokerId === brokerId,
    );

  const sensor = (id: string, messages: number) => ({ clientId: id, messages, bytes: messages * 10 });
  const monitor = (id: string, filter = "plant/+/temperature") => ({ clientId: id, filter, qos: 1 });

  beforeAll(async () => {
    // Two batches in one hour, one the hour after; the second hour's window ends in the next hour.
    await ingestReport(system, report(1, [
      topic("plant/{p1}/temperature", 10, { producers: [sensor("s1", 10)], consumers: [monitor("m1")], ratePerSecond: 1 }),
      topic("plant/{p1}/pressure", 4),
    ], iso(h10), iso(h10 + 10_000)));
    await ingestReport(system, report(2, [
      topic("plant/{p1}/temperature", 5, { producers: [sensor("s2", 3), sensor("s1", 2)], consumers: [monitor("m1"), monitor("m2")], ratePerSecond: 3 }),
    ], iso(h10 + 30 * 60_000), iso(h10 + 30 * 60_000 + 10_000)));
    await ingestReport(system, report(3, [topic("plant/{p1}/temperature", 7, { producers: [sensor("s3", 7)] })], iso(h11 - 5_000), iso(h11 + 5_000)));
  });

  it("stores observations in the partition of their window's UTC day", async () => {
    const day = partitionName(new Date(h10));
    expect(day).toMatch(/^observation_p\d{8}$/);
    expect(await partitions()).toContain(day);
    expect(await placement()).toEqual([
      { part: day, template: "plant/{p1}/pressure", n: 1 },
      { part: day, template: "plant/{p1}/temperature", n: 3 },
    ]);
    const [kind] = rowsOf<{ kind: string }>(await db().execute(sql`select relkind::text as kind from pg_class where relname = 'observation'`));
    expect(kind?.kind).toBe("p");
  });

  it("creates the partition of a new day on the report that needs it", async () => {
    const day = partitionName(new Date(threeDaysAgo));
    expect(await partitions()).not.toContain(day);
    await ingestReport(system, report(4, [topic("plant/{p1}/humidity", 2)], iso(threeDaysAgo), iso(threeDaysAgo + 10_000)));
    expect(await partitions()).toContain(day);
    expect((await placement()).find((p) => p.template === "plant/{p1}/humidity")).toEqual({ part: day, template: "plant/{p1}/humidity", n: 1 });
  });

  it("adds the batches of a bucket up and merges their clients; a window counts in the bucket of its start", async () => {
    // Report 3 starts at 10:59:55 and ends at 11:00:05: it belongs to 10:00.
    const hour = await rollup("hour", h10, "plant/{p1}/temperature");
    expect(hour).toMatchObject({ messages: 22, bytes: 2200, maxRatePerSecond: 3, channelAddress: null });
    expect(hour!.producers).toEqual([{ clientId: "s1", messages: 12 }, { clientId: "s3", messages: 7 }, { clientId: "s2", messages: 3 }]);
    // In the order first seen.
    expect(hour!.consumers).toEqual([
      { clientId: "m1", filter: "plant/+/temperature" },
      { clientId: "m2", filter: "plant/+/temperature" },
      { clientId: "line-monitor", filter: "plant/+/temperature" },
    ]);
    expect(await rollup("hour", h11, "plant/{p1}/temperature")).toBeUndefined();
    const day = await rollup("day", today - DAY_MS, "plant/{p1}/temperature");
    expect(day).toMatchObject({ messages: 22, bytes: 2200, maxRatePerSecond: 3 });
    expect(day!.producers.map((p) => p.clientId)).toEqual(["s1", "s3", "s2"]);
    expect(day!.firstSeen.toISOString()).toBe("2026-11-28T10:00:00.000Z");
    expect(await rollup("hour", h10, "plant/{p1}/pressure")).toMatchObject({ messages: 4 });
  });

  it("saturates counts and keeps at most 100 producers and consumers, the busiest producers first", async () => {
    const start = today - DAY_MS + 14 * HOUR_MS;
    const many = (from: number, base: number) => Array.from({ length: 80 }, (_, i) => sensor(`p${from + i}`, base + i));
    const consumers = (from: number) => Array.from({ length: 80 }, (_, i) => monitor(`c${from + i}`));
    await ingestReport(system, report(5, [topic("big", MAX_COUNT, { bytes: MAX_COUNT, producers: many(0, 1), consumers: consumers(0) })], iso(start), iso(start + 1_000)));
    await ingestReport(system, report(6, [topic("big", MAX_COUNT, { bytes: MAX_COUNT, producers: many(50, 1_000), consumers: consumers(50) })], iso(start + 1_000), iso(start + 2_000)));
    const hour = await rollup("hour", start, "big");
    expect(hour).toMatchObject({ messages: MAX_COUNT, bytes: MAX_COUNT });
    expect(hour!.producers).toHaveLength(100);
    // 130 producers in all; p50..p79 were in both batches (1 + i, then 1000 + i - 50).
    expect(hour!.producers[0]).toEqual({ clientId: "p79", messages: 80 + 1_029 });
    expect(hour!.producers.some((p) => p.clientId === "p0")).toBe(false);
    expect(hour!.producers.some((p) => p.clientId === "p129")).toBe(true);
    // 130 consumers: the first seen are kept.
    expect(hour!.consumers).toHaveLength(100);
    expect(hour!.consumers.map((c) => c.clientId)).toEqual(Array.from({ length: 100 }, (_, i) => `c${i}`));
  });

  it("answers a range from raw observations while they are kept, and merges per broker and template", async () => {
    const answer = await observedBetween(db(), { from: new Date(today - DAY_MS), to: new Date(today) }, { templatePrefix: "plant/" });
    expect(answer.resolution).toBe("raw");
    expect(answer.truncated).toBe(false);
    const temperature = answer.topics.find((t) => t.template === "plant/{p1}/temperature");
    expect(temperature).toMatchObject({ brokerId: "plant-eu", messages: 22, bytes: 2200, firstSeen: iso(h10), lastSeen: iso(h11 + 5_000) });
    expect(temperature!.producers).toEqual([{ clientId: "s1", messages: 12 }, { clientId: "s3", messages: 7 }, { clientId: "s2", messages: 3 }]);
    expect(temperature!.consumers.map((c) => c.clientId)).toEqual(["line-monitor", "m1", "m2"]);
    expect(answer.topics.map((t) => t.template)).toEqual(["plant/{p1}/pressure", "plant/{p1}/temperature"]);
    // Only the first hour of the day.
    const early = await observedBetween(db(), { from: new Date(h10), to: new Date(h10 + HOUR_MS - 10_000) });
    expect(early.topics.find((t) => t.template === "plant/{p1}/temperature")?.messages).toBe(15);
  });

  it("falls back to hourly, then daily roll-ups for ranges older than the raw retention", async () => {
    const hourly = await observedBetween(db(), { from: new Date(now - 40 * DAY_MS), to: new Date(today) }, { brokerIds: ["plant-eu"], templatePrefix: "plant/{p1}/t" });
    expect(hourly.resolution).toBe("hour");
    expect(hourly.topics).toEqual([
      expect.objectContaining({ template: "plant/{p1}/temperature", messages: 22, producers: [{ clientId: "s1", messages: 12 }, { clientId: "s3", messages: 7 }, { clientId: "s2", messages: 3 }] }),
    ]);
    const daily = await observedBetween(db(), { from: new Date(now - 100 * DAY_MS), to: new Date(now) });
    expect(daily.resolution).toBe("day");
    expect(daily.topics.map((t) => [t.template, t.messages])).toEqual([
      ["big", MAX_COUNT],
      ["plant/{p1}/humidity", 2],
      ["plant/{p1}/pressure", 4],
      ["plant/{p1}/temperature", 22],
    ]);
    const limited = await observedBetween(db(), { from: new Date(now - 100 * DAY_MS), to: new Date(now) }, {}, 2);
    expect(limited).toMatchObject({ truncated: true, topics: [{ template: "big" }, { template: "plant/{p1}/humidity" }] });
    expect((await observedBetween(db(), { from: new Date(now - DAY_MS * 2), to: new Date(now) }, { brokerIds: ["elsewhere"] })).topics).toEqual([]);
    await expect(observedBetween(db(), { from: new Date(now), to: new Date(now - 1) })).rejects.toMatchObject({ kind: "invalid_input" });
    await expect(observedBetween(db(), { from: new Date(now - 1), to: new Date(now) }, { templatePrefix: "x".repeat(3_000) })).rejects.toMatchObject({ kind: "invalid_input" });
  });

  it("gives a topic's timeline bucket by bucket", async () => {
    const hours = await observedTimeline(db(), { brokerId: "plant-eu", template: "plant/{p1}/temperature", from: new Date(today - DAY_MS), to: new Date(today), resolution: "hour" });
    expect(hours).toMatchObject({ resolution: "hour", truncated: false, buckets: [{ start: iso(h10), messages: 22, maxRatePerSecond: 3 }] });
    const raw = await observedTimeline(db(), { brokerId: "plant-eu", template: "plant/{p1}/temperature", from: new Date(today - DAY_MS), to: new Date(today) });
    expect(raw.resolution).toBe("raw");
    expect(raw.buckets.map((b) => [b.start, b.messages])).toEqual([[iso(h10), 10], [iso(h10 + 30 * 60_000), 5], [iso(h11 - 5_000), 7]]);
  });

  it("prunes each resolution by its retention: whole old partitions, old default rows, old roll-ups", async () => {
    const old = today - 40 * DAY_MS;
    const oldName = partitionName(new Date(old));
    await db().execute(sql.raw(`CREATE TABLE "${oldName}" PARTITION OF "observation" FOR VALUES FROM ('${iso(old)}') TO ('${iso(old + DAY_MS)}')`));
    const insertRaw = (at: number, template: string) =>
      db().execute(sql`insert into observation (broker_id, batch_id, template, window_start, window_end, messages, bytes, min_size, max_size, rate_per_second, qos, retained, content_kind, producers, consumers)
        values ('plant-eu', gen_random_uuid(), ${template}, ${iso(at)}::timestamptz, ${iso(at + 10_000)}::timestamptz, 1, 1, 1, 1, 0, '{"q0":1,"q1":0,"q2":0}', 0, 'json', '[]', '[]')`);
    await insertRaw(old + HOUR_MS, "old/partitioned");
    await insertRaw(today - 45 * DAY_MS, "old/default");
    // A recent day without a partition: its row waits in the default partition.
    const stranded = today - 5 * DAY_MS + HOUR_MS;
    await insertRaw(stranded, "recent/default");
    expect((await placement()).filter((p) => p.part === "observation_default").map((p) => p.template)).toEqual(["old/default", "recent/default"]);
    const rollupRow = (resolution: "hour" | "day", at: number, template: string) => ({
      resolution, bucketStart: new Date(at), brokerId: "plant-eu", template, channelAddress: null, messages: 1, bytes: 1, maxRatePerSecond: 0,
      firstSeen: new Date(at), lastSeen: new Date(at), producers: [], consumers: [],
    });
    await db().insert(observationRollup).values([
      rollupRow("hour", today - 100 * DAY_MS, "hour/old"),
      rollupRow("hour", today - 50 * DAY_MS, "hour/kept"),
      rollupRow("day", today - 800 * DAY_MS, "day/old"),
      rollupRow("day", today - 400 * DAY_MS, "day/kept"),
    ]);

    const outcome = await pruneObservations();
    expect(outcome.partitionsDropped).toEqual([oldName]);
    expect(outcome.defaultRowsDeleted).toBe(1);
    expect(outcome).toMatchObject({ hourlyDeleted: 1, dailyDeleted: 1 });
    expect(outcome.partitionsCreated).toEqual(expect.arrayContaining([partitionName(new Date(now)), partitionName(new Date(now + DAY_MS)), partitionName(new Date(stranded))]));
    const names = await partitions();
    expect(names).not.toContain(oldName);
    expect(names).toEqual(expect.arrayContaining([partitionName(new Date(h10)), partitionName(new Date(threeDaysAgo)), partitionName(new Date(now + DAY_MS)), "observation_default"]));
    const placed = await placement();
    expect(placed.map((p) => p.template)).not.toContain("old/partitioned");
    expect(placed.map((p) => p.template)).not.toContain("old/default");
    expect(placed.find((p) => p.template === "recent/default")?.part).toBe(partitionName(new Date(stranded)));
    const kept = (await db().select({ template: observationRollup.template }).from(observationRollup)).map((r) => r.template);
    expect(kept).toEqual(expect.arrayContaining(["hour/kept", "day/kept", "plant/{p1}/temperature"]));
    expect(kept).not.toContain("hour/old");
    expect(kept).not.toContain("day/old");
    // Nothing left to do: a second pass changes nothing.
    expect(await pruneObservations()).toMatchObject({ partitionsCreated: [], partitionsDropped: [], defaultRowsDeleted: 0, hourlyDeleted: 0, dailyDeleted: 0 });
  });

  if (backend === "postgres") {
    describe("while other transactions hold the tables", () => {
      it("stores a report of a new day in the default partition instead of waiting, and maintenance moves it", async () => {
        const at = today - 7 * DAY_MS + HOUR_MS;
        const name = partitionName(new Date(at));
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holder = db().transaction(async (tx) => {
          await tx.execute(sql`update broker set description = description where id = 'plant-eu'`);
          locked();
          await held;
        });
        await isLocked;
        try {
          await ingestReport(system, report(7, [topic("busy/day", 3)], iso(at), iso(at + 10_000), "plant-us"));
        } finally {
          release();
          await holder;
        }
        expect(await partitions()).not.toContain(name);
        expect((await placement()).find((p) => p.template === "busy/day")?.part).toBe("observation_default");
        expect(await rollup("hour", bucketStart(new Date(at), "hour").getTime(), "busy/day", "plant-us")).toMatchObject({ messages: 3 });
        expect((await pruneObservations()).partitionsCreated).toEqual([name]);
        expect((await placement()).find((p) => p.template === "busy/day")?.part).toBe(name);
      });
    });
  }
});
