import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "@/db/client.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { rowsOf } from "@/lib/observations/partitions.ts";
import { announceChange, changeFeed, ChangeFeed, changeMessage, onChange, parseChangeMessage, type ChangeTopic } from "./changes.ts";
import { startDroppingProxy, type DroppingProxy } from "./testing/dropping-proxy.ts";

/** Waits (polling, no timing asserted) until `done` holds; fails after a generous deadline. */
async function until(done: () => boolean | Promise<boolean>, what: string, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Collects what a feed delivers on a topic. */
function collect(feed: ChangeFeed, topic: ChangeTopic): { got: string[]; stop: () => void } {
  const got: string[] = [];
  return { got, stop: feed.onChange(topic, (payload) => got.push(payload)) };
}

let serial = 0;
const unique = (label: string) => `${label}-${process.pid}-${++serial}`;

describeEachBackend("change feed", ({ backend, handle }) => {
  it("delivers an announcement at commit, to its topic only, and never one that was rolled back", async () => {
    const tokens: string[] = [];
    const catalog: string[] = [];
    const stops = [onChange("tokens", (p) => tokens.push(p)), onChange("catalog", (p) => catalog.push(p))];
    try {
      await until(() => changeFeed().live(), "the feed to be live");
      const committed = unique("t:tok_committed");
      await handle().db.transaction(async (tx) => {
        await announceChange(tx, "tokens", committed);
        await tx.execute(sql`select 1`);
        // Not before the commit.
        expect(tokens).not.toContain(committed);
      });
      await until(() => tokens.includes(committed), "the committed announcement");
      expect(catalog).toEqual([]);

      const rolledBack = unique("t:tok_rolled_back");
      await expect(
        handle().db.transaction(async (tx) => {
          await announceChange(tx, "tokens", rolledBack);
          throw new Error("changed my mind");
        }),
      ).rejects.toThrow("changed my mind");
      // Announcements arrive in commit order: once a later one is here, the rolled-back one would have been too.
      const marker = unique("c:usr_marker");
      await handle().db.transaction((tx) => announceChange(tx, "tokens", marker));
      await until(() => tokens.includes(marker), "the marker");
      expect(tokens).not.toContain(rolledBack);
    } finally {
      for (const stop of stops) stop();
    }
  });

  it("stops delivering to a listener once it unsubscribes", async () => {
    const seen: string[] = [];
    const keep: string[] = [];
    const stop = onChange("catalog", (p) => seen.push(p));
    const stopKeep = onChange("catalog", (p) => keep.push(p));
    try {
      await until(() => changeFeed().live(), "the feed to be live");
      stop();
      const payload = unique("app");
      await handle().db.transaction((tx) => announceChange(tx, "catalog", payload));
      await until(() => keep.includes(payload), "the announcement");
      expect(seen).toEqual([]);
    } finally {
      stopKeep();
    }
  });

  it("refuses a payload that is too long or holds control characters, in the writer", async () => {
    expect(() => changeMessage("tokens", "x".repeat(257))).toThrow(/at most 256/);
    expect(() => changeMessage("tokens", "t:a\nb")).toThrow(/control/);
    expect(() => changeMessage("nope" as ChangeTopic, "x")).toThrow(/unknown change topic/);
    await expect(handle().db.transaction((tx) => announceChange(tx, "tokens", "\u0000"))).rejects.toThrow(/control/);
    expect(parseChangeMessage("tokens:t:tok_1")).toEqual({ topic: "tokens", payload: "t:tok_1" });
    expect(parseChangeMessage("other:x")).toBeNull();
    expect(parseChangeMessage("no-colon")).toBeNull();
  });

  it("is not live once the database it follows is closed", async () => {
    let closing: DatabaseHandle;
    if (backend === "postgres") {
      const [{ name }] = rowsOf<{ name: string }>(await handle().db.execute(sql`select current_database() as name`)) as [{ name: string }];
      const url = new URL(inject("postgresServerUrl"));
      url.pathname = `/${name}`;
      closing = await openDatabase({ driver: "postgres", url: url.toString() });
    } else {
      closing = await openDatabase({ driver: "pglite", dataDir: null });
    }
    const opened = Promise.resolve(closing);
    const feed = new ChangeFeed(() => opened);
    const stop = feed.onChange("tokens", () => undefined);
    try {
      await until(() => feed.live(), "the feed to be live");
      await closing.close();
      expect(feed.live()).toBe(false);
    } finally {
      stop();
      await feed.stop();
    }
  });

  if (backend !== "postgres") return;

  describe("behind a connection that answers but does not deliver", () => {
    let proxy: DroppingProxy;
    let proxied: DatabaseHandle;
    let feed: ChangeFeed;

    beforeAll(async () => {
      // Another instance whose listening connection passes through a proxy that can drop notifications.
      const [{ name }] = rowsOf<{ name: string }>(await handle().db.execute(sql`select current_database() as name`)) as [{ name: string }];
      const url = new URL(inject("postgresServerUrl"));
      url.pathname = `/${name}`;
      proxy = await startDroppingProxy(url.toString());
      proxied = await openDatabase({ driver: "postgres", url: url.toString() }, { listenUrl: proxy.url });
      const opened = Promise.resolve(proxied);
      feed = new ChangeFeed(() => opened);
    });

    afterAll(async () => {
      await feed.stop();
      await proxied.close();
      await proxy.close();
    });

    it("is not live while notifications stop arriving, and resets once they arrive again", async () => {
      const { got, stop } = collect(feed, "catalog");
      let resets = 0;
      const stopReset = feed.onFeedReset(() => resets++);
      try {
        await until(() => feed.live(), "the feed to be live");
        const heard = unique("heard");
        await handle().db.transaction((tx) => announceChange(tx, "catalog", heard));
        await until(() => got.includes(heard), "an announcement through the proxy");

        proxy.dropping = true;
        const missed = unique("missed");
        await handle().db.transaction((tx) => announceChange(tx, "catalog", missed));
        // The connection still answers (the proxy passes every reply): only the probes can tell.
        await until(() => !feed.live(), "the feed to notice that nothing arrives", 5_000);
        expect(got).not.toContain(missed);

        const before = resets;
        proxy.dropping = false;
        await until(() => feed.live() && resets > before, "the feed to be back, starting over");
        const after = unique("after-drop");
        await handle().db.transaction((tx) => announceChange(tx, "catalog", after));
        await until(() => got.includes(after), "an announcement after the gap");
        expect(got).not.toContain(missed);
      } finally {
        proxy.dropping = false;
        stop();
        stopReset();
      }
    });
  });

  describe("across instances", () => {
    let other: DatabaseHandle;
    let feed: ChangeFeed;

    beforeAll(async () => {
      // Another portal instance: its own pool and listening connection on the same database.
      const [{ name }] = rowsOf<{ name: string }>(await handle().db.execute(sql`select current_database() as name`)) as [{ name: string }];
      const url = new URL(inject("postgresServerUrl"));
      url.pathname = `/${name}`;
      other = await openDatabase({ driver: "postgres", url: url.toString() });
      const opened = Promise.resolve(other);
      feed = new ChangeFeed(() => opened);
    });

    afterAll(async () => {
      await feed.stop();
      await other.close();
    });

    it("delivers an announcement committed by one instance to another", async () => {
      const { got, stop } = collect(feed, "tokens");
      try {
        await until(() => feed.live(), "the other instance's feed to be live");
        const payload = unique("t:tok_elsewhere");
        await handle().db.transaction((tx) => announceChange(tx, "tokens", payload));
        await until(() => got.includes(payload), "the announcement on the other instance");
      } finally {
        stop();
      }
    });

    it("is not live while its listening connection stops answering, and resets once it answers again", async () => {
      const { got, stop } = collect(feed, "catalog");
      let resets = 0;
      const stopReset = feed.onFeedReset(() => resets++);
      await until(() => feed.live(), "the feed to be live");
      const backends = rowsOf<{ pid: number }>(
        await other.db.execute(
          sql`select pid from pg_stat_activity where datname = current_database() and application_name = 'meshport-listen'`,
        ),
      ).map((row) => Number(row.pid));
      expect(backends.length).toBeGreaterThan(0);
      // A server process frozen in place: the connection stays open but nothing answers, as when a network drops packets.
      for (const pid of backends) process.kill(pid, "SIGSTOP");
      try {
        await until(() => !feed.live(), "the feed to notice the silence");
      } finally {
        for (const pid of backends) process.kill(pid, "SIGCONT");
      }
      try {
        const before = resets;
        await until(() => feed.live() && resets > before, "the feed to be back");
        const payload = unique("after-stall");
        await handle().db.transaction((tx) => announceChange(tx, "catalog", payload));
        await until(() => got.includes(payload), "an announcement after the stall");
      } finally {
        stop();
        stopReset();
      }
    });

    it("resets after its listening connection is killed, and hears announcements again", async () => {
      const { got, stop } = collect(feed, "catalog");
      let resets = 0;
      const stopReset = feed.onFeedReset(() => resets++);
      try {
        await until(() => feed.live(), "the feed to be live");
        const before = resets;
        const killed = await handle().db.execute(
          sql`select pg_terminate_backend(pid) as killed from pg_stat_activity
              where datname = current_database() and application_name = 'meshport-listen'`,
        );
        expect(rowsOf(killed).length).toBeGreaterThan(0);
        // Lost while down: nobody hears this one, and the reset says so.
        await handle().db.transaction((tx) => announceChange(tx, "catalog", unique("lost")));
        await until(() => resets > before, "a reset after the reconnect");
        expect(feed.live()).toBe(true);
        const payload = unique("after-reset");
        await handle().db.transaction((tx) => announceChange(tx, "catalog", payload));
        await until(() => got.includes(payload), "an announcement after the reconnect");
      } finally {
        stop();
        stopReset();
      }
    });
  });
});

describe("change feed without a database", () => {
  it("is not live and delivers nothing until a database is there to follow", () => {
    const feed = new ChangeFeed(() => undefined);
    const stop = feed.onChange("tokens", () => undefined);
    expect(feed.live()).toBe(false);
    stop();
  });

  it("is not live on a database that cannot listen", async () => {
    const standIn = Promise.resolve({ driver: "pglite" } as DatabaseHandle);
    const feed = new ChangeFeed(() => standIn);
    const stop = feed.onChange("tokens", () => undefined);
    await standIn;
    expect(feed.live()).toBe(false);
    stop();
  });
});
