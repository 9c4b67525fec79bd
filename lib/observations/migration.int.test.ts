import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, inject, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "@/db/client.ts";
import { createScratchDatabase } from "@/db/testing/postgres-server.ts";
import { rowsOf } from "./partitions.ts";

/** The migrations folder as it was before observation history (up to 0008). */
function migrationsBeforeHistory(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "meshport-migrations-"));
  cpSync(path.join(process.cwd(), "db", "migrations"), dir, { recursive: true });
  const journalPath = path.join(dir, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: Array<{ idx: number; tag: string }> };
  expect(journal.entries.some((e) => e.tag === "0009_observation_history")).toBe(true);
  journal.entries = journal.entries.filter((e) => e.idx <= 8);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

const backends = inject("postgresServerUrl") ? (["pglite", "postgres"] as const) : (["pglite"] as const);

for (const backend of backends) {
  describe(`observation history migration [${backend}]`, () => {
    const cleanup: Array<() => Promise<void> | void> = [];
    afterAll(async () => {
      delete process.env.MESHPORT_MIGRATIONS_DIR;
      for (const step of cleanup.reverse()) await step();
    });

    it("carries the existing observations into day partitions, keeping their ids", async () => {
      const before = migrationsBeforeHistory();
      cleanup.push(() => rmSync(before, { recursive: true, force: true }));
      let handle: DatabaseHandle;
      if (backend === "pglite") {
        handle = await openDatabase({ driver: "pglite", dataDir: null });
      } else {
        const scratch = await createScratchDatabase(inject("postgresServerUrl"), `meshport_test_${randomBytes(6).toString("hex")}`);
        handle = await openDatabase({ driver: "postgres", url: scratch.url });
        cleanup.push(() => scratch.drop());
      }
      cleanup.push(() => handle.close());
      const db = handle.db;

      process.env.MESHPORT_MIGRATIONS_DIR = before;
      await handle.migrate();
      const kind = async () =>
        rowsOf<{ kind: string }>(await db.execute(sql`select relkind::text as kind from pg_class where relname = 'observation'`))[0]?.kind;
      expect(await kind()).toBe("r");
      await db.execute(sql`insert into broker (id, name) values ('plant-eu', 'plant-eu')`);
      const insert = (at: string, template: string) =>
        db.execute(sql`insert into observation (broker_id, batch_id, template, window_start, window_end, messages, bytes, min_size, max_size, rate_per_second, qos, retained, content_kind, producers, consumers)
          values ('plant-eu', gen_random_uuid(), ${template}, ${at}::timestamptz, ${at}::timestamptz + interval '10 seconds', 5, 50, 10, 10, 0.5, '{"q0":5,"q1":0,"q2":0}', 0, 'json',
            '[{"clientId":"s1","messages":5,"bytes":50}]', '[{"clientId":"m1","filter":"a/#","qos":0}]')`);
      await insert("2026-11-20T23:59:59.000Z", "a/late");
      await insert("2026-11-21T00:00:00.000Z", "a/midnight");
      await insert("2026-11-21T12:00:00.000Z", "a/noon");
      await insert("2026-11-21T12:30:00.000Z", "a/noon");
      const oldRows = rowsOf<{ id: string | number; template: string }>(await db.execute(sql`select id, template from observation order by id`));

      delete process.env.MESHPORT_MIGRATIONS_DIR;
      await handle.migrate();
      expect(await kind()).toBe("p");
      const placed = rowsOf<{ id: string | number; template: string; part: string; producers: unknown }>(
        await db.execute(sql`select id, template, tableoid::regclass::text as part, producers from observation order by id`),
      );
      expect(placed.map((r) => [Number(r.id), r.template, r.part])).toEqual([
        [Number(oldRows[0]!.id), "a/late", "observation_p20261120"],
        [Number(oldRows[1]!.id), "a/midnight", "observation_p20261121"],
        [Number(oldRows[2]!.id), "a/noon", "observation_p20261121"],
        [Number(oldRows[3]!.id), "a/noon", "observation_p20261121"],
      ]);
      // The kept rows are rolled up by hour and by day.
      const rollups = rowsOf<{ resolution: string; bucket: string; template: string; messages: string | number; producers: unknown; consumers: unknown }>(
        await db.execute(sql`select resolution, to_char(bucket_start at time zone 'UTC', 'YYYY-MM-DD HH24') as bucket, template, messages, producers, consumers
          from observation_rollup order by 1 desc, 2, 3`),
      );
      expect(rollups.map((r) => [r.resolution, r.bucket, r.template, Number(r.messages)])).toEqual([
        ["hour", "2026-11-20 23", "a/late", 5],
        ["hour", "2026-11-21 00", "a/midnight", 5],
        ["hour", "2026-11-21 12", "a/noon", 10],
        ["day", "2026-11-20 00", "a/late", 5],
        ["day", "2026-11-21 00", "a/midnight", 5],
        ["day", "2026-11-21 00", "a/noon", 10],
      ]);
      expect(rollups[2]).toMatchObject({ producers: [{ clientId: "s1", messages: 10 }], consumers: [{ clientId: "m1", filter: "a/#" }] });
      expect(placed[0]!.producers).toEqual([{ clientId: "s1", messages: 5, bytes: 50 }]);
      expect(rowsOf(await db.execute(sql`select 1 from pg_class where relname = 'observation_unpartitioned'`))).toHaveLength(0);
      // The id sequence goes on; a day without a partition lands in the default one.
      await insert("2026-11-25T08:00:00.000Z", "a/new");
      const [added] = rowsOf<{ id: string | number; part: string }>(
        await db.execute(sql`select id, tableoid::regclass::text as part from observation where template = 'a/new'`),
      );
      expect(Number(added!.id)).toBeGreaterThan(Number(oldRows[3]!.id));
      expect(added!.part).toBe("observation_default");
      // The foreign key still cascades from the broker.
      await db.execute(sql`delete from broker where id = 'plant-eu'`);
      expect(rowsOf(await db.execute(sql`select 1 from observation`))).toHaveLength(0);
    });
  });
}
