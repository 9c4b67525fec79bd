import "server-only";
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { databaseTargetFromEnv, migrationsDir, type DatabaseTarget } from "./config.ts";
import * as schema from "./schema.ts";

/** The drizzle database, whichever driver is behind it. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction handle, usable wherever a Database is. */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Either a database or an open transaction. */
export type Executor = Database | Transaction;

/** An open database connection with its driver and a way to close it. */
export interface DatabaseHandle {
  db: Database;
  driver: DatabaseTarget["driver"];
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Advisory lock key of schema changes: migrations, and the start-up data backfills that follow them.
 * Any fixed number works; it only has to be the same for every portal instance.
 */
export const MIGRATION_LOCK_KEY = 7_316_542_001;

/** Opens a database for the given target (does not migrate). */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if (target.driver === "postgres") {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: Number(process.env.MESHPORT_DB_POOL_SIZE || 10),
    });
    // An idle connection dies when the server restarts or ends it; unheard, the pool's error would end the process.
    // The pool drops that connection and opens another on the next query.
    pool.on("error", (error) => console.error(`meshport: an idle database connection closed (${error.message}); it will be replaced`));
    const db = drizzleNodePg({ client: pool, schema }) as unknown as Database;
    return {
      db,
      driver: "postgres",
      async migrate() {
        // Several portal instances may start at once: one migrates, the others wait.
        const client = await pool.connect();
        try {
          await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
          try {
            await migrateNodePg(drizzleNodePg({ client, schema }), { migrationsFolder: migrationsDir() });
          } finally {
            await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
          }
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  }
  if (target.dataDir) mkdirSync(target.dataDir, { recursive: true });
  const client = target.dataDir ? new PGlite(target.dataDir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite({ client, schema }) as unknown as Database;
  return {
    db,
    driver: "pglite",
    migrate: () => migratePglite(drizzlePglite({ client, schema }), { migrationsFolder: migrationsDir() }),
    close: () => client.close(),
  };
}

interface ProcessDatabase {
  handle: Promise<DatabaseHandle>;
}

const globalForDb = globalThis as typeof globalThis & { __meshportDb?: ProcessDatabase };

/**
 * The process-wide database, opened and migrated on first use. PGlite allows one
 * connection per data folder, so every caller in the process must share it.
 */
export function getDatabaseHandle(): Promise<DatabaseHandle> {
  if (!globalForDb.__meshportDb) {
    const handle = (async () => {
      const opened = await openDatabase(databaseTargetFromEnv());
      await opened.migrate();
      return opened;
    })();
    handle.catch(() => {
      globalForDb.__meshportDb = undefined;
    });
    globalForDb.__meshportDb = { handle };
  }
  return globalForDb.__meshportDb.handle;
}

/** The process-wide drizzle database. */
export async function getDb(): Promise<Database> {
  return (await getDatabaseHandle()).db;
}

/** Replaces the process-wide database (tests, CLI); returns the previous one, if any. */
export function setDatabaseHandle(handle: DatabaseHandle | undefined): void {
  globalForDb.__meshportDb = handle ? { handle: Promise.resolve(handle) } : undefined;
}

/** Closes the process-wide database, if open. */
export async function closeDb(): Promise<void> {
  const current = globalForDb.__meshportDb;
  globalForDb.__meshportDb = undefined;
  if (current) await (await current.handle).close();
}

/** A cheap round trip used by health checks. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}

export { schema };
