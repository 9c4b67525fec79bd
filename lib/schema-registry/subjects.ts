import "server-only";
import { createHash } from "node:crypto";
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { registrySchema, registrySubject, registrySubjectVersion, type RegistrySubject, type SchemaReference } from "@/db/schema.ts";
import { newId } from "@/lib/ids.ts";
import { MAX_REFERENCES, MAX_SCHEMA_BYTES, SCHEMA_TYPES, type SchemaType } from "@/registry/schematypes/index.ts";
import { registryErrors } from "./errors.ts";
import { MAX_INT4 } from "./store.ts";

/*
 * Subjects as the registry reads them: names, version selectors, the request body, the per-subject lock, and the
 * versions of a subject with their schemas.
 */

/** Longest subject name. */
export const MAX_SUBJECT_LENGTH = 255;
/** Longest reference name (an Avro full name, a `$ref` URL, an import path). */
export const MAX_REFERENCE_NAME_LENGTH = 1024;

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Validates a subject name for a write (1..255 characters, no control characters), else 42208. */
export function validSubjectName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_SUBJECT_LENGTH || CONTROL_CHARACTERS.test(name)) {
    const shown = typeof name === "string" ? name.slice(0, 64) : String(name);
    throw registryErrors.invalidSubject(`The specified subject '${shown}' is not a valid subject name: 1 to ${MAX_SUBJECT_LENGTH} characters, no control characters.`);
  }
  return name;
}

/** True when a name could name a stored subject (reads answer "not found" for the others without a look-up). */
export function couldBeSubjectName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_SUBJECT_LENGTH;
}

/** A version selector as the service reads it: a number in [1, 2^31-1], or the latest (`latest`, -1). */
export function parseVersion(version: unknown): number | "latest" {
  if (version === "latest" || version === -1 || version === "-1") return "latest";
  const n = typeof version === "string" && /^[0-9]{1,10}$/.test(version) ? Number(version) : version;
  if (typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= MAX_INT4) return n;
  throw registryErrors.invalidVersion(String(version).slice(0, 64));
}

/** A validated registration or look-up body. */
export interface ValidRequest {
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  id?: number;
  version?: number;
}

/** Validates what the route layer passed on (shape, sizes, numbers in int4), else 42201 / 42202. */
export function validRequest(raw: unknown): ValidRequest {
  if (typeof raw !== "object" || raw === null) throw registryErrors.invalidSchema("Invalid schema: the request has no schema.");
  const body = raw as Record<string, unknown>;
  if (typeof body.schema !== "string" || body.schema.length === 0) throw registryErrors.invalidSchema("Invalid schema: `schema` must be a non-empty string.");
  if (Buffer.byteLength(body.schema, "utf8") > MAX_SCHEMA_BYTES) {
    throw registryErrors.invalidSchema(`Invalid schema: larger than ${MAX_SCHEMA_BYTES} bytes.`);
  }
  const typeName = body.schemaType === undefined || body.schemaType === null ? "AVRO" : body.schemaType;
  const schemaType = SCHEMA_TYPES.find((t) => typeof typeName === "string" && t === typeName.toUpperCase());
  if (!schemaType) throw registryErrors.invalidSchema(`Invalid schema type ${String(typeName).slice(0, 32)}: valid types are ${SCHEMA_TYPES.join(", ")}.`);
  const references: SchemaReference[] = [];
  if (body.references !== undefined && body.references !== null) {
    if (!Array.isArray(body.references)) throw registryErrors.invalidSchema("Invalid schema: `references` must be a list.");
    if (body.references.length > MAX_REFERENCES) throw registryErrors.invalidSchema(`Invalid schema: more than ${MAX_REFERENCES} references.`);
    for (const item of body.references as unknown[]) {
      const ref = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
      const { name, subject, version } = ref;
      if (typeof name !== "string" || name.length === 0 || name.length > MAX_REFERENCE_NAME_LENGTH) {
        throw registryErrors.invalidSchema("Invalid schema: a reference needs a `name` of 1 to 1024 characters.");
      }
      if (typeof subject !== "string" || !couldBeSubjectName(subject)) {
        throw registryErrors.invalidSchema(`Invalid schema: reference ${name.slice(0, 64)} needs a \`subject\` of 1 to ${MAX_SUBJECT_LENGTH} characters.`);
      }
      if (typeof version !== "number" || !Number.isInteger(version) || version < 1 || version > MAX_INT4) {
        throw registryErrors.invalidSchema(`Invalid schema: reference ${name.slice(0, 64)} needs a \`version\` between 1 and 2^31-1.`);
      }
      references.push({ name, subject, version });
    }
  }
  const out: ValidRequest = { schema: body.schema, schemaType, references };
  for (const key of ["id", "version"] as const) {
    const value = body[key];
    if (value === undefined || value === null) continue;
    // Confluent's clients send their defaults for "not set": id -1 (any id below 1), version 0 (or -1).
    if (value === 0 || value === -1 || (key === "id" && typeof value === "number" && Number.isInteger(value) && value < 0)) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_INT4) {
      if (key === "version") throw registryErrors.invalidVersion(String(value).slice(0, 64));
      throw registryErrors.invalidSchema(`Invalid schema: \`id\` must be between 1 and 2^31-1 (got ${String(value).slice(0, 32)}).`);
    }
    out[key] = value;
  }
  return out;
}

// Per-subject advisory locks share one key space; a distinct prefix keeps them apart from other locks.
function subjectLockKey(name: string): bigint {
  return createHash("sha256").update("registry-subject\u0000").update(name).digest().readBigInt64BE(0);
}

/** Serialises changes to one subject (by name, so a subject not yet created is covered too) for the transaction. */
export async function lockSubject(tx: Executor, name: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${subjectLockKey(name).toString()}::bigint)`);
}

/** The subject row of a name (soft-deleted or not), or undefined. */
export async function findSubject(tx: Executor, name: string): Promise<RegistrySubject | undefined> {
  if (!couldBeSubjectName(name)) return undefined;
  const [row] = await tx.select().from(registrySubject).where(eq(registrySubject.name, name));
  return row;
}

/** The subject row of a name, created (with no versions, owned by `teamId`) when missing. */
export async function ensureSubject(tx: Executor, name: string, teamId: string | null): Promise<RegistrySubject> {
  await tx.insert(registrySubject).values({ id: newId("subj"), name, teamId }).onConflictDoNothing({ target: registrySubject.name });
  const row = await findSubject(tx, name);
  if (!row) throw registryErrors.storeError();
  return row;
}

/** Most live versions a subject holds: a transitive check parses and compares every one of them. */
export const MAX_LIVE_VERSIONS = 1000;

/** One version of a subject as listings and selectors need it: its schema's text is loaded only when served. */
export interface VersionRow {
  version: number;
  schemaId: number;
  deleted: boolean;
  hash: string;
  /** The level it was checked under. */
  compatibility: string;
}

const versionColumns = {
  version: registrySubjectVersion.version,
  schemaId: registrySubjectVersion.schemaId,
  deletedAt: registrySubjectVersion.deletedAt,
  hash: registrySchema.hash,
  compatibility: registrySubjectVersion.compatibility,
};

/** A subject's versions, oldest first; soft-deleted ones only with `deleted`. */
export async function versionsOf(tx: Executor, subjectId: string, options: { deleted?: boolean } = {}): Promise<VersionRow[]> {
  const rows = await tx
    .select(versionColumns)
    .from(registrySubjectVersion)
    .innerJoin(registrySchema, eq(registrySchema.id, registrySubjectVersion.schemaId))
    .where(
      options.deleted
        ? eq(registrySubjectVersion.subjectId, subjectId)
        : and(eq(registrySubjectVersion.subjectId, subjectId), isNull(registrySubjectVersion.deletedAt)),
    )
    .orderBy(asc(registrySubjectVersion.version));
  return rows.map(({ deletedAt, ...row }) => ({ ...row, deleted: deletedAt !== null }));
}

/** The version of a subject holding the schema with this hash (live ones first, then the oldest), or undefined. */
export async function versionWithHash(tx: Executor, subjectId: string, hash: string, options: { deleted?: boolean } = {}): Promise<VersionRow | undefined> {
  const [row] = await tx
    .select(versionColumns)
    .from(registrySubjectVersion)
    .innerJoin(registrySchema, eq(registrySchema.id, registrySubjectVersion.schemaId))
    .where(
      and(
        eq(registrySubjectVersion.subjectId, subjectId),
        eq(registrySchema.hash, hash),
        options.deleted ? undefined : isNull(registrySubjectVersion.deletedAt),
      ),
    )
    .orderBy(sql`${registrySubjectVersion.deletedAt} is not null`, asc(registrySubjectVersion.version))
    .limit(1);
  if (!row) return undefined;
  const { deletedAt, ...rest } = row;
  return { ...rest, deleted: deletedAt !== null };
}

/**
 * A subject as reads see it, with its visible versions: live ones, or with `deleted` soft-deleted ones too. A
 * subject without visible versions (soft-deleted, or only configured) is not found (40401).
 */
export async function visibleSubject(
  tx: Executor,
  name: string,
  options: { deleted?: boolean } = {},
): Promise<{ subject: RegistrySubject; versions: VersionRow[] }> {
  const subject = await findSubject(tx, name);
  if (!subject || (subject.deletedAt && !options.deleted)) throw registryErrors.subjectNotFound(name);
  const versions = await versionsOf(tx, subject.id, { deleted: options.deleted });
  if (versions.length === 0) throw registryErrors.subjectNotFound(name);
  return { subject, versions };
}

/** The version a selector names among visible versions, else 40402. */
export function pickVersion(versions: readonly VersionRow[], selector: number | "latest"): VersionRow {
  if (selector === "latest") {
    const live = versions.filter((v) => !v.deleted);
    const latest = (live.length > 0 ? live : versions).at(-1);
    if (!latest) throw registryErrors.versionNotFound(selector);
    return latest;
  }
  const found = versions.find((v) => v.version === selector);
  if (!found) throw registryErrors.versionNotFound(selector);
  return found;
}
