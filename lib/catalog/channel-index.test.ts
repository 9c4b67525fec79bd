import { describe, expect, it, vi } from "vitest";
import { parseFilter } from "@/registry/topics/index.ts";

vi.mock("@/lib/events/changes.ts", () => ({
  announceChange: vi.fn(async () => undefined),
  changeFeedLive: () => true,
  onChange: () => () => undefined,
  onFeedReset: () => () => undefined,
}));

const { buildChannelIndex, ChannelIndexCache, matchTopic, MAX_IN_FLIGHT, UNWATCHED_TRUST_MS } = await import("./channel-index.ts");
const { announceChange } = await import("@/lib/events/changes.ts");

const row = (id: number, address: string | null, levelCount = address?.split("/").length ?? null, firstLevel: string | null = address && !address.startsWith("{") ? address.split("/")[0]! : null) => ({
  id,
  address,
  levelCount,
  firstLevel,
});

const filter = (text: string) => {
  const parsed = parseFilter(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
};

describe("matchTopic", () => {
  // Rows in page order: address, then application, then id.
  const index = buildChannelIndex([row(5, "a/{x}"), row(2, "a/{x}"), row(3, "a/b/c"), row(4, "b/{y}"), row(9, "{s}/b"), row(7, "c/#bad")])!;

  it("returns the entries of the matching addresses in page order, with their total", () => {
    const shape = { levels: 1, atLeast: true, firstLevel: "a" };
    expect(matchTopic(index, filter("a/#"), shape, 100)).toEqual({
      addresses: [
        { address: "a/{x}", entries: [5, 2] },
        { address: "a/b/c", entries: [3] },
        // A template with a parameter first is a candidate for any literal first level.
        { address: "{s}/b", entries: [9] },
      ],
      total: 4,
      candidatesCapped: false,
    });
  });

  it("keeps only entries of the shape the query narrows to", () => {
    expect(matchTopic(index, filter("a/b"), { levels: 2, atLeast: false, firstLevel: "a" }, 100).addresses.map((a) => a.address)).toEqual(["a/{x}", "{s}/b"]);
    expect(matchTopic(index, filter("x/b"), { levels: 2, atLeast: false, firstLevel: "x" }, 100).addresses.map((a) => a.address)).toEqual(["{s}/b"]);
    // An entry whose stored shape says otherwise is left out, as SQL left it out.
    const stale = buildChannelIndex([row(1, "a/{x}", 3)])!;
    expect(matchTopic(stale, filter("a/b"), { levels: 2, atLeast: false, firstLevel: "a" }, 100).total).toBe(0);
  });

  it("matches only the first candidate addresses past the bound, and says the candidates were capped", () => {
    const shape = { levels: 0, atLeast: true, firstLevel: null };
    const capped = matchTopic(index, filter("#"), shape, 2);
    expect(capped.candidatesCapped).toBe(true);
    expect(capped.addresses.map((a) => a.address)).toEqual(["a/{x}", "a/b/c"]);
    expect(matchTopic(index, filter("#"), shape, 6)).toMatchObject({ candidatesCapped: false, total: 5 });
  });

  it("parses an address once across rebuilds, and equal levels once per build", () => {
    const first = buildChannelIndex([row(1, "a/{x}/t"), row(2, "b/{x}/t")])!;
    const [a, b] = [first.templates.get("a/{x}/t")!, first.templates.get("b/{x}/t")!];
    expect(a.levels[1]).toBe(b.levels[1]);
    expect(a.levels[2]).toBe(b.levels[2]);
    const second = buildChannelIndex([row(1, "a/{x}/t"), row(3, "c/{y}")], 10, first.templates)!;
    expect(second.templates.get("a/{x}/t")).toBe(a);
    expect(second.templates.has("b/{x}/t")).toBe(false);
    expect(matchTopic(second, filter("c/q"), { levels: 2, atLeast: false, firstLevel: "c" }, 10).total).toBe(1);
  });

  it("holds nothing past its bound", () => {
    expect(buildChannelIndex([row(1, "a"), row(2, "b")], 1)).toBeNull();
    expect(buildChannelIndex([row(1, "a"), row(2, "b")], 2)?.entries).toBe(2);
  });
});

describe("ChannelIndexCache", () => {
  const db = {} as never;
  const setup = (options: { live?: boolean } = {}) => {
    let now = 1_000_000;
    let live = options.live ?? true;
    let builds = 0;
    const pending: ((value: null) => void)[] = [];
    const cache = new ChannelIndexCache({
      now: () => now,
      feedLive: () => live,
      subscribe: () => undefined,
      load: () => {
        builds++;
        return new Promise((resolve) => pending.push(resolve as (value: null) => void));
      },
    });
    const finish = () => pending.splice(0).forEach((resolve) => resolve(null));
    return { cache, finish, builds: () => builds, advance: (ms: number) => (now += ms), setLive: (v: boolean) => (live = v) };
  };

  it("builds once and shares the build, until a change is heard", async () => {
    const { cache, finish, builds } = setup();
    const a = cache.get(db);
    const b = cache.get(db);
    expect(a).toBe(b);
    finish();
    await a;
    cache.get(db);
    expect(builds()).toBe(1);
    cache.heard("someone-else.1 orders");
    cache.get(db);
    expect(builds()).toBe(2);
  });

  it("does not keep a build that raced a change", async () => {
    const { cache, finish, builds } = setup();
    const racing = cache.get(db);
    cache.heard("other.1 orders");
    finish();
    await racing;
    cache.get(db);
    expect(builds()).toBe(2);
  });

  it("trusts an index for a second at most while the feed may miss announcements", () => {
    const { cache, builds, advance } = setup({ live: false });
    cache.get(db);
    advance(UNWATCHED_TRUST_MS - 1);
    cache.get(db);
    expect(builds()).toBe(1);
    advance(1);
    cache.get(db);
    expect(builds()).toBe(2);
  });

  it("keeps no index built between its own announcement and hearing it back (or a second, for a rollback)", async () => {
    const { cache, builds, advance } = setup();
    cache.get(db);
    await cache.announce({} as never, "orders");
    const payload = vi.mocked(announceChange).mock.calls.at(-1)![2];
    expect(payload).toMatch(/ orders$/);
    cache.get(db);
    cache.get(db);
    expect(builds()).toBe(3);
    cache.heard(payload);
    cache.get(db);
    cache.get(db);
    expect(builds()).toBe(4);
    // Never heard back (rolled back): after a second indexes are kept again.
    await cache.announce({} as never, "orders");
    cache.get(db);
    advance(UNWATCHED_TRUST_MS);
    cache.get(db);
    cache.get(db);
    expect(builds()).toBe(6);
  });

  it("forgets its announcements a second after they were made, searched or not, and tracks a bounded number", async () => {
    const { cache, advance } = setup();
    for (let i = 0; i < 5; i++) await cache.announce({} as never, "orders");
    expect(cache.inFlight).toBe(5);
    advance(UNWATCHED_TRUST_MS);
    await cache.announce({} as never, "orders");
    expect(cache.inFlight).toBe(1);
    for (let i = 0; i < MAX_IN_FLIGHT + 10; i++) await cache.announce({} as never, "orders");
    expect(cache.inFlight).toBe(MAX_IN_FLIGHT);
  });

  it("hands the next build only the parsed addresses of the last one", async () => {
    const seen: unknown[] = [];
    const built = buildChannelIndex([row(1, "a/{x}")])!;
    const cache = new ChannelIndexCache({ feedLive: () => true, subscribe: () => undefined, load: async (_db, previous) => (seen.push(previous), built) });
    await cache.get(db);
    cache.invalidate();
    await cache.get(db);
    expect(seen).toEqual([null, built.templates]);
    expect(seen[1]).toBe(built.templates);
  });

  it("forgets everything on invalidate (a feed reset)", () => {
    const { cache, builds } = setup();
    cache.get(db);
    cache.invalidate();
    cache.get(db);
    expect(builds()).toBe(2);
  });
});
