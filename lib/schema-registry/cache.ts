import type { ParsedSchema } from "@/registry/schematypes/index.ts";

/*
 * In-process caches keyed by global schema id. A schema's content never changes under its id, so an entry stays
 * right until the id stops being served (every subject version holding it permanently deleted): those deletes
 * evict once they commit, and entries expire after a while so other portal instances converge too. Bounded by
 * entries and by an estimated weight, least recently used out first.
 */

/** A least-recently-used map bounded by entry count and by a total weight, entries optionally expiring. */
export class BoundedLru<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number; expires: number }>();
  private weight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
    private readonly weigh: (value: V) => number,
    private readonly options: { ttlMs?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.delete(key);
      return undefined;
    }
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    const weight = this.weigh(value);
    this.delete(key);
    if (weight > this.maxWeight) return;
    this.entries.set(key, { value, weight, expires: this.options.ttlMs === undefined ? Infinity : this.now() + this.options.ttlMs });
    this.weight += weight;
    while (this.entries.size > this.maxEntries || this.weight > this.maxWeight) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.weight -= entry.weight;
  }

  clear(): void {
    this.entries.clear();
    this.weight = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** What `GET /schemas/ids/{id}` answers. */
export interface CachedSchema {
  view: { schema: string; schemaType?: ParsedSchema["schemaType"]; references?: Array<{ name: string; subject: string; version: number }> };
}

const MAX_VIEWS = 10_000;
const MAX_VIEW_CHARACTERS = 64 * 1024 * 1024;
/** How long another instance may serve an id this one deleted permanently. */
export const VIEW_TTL_MS = 60_000;

/** Served schemas by id. */
export const schemaViews = new BoundedLru<number, CachedSchema>(MAX_VIEWS, MAX_VIEW_CHARACTERS, (v) => v.view.schema.length + 64, { ttlMs: VIEW_TTL_MS });

const MAX_PARSED = 2_000;
/** Estimated heap of parsed forms: avsc Types, protobufjs Roots and JSON Schema handles hold far more than the text. */
const MAX_PARSED_WEIGHT = 256 * 1024 * 1024;
/** Estimated bytes of heap per character of canonical text (measured order of magnitude, not a bound). */
const PARSED_BYTES_PER_CHARACTER = 20;

/** The weight of a parsed schema in the cache: its estimated heap. */
export function parsedWeight(parsed: Pick<ParsedSchema, "canonical">): number {
  return parsed.canonical.length * PARSED_BYTES_PER_CHARACTER + 4096;
}

/** Parsed schemas by id, for compatibility checks against stored versions (parsing is the costly part). */
export const parsedSchemas = new BoundedLru<number, ParsedSchema>(MAX_PARSED, MAX_PARSED_WEIGHT, parsedWeight);

// Bumped by every eviction: a look-up that started before one must not put back what it read.
let epoch = 0;

/** The eviction count now; pass it to cacheSchemaView after the database read. */
export function evictionEpoch(): number {
  return epoch;
}

/** Caches a view read from the database, unless an eviction ran since `readEpoch` (the read may predate a delete). */
export function cacheSchemaView(id: number, entry: CachedSchema, readEpoch: number): void {
  if (readEpoch === epoch) schemaViews.set(id, entry);
}

/** Forgets ids that are no longer served: call after the permanent delete has committed. */
export function evictSchemas(ids: Iterable<number>): void {
  epoch += 1;
  for (const id of ids) {
    schemaViews.delete(id);
    parsedSchemas.delete(id);
  }
}

/** Empties the caches (tests, a fresh database). */
export function clearRegistryCaches(): void {
  epoch += 1;
  schemaViews.clear();
  parsedSchemas.clear();
}
