import "server-only";
import { sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client.ts";
import { DAY_MS, bucketStart } from "./retention.ts";

/**
 * The day partitions of `observation` (declared in migration 0009): one per UTC day of
 * window_start, `observation_pYYYYMMDD`, and `observation_default` for rows of a day
 * without one. Creating or dropping a partition locks the parent table exclusively and,
 * because of its foreign key, the broker table against writes; every ingest holds a write
 * lock on broker, so those locks are always taken broker first, then observation.
 */

const PARTITION_NAME = /^observation_p(\d{4})(\d{2})(\d{2})$/;

/** The partition holding rows whose window starts at `at`. */
export function partitionName(at: Date): string {
  return `observation_p${bucketStart(at, "day").toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/** The UTC day a partition name stands for, or null for a name that is not a day partition. */
export function partitionDay(name: string): Date | null {
  const match = PARTITION_NAME.exec(name);
  if (!match) return null;
  const day = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00.000Z`);
  return Number.isNaN(day.getTime()) || partitionName(day) !== name ? null : day;
}

/** Rows of a raw statement, whichever driver ran it. */
export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** Rows a statement changed, whichever driver ran it. */
export function affectedRows(result: unknown): number {
  const r = result as { rowCount?: number | null; affectedRows?: number };
  return Number(r.rowCount ?? r.affectedRows ?? 0);
}

/** PostgreSQL's error code of a failed query, looking through the driver's wrappers. */
export function pgErrorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

async function exists(db: Executor, name: string): Promise<boolean> {
  const result = await db.execute(sql`select to_regclass(${`public.${name}`}) is not null as found`);
  return Boolean(rowsOf<{ found: boolean }>(result)[0]?.found);
}

async function lockForPartitioning(db: Executor, nowait: boolean): Promise<void> {
  const mode = nowait ? sql.raw(" NOWAIT") : sql.raw("");
  await db.execute(sql`LOCK TABLE "broker" IN SHARE ROW EXCLUSIVE MODE${mode}`);
  await db.execute(sql`LOCK TABLE ONLY "observation" IN ACCESS EXCLUSIVE MODE${mode}`);
  await db.execute(sql`LOCK TABLE "observation_default" IN ACCESS EXCLUSIVE MODE${mode}`);
}

/**
 * Creates the day's partition; the caller holds the partitioning locks. Rows of that day
 * already in the default partition move into it (PostgreSQL refuses a partition whose
 * rows sit in the default one).
 */
async function createDayPartition(db: Executor, day: Date): Promise<boolean> {
  const name = partitionName(day);
  if (await exists(db, name)) return false;
  const from = day.toISOString();
  const to = new Date(day.getTime() + DAY_MS).toISOString();
  // Names and bounds come from a Date, never from input text; DDL takes no parameters.
  const table = sql.raw(`"${name}"`);
  const bounds = sql.raw(`FROM ('${from}') TO ('${to}')`);
  const stranded = await db.execute(
    sql`select 1 from "observation_default" where "window_start" >= ${from}::timestamptz and "window_start" < ${to}::timestamptz limit 1`,
  );
  if (rowsOf(stranded).length === 0) {
    await db.execute(sql`CREATE TABLE IF NOT EXISTS ${table} PARTITION OF "observation" FOR VALUES ${bounds}`);
    return true;
  }
  await db.execute(sql`CREATE TABLE ${table} (LIKE "observation" INCLUDING DEFAULTS)`);
  await db.execute(sql`
    WITH moved AS (
      DELETE FROM "observation_default" WHERE "window_start" >= ${from}::timestamptz AND "window_start" < ${to}::timestamptz RETURNING *
    )
    INSERT INTO ${table} SELECT * FROM moved`);
  await db.execute(sql`ALTER TABLE "observation" ATTACH PARTITION ${table} FOR VALUES ${bounds}`);
  return true;
}

/**
 * Makes sure the partition for rows starting at `windowStart` exists, inside an ingest's
 * transaction. It never waits for a lock: when other transactions are busy with the tables
 * the rows go to the default partition, and the next report of that day or the hourly
 * maintenance creates the partition (moving them). Days outside `[earliest, latest)` get
 * no partition of their own (a report's window may start long before the retention).
 */
export async function ensureDayPartition(tx: Executor, windowStart: Date, earliest: Date, latest: Date): Promise<"exists" | "created" | "default"> {
  if (await exists(tx, partitionName(windowStart))) return "exists";
  const day = bucketStart(windowStart, "day");
  if (day.getTime() + DAY_MS <= earliest.getTime() || day.getTime() >= latest.getTime()) return "default";
  try {
    // A savepoint: a refused lock leaves the ingest's transaction usable.
    return await tx.transaction(async (sp) => {
      await lockForPartitioning(sp, true);
      return (await createDayPartition(sp, day)) ? "created" : "exists";
    });
  } catch (error) {
    if (pgErrorCode(error) === "55P03") return "default";
    throw error;
  }
}

/** What one maintenance pass did. */
export interface PartitionMaintenance {
  created: string[];
  dropped: string[];
  defaultRowsDeleted: number;
}

/**
 * Creates today's and tomorrow's partitions, moves rows stranded in the default partition
 * into their day's partition (days not older than `cutoff`), drops whole partitions whose
 * day ended by `cutoff` and deletes older rows from the default partition. Runs in its own
 * transaction, waiting at most `lockTimeoutMs` for the tables; does nothing when there is
 * nothing to do.
 */
export async function maintainPartitions(db: Database, now: Date, cutoff: Date, lockTimeoutMs = 10_000): Promise<PartitionMaintenance> {
  const listed = await db.execute(sql`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'public.observation'::regclass`);
  const existing = new Set(rowsOf<{ name: string }>(listed).map((r) => r.name));
  const today = bucketStart(now, "day");
  const wanted = new Set([today, new Date(today.getTime() + DAY_MS)].map(partitionName));
  // Rows land in the default partition only while their day has no partition of its own.
  const stranded = await db.execute(sql`
    select distinct to_char(date_trunc('day', "window_start" at time zone 'UTC'), 'YYYY-MM-DD') as day
    from "observation_default"
    where "window_start" >= ${bucketStart(cutoff, "day").toISOString()}::timestamptz
      and "window_start" < ${new Date(today.getTime() + 2 * DAY_MS).toISOString()}::timestamptz
    limit 64`);
  for (const { day } of rowsOf<{ day: string }>(stranded)) wanted.add(partitionName(new Date(`${day}T00:00:00.000Z`)));
  const missing = [...wanted].filter((name) => !existing.has(name));
  const expired = [...existing].filter((name) => {
    const day = partitionDay(name);
    return day !== null && day.getTime() + DAY_MS <= cutoff.getTime();
  });
  const oldDefault = await db.execute(sql`select 1 from "observation_default" where "window_end" < ${cutoff.toISOString()}::timestamptz limit 1`);
  const outcome: PartitionMaintenance = { created: [], dropped: [], defaultRowsDeleted: 0 };
  if (missing.length === 0 && expired.length === 0 && rowsOf(oldDefault).length === 0) return outcome;

  await db.transaction(async (tx) => {
    await tx.execute(sql.raw(`SET LOCAL lock_timeout = '${Math.max(1, Math.floor(lockTimeoutMs))}ms'`));
    await lockForPartitioning(tx, false);
    for (const name of missing) {
      if (await createDayPartition(tx, partitionDay(name)!)) outcome.created.push(name);
    }
    for (const name of expired) {
      // Another instance may have dropped it while this one waited for the locks.
      if (!(await exists(tx, name))) continue;
      await tx.execute(sql.raw(`DROP TABLE "${name}"`));
      outcome.dropped.push(name);
    }
    const deleted = await tx.execute(sql`DELETE FROM "observation_default" WHERE "window_end" < ${cutoff.toISOString()}::timestamptz`);
    outcome.defaultRowsDeleted = affectedRows(deleted);
  });
  return outcome;
}
