import "server-only";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { databaseListenUrlFromEnv, databaseTargetFromEnv, migrationsDir, type DatabaseTarget } from "./config.ts";
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
  /** Notifications may be missed (the connection was lost, or they stopped arriving) until the next `up()`. */
  down(reason: string): void;
}

/** The reason `down` gets when listening was stopped (by its stop function or by closing the handle). */
export const LISTEN_STOPPED = "stopped";

/** A listener at work. */
export interface Listening {
  /**
   * True while notifications are known to arrive. On PostgreSQL: a probe notification sent through the pool at
   * most LISTEN_LIVE_MS ago has come back on the listening connection, so everything committed before it has been
   * delivered (one channel delivers in commit order). On PGlite: while listening (it delivers in process).
   */
  live(): boolean;
  /** Stops listening; `down(LISTEN_STOPPED)` follows. */
  stop(): Promise<void>;
}

/** An open database connection with its driver and a way to close it. */
export interface DatabaseHandle {
  db: Database;
  driver: DatabaseTarget["driver"];
  migrate(): Promise<void>;
  /**
   * Listens to a NOTIFY channel. On PostgreSQL a dedicated connection (not one of the pool), reconnected with
   * backoff whenever it dies, whose delivery is proven by probes sent through the pool; on PGlite in process.
   * Closing the handle stops every listener. Payloads starting with LISTEN_PROBE_PREFIX are the listener's own.
   * (Optional only so a stand-in handle in a test may leave it out.)
   */
  listen?(channel: string, listener: NotificationListener): Listening;
  close(): Promise<void>;
}

/**
 * Advisory lock key of schema changes: migrations, and the start-up data backfills that follow them.
 * Any fixed number works; it only has to be the same for every portal instance.
 */
export const MIGRATION_LOCK_KEY = 7_316_542_001;

/** How a database is opened, beyond its target. */
export interface OpenDatabaseOptions {
  /**
   * Where the listening connection connects, when not where the pool does (PostgreSQL): a LISTEN needs a session
   * of its own, which a transaction-pooling proxy in front of the pool does not keep.
   */
  listenUrl?: string;
}

/** Opens a database for the given target (does not migrate). */
export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
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
    const probe = async (channel: string, payload: string) => {
      await pool.query("select pg_notify($1, $2)", [channel, payload]);
    };
    return {
      db,
      driver: "postgres",
      listen(channel, listener) {
        const listening = listenOnPostgres(options.listenUrl ?? target.url, channel, listener, probe);
        const stop = async () => {
          if (listeners.delete(stop)) await listening.stop();
        };
        listeners.add(stop);
        return { live: listening.live, stop };
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
  const pgliteListeners = new Set<() => Promise<void>>();
  return {
    db,
    driver: "pglite",
    migrate: () => migratePglite(drizzlePglite({ client, schema }), { migrationsFolder: migrationsDir() }),
    listen(channel, listener) {
      // PGlite delivers a NOTIFY to its listeners in process, when the notifying transaction commits: no probes.
      let stopped = false;
      let listening = false;
      const unlisten = client.listen(channel, (payload) => {
        if (!stopped && !payload.startsWith(LISTEN_PROBE_PREFIX)) listener.notify(payload);
      });
      unlisten.then(
        () => {
          if (stopped) return;
          listening = true;
          listener.up();
        },
        (error: Error) => {
          if (!stopped) listener.down(error.message);
        },
      );
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        listening = false;
        pgliteListeners.delete(stop);
        listener.down(LISTEN_STOPPED);
        if (client.closed) return;
        await (await unlisten.catch(() => null))?.().catch(() => undefined);
      };
      pgliteListeners.add(stop);
      return { live: () => listening && !client.closed, stop };
    },
    async close() {
      await Promise.all([...pgliteListeners].map((stop) => stop()));
      await client.close();
    },
  };
}

const LISTEN_RETRY_FIRST_MS = 100;
const LISTEN_RETRY_MAX_MS = 5_000;
/** How often the listening connection is asked to answer, so a connection cut without a word is noticed. */
const LISTEN_HEARTBEAT_MS = 500;
/** How often a probe notification is sent through the pool, to prove the listening connection still delivers. */
const LISTEN_PROBE_MS = 250;
/**
 * Live while the newest probe that came back was sent at most this long ago: a change committed earlier has been
 * delivered, so every instance hears of a change within a second (this, less a margin for the probe's round trip).
 */
export const LISTEN_LIVE_MS = 750;
/** A connection that answers nothing, or delivers none of the probes sent, for this long is dropped and replaced. */
const LISTEN_DEAD_MS = 5_000;
/** What a probe's payload starts with; the rest is a nonce only its sender knows. */
export const LISTEN_PROBE_PREFIX = "probe:";
/** Most probes awaited at once (one is sent at a time; unanswered ones pile up only until the connection is replaced). */
const MAX_PROBES_AWAITED = 64;
/** Probe times are kept on a clock that a change of the wall clock does not move. */
const monotonicNow = () => performance.now();

/**
 * Listens on a connection of its own: a LISTEN lives as long as its session, so it cannot borrow a pooled one.
 * When the connection dies (the server restarted, the session was ended, the network broke) it says so and
 * reconnects, waiting twice as long after each failed attempt, up to a few seconds. A connection that answers is
 * not proof that it delivers (a proxy that pools sessions, a listener on another server than the pool): every
 * LISTEN_PROBE_MS a probe is sent through the pool, and the listener is live only while a recent one has come
 * back. A probe that never comes back, while later ones do, means notifications were lost: the listener reports
 * down and up again, so caches start over. Silent (no answer, no probe back) for five seconds, the connection is
 * replaced.
 */
function listenOnPostgres(
  url: string,
  channel: string,
  listener: NotificationListener,
  probe: (channel: string, payload: string) => Promise<void>,
): Listening {
  let stopped = false;
  let current: { end(): Promise<void> } | null = null;
  let retryMs = LISTEN_RETRY_FIRST_MS;
  let timer: NodeJS.Timeout | undefined;
  // Of the current connection: the send time of the newest probe back, a failing probe, whether `up()` stands.
  let confirmedAt: number | null = null;
  let probeFailing = false;
  let reported = false;
  const nonceBase = randomBytes(8).toString("hex");
  let serial = 0;
  const delivering = (now: number) => !probeFailing && confirmedAt !== null && now - confirmedAt <= LISTEN_LIVE_MS;

  const connect = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    const client = new pg.Client({ connectionString: url, keepAlive: true, application_name: "meshport-listen" });
    let lost = false;
    let heartbeat: NodeJS.Timeout | undefined = undefined;
    let probing: NodeJS.Timeout | undefined = undefined;
    /** Probes sent on this connection's behalf and not back yet, in the order sent; `committed` once the query returned. */
    const awaited = new Map<string, { sentAt: number; committed: boolean }>();
    let probeInFlight = false;
    const end = () => {
      lost = true;
      if (heartbeat) clearInterval(heartbeat);
      if (probing) clearInterval(probing);
      client.removeAllListeners("notification");
      return client.end().catch(() => undefined);
    };
    const connection = { end };
    current = connection;
    confirmedAt = null;
    probeFailing = false;
    reported = false;
    const lose = (reason: string) => {
      if (lost) return;
      void end();
      if (current === connection) current = null;
      confirmedAt = null;
      reported = false;
      if (stopped) return;
      listener.down(reason);
      // Jitter, so instances cut off together do not all come back in the same instant.
      timer = setTimeout(() => void connect(), retryMs * (0.75 + Math.random() / 2));
      timer.unref();
      retryMs = Math.min(retryMs * 2, LISTEN_RETRY_MAX_MS);
    };
    const markDown = (reason: string) => {
      if (!reported) return;
      reported = false;
      listener.down(reason);
    };
    const probeReturned = (nonce: string) => {
      const sent = awaited.get(nonce);
      // Another instance's probe, or one this connection was not awaiting.
      if (!sent) return;
      const now = monotonicNow();
      const wasDelivering = delivering(now);
      let gap = false;
      for (const [key, probe] of awaited) {
        awaited.delete(key);
        if (key === nonce) break;
        // Committed before this one and never delivered: what was committed alongside it is lost too.
        if (probe.committed) gap = true;
      }
      confirmedAt = sent.sentAt;
      probeFailing = false;
      if (gap) markDown("notifications were lost on the listening connection");
      else if (!wasDelivering) markDown("notifications arrived late on the listening connection");
      if (!reported && delivering(now)) {
        reported = true;
        listener.up();
      }
    };
    const sendProbe = () => {
      if (lost || stopped) return;
      const now = monotonicNow();
      if (!delivering(now)) markDown(probeFailing ? "a delivery probe failed" : "notifications are not arriving on the listening connection");
      const oldest = [...awaited.values()].find((probe) => probe.committed);
      if (oldest && now - oldest.sentAt > LISTEN_DEAD_MS) {
        lose("the listening connection stopped delivering notifications");
        return;
      }
      if (probeInFlight || awaited.size >= MAX_PROBES_AWAITED) return;
      const nonce = `${nonceBase}.${++serial}`;
      const sent = { sentAt: now, committed: false };
      awaited.set(nonce, sent);
      probeInFlight = true;
      probe(channel, LISTEN_PROBE_PREFIX + nonce).then(
        () => {
          probeInFlight = false;
          sent.committed = true;
        },
        (error: Error) => {
          probeInFlight = false;
          awaited.delete(nonce);
          if (lost || stopped) return;
          if (!probeFailing) console.error(`meshport: a change feed delivery probe failed (${error.message}); the feed is not live until one comes back`);
          probeFailing = true;
          markDown(`a delivery probe failed (${error.message})`);
        },
      );
    };
    client.on("error", (error) => lose(error.message));
    client.on("end", () => lose("the listening connection closed"));
    client.on("notification", (message) => {
      if (stopped || lost || message.channel !== channel) return;
      const payload = message.payload ?? "";
      if (payload.startsWith(LISTEN_PROBE_PREFIX)) probeReturned(payload.slice(LISTEN_PROBE_PREFIX.length));
      else listener.notify(payload);
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
    // Up once the first probe is back: only then is delivery known.
    sendProbe();
    probing = setInterval(sendProbe, LISTEN_PROBE_MS);
    probing.unref();
    let askedAt: number | null = null;
    heartbeat = setInterval(() => {
      if (askedAt === null) {
        const asked = (askedAt = monotonicNow());
        client.query("select 1").then(
          () => {
            if (askedAt === asked) askedAt = null;
          },
          (error: Error) => lose(error.message),
        );
        return;
      }
      // Not answering: no probe comes back either, so the listener is already down; past this, give it up.
      if (monotonicNow() - askedAt > LISTEN_DEAD_MS) lose("the listening connection stopped answering");
    }, LISTEN_HEARTBEAT_MS);
    heartbeat.unref();
  };

  void connect();
  return {
    live: () => !stopped && current !== null && reported && delivering(monotonicNow()),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      const connection = current;
      current = null;
      reported = false;
      listener.down(LISTEN_STOPPED);
      await connection?.end();
    },
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
      const listenUrl = databaseListenUrlFromEnv();
      const opened = await openDatabase(databaseTargetFromEnv(), listenUrl ? { listenUrl } : {});
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
