/**
 * Payload validation for drift: one compiled ajv function per registry schema id, kept in a
 * bounded LRU the caller owns. AsyncAPI schema objects are a draft-07 superset, so ajv runs
 * non-strict (unknown keywords such as `discriminator` or `x-…` are ignored); a 2020-12 or
 * 2019-09 `$schema` picks the matching dialect. Only the first error is collected.
 */
import type Ajv from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { ajvFor, dialectOf, type Dialect } from "../jsonschema/ajv.ts";
import addFormats from "ajv-formats";

/** The outcome of checking one payload: valid, invalid with where and why, or null when it cannot be judged. */
export type PayloadCheck = { valid: true } | { valid: false; path: string; problem: string } | { valid: null; reason: string };

/** A schema as the registry stores it. */
export interface StoredSchema {
  format: string;
  schema: unknown;
}

const VALID: PayloadCheck = Object.freeze({ valid: true });

/** Escapes one JSON pointer token (RFC 6901). */
const pointerToken = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * The JSON pointer of the failing value (the root is ""): where ajv stopped, and for a missing or an extra
 * property that property itself, so the evidence points at the key and not at its parent.
 */
function failingPath(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const key = typeof params.missingProperty === "string" ? params.missingProperty : typeof params.additionalProperty === "string" ? params.additionalProperty : typeof params.unevaluatedProperty === "string" ? params.unevaluatedProperty : null;
  return key === null ? error.instancePath : `${error.instancePath}/${pointerToken(key)}`;
}

/** True for a JSON Schema format (what the normaliser records, and the AsyncAPI schema formats). */
export function isJsonSchemaFormat(format: string): boolean {
  const f = format.trim().toLowerCase();
  return f === "" || f.startsWith("application/schema+json") || f.startsWith("application/schema+yaml") || f === "application/schema" || f.startsWith("application/vnd.aai.asyncapi");
}

interface Entry {
  /** tick of the last use, for eviction */
  used: number;
  validate: ValidateFunction | null;
  /** the schema object compiled (to drop it from ajv's cache on eviction) */
  schema: unknown;
  ajv: Ajv | null;
  /** the remembered answer when the schema cannot be judged */
  unjudged: PayloadCheck | null;
}

/**
 * Validators of payloads by registry schema id. Compiles each id once; an id that cannot be
 * judged (unknown, not JSON Schema, not compilable) is remembered as such and never compiled again.
 */
export class PayloadValidators {
  private readonly entries = new Map<number, Entry>();
  private readonly engines: Partial<Record<Dialect, Ajv>> = {};
  private lastId = Number.NaN;
  private lastEntry: Entry | null = null;
  private clock = 0;

  constructor(
    private readonly getSchema: (id: number) => StoredSchema | undefined,
    private readonly maxEntries = 5_000,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError("The validator cache holds at least one schema.");
  }

  /** Number of schema ids held. */
  get size(): number {
    return this.entries.size;
  }

  /** Checks a parsed JSON value against the payload schema with the id. */
  check(schemaId: number, value: unknown): PayloadCheck {
    const entry = schemaId === this.lastId ? this.lastEntry! : this.entry(schemaId);
    entry.used = ++this.clock;
    const validate = entry.validate;
    if (validate === null) return entry.unjudged!;
    if (validate(value) === true) return VALID;
    const error = validate.errors?.[0];
    return { valid: false, path: error ? failingPath(error) : "", problem: error?.message ?? "does not match the schema" };
  }

  /** The JSON Schema stored under the id, or undefined when there is none or it is in another format. */
  jsonSchema(schemaId: number): unknown {
    const stored = this.getSchema(schemaId);
    return stored && isJsonSchemaFormat(stored.format) ? stored.schema : undefined;
  }

  private entry(id: number): Entry {
    let entry = this.entries.get(id);
    if (!entry) {
      if (this.entries.size >= this.maxEntries) this.evict();
      entry = this.compile(id);
      this.entries.set(id, entry);
    }
    this.lastId = id;
    this.lastEntry = entry;
    return entry;
  }

  /**
   * Drops the least recently used schema. A hit only stamps its entry (no reordering on the hot
   * path); the scan runs on a miss with a full cache, which costs a compile anyway.
   */
  private evict(): void {
    let oldestId = Number.NaN;
    let oldest: Entry | null = null;
    for (const [id, entry] of this.entries) {
      if (!oldest || entry.used < oldest.used) {
        oldestId = id;
        oldest = entry;
      }
    }
    if (!oldest) return;
    this.entries.delete(oldestId);
    if (oldest.ajv && oldest.schema !== null && typeof oldest.schema === "object") oldest.ajv.removeSchema(oldest.schema as object);
  }

  private compile(id: number): Entry {
    const unjudged = (reason: string): Entry => ({ used: 0, validate: null, schema: null, ajv: null, unjudged: { valid: null, reason } });
    const stored = this.getSchema(id);
    if (!stored) return unjudged(`No schema with id ${id} is known.`);
    if (!isJsonSchemaFormat(stored.format)) return unjudged(`Schema ${id} is in format ${stored.format.slice(0, 100)}, which is not validated.`);
    const schema = stored.schema;
    if (typeof schema === "boolean") return { used: 0, validate: this.engine("draft7").compile(schema), schema, ajv: null, unjudged: null };
    if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return unjudged(`Schema ${id} is not a JSON Schema object.`);
    const ajv = this.engine(dialectOf(schema));
    try {
      return { used: 0, validate: ajv.compile(schema), schema, ajv, unjudged: null };
    } catch (error) {
      ajv.removeSchema(schema);
      return unjudged(`Schema ${id} cannot be compiled: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}`);
    }
  }

  private engine(dialect: Dialect): Ajv {
    let ajv = this.engines[dialect];
    if (!ajv) {
      ajv = ajvFor(dialect);
      addFormats(ajv);
      this.engines[dialect] = ajv;
    }
    return ajv;
  }
}
