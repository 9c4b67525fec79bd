import "server-only";
import { sql } from "drizzle-orm";
import { currentDatabaseHandle, getDatabaseHandle, LISTEN_STOPPED, type DatabaseHandle, type Executor, type Listening } from "@/db/client.ts";

/*
 * A change feed across portal instances. A change that other instances' caches must hear of is announced in the
 * transaction that makes it (`pg_notify`, so it is delivered at commit and never on rollback); each process listens
 * on one channel: on PostgreSQL with a dedicated connection, so every instance sharing the server hears it (this one
 * too), on PGlite in process (PGlite is one process only). On PostgreSQL the feed is live only while a probe sent
 * through the pool under a second ago has come back to the listener (db/client.ts), so anything committed before
 * it has arrived; while it is not, announcements may be late or lost: `changeFeedLive()` says so, and
 * `onFeedReset` tells caches to start over when it is back.
 */

/** What a change is about: API tokens (`t:<tokenId>`, `c:<creatorId>`), or the catalog. */
export type ChangeTopic = "tokens" | "catalog";

const TOPICS: readonly ChangeTopic[] = ["tokens", "catalog"];

/** The NOTIFY channel of every announcement. */
export const CHANGE_CHANNEL = "meshport_changes";

/** Longest payload an announcement carries: ids only, far below NOTIFY's 8000-byte limit. */
export const MAX_CHANGE_PAYLOAD = 256;

/** Announces a change inside the writing transaction: delivered to every listening instance (this one too) at commit, never on rollback. */
export async function announceChange(tx: Executor, topic: ChangeTopic, payload: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${CHANGE_CHANNEL}, ${changeMessage(topic, payload)})`);
}

/** The message an announcement sends: `<topic>:<payload>`, checked so a bad one fails in the writer, not in every reader. */
export function changeMessage(topic: ChangeTopic, payload: string): string {
  if (!TOPICS.includes(topic)) throw new Error(`unknown change topic ${String(topic)}`);
  if (payload.length > MAX_CHANGE_PAYLOAD) throw new Error(`a change payload is at most ${MAX_CHANGE_PAYLOAD} characters`);
  if (/[\u0000-\u001f\u007f]/.test(payload)) throw new Error("a change payload holds no control characters");
  return `${topic}:${payload}`;
}

/** Splits a received message into its topic and payload; null for anything not sent by `announceChange`. */
export function parseChangeMessage(message: string): { topic: ChangeTopic; payload: string } | null {
  const colon = message.indexOf(":");
  if (colon < 0) return null;
  const topic = TOPICS.find((known) => known === message.slice(0, colon));
  return topic ? { topic, payload: message.slice(colon + 1) } : null;
}

/**
 * One process's view of the feed: the listeners of each topic, and the listening connection of the database it
 * follows. Started lazily by the first `onChange`; the database is asked for each time, so a feed follows the
 * process database when it is replaced (tests, the CLI) and starts over on the new one.
 */
export class ChangeFeed {
  readonly #database: () => Promise<DatabaseHandle> | undefined;
  readonly #open: () => Promise<DatabaseHandle>;
  readonly #listeners = new Map<ChangeTopic, Set<(payload: string) => void>>();
  readonly #resetListeners = new Set<() => void>();
  #following: Promise<DatabaseHandle> | undefined;
  #listening: Listening | undefined;
  /** Between the listener's `up()` and `down()`: only to say once that the feed went down. */
  #up = false;
  #count = 0;

  /**
   * @param database the database to follow as it stands now (undefined when none is open)
   * @param open opens it when a listener arrives and none is open
   */
  constructor(database: () => Promise<DatabaseHandle> | undefined, open: () => Promise<DatabaseHandle> = () => database() ?? Promise.reject(new Error("no database to follow"))) {
    this.#database = database;
    this.#open = open;
  }

  /** Subscribes to a topic's announcements; returns an unsubscribe function. */
  onChange(topic: ChangeTopic, listener: (payload: string) => void): () => void {
    let listeners = this.#listeners.get(topic);
    if (!listeners) this.#listeners.set(topic, (listeners = new Set()));
    // Wrapped, so the same function subscribed twice is two subscriptions.
    const entry = (payload: string) => listener(payload);
    listeners.add(entry);
    this.#count++;
    if (!this.#database()) void this.#open().then(() => this.#follow(), () => undefined);
    else this.#follow();
    return () => {
      if (!listeners.delete(entry)) return;
      this.#count--;
      // The last one gone: stop listening (and probing).
      if (this.#count === 0) this.#follow();
    };
  }

  /** Called whenever the feed (re)connects after a gap: announcements may have been lost, caches must start over. */
  onFeedReset(listener: () => void): () => void {
    const entry = () => listener();
    this.#resetListeners.add(entry);
    return () => {
      this.#resetListeners.delete(entry);
    };
  }

  /** True while announcements are known to reach this process: any committed a second ago or earlier has arrived. */
  live(): boolean {
    this.#follow();
    return this.#listening?.live() ?? false;
  }

  /** Stops listening (the feed starts again on the next `onChange` or `live()` with listeners). */
  async stop(): Promise<void> {
    const listening = this.#listening;
    this.#following = undefined;
    this.#listening = undefined;
    this.#up = false;
    await listening?.stop();
  }

  /** Listens on the current database while anyone listens; leaves a replaced database for the new one. */
  #follow(): void {
    const wanted = this.#count > 0 ? this.#database() : undefined;
    if (wanted === this.#following) return;
    const listening = this.#listening;
    this.#listening = undefined;
    this.#up = false;
    this.#following = wanted;
    void listening?.stop().catch(() => undefined);
    if (!wanted) return;
    wanted.then(
      (handle) => {
        if (this.#following !== wanted || !handle.listen) return;
        this.#listening = handle.listen(CHANGE_CHANNEL, {
          notify: (message) => {
            if (this.#following === wanted) this.#deliver(message);
          },
          up: () => {
            if (this.#following !== wanted) return;
            this.#up = true;
            this.#reset();
          },
          down: (reason) => {
            if (this.#following !== wanted) return;
            if (this.#up && reason !== LISTEN_STOPPED) console.error(`meshport: the change feed is down (${reason}); caches trust it no longer until it is back`);
            this.#up = false;
          },
        });
      },
      () => {
        if (this.#following === wanted) this.#following = undefined;
      },
    );
  }

  #deliver(message: string): void {
    const change = parseChangeMessage(message);
    if (!change) return;
    for (const listener of [...(this.#listeners.get(change.topic) ?? [])]) {
      try {
        listener(change.payload);
      } catch (error) {
        console.error("meshport: a change listener failed", error);
      }
    }
  }

  #reset(): void {
    for (const listener of [...this.#resetListeners]) {
      try {
        listener();
      } catch (error) {
        console.error("meshport: a change feed reset listener failed", error);
      }
    }
  }
}

// On globalThis: route handlers and server actions may load this module separately, and they share one feed.
const globalForFeed = globalThis as typeof globalThis & { __meshportChangeFeed?: ChangeFeed };

/** The process's change feed, following the process database. */
export function changeFeed(): ChangeFeed {
  globalForFeed.__meshportChangeFeed ??= new ChangeFeed(currentDatabaseHandle, getDatabaseHandle);
  return globalForFeed.__meshportChangeFeed;
}

/** Subscribes to a topic's announcements in this process; returns an unsubscribe function. */
export function onChange(topic: ChangeTopic, listener: (payload: string) => void): () => void {
  return changeFeed().onChange(topic, listener);
}

/** True while announcements are known to reach this process (a recent delivery probe came back, or PGlite). */
export function changeFeedLive(): boolean {
  return changeFeed().live();
}

/** Called whenever the feed (re)connects after a gap: announcements may have been lost, caches must start over. */
export function onFeedReset(listener: () => void): () => void {
  return changeFeed().onFeedReset(listener);
}
