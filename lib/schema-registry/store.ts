import "server-only";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { registrySchema, registrySchemaReference, registrySubject, registrySubjectVersion, type SchemaReference } from "@/db/schema.ts";
import { MAX_REFERENCES, type ParsedSchema, type ResolvedReference, type SchemaReferenceInput, type SchemaType } from "@/registry/schematypes/index.ts";
import { registryErrors } from "./errors.ts";

/*
 * The registry's rows: schemas (global, content-addressed ids), subject versions, and the references between
 * them. Every function runs in the caller's transaction; permission and audit are the caller's.
 */

/** Deepest chain of references resolved (a references b references c ...). */
export const MAX_REFERENCE_DEPTH = 16;
/** Largest int4: versions and ids are int4 columns. */
export const MAX_INT4 = 2_147_483_647;

/** The schema type of a stored format (contract payloads carry JSON Schema unless they say otherwise). */
export function schemaTypeOfFormat(format: string): SchemaType {
  const f = format.toLowerCase();
  if (f.includes("avro")) return "AVRO";
  if (f.includes("protobuf")) return "PROTOBUF";
  return "JSON";
}

/** A stored schema row as the registry reads it. */
export interface StoredSchema {
  id: number;
  hash: string;
  format: string;
  canonical: string;
  references: SchemaReference[];
}

/**
 * Stores a parsed schema and returns its global id: the same schema (same hash) keeps the id it got first.
 * A new schema also gets its reference rows. With `id` (IMPORT mode), the schema goes under that id: the id must
 * be free or already hold this schema, and the schema must not already be stored under another id (42207).
 */
export async function storeSchema(tx: Executor, parsed: ParsedSchema, options: { id?: number } = {}): Promise<number> {
  const references = parsed.references.map(({ name, subject, version }) => ({ name, subject, version }));
  if (options.id !== undefined) return importSchema(tx, parsed, references, options.id);
  const [inserted] = await tx
    .insert(registrySchema)
    .values({ hash: parsed.hash, format: parsed.format, canonical: parsed.canonical, references })
    .onConflictDoNothing({ target: registrySchema.hash })
    .returning({ id: registrySchema.id });
  if (inserted) {
    await insertReferenceRows(tx, inserted.id, references);
    return inserted.id;
  }
  const [existing] = await tx.select({ id: registrySchema.id }).from(registrySchema).where(eq(registrySchema.hash, parsed.hash));
  if (!existing) throw registryErrors.storeError();
  return existing.id;
}

async function importSchema(tx: Executor, parsed: ParsedSchema, references: SchemaReference[], id: number): Promise<number> {
  const [byId] = await tx.select({ hash: registrySchema.hash }).from(registrySchema).where(eq(registrySchema.id, id));
  if (byId) {
    if (byId.hash === parsed.hash) return id;
    throw registryErrors.idDoesNotMatch(`Overwrite new schema with id ${id} is not permitted: the id holds another schema.`);
  }
  const [byHash] = await tx.select({ id: registrySchema.id }).from(registrySchema).where(eq(registrySchema.hash, parsed.hash));
  if (byHash) throw registryErrors.idDoesNotMatch(`Schema already registered with id ${byHash.id} instead of input id ${id}`);
  await tx.execute(
    sql`insert into "schema" ("id", "hash", "format", "canonical", "references") overriding system value
        values (${id}, ${parsed.hash}, ${parsed.format}, ${parsed.canonical}, ${JSON.stringify(references)}::jsonb)`,
  );
  // The next id the sequence hands out must lie past every imported one (never lower it: others may have drawn).
  await tx.execute(
    sql`select setval(pg_get_serial_sequence('"schema"', 'id'),
          greatest(${id}::bigint, coalesce(pg_sequence_last_value(pg_get_serial_sequence('"schema"', 'id')::regclass), 0)))`,
  );
  await insertReferenceRows(tx, id, references);
  return id;
}

async function insertReferenceRows(tx: Executor, schemaId: number, references: readonly SchemaReference[]): Promise<void> {
  if (references.length === 0) return;
  await tx
    .insert(registrySchemaReference)
    .values(references.map((ref, position) => ({ schemaId, position, name: ref.name, subject: ref.subject, version: ref.version })))
    .onConflictDoNothing();
}

/** The next version number of a subject: past every row it has, soft-deleted ones included (numbers are never reused). */
export async function nextVersion(tx: Executor, subjectId: string): Promise<number> {
  const [row] = await tx
    .select({ max: sql<number | null>`max(${registrySubjectVersion.version})` })
    .from(registrySubjectVersion)
    .where(eq(registrySubjectVersion.subjectId, subjectId));
  const next = Number(row?.max ?? 0) + 1;
  if (next > MAX_INT4) throw registryErrors.storeError("The subject has no version numbers left.");
  return next;
}

/** A new subject version row. */
export interface NewVersion {
  subjectId: string;
  version: number;
  schemaId: number;
  /** The level it was checked under. */
  compatibility: string;
  registeredByLabel: string;
  contractVersionId?: string | null;
}

/** Inserts one subject version. */
export async function insertVersion(tx: Executor, version: NewVersion): Promise<void> {
  await tx.insert(registrySubjectVersion).values({
    subjectId: version.subjectId,
    version: version.version,
    schemaId: version.schemaId,
    compatibility: version.compatibility,
    registeredByLabel: version.registeredByLabel,
    contractVersionId: version.contractVersionId ?? null,
  });
}

/** A stored schema by id, or undefined. */
export async function schemaById(tx: Executor, id: number): Promise<StoredSchema | undefined> {
  const [row] = await tx
    .select({
      id: registrySchema.id,
      hash: registrySchema.hash,
      format: registrySchema.format,
      canonical: registrySchema.canonical,
      references: registrySchema.references,
    })
    .from(registrySchema)
    .where(eq(registrySchema.id, id));
  return row;
}

/** The schema of a version of a subject (live only, unless `deleted`), or undefined. */
async function versionSchema(tx: Executor, subject: string, version: number, deleted: boolean): Promise<StoredSchema | undefined> {
  const [row] = await tx
    .select({
      id: registrySchema.id,
      hash: registrySchema.hash,
      format: registrySchema.format,
      canonical: registrySchema.canonical,
      references: registrySchema.references,
    })
    .from(registrySubjectVersion)
    .innerJoin(registrySubject, eq(registrySubject.id, registrySubjectVersion.subjectId))
    .innerJoin(registrySchema, eq(registrySchema.id, registrySubjectVersion.schemaId))
    .where(
      deleted
        ? and(eq(registrySubject.name, subject), eq(registrySubjectVersion.version, version))
        : and(
            eq(registrySubject.name, subject),
            eq(registrySubjectVersion.version, version),
            isNull(registrySubject.deletedAt),
            isNull(registrySubjectVersion.deletedAt),
          ),
    );
  return row;
}

/**
 * Loads the schemas that references point at, and theirs in turn, for the engine. At most MAX_REFERENCES distinct
 * subject versions in all and MAX_REFERENCE_DEPTH levels; a reference to a subject or version that does not
 * exist or is soft-deleted is refused (42201), as Confluent refuses it. `deleted` also follows soft-deleted versions:
 * for schemas already stored, whose references were checked when they were registered.
 */
export async function resolveReferences(
  tx: Executor,
  refs: readonly SchemaReferenceInput[],
  options: { deleted?: boolean } = {},
): Promise<ResolvedReference[]> {
  const loaded = new Map<string, StoredSchema>();
  // A version referenced along several paths resolves once (a diamond of references stays linear).
  const resolved = new Map<string, readonly ResolvedReference[]>();
  const resolve = async (list: readonly SchemaReferenceInput[], depth: number): Promise<ResolvedReference[]> => {
    if (depth > MAX_REFERENCE_DEPTH) throw registryErrors.invalidSchema(`Invalid schema: references nest deeper than ${MAX_REFERENCE_DEPTH} levels.`);
    const out: ResolvedReference[] = [];
    for (const ref of list) {
      if (!Number.isInteger(ref.version) || ref.version < 1 || ref.version > MAX_INT4) {
        throw registryErrors.invalidSchema(`Invalid schema: reference ${ref.name} names version ${ref.version} of subject ${ref.subject}, not a valid version.`);
      }
      const key = `${ref.subject}\u0000${ref.version}`;
      let stored = loaded.get(key);
      if (!stored) {
        if (loaded.size >= MAX_REFERENCES) throw registryErrors.invalidSchema(`Invalid schema: more than ${MAX_REFERENCES} references.`);
        stored = await versionSchema(tx, ref.subject, ref.version, options.deleted === true);
        if (!stored) {
          throw registryErrors.invalidSchema(`Invalid schema: reference ${ref.name} to subject ${ref.subject} version ${ref.version} not found.`);
        }
        loaded.set(key, stored);
      }
      let nested = resolved.get(key);
      if (!nested) {
        nested = await resolve(stored.references, depth + 1);
        resolved.set(key, nested);
      }
      out.push({
        name: ref.name,
        subject: ref.subject,
        version: ref.version,
        schemaType: schemaTypeOfFormat(stored.format),
        schema: stored.canonical,
        references: nested,
      });
    }
    return out;
  };
  return resolve(refs, 1);
}
