import type { ParsedSchema } from "@/registry/schematypes/index.ts";

/*
 * In-process caches keyed by global schema id. A schema's content never changes under its id, so an entry stays
 * right until the id stops being served (every subject version holding it permanently deleted): those deletes
 * evict. Bounded by entries and by the characters held, least recently used out first.
 */

/** A least-recently-used map bounded by entry count and by a total weight (characters of schema text). */
export class BoundedLru<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private weight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
    private readonly weigh: (value: V) => number,
  ) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    const weight = this.weigh(value);
    this.delete(key);
    if (weight > this.maxWeight) return;
    this.entries.set(key, { value, weight });
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

/** What `GET /schemas/ids/{id}` answers, and the subjects known to hold the id (for `?subject=`). */
export interface CachedSchema {
  view: { schema: string; schemaType?: ParsedSchema["schemaType"]; references?: Array<{ name: string; subject: string; version: number }> };
  subjects: Set<string>;
}

const MAX_ENTRIES = 10_000;
const MAX_CHARACTERS = 64 * 1024 * 1024;

/** Served schemas by id. */
export const schemaViews = new BoundedLru<number, CachedSchema>(MAX_ENTRIES, MAX_CHARACTERS, (v) => v.view.schema.length + 64);

/** Parsed schemas by id, for compatibility checks against stored versions (parsing is the costly part). */
export const parsedSchemas = new BoundedLru<number, ParsedSchema>(MAX_ENTRIES, MAX_CHARACTERS, (p) => p.canonical.length * 4 + 64);

/** Forgets ids that are no longer served (after a permanent delete). */
export function evictSchemas(ids: Iterable<number>): void {
  for (const id of ids) {
    schemaViews.delete(id);
  }
}

/** Empties the caches (tests, a fresh database). */
export function clearRegistryCaches(): void {
  schemaViews.clear();
  parsedSchemas.clear();
}
