import "server-only";
import { randomBytes } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { application, catalogEntry } from "@/db/schema.ts";
import { announceChange, changeFeedLive, onChange, onFeedReset } from "@/lib/events/changes.ts";
import { parseTemplate, TemplateIndex, type Filter, type Template, type TemplateLevel } from "@/registry/topics/index.ts";

/*
 * The channel templates of the catalog, held in memory for topic search: the channel entries of the search index
 * (id, address, shape) in the order a topic search pages them, with a trie over their distinct addresses. Built on
 * the first topic search from one query, dropped whenever the catalog changes (announced on the change feed by the
 * transaction that changes it, heard by every portal instance at commit), and trusted for at most a second while
 * the feed may miss announcements.
 */

/**
 * Channel entries the index holds at most; beyond it topic search runs in SQL. An entry costs about 1 KB with its
 * parsed template and its share of the trie (measured on the heap: 21 MB for the catalog benchmark's 20,000 channels,
 * 52 MB at the bound). A rebuild after a change parses only the addresses it has not seen, keeping of the last index
 * only its parsed-address table (9 MB at 20,000, 12 MB at the bound) beside the index being built.
 */
export const MAX_INDEXED_CHANNELS = 50_000;

/** How long an index is trusted while announcements may be missed (the feed is down, or one of ours is in flight). */
export const UNWATCHED_TRUST_MS = 1_000;

/** Our announcements awaiting their echo that are tracked at most (each is forgotten a second after it is made). */
export const MAX_IN_FLIGHT = 10_000;

/** One channel entry of the search index, as a topic search filters it. */
export interface IndexedChannelEntry {
  id: number;
  levelCount: number | null;
  firstLevel: string | null;
}

/** A distinct channel address with its entries, in page order (address, application slug, entry id). */
export interface IndexedAddress {
  address: string;
  /** Position of the address in page order. */
  order: number;
  entries: IndexedChannelEntry[];
}

/** The catalog's channels in memory: the addresses in page order and a trie over them. */
export interface ChannelIndex {
  addresses: IndexedAddress[];
  trie: TemplateIndex<IndexedAddress>;
  /** The parsed template of each address (null: invalid), for the next build to reuse. */
  templates: Map<string, Template | null>;
  entries: number;
}

/** What narrows topic candidates: level count (exact or at least) and first literal level (see `topicQueryShape`). */
export interface TopicShape {
  levels: number;
  atLeast: boolean;
  firstLevel: string | null;
}

/** True when an entry has the shape a topic query narrows to, as the SQL narrowing says it (null levels never). */
export function entryHasShape(entry: IndexedChannelEntry, shape: TopicShape): boolean {
  if (entry.levelCount === null) return false;
  if (shape.atLeast ? entry.levelCount < shape.levels : entry.levelCount !== shape.levels) return false;
  return shape.firstLevel === null || entry.firstLevel === null || entry.firstLevel === shape.firstLevel;
}

/** The channel entries matching a topic query, in page order, and whether the candidates were capped. */
export interface TopicMatch {
  /** Matching addresses, in page order, with only their entries of the shape. */
  addresses: { address: string; entries: number[] }[];
  /** Matching entries in all. */
  total: number;
  /** More than `maxCandidates` addresses had the shape: only the first ones (in page order) were matched. */
  candidatesCapped: boolean;
}

/**
 * Matches a parsed topic filter (or concrete topic) against the index: the addresses of the shape that the filter
 * reaches, exactly as a search over at most `maxCandidates` candidate addresses (the first in page order) would.
 */
export function matchTopic(index: ChannelIndex, filter: Filter, shape: TopicShape, maxCandidates: number): TopicMatch {
  const shaped = (a: IndexedAddress) => a.entries.some((e) => entryHasShape(e, shape));
  // Past the candidate bound only the first addresses of the shape are considered, as the search always did.
  let lastOrder = Infinity;
  let candidatesCapped = false;
  if (index.addresses.length > maxCandidates) {
    let seen = 0;
    for (const a of index.addresses) {
      if (!shaped(a)) continue;
      if (++seen === maxCandidates) lastOrder = a.order;
      else if (seen > maxCandidates) {
        candidatesCapped = true;
        break;
      }
    }
  }
  const found = new Set<IndexedAddress>();
  for (const hit of index.trie.matchFilter(filter)) if (hit.value.order <= lastOrder) found.add(hit.value);
  const addresses: TopicMatch["addresses"] = [];
  let total = 0;
  for (const a of [...found].sort((x, y) => x.order - y.order)) {
    const entries = a.entries.filter((e) => entryHasShape(e, shape)).map((e) => e.id);
    if (entries.length === 0) continue;
    addresses.push({ address: a.address, entries });
    total += entries.length;
  }
  return { addresses, total, candidatesCapped };
}

/**
 * Builds the index from rows in page order; null when there are more than `limit`. Addresses parsed by a `previous`
 * index are not parsed again, and equal levels share one parsed level: most of an index's memory is parsed templates.
 */
export function buildChannelIndex(
  rows: readonly { id: number; address: string | null; levelCount: number | null; firstLevel: string | null }[],
  limit = MAX_INDEXED_CHANNELS,
  previous: ReadonlyMap<string, Template | null> | null = null,
): ChannelIndex | null {
  if (rows.length > limit) return null;
  const addresses: IndexedAddress[] = [];
  const trie = new TemplateIndex<IndexedAddress>();
  const templates = new Map<string, Template | null>();
  const levels = new Map<string, TemplateLevel>();
  const shared = (level: TemplateLevel): TemplateLevel => {
    const key = level.kind === "literal" ? `l${level.text}` : `p${level.pattern.source}`;
    const known = levels.get(key);
    if (known) return known;
    levels.set(key, level);
    return level;
  };
  let current = null as IndexedAddress | null;
  let entries = 0;
  for (const row of rows) {
    if (row.address === null) continue;
    if (current?.address !== row.address) {
      current = { address: row.address, order: addresses.length, entries: [] };
      addresses.push(current);
      let template = previous?.get(row.address);
      if (template === undefined) {
        const parsed = parseTemplate(row.address);
        template = parsed.ok ? { ...parsed.value, levels: parsed.value.levels.map(shared) } : null;
      }
      templates.set(row.address, template);
      // An invalid address (stored before validation) is kept in order but matches nothing, as before.
      if (template) trie.add(template, current);
    }
    current.entries.push({ id: Number(row.id), levelCount: row.levelCount, firstLevel: row.firstLevel });
    entries++;
  }
  return { addresses, trie, templates, entries };
}

/** Reads the channel entries in page order (at most one past the bound) and builds the index. */
async function loadChannelIndex(db: Executor, previous: ReadonlyMap<string, Template | null> | null): Promise<ChannelIndex | null> {
  const rows = await db
    .select({ id: catalogEntry.id, address: catalogEntry.address, levelCount: catalogEntry.levelCount, firstLevel: catalogEntry.firstLevel })
    .from(catalogEntry)
    .innerJoin(application, eq(application.id, catalogEntry.applicationId))
    .where(eq(catalogEntry.kind, "channel"))
    .orderBy(asc(catalogEntry.address), asc(application.slug), asc(catalogEntry.id))
    .limit(MAX_INDEXED_CHANNELS + 1);
  return buildChannelIndex(rows, MAX_INDEXED_CHANNELS, previous);
}

interface Held {
  generation: number;
  builtAt: number;
  index: Promise<ChannelIndex | null>;
}

/**
 * The process's channel indexes, one per database. Every catalog change heard bumps the generation: an index of an
 * older generation is never used again, so a build that raced a change is not kept. Our own announcements are
 * tracked from the moment they are made until they come back on the feed: meanwhile (the change may have committed
 * without our having heard yet) an index is built for the search at hand and not kept.
 */
export class ChannelIndexCache {
  readonly #held = new WeakMap<object, Held>();
  readonly #inFlight = new Map<string, number>();
  readonly #nonce = randomBytes(6).toString("hex");
  readonly #now: () => number;
  readonly #feedLive: () => boolean;
  readonly #load: (db: Executor, previous: ReadonlyMap<string, Template | null> | null) => Promise<ChannelIndex | null>;
  // Only the parsed addresses of the last build: its trie and entries go with it (a rebuild holds one index, not two).
  readonly #last = new WeakMap<object, Map<string, Template | null>>();
  #generation = 0;
  #sequence = 0;
  #subscribed = false;
  readonly #subscribe: (cache: ChannelIndexCache) => void;

  constructor(
    options: {
      now?: () => number;
      feedLive?: () => boolean;
      load?: (db: Executor, previous: ReadonlyMap<string, Template | null> | null) => Promise<ChannelIndex | null>;
      subscribe?: (cache: ChannelIndexCache) => void;
    } = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#feedLive = options.feedLive ?? changeFeedLive;
    this.#load = options.load ?? loadChannelIndex;
    this.#subscribe =
      options.subscribe ??
      ((cache) => {
        onChange("catalog", (payload) => cache.heard(payload));
        onFeedReset(() => cache.invalidate());
      });
  }

  /** The index of the database, built when there is none to trust; null when the catalog is past the bound. */
  get(db: Executor): Promise<ChannelIndex | null> {
    if (!this.#subscribed) {
      // Subscribed before the first build: a change committed while it reads is heard.
      this.#subscribed = true;
      this.#subscribe(this);
    }
    const now = this.#now();
    this.#prune(now);
    const held = this.#held.get(db);
    const watched = this.#feedLive();
    if (held && held.generation === this.#generation && (watched || now - held.builtAt < UNWATCHED_TRUST_MS)) return held.index;
    // The index it replaces is not used again: let it go while the new one builds.
    this.#held.delete(db);
    const index = this.#load(db, this.#last.get(db) ?? null);
    void index.then(
      (built) => {
        if (built) this.#last.set(db, built.templates);
        else this.#last.delete(db);
      },
      () => undefined,
    );
    if (this.#inFlight.size === 0) {
      const entry: Held = { generation: this.#generation, builtAt: now, index };
      this.#held.set(db, entry);
      // A failed build is not kept.
      index.catch(() => {
        if (this.#held.get(db) === entry) this.#held.delete(db);
      });
    }
    return index;
  }

  /** Drops every index: the next topic search builds a new one. */
  invalidate(): void {
    this.#generation++;
  }

  /** A catalog change was heard on the feed (ours or another instance's). */
  heard(payload: string): void {
    this.#inFlight.delete(payload.split(" ")[0] ?? "");
    this.invalidate();
  }

  /** Announces a catalog change in the writing transaction; until it is heard back, no index built here is kept. */
  async announce(tx: Executor, about: string): Promise<void> {
    const id = `${this.#nonce}.${++this.#sequence}`;
    const now = this.#now();
    // A process that publishes but never searches by topic prunes here too; past the bound the oldest go first
    // (an index built meanwhile is still dropped when that change is heard).
    this.#prune(now);
    while (this.#inFlight.size >= MAX_IN_FLIGHT) this.#inFlight.delete(this.#inFlight.keys().next().value!);
    // Heard back at commit; a rolled-back change never is, hence the deadline.
    this.#inFlight.set(id, now + UNWATCHED_TRUST_MS);
    this.invalidate();
    await announceChange(tx, "catalog", `${id} ${about}`.slice(0, 200));
  }

  /** Announcements of ours awaiting their echo (for tests). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Forgets announcements past their deadline: they were made in order, so the expired ones come first. */
  #prune(now: number): void {
    for (const [id, deadline] of this.#inFlight) {
      if (deadline > now) break;
      this.#inFlight.delete(id);
    }
  }
}

// On globalThis: route handlers and server actions may load this module separately, and they share one index.
const globalForIndex = globalThis as typeof globalThis & { __meshportChannelIndex?: ChannelIndexCache };

/** The process's channel index cache. */
export function channelIndexCache(): ChannelIndexCache {
  globalForIndex.__meshportChannelIndex ??= new ChannelIndexCache();
  return globalForIndex.__meshportChannelIndex;
}

/** Announces, inside the transaction that changes the search index, that the catalog's channels may have changed. */
export function announceCatalogChange(tx: Executor, appSlug: string): Promise<void> {
  return channelIndexCache().announce(tx, appSlug);
}
