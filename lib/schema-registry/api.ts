import "server-only";
import { and, asc, eq, inArray, isNull, ne, sql, type SQL } from "drizzle-orm";
import { getDb, type Executor } from "@/db/client.ts";
import { registrySchema, registrySchemaReference, registrySubject, registrySubjectVersion, type RegistrySubject, type SchemaReference } from "@/db/schema.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { principalLabel } from "@/lib/auth/principal.ts";
import { defineCommand } from "@/lib/service.ts";
import type { CompatibilityMode } from "@/registry/index.ts";
import { judgeCompatibility, nonTransitive } from "./judge.ts";
import { serializedProtobuf } from "@/registry/schematypes/protobuf.ts";
import { checkCompatibility, parseSchema, type ParsedSchema, type SchemaType } from "@/registry/schematypes/index.ts";
import { assertReadsRegistry, assertRegistryAdmin, assertWritesSubject, ownerOfSubject, teamForNewSubject, type SubjectOwner } from "./access.ts";
import { cacheSchemaView, evictionEpoch, evictSchemas, parsedSchemas, schemaViews, type CachedSchema } from "./cache.ts";
import { effectiveLevel, effectiveRegistryMode, globalConfig } from "./config.ts";
import { registryErrors } from "./errors.ts";
import { insertVersion, MAX_INT4, nextVersion, resolveReferences, schemaById, schemaTypeOfFormat, storeSchema } from "./store.ts";
import {
  ensureSubject,
  findSubject,
  lockSubject,
  MAX_LIVE_VERSIONS,
  parseVersion,
  pickVersion,
  validRequest,
  validSubjectName,
  versionsOf,
  versionWithHash,
  visibleSubject,
  type ValidRequest,
  type VersionRow,
} from "./subjects.ts";

export { getCompatibility, setCompatibility, deleteCompatibility, getMode, setMode, deleteMode } from "./config.ts";

/*
 * The registry as Confluent's REST API sees it: one function per operation, Confluent's semantics, Confluent's
 * errors (RegistryError, errors.ts). The route layer (app/api/schema-registry) parses HTTP and maps errors; the
 * portal pages use views.ts. Reads need `catalog:read`; registering, deleting and configuring a subject need
 * `contracts:write` for the subject's team, or an admin; the registry-wide config and mode are an admin's.
 */

/** A registration or look-up request body, validated by the route layer for shape only. */
export interface SchemaRequest {
  schema: string;
  /** Confluent's default when absent: AVRO. */
  schemaType?: SchemaType;
  references?: SchemaReference[];
  /** IMPORT mode only: the id and version to register under. */
  id?: number;
  version?: number;
}

/** A version as `GET /subjects/{s}/versions/{v}` answers it (schemaType omitted for AVRO, references when any). */
export interface SubjectVersionView {
  subject: string;
  id: number;
  version: number;
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

/** A schema as `GET /schemas/ids/{id}` answers it. */
export interface SchemaView {
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

export type VersionSelector = number | "latest";

/** Most engine messages an incompatibility error lists. */
const MAX_MESSAGES = 50;
/** Most subjects one `GET /subjects` answers. */
const MAX_LISTED_SUBJECTS = 100_000;

function schemaFields(format: string, canonical: string, references: readonly SchemaReference[]): SchemaView {
  const schemaType = schemaTypeOfFormat(format);
  return {
    schema: canonical,
    ...(schemaType !== "AVRO" ? { schemaType } : {}),
    ...(references.length > 0 ? { references: references.map(({ name, subject, version }) => ({ name, subject, version })) } : {}),
  };
}

/** The stored schema of a version, loaded only for the version served or compared. */
async function storedSchemaOf(tx: Executor, row: VersionRow) {
  const stored = await schemaById(tx, row.schemaId);
  if (!stored) throw registryErrors.storeError(`Stored schema ${row.schemaId} is missing.`);
  return stored;
}

async function versionView(tx: Executor, subject: string, row: VersionRow): Promise<SubjectVersionView> {
  const stored = await storedSchemaOf(tx, row);
  return { subject, id: row.schemaId, version: row.version, ...schemaFields(stored.format, stored.canonical, stored.references) };
}

/** The engine's form of a stored version (cached by id: content is immutable), naming its version for messages. */
async function parsedVersion(tx: Executor, row: VersionRow): Promise<ParsedSchema> {
  let parsed = parsedSchemas.get(row.schemaId);
  if (!parsed) {
    const stored = await storedSchemaOf(tx, row);
    const references = await resolveReferences(tx, stored.references, { deleted: true });
    const outcome = parseSchema({ schemaType: schemaTypeOfFormat(stored.format), schema: stored.canonical, references });
    if (!outcome.ok) throw registryErrors.storeError(`Stored schema ${row.schemaId} no longer parses: ${outcome.message.slice(0, 500)}`);
    parsed = outcome.schema;
    parsedSchemas.set(row.schemaId, parsed);
  }
  // A copy: the cached form is shared by every subject holding the id; messages name this subject's version.
  return Object.assign({}, parsed, { version: row.version });
}

/** Parses a request's schema with its references loaded, else 42201 with the engine's message. */
async function parseRequest(tx: Executor, request: ValidRequest): Promise<ParsedSchema> {
  const references = await resolveReferences(tx, request.references);
  const outcome = parseSchema({ schemaType: request.schemaType, schema: request.schema, references });
  if (!outcome.ok) throw registryErrors.invalidSchema(outcome.message);
  return outcome.schema;
}

/** The versions a level compares a candidate with: none, the latest, or all (transitive). */
async function earlierFor(tx: Executor, level: CompatibilityMode, live: readonly VersionRow[]): Promise<ParsedSchema[]> {
  if (level === "NONE" || live.length === 0) return [];
  const rows = level.endsWith("_TRANSITIVE") ? live : live.slice(-1);
  const out: ParsedSchema[] = [];
  for (const row of rows) out.push(await parsedVersion(tx, row));
  return out;
}

function incompatibleError(subject: string, messages: readonly string[]) {
  const shown = messages.slice(0, MAX_MESSAGES);
  const more = messages.length > shown.length ? [`... ${messages.length - shown.length} more`] : [];
  return registryErrors.incompatible(
    `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${[...shown, ...more].join(", ")}]`,
  );
}

function governedError(subject: string, owner: SubjectOwner) {
  if (owner.application) {
    const slug = owner.application.slug;
    const team = owner.team ? ` (team '${owner.team.slug}')` : "";
    return registryErrors.incompatible(
      `Subject '${subject}' is governed by the contract of application '${slug}'${team}; propose the change there: /catalog/${slug}/publish`,
    );
  }
  return registryErrors.incompatible(`Subject '${subject}' is governed by a contract; propose the change in that contract.`);
}

function subjectAuditDetails(subject: string, owner: SubjectOwner): Record<string, unknown> {
  return { subject, ...(owner.application ? { application: owner.application.slug } : {}) };
}

/**
 * `GET /subjects`: names with live versions (with `deleted`, soft-deleted ones too; with `deletedOnly`, only
 * those), in byte order. Subjects that only carry config (no versions) are never listed.
 */
export async function listSubjects(
  principal: Principal,
  options: { deleted?: boolean; deletedOnly?: boolean; prefix?: string; offset?: number; limit?: number },
): Promise<string[]> {
  assertReadsRegistry(principal);
  const prefix = options.prefix === ":*:" ? "" : (options.prefix ?? "");
  if (prefix.length > 255) return [];
  const db = await getDb();
  const anyVersion = sql`exists (select 1 from ${registrySubjectVersion} where ${registrySubjectVersion.subjectId} = ${registrySubject.id})`;
  const live = sql`(${registrySubject.deletedAt} is null and exists (select 1 from ${registrySubjectVersion} where ${registrySubjectVersion.subjectId} = ${registrySubject.id} and ${registrySubjectVersion.deletedAt} is null))`;
  const conditions: SQL[] = options.deletedOnly ? [anyVersion, sql`not ${live}`] : options.deleted ? [anyVersion] : [live];
  if (prefix) conditions.push(sql`${registrySubject.name} like ${escapeLike(prefix) + "%"} escape '\\'`);
  const offset = Number.isInteger(options.offset) && options.offset! > 0 ? Math.min(options.offset!, MAX_INT4) : 0;
  const limit = Number.isInteger(options.limit) && options.limit! > 0 ? Math.min(options.limit!, MAX_LISTED_SUBJECTS) : MAX_LISTED_SUBJECTS;
  const rows = await db
    .select({ name: registrySubject.name })
    .from(registrySubject)
    .where(and(...conditions))
    .orderBy(sql`${registrySubject.name} collate "C"`)
    .offset(offset)
    .limit(limit);
  return rows.map((r) => r.name);
}

/** A LIKE pattern matching the text literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `GET /subjects/{s}/versions`. */
export async function listVersions(principal: Principal, subject: string, options: { deleted?: boolean }): Promise<number[]> {
  assertReadsRegistry(principal);
  const db = await getDb();
  const { versions } = await visibleSubject(db, subject, options);
  return versions.map((v) => v.version);
}

/** `GET /subjects/{s}/versions/{v}`: `latest` (or -1) the newest; `deleted` also serves soft-deleted versions. */
export async function getSubjectVersion(principal: Principal, subject: string, version: VersionSelector, options: { deleted?: boolean }): Promise<SubjectVersionView> {
  assertReadsRegistry(principal);
  const selector = parseVersion(version);
  const db = await getDb();
  const { versions } = await visibleSubject(db, subject, options);
  return versionView(db, subject, pickVersion(versions, selector));
}

/** `POST /subjects/{s}`: the version of this subject holding this schema. */
export async function lookUpSchema(principal: Principal, subject: string, request: SchemaRequest, options: { deleted?: boolean; normalize?: boolean }): Promise<SubjectVersionView> {
  assertReadsRegistry(principal);
  const valid = validRequest(request);
  const db = await getDb();
  const { subject: row } = await visibleSubject(db, subject, { deleted: options.deleted });
  const parsed = await parseRequest(db, valid);
  const found = await versionWithHash(db, row.id, parsed.hash, { deleted: options.deleted || row.deletedAt !== null });
  if (!found) throw registryErrors.schemaNotFound();
  return versionView(db, subject, found);
}

const registerCommand = defineCommand({
  permission: "contracts:write",
  // A schema without references parses here, before the transaction: the subject's lock is not held meanwhile.
  input: (raw: unknown): { request: ValidRequest; parsed?: ParsedSchema } => {
    const request = validRequest(raw);
    if (request.references.length > 0) return { request };
    const outcome = parseSchema({ schemaType: request.schemaType, schema: request.schema, references: [] });
    if (!outcome.ok) throw registryErrors.invalidSchema(outcome.message);
    return { request, parsed: outcome.schema };
  },
  audit: "registry.schema.register",
  // Registering a schema the subject already holds changes nothing and records nothing.
  auditOptional: true,
  run: async ({ tx, principal, input: { request, parsed: parsedEarly }, audit }, name: string): Promise<{ id: number }> => {
    // A given id is an import: admins only (see setMode), whatever the subject's team may do otherwise.
    if (request.id !== undefined) assertRegistryAdmin(principal, "register a schema under a given id");
    const parsed = parsedEarly ?? (await parseRequest(tx, request));
    if (request.id !== undefined && effectiveRegistryMode(await findSubject(tx, name), await globalConfig(tx)) !== "IMPORT") {
      throw registryErrors.operationNotPermitted(`Subject ${name} is not in import mode: a schema id can be given only in IMPORT mode`);
    }
    // The schema row first, then the subject's lock: a contract publish takes them in this order too, so the two
    // cannot deadlock. A refused registration rolls the row back with the rest.
    const id = await storeSchema(tx, parsed, request.id !== undefined ? { id: request.id } : {});
    await lockSubject(tx, name);
    const existing = await findSubject(tx, name);
    let owner: SubjectOwner = { application: null, team: null };
    let teamId: string | null = null;
    if (existing) owner = await assertWritesSubject(tx, principal, existing);
    else teamId = await teamForNewSubject(tx, principal);

    const global = await globalConfig(tx);
    const mode = effectiveRegistryMode(existing, global);
    if (mode === "READONLY") throw registryErrors.operationNotPermitted(`Subject ${name} is in read-only mode`);
    if (mode !== "IMPORT" && request.id !== undefined) {
      throw registryErrors.operationNotPermitted(`Subject ${name} is not in import mode: a schema id can be given only in IMPORT mode`);
    }

    const same = existing && !existing.deletedAt ? await versionWithHash(tx, existing.id, parsed.hash) : undefined;
    if (same) {
      if (request.id !== undefined && request.id !== same.schemaId) {
        throw registryErrors.idDoesNotMatch(`Schema already registered with id ${same.schemaId} instead of input id ${request.id}`);
      }
      return { id: same.schemaId };
    }
    if (existing?.governed) throw governedError(name, owner);
    const all = existing ? await versionsOf(tx, existing.id, { deleted: true }) : [];
    const live = existing?.deletedAt ? [] : all.filter((v) => !v.deleted);
    if (live.length >= MAX_LIVE_VERSIONS) {
      throw registryErrors.operationNotPermitted(
        `Subject ${name} holds ${MAX_LIVE_VERSIONS} live versions, the most the portal keeps per subject: delete old versions before registering more`,
      );
    }

    const level = await effectiveLevel(tx, existing, global, owner);
    if (mode !== "IMPORT") {
      const verdict = await judgeCompatibility(level, parsed, await earlierFor(tx, level, live));
      if (!verdict.compatible) throw incompatibleError(name, verdict.messages);
    }

    let subject: RegistrySubject;
    if (existing) {
      subject = existing;
      if (existing.deletedAt) {
        // Confluent takes registrations again after a soft delete; the old versions stay soft-deleted.
        await tx.update(registrySubject).set({ deletedAt: null, updatedAt: new Date() }).where(eq(registrySubject.id, existing.id));
      }
    } else {
      subject = await ensureSubject(tx, name, teamId);
    }
    const next = await nextVersion(tx, subject.id);
    let version = next;
    if (request.version !== undefined) {
      if (mode === "IMPORT") {
        if (all.some((v) => v.version === request.version)) {
          throw registryErrors.idDoesNotMatch(`Version ${request.version} of subject ${name} already holds another schema`);
        }
        version = request.version;
      } else if (request.version !== next) {
        throw registryErrors.operationNotPermitted(`Subject ${name} is not in import mode: the version must be ${next}`);
      }
    }
    const compatibility = mode === "IMPORT" ? "NONE" : level;
    await insertVersion(tx, { subjectId: subject.id, version, schemaId: id, compatibility, registeredByLabel: principalLabel(principal) });
    audit({
      targetType: "registry_subject",
      targetId: subject.id,
      details: { ...subjectAuditDetails(name, owner), version, id, schemaType: parsed.schemaType, compatibility },
    });
    return { id };
  },
});

/** `POST /subjects/{s}/versions`: registers (or finds) the schema; returns its global id. */
export async function registerSchema(principal: Principal, subject: string, request: SchemaRequest, options: { normalize?: boolean }): Promise<{ id: number }> {
  void options;
  return registerCommand(principal, validSubjectName(subject), request);
}

/** Schema ids that reference these versions of a subject, held by a live version (or, `anyHolder`, any version row). */
async function referencingIds(
  tx: Executor,
  subject: string,
  versions: readonly number[],
  options: { anyHolder?: boolean; exceptSubjectId?: string } = {},
): Promise<Array<{ schemaId: number; version: number }>> {
  if (versions.length === 0) return [];
  const holder = and(
    sql`${registrySubjectVersion.schemaId} = ${registrySchemaReference.schemaId}`,
    options.anyHolder ? undefined : isNull(registrySubjectVersion.deletedAt),
    options.exceptSubjectId ? ne(registrySubjectVersion.subjectId, options.exceptSubjectId) : undefined,
  );
  return tx
    .selectDistinct({ schemaId: registrySchemaReference.schemaId, version: registrySchemaReference.version })
    .from(registrySchemaReference)
    .where(
      and(
        eq(registrySchemaReference.subject, subject),
        inArray(registrySchemaReference.version, [...versions]),
        sql`exists (select 1 from ${registrySubjectVersion} where ${holder})`,
      ),
    )
    .orderBy(asc(registrySchemaReference.schemaId));
}

function referenceExists(subject: string, version: number) {
  return registryErrors.referenceExists(`One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=${subject},version=${version}}.`);
}

/** `GET /subjects/{s}/versions/{v}/referencedby`: ids of the schemas that reference this version. */
export async function referencedBy(principal: Principal, subject: string, version: VersionSelector): Promise<number[]> {
  assertReadsRegistry(principal);
  const selector = parseVersion(version);
  const db = await getDb();
  const { versions } = await visibleSubject(db, subject);
  const target = pickVersion(versions, selector);
  return (await referencingIds(db, subject, [target.version])).map((r) => r.schemaId);
}

/** The subject a delete applies to: locked, authorised, not governed, not read-only. */
async function deletableSubject(tx: Executor, principal: Principal, name: string): Promise<{ subject: RegistrySubject; owner: SubjectOwner; all: VersionRow[] }> {
  await lockSubject(tx, name);
  const subject = await findSubject(tx, name);
  if (!subject) throw registryErrors.subjectNotFound(name);
  const owner = await assertWritesSubject(tx, principal, subject);
  if (subject.governed) {
    const by = owner.application ? `the contract of application '${owner.application.slug}'` : "a contract";
    throw registryErrors.operationNotPermitted(
      `Subject '${name}' is governed by ${by}; its versions are retired through that contract${owner.application ? `: /catalog/${owner.application.slug}` : ""}`,
    );
  }
  if (effectiveRegistryMode(subject, await globalConfig(tx)) === "READONLY") throw registryErrors.operationNotPermitted(`Subject ${name} is in read-only mode`);
  const all = await versionsOf(tx, subject.id, { deleted: true });
  if (all.length === 0) throw registryErrors.subjectNotFound(name);
  return { subject, owner, all };
}

const deleteSubjectCommand = defineCommand({
  permission: "contracts:write",
  input: (raw: unknown) => raw === true,
  audit: "registry.subject.delete",
  run: async ({ tx, principal, input: permanent, audit }, name: string): Promise<{ versions: number[]; evict: number[] }> => {
    const { subject, owner, all } = await deletableSubject(tx, principal, name);
    let evict: number[] = [];
    const live = all.filter((v) => !v.deleted);
    const softDeleted = subject.deletedAt !== null || live.length === 0;
    let versions: number[];
    if (!permanent) {
      if (softDeleted) throw registryErrors.subjectSoftDeleted(name);
      versions = live.map((v) => v.version);
      const [ref] = await referencingIds(tx, name, versions, { exceptSubjectId: subject.id });
      if (ref) throw referenceExists(name, ref.version);
      const now = new Date();
      await tx
        .update(registrySubjectVersion)
        .set({ deletedAt: now })
        .where(and(eq(registrySubjectVersion.subjectId, subject.id), isNull(registrySubjectVersion.deletedAt)));
      await tx.update(registrySubject).set({ deletedAt: now, updatedAt: now }).where(eq(registrySubject.id, subject.id));
    } else {
      if (!softDeleted) throw registryErrors.subjectNotSoftDeleted(name);
      versions = all.map((v) => v.version);
      const [ref] = await referencingIds(tx, name, versions, { anyHolder: true, exceptSubjectId: subject.id });
      if (ref) throw referenceExists(name, ref.version);
      await tx.delete(registrySubject).where(eq(registrySubject.id, subject.id));
      evict = all.map((v) => v.schemaId);
    }
    audit({ targetType: "registry_subject", targetId: subject.id, details: { ...subjectAuditDetails(name, owner), versions, permanent } });
    return { versions, evict };
  },
});

/** `DELETE /subjects/{s}`: the versions deleted. */
export async function deleteSubject(principal: Principal, subject: string, options: { permanent?: boolean }): Promise<number[]> {
  const { versions, evict } = await deleteSubjectCommand(principal, subject, options.permanent === true);
  // Only once committed: a look-up in between would otherwise cache the id again from the still-visible rows.
  if (evict.length > 0) evictSchemas(evict);
  return versions;
}

const deleteVersionCommand = defineCommand({
  permission: "contracts:write",
  input: (raw: unknown) => raw === true,
  audit: "registry.version.delete",
  run: async ({ tx, principal, input: permanent, audit }, name: string, selector: number | "latest"): Promise<{ version: number; evict: number[] }> => {
    const { subject, owner, all } = await deletableSubject(tx, principal, name);
    let target: VersionRow;
    let evict: number[] = [];
    if (!permanent) {
      if (subject.deletedAt) throw registryErrors.subjectNotFound(name);
      const found = selector === "latest" ? all.filter((v) => !v.deleted).at(-1) : all.find((v) => v.version === selector);
      if (!found) throw registryErrors.versionNotFound(selector);
      if (found.deleted) throw registryErrors.versionSoftDeleted(name, found.version);
      target = found;
      const [ref] = await referencingIds(tx, name, [target.version]);
      if (ref) throw referenceExists(name, target.version);
      await tx
        .update(registrySubjectVersion)
        .set({ deletedAt: new Date() })
        .where(and(eq(registrySubjectVersion.subjectId, subject.id), eq(registrySubjectVersion.version, target.version)));
    } else {
      const found = selector === "latest" ? all.at(-1) : all.find((v) => v.version === selector);
      if (!found) throw registryErrors.versionNotFound(selector);
      if (!found.deleted) throw registryErrors.versionNotSoftDeleted(name, found.version);
      target = found;
      const [ref] = await referencingIds(tx, name, [target.version], { anyHolder: true });
      if (ref) throw referenceExists(name, target.version);
      await tx
        .delete(registrySubjectVersion)
        .where(and(eq(registrySubjectVersion.subjectId, subject.id), eq(registrySubjectVersion.version, target.version)));
      evict = [target.schemaId];
    }
    audit({
      targetType: "registry_subject",
      targetId: subject.id,
      details: { ...subjectAuditDetails(name, owner), versions: [target.version], permanent },
    });
    return { version: target.version, evict };
  },
});

/** `DELETE /subjects/{s}/versions/{v}`: the version deleted. */
export async function deleteSubjectVersion(principal: Principal, subject: string, version: VersionSelector, options: { permanent?: boolean }): Promise<number> {
  const selector = parseVersion(version);
  const { version: deleted, evict } = await deleteVersionCommand(principal, subject, selector, options.permanent === true);
  if (evict.length > 0) evictSchemas(evict);
  return deleted;
}

function validId(id: number): number {
  if (!Number.isInteger(id) || id < 1 || id > MAX_INT4) throw registryErrors.schemaNotFound(`Schema ${String(id).slice(0, 32)} not found`);
  return id;
}

/**
 * `GET /schemas/ids/{id}`. Confluent reads `subject` only to pick a context (the portal has one): serializers send
 * the subject their own naming strategy gives, which need not hold the id, so it never narrows the look-up.
 * Served from an in-process cache.
 */
export async function getSchemaById(principal: Principal, id: number, options: { subject?: string; format?: string }): Promise<SchemaView> {
  assertReadsRegistry(principal);
  validId(id);
  const cached = schemaViews.get(id);
  if (cached) return inFormat({ ...cached.view }, options.format);
  const epoch = evictionEpoch();
  const db = await getDb();
  const [row] = await db
    .select({ format: registrySchema.format, canonical: registrySchema.canonical, references: registrySchema.references })
    .from(registrySchema)
    .where(and(eq(registrySchema.id, id), sql`exists (select 1 from ${registrySubjectVersion} where ${registrySubjectVersion.schemaId} = ${registrySchema.id})`));
  if (!row) throw registryErrors.schemaNotFound(`Schema ${id} not found`);
  const entry: CachedSchema = { view: schemaFields(row.format, row.canonical, row.references) };
  cacheSchemaView(id, entry, epoch);
  return inFormat({ ...entry.view }, options.format);
}

/**
 * A schema in the format a client asked for. `serialized` Protobuf is the base64 FileDescriptorProto that
 * Confluent's Protobuf deserializers (Python, Go) decode; every other format and type is served as stored.
 */
async function inFormat(view: SchemaView, format: string | undefined): Promise<SchemaView> {
  if (format !== "serialized" || view.schemaType !== "PROTOBUF") return view;
  const references = await resolveReferences(await getDb(), view.references ?? [], { deleted: true });
  const outcome = parseSchema({ schemaType: "PROTOBUF", schema: view.schema, references });
  if (outcome.ok) view.schema = serializedProtobuf(outcome.schema);
  return view;
}

/** The subject versions holding a schema id; 40403 when none holds it. */
async function holdersOf(id: number, options: { subject?: string; deleted?: boolean }): Promise<Array<{ subject: string; version: number }>> {
  validId(id);
  const db = await getDb();
  const rows = await db
    .select({
      subject: registrySubject.name,
      version: registrySubjectVersion.version,
      deleted: sql<boolean>`(${registrySubjectVersion.deletedAt} is not null or ${registrySubject.deletedAt} is not null)`,
    })
    .from(registrySubjectVersion)
    .innerJoin(registrySubject, eq(registrySubject.id, registrySubjectVersion.subjectId))
    .where(eq(registrySubjectVersion.schemaId, id))
    .orderBy(sql`${registrySubject.name} collate "C"`, asc(registrySubjectVersion.version));
  if (rows.length === 0) throw registryErrors.schemaNotFound(`Schema ${id} not found`);
  return rows
    .filter((r) => (options.deleted || !r.deleted) && (!options.subject || r.subject === options.subject))
    .map(({ subject, version }) => ({ subject, version }));
}

/** `GET /schemas/ids/{id}/versions`. */
export async function versionsOfSchema(principal: Principal, id: number, options: { subject?: string; deleted?: boolean }): Promise<Array<{ subject: string; version: number }>> {
  assertReadsRegistry(principal);
  return holdersOf(id, options);
}

/** `GET /schemas/ids/{id}/subjects`. */
export async function subjectsOfSchema(principal: Principal, id: number, options: { subject?: string; deleted?: boolean }): Promise<string[]> {
  assertReadsRegistry(principal);
  return [...new Set((await holdersOf(id, options)).map((h) => h.subject))];
}

/** `POST /compatibility/subjects/{s}/versions[/{v}]`: `version` null checks against what the level requires. */
export async function testCompatibility(
  principal: Principal,
  subject: string,
  version: VersionSelector | null,
  request: SchemaRequest,
  options: { verbose?: boolean; normalize?: boolean },
): Promise<{ is_compatible: boolean; messages?: string[] }> {
  assertReadsRegistry(principal);
  const selector = version === null ? null : parseVersion(version);
  const valid = validRequest(request);
  const db = await getDb();
  const row = await findSubject(db, subject);
  const live = row && !row.deletedAt ? await versionsOf(db, row.id) : [];
  const answer = (compatible: boolean, messages: readonly string[]) =>
    options.verbose ? { is_compatible: compatible, messages: messages.slice(0, MAX_MESSAGES) } : { is_compatible: compatible };
  if (selector !== null) {
    if (live.length === 0) throw registryErrors.subjectNotFound(subject);
    const target = pickVersion(live, selector);
    const parsed = await parseRequest(db, valid);
    const level = nonTransitive(await effectiveLevel(db, row, await globalConfig(db)));
    const verdict = checkCompatibility(level, parsed, [await parsedVersion(db, target)]);
    return answer(verdict.compatible, verdict.messages);
  }
  const parsed = await parseRequest(db, valid);
  if (live.length === 0) return answer(true, []);
  if (row!.governed) {
    // What a registration would meet: a governed subject takes only one of its own versions.
    if (live.some((v) => v.hash === parsed.hash)) return answer(true, []);
    const owner = await ownerOfSubject(db, row!);
    return answer(false, [governedError(subject, owner).message]);
  }
  const level = await effectiveLevel(db, row, await globalConfig(db));
  const verdict = await judgeCompatibility(level, parsed, await earlierFor(db, level, live));
  return answer(verdict.compatible, verdict.messages);
}
