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

/** What a listener on a NOTIFY channel hears. */
export interface NotificationListener {
  /** A notification on the channel (sent by a transaction that committed). */
  notify(payload: string): void;
  /** The listening connection is up (again): notifications from now on arrive. */
  up(): void;
  /** The listening connection was lost: notifications are missed until the next `up()`. */
  down(reason: string): void;
}

/** An open database connection with its driver and a way to close it. */
export interface DatabaseHandle {
  db: Database;
  driver: DatabaseTarget["driver"];
  migrate(): Promise<void>;
  /**
   * Listens to a NOTIFY channel. On PostgreSQL a dedicated connection (not one of the pool), reconnected with
   * backoff whenever it dies; on PGlite in process. Returns a function that stops listening; closing the handle
   * stops every listener. (Optional only so a stand-in handle in a test may leave it out.)
   */
  listen?(channel: string, listener: NotificationListener): () => Promise<void>;
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
    const listeners = new Set<() => Promise<void>>();
    return {
      db,
      driver: "postgres",
      listen(channel, listener) {
        const stop = listenOnPostgres(target.url, channel, listener);
        const stopOnce = async () => {
          if (listeners.delete(stopOnce)) await stop();
        };
        listeners.add(stopOnce);
        return stopOnce;
      },
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
      async close() {
        await Promise.all([...listeners].map((stop) => stop()));
        await pool.end();
      },
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
    listen(channel, listener) {
      // PGlite delivers a NOTIFY to its listeners in process, when the notifying transaction commits.
      let stopped = false;
      const unlisten = client.listen(channel, (payload) => {
        if (!stopped) listener.notify(payload);
      });
      unlisten.then(
        () => {
          if (!stopped) listener.up();
        },
        (error: Error) => listener.down(error.message),
      );
      return async () => {
        if (stopped) return;
        stopped = true;
        if (client.closed) return;
        await (await unlisten.catch(() => null))?.().catch(() => undefined);
      };
    },
    close: () => client.close(),
  };
}

const LISTEN_RETRY_FIRST_MS = 100;
const LISTEN_RETRY_MAX_MS = 5_000;
/** How often the listening connection is asked to answer, so a connection cut without a word is noticed. */
const LISTEN_HEARTBEAT_MS = 500;
/** Unanswered this long, the connection is reported down (notifications may not be arriving)… */
const LISTEN_STALLED_MS = 1_000;
/** …and this long, it is dropped and replaced. */
const LISTEN_DEAD_MS = 5_000;

/**
 * Listens on a connection of its own: a LISTEN lives as long as its session, so it cannot borrow a pooled one.
 * When the connection dies (the server restarted, the session was ended, the network broke) it says so and
 * reconnects, waiting twice as long after each failed attempt, up to a few seconds. A heartbeat notices a
 * connection that went silent: unanswered for a second it is reported down, for five it is replaced.
 */
function listenOnPostgres(url: string, channel: string, listener: NotificationListener): () => Promise<void> {
  let stopped = false;
  let current: pg.Client | null = null;
  let retryMs = LISTEN_RETRY_FIRST_MS;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    const client = new pg.Client({ connectionString: url, keepAlive: true, application_name: "meshport-listen" });
    current = client;
    let lost = false;
    let heartbeat: NodeJS.Timeout | undefined = undefined;
    const lose = (reason: string) => {
      if (lost) return;
      lost = true;
      if (heartbeat) clearInterval(heartbeat);
      if (current === client) current = null;
      client.removeAllListeners("notification");
      client.end().catch(() => undefined);
      if (stopped) return;
      listener.down(reason);
      // Jitter, so instances cut off together do not all come back in the same instant.
      timer = setTimeout(() => void connect(), retryMs * (0.75 + Math.random() / 2));
      timer.unref();
      retryMs = Math.min(retryMs * 2, LISTEN_RETRY_MAX_MS);
    };
    client.on("error", (error) => lose(error.message));
    client.on("end", () => lose("the listening connection closed"));
    client.on("notification", (message) => {
      if (!stopped && message.channel === channel) listener.notify(message.payload ?? "");
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    } catch (error) {
      lose(error instanceof Error ? error.message : String(error));
      return;
    }
    if (stopped || lost) return;
    retryMs = LISTEN_RETRY_FIRST_MS;
    listener.up();
    let askedAt: number | null = null;
    let stalled = false;
    heartbeat = setInterval(() => {
      if (askedAt === null) {
        const asked = (askedAt = Date.now());
        client.query("select 1").then(
          () => {
            if (askedAt !== asked || lost) return;
            askedAt = null;
            if (stalled) {
              // Answering again on the same connection: nothing it carried was lost, but the feed starts over anyway.
              stalled = false;
              listener.up();
            }
          },
          (error: Error) => lose(error.message),
        );
        return;
      }
      const waited = Date.now() - askedAt;
      if (waited > LISTEN_DEAD_MS) lose("the listening connection stopped answering");
      else if (waited > LISTEN_STALLED_MS && !stalled) {
        stalled = true;
        listener.down("the listening connection is not answering");
      }
    }, LISTEN_HEARTBEAT_MS);
    heartbeat.unref();
  };

  void connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const client = current;
    current = null;
    if (client) await client.end().catch(() => undefined);
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

/** The process-wide database as it stands, without opening one: undefined when none is open or opening. */
export function currentDatabaseHandle(): Promise<DatabaseHandle> | undefined {
  return globalForDb.__meshportDb?.handle;
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
