import "server-only";
import { and, asc, eq, inArray, isNotNull, isNull, notInArray, sql } from "drizzle-orm";
import { z } from "zod";
import { MIGRATION_LOCK_KEY, type Executor, type Transaction } from "@/db/client.ts";
import {
  application,
  contractVersion,
  flow,
  registrySchema,
  registrySubject,
  registrySubjectVersion,
  team,
  type Application,
  type RegistrySubject,
  type SchemaReference,
  type SubjectNaming,
} from "@/db/schema.ts";
import { canonicalJson, COMPATIBILITY_MODES, JSON_SCHEMA_FORMAT, normaliseSchemaFormat, registrySchemaHash, type CompatibilityMode, type Contract, type Message } from "@/registry/index.ts";
import { headersSchemaOf, payloadSchemaOf, type SchemaRecord } from "@/registry/flows/index.ts";
import { judgeCompatibility } from "./judge.ts";
import { parseSchema, SCHEMA_TYPE_FORMATS, type ParsedSchema, type SchemaType } from "@/registry/schematypes/index.ts";
import { principalLabel, systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { assertWritesForTeam, currentVersions, effectiveMode, mayWriteForTeam } from "@/lib/catalog/applications.ts";
import { registerSchemas } from "@/lib/catalog/flows.ts";
import { MeshportError } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand } from "@/lib/service.ts";
import { resolveReferences } from "./store.ts";
import { lockSubject } from "./subjects.ts";

/*
 * Subjects from contracts: every payload, headers and Kafka key schema of a released version is a governed
 * subject of the registry, written in the transaction of the release. Direct subjects (registered over the
 * Confluent-compatible API) can be linked to a channel of a contract, and owned by a team.
 */

/** Which schema of a message a subject holds. */
export const SUBJECT_PARTS = ["payload", "headers", "key"] as const;
export type SubjectPart = (typeof SUBJECT_PARTS)[number];

/** Longest subject name (Confluent's practical limit, and what the API accepts). */
export const MAX_SUBJECT_NAME_LENGTH = 255;
/** Subjects listed in a `contract.publish` audit entry at most; the rest are counted. */
export const MAX_AUDITED_SUBJECTS = 100;
/** Most messages an override refusal quotes from the checker. */
const MAX_QUOTED_MESSAGES = 5;
const MAX_VERSION = 2_147_483_647;
const CHUNK = 500;

/** The registry schema type of a contract schema format, or null for formats the registry does not serve. */
export function contractSchemaType(format: string): Extract<SchemaType, "JSON" | "AVRO"> | null {
  const f = normaliseSchemaFormat(format);
  if (f === JSON_SCHEMA_FORMAT) return "JSON";
  if (f.includes("avro")) return "AVRO";
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The key schema a Kafka message binding names (`bindings.kafka.key`), as a registry record: Avro when the message
 * is Avro, JSON Schema otherwise. Null without one, or when it is not a schema of that format.
 */
export function keySchemaOf(message: Message): SchemaRecord | null {
  const kafka = message.bindings?.kafka;
  if (!isObject(kafka) || !("key" in kafka)) return null;
  const key = kafka.key;
  const avro = contractSchemaType(message.schemaFormat || JSON_SCHEMA_FORMAT) === "AVRO";
  if (avro ? !(isObject(key) || typeof key === "string") : !isObject(key)) return null;
  // The registry's own format for the type, as the payload's: the API's registration of the key is the same schema.
  const format = avro ? SCHEMA_TYPE_FORMATS.AVRO : JSON_SCHEMA_FORMAT;
  return { hash: registrySchemaHash(format, key), format, canonical: canonicalJson(key), schema: key as SchemaRecord["schema"] };
}

/** The schema of one part of a message, or null when the message has none. */
export function partSchemaOf(message: Message, part: SubjectPart): SchemaRecord | null {
  if (part === "payload") return payloadSchemaOf(message);
  if (part === "headers") return headersSchemaOf(message);
  return keySchemaOf(message);
}

/** The record name RecordNameStrategy uses: an Avro named type's full name, or a JSON Schema's `title`. */
export function recordNameOf(record: SchemaRecord): string | null {
  const schema: unknown = record.schema;
  if (!isObject(schema)) return null;
  if (contractSchemaType(record.format) === "AVRO") {
    if (typeof schema.name !== "string" || schema.name === "") return null;
    if (schema.name.includes(".")) return schema.name;
    return typeof schema.namespace === "string" && schema.namespace !== "" ? `${schema.namespace}.${schema.name}` : schema.name;
  }
  return typeof schema.title === "string" && schema.title.trim() !== "" ? schema.title.trim() : null;
}

/**
 * The subject name of one part of a message of a channel under an application's naming strategy (null =
 * `channel-message`):
 * - `channel-message`: `<address>-<message>` for the payload, `…-headers`, `…-key`;
 * - `topic` (TopicNameStrategy): `<address>-value`, `<address>-key`, `<address>-headers`; a channel of several
 *   messages cannot share one topic subject, so there `<address>-<message>-value` and so on;
 * - `record` (RecordNameStrategy): the Avro record's full name or the JSON Schema `title`; without either, the
 *   `channel-message` name.
 */
export function subjectNameOf(naming: SubjectNaming | null, channel: string, message: Message, part: SubjectPart, channelMessageCount: number): string {
  const suffix = part === "payload" ? "" : `-${part}`;
  const channelMessage = `${channel}-${message.key}${suffix}`;
  switch (naming ?? "channel-message") {
    case "topic": {
      const topicSuffix = part === "payload" ? "value" : part;
      return channelMessageCount > 1 ? `${channel}-${message.key}-${topicSuffix}` : `${channel}-${topicSuffix}`;
    }
    case "record": {
      const record = partSchemaOf(message, part);
      return (record && recordNameOf(record)) ?? channelMessage;
    }
    default:
      return channelMessage;
  }
}

function hasControlCharacter(text: string): boolean {
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** One subject a release writes. */
interface PlannedSubject {
  name: string;
  channel: string;
  messageKey: string;
  part: SubjectPart;
  schema: SchemaRecord;
  schemaType: "JSON" | "AVRO";
  /** The application sends this message (an operation says so): it owns the subject against readers. */
  sends: boolean;
}

/** Every subject of a contract (every channel and message, not only those an operation uses), sorted by name. */
export function plannedSubjects(contract: Contract, naming: SubjectNaming | null): PlannedSubject[] {
  const byName = new Map<string, PlannedSubject>();
  const sent = new Set<string>();
  for (const op of Object.values(contract.operations)) {
    if (op.action !== "send") continue;
    const channel = contract.channels[op.channel];
    if (channel) for (const key of op.messages) sent.add(`${channel.address}\u0000${key}`);
  }
  for (const channel of Object.values(contract.channels)) {
    const messages = Object.values(channel.messages);
    for (const message of messages) {
      for (const part of SUBJECT_PARTS) {
        const schema = partSchemaOf(message, part);
        const schemaType = schema && contractSchemaType(schema.format);
        if (!schema || !schemaType) continue;
        const name = subjectNameOf(naming, channel.address, message, part, messages.length);
        const where = `channel ${channel.address}, message ${message.key}`;
        if (name.length > MAX_SUBJECT_NAME_LENGTH) {
          throw new MeshportError("invalid_input", `The ${part} subject of ${where} would be named with ${name.length} characters; the registry allows ${MAX_SUBJECT_NAME_LENGTH}. Shorten the address or the message name, or choose another subject naming.`, {
            subject: "subject_name",
            details: { channel: channel.address, messageKey: message.key, part, length: name.length },
          });
        }
        if (name === "" || hasControlCharacter(name)) {
          throw new MeshportError("invalid_input", `The ${part} subject of ${where} would have a name with control characters.`, {
            subject: "subject_name",
            details: { channel: channel.address, messageKey: message.key, part },
          });
        }
        const other = byName.get(name);
        if (other && other.schema.hash !== schema.hash) {
          throw new MeshportError("conflict", `Subject ${name} would hold two different schemas: the ${other.part} of channel ${other.channel}, message ${other.messageKey}, and the ${part} of ${where}. Choose another subject naming or rename one of them.`, {
            subject: "subject_name",
            details: { subject: name },
          });
        }
        const sends = sent.has(`${channel.address}\u0000${message.key}`);
        if (other) other.sends ||= sends;
        else byName.set(name, { name, channel: channel.address, messageKey: message.key, part, schema, schemaType, sends });
      }
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The global ids of the planned schemas: payload and headers as the flows registered them, keys added here. */
async function schemaIds(tx: Executor, contract: Contract, planned: PlannedSubject[]): Promise<Map<string, number>> {
  const ids = await registerSchemas(tx, contract);
  const keys = new Map<string, SchemaRecord>();
  for (const p of planned) if (!ids.has(p.schema.hash)) keys.set(p.schema.hash, p.schema);
  const records = [...keys.values()].sort((a, b) => (a.hash < b.hash ? -1 : 1));
  for (let i = 0; i < records.length; i += CHUNK) {
    const chunk = records.slice(i, i + CHUNK);
    await tx
      .insert(registrySchema)
      .values(chunk.map((s) => ({ hash: s.hash, format: s.format, canonical: s.canonical })))
      .onConflictDoNothing({ target: registrySchema.hash });
    const rows = await tx.select({ id: registrySchema.id, hash: registrySchema.hash }).from(registrySchema).where(inArray(registrySchema.hash, chunk.map((s) => s.hash)));
    for (const row of rows) ids.set(row.hash, row.id);
  }
  return ids;
}

/** A subject of a release, as the audit entry and callers see it. */
export interface ContractSubject {
  subject: string;
  version: number;
  id: number;
}

/** What a release wrote to the registry. */
export interface ContractSubjects {
  /** Every subject of the version with its latest version number and the version's schema id, by name. */
  subjects: ContractSubject[];
  /** Subject versions appended now. */
  added: number;
  /** Direct subjects this application's contract governs from now on. */
  takenOver: string[];
}

/** The `contract.publish` (and `contract.release`) audit details of a release's subjects, bounded. */
export function subjectsAuditDetails(written: ContractSubjects): Record<string, unknown> {
  return {
    subjects: written.subjects.slice(0, MAX_AUDITED_SUBJECTS),
    subjectCount: written.subjects.length,
    subjectVersionsAdded: written.added,
    ...(written.takenOver.length > 0 ? { subjectsTakenOver: written.takenOver.slice(0, MAX_AUDITED_SUBJECTS) } : {}),
  };
}

/** The compatibility level a subject's new version is checked under: its own, else the application's mode. */
export function effectiveSubjectLevel(subject: Pick<RegistrySubject, "compatibility"> | undefined, app: Pick<Application, "compatibilityMode">): CompatibilityMode {
  return COMPATIBILITY_MODES.find((m) => m === subject?.compatibility?.toUpperCase()) ?? effectiveMode(app);
}

/** The registry schema type of a stored schema's format. */
function storedType(format: string): SchemaType | null {
  const f = normaliseSchemaFormat(format);
  return f.includes("protobuf") ? "PROTOBUF" : contractSchemaType(f);
}

/**
 * Writes the subjects of a released version in the caller's transaction (the release's): one per message of a
 * channel and part, named by the application's strategy, governed by the application. A version is appended
 * only when no live version of the subject holds the schema (as Confluent answers a registration of an earlier
 * version with that version). The sender of a message owns its subjects (see `claims`): a direct subject of the
 * same name is taken over (it keeps its versions and configuration), one governed by another sender refuses the
 * release, and a message the application only reads leaves another's subject alone. The new schema is checked
 * against the subject's live versions under its level when the subject has its own level or holds versions
 * another application's contract or the registry API wrote (a schema of another type is refused there); a
 * failed check refuses the release. Marks the version's subjects registered.
 */
export async function registerContractSubjects(
  tx: Transaction,
  principal: Principal,
  app: Application,
  version: { id: string; version: string; contract: Contract },
): Promise<ContractSubjects> {
  const planned = plannedSubjects(version.contract, app.subjectNaming ?? null);
  const written: ContractSubjects = { subjects: [], added: 0, takenOver: [] };
  if (planned.length > 0) {
    const ids = await schemaIds(tx, version.contract, planned);
    const names = planned.map((p) => p.name);
    // The registry API's per-subject lock, taken in name order: a registration and a release of one subject take turns.
    for (const name of names) await lockSubject(tx, name);
    // New subjects first (a name another release creates at once waits for it), then every row locked by name.
    for (let i = 0; i < planned.length; i += CHUNK) {
      await tx
        .insert(registrySubject)
        .values(
          planned.slice(i, i + CHUNK).map((p) => ({ id: newId("subj"), name: p.name, governed: true, applicationId: app.id, channel: p.channel, messageKey: p.messageKey, part: p.part })),
        )
        .onConflictDoNothing({ target: registrySubject.name });
    }
    const rows = new Map<string, RegistrySubject>();
    for (let i = 0; i < names.length; i += CHUNK) {
      const chunk = await tx.select().from(registrySubject).where(inArray(registrySubject.name, names.slice(i, i + CHUNK))).orderBy(asc(registrySubject.name)).for("update");
      for (const row of chunk) rows.set(row.name, row);
    }
    const subjectIds = [...rows.values()].map((r) => r.id);
    const history = await versionsOf(tx, subjectIds);
    const latestIds = new Map([...rows.values()].map((r) => [r.name, (history.get(r.id) ?? []).filter((v) => v.deletedAt === null).at(-1)?.schemaId]));
    const skipped = await claims(tx, principal, app, planned, rows, history, (p) => latestIds.get(p.name) === ids.get(p.schema.hash));
    const appends: Array<typeof registrySubjectVersion.$inferInsert> = [];
    const label = principalLabel(principal);
    for (const p of planned) {
      if (skipped.has(p.name)) continue;
      const row = rows.get(p.name)!;
      const schemaId = ids.get(p.schema.hash)!;
      const versions = history.get(row.id) ?? [];
      const live = versions.filter((v) => v.deletedAt === null);
      if (!row.governed || row.deletedAt !== null || row.channel !== p.channel || row.messageKey !== p.messageKey || row.part !== p.part || row.applicationId !== app.id) {
        if (!row.governed) written.takenOver.push(row.name);
        await tx
          .update(registrySubject)
          .set({ governed: true, applicationId: app.id, channel: p.channel, messageKey: p.messageKey, part: p.part, deletedAt: null, updatedAt: new Date() })
          .where(eq(registrySubject.id, row.id));
      }
      const existing = live.findLast((v) => v.schemaId === schemaId);
      if (existing) {
        written.subjects.push({ subject: p.name, version: existing.version, id: schemaId });
        continue;
      }
      const level = effectiveSubjectLevel(row, app);
      // The contract's own evolution was checked at publish; versions written otherwise were not.
      // Versions registered over the API (a taken-over direct subject) bind the release; versions another contract
      // wrote (a receiver's, before this sender released) were governed by contracts, whose reviews judged them.
      const foreign = live.some((v) => v.writer === null);
      if (live.length > 0 && (foreign || row.compatibility !== null)) await assertSubjectAccepts(tx, row.name, level, p, live, foreign);
      const next = (versions.at(-1)?.version ?? 0) + 1;
      if (next > MAX_VERSION) throw new MeshportError("conflict", `Subject ${row.name} has no version numbers left.`, { subject: "subject_version" });
      appends.push({ subjectId: row.id, version: next, schemaId, contractVersionId: version.id, compatibility: level, registeredByLabel: label });
      written.subjects.push({ subject: p.name, version: next, id: schemaId });
    }
    for (let i = 0; i < appends.length; i += CHUNK) await tx.insert(registrySubjectVersion).values(appends.slice(i, i + CHUNK));
    written.added = appends.length;
  }
  await tx.update(contractVersion).set({ subjectsRegisteredAt: new Date() }).where(eq(contractVersion.id, version.id));
  return written;
}

interface StoredVersion {
  subjectId: string;
  version: number;
  schemaId: number;
  deletedAt: Date | null;
  format: string;
  canonical: string;
  references: unknown;
  /** The application whose contract wrote the version; null when the registry API did. */
  writer: string | null;
}

/** The versions of some subjects, oldest first, with their schemas. */
async function versionsOf(tx: Executor, subjectIds: string[]): Promise<Map<string, StoredVersion[]>> {
  const out = new Map<string, StoredVersion[]>();
  for (let i = 0; i < subjectIds.length; i += CHUNK) {
    const rows = await tx
      .select({
        subjectId: registrySubjectVersion.subjectId,
        version: registrySubjectVersion.version,
        schemaId: registrySubjectVersion.schemaId,
        deletedAt: registrySubjectVersion.deletedAt,
        format: registrySchema.format,
        canonical: registrySchema.canonical,
        references: registrySchema.references,
        writer: contractVersion.applicationId,
      })
      .from(registrySubjectVersion)
      .innerJoin(registrySchema, eq(registrySchema.id, registrySubjectVersion.schemaId))
      .leftJoin(contractVersion, eq(contractVersion.id, registrySubjectVersion.contractVersionId))
      .where(inArray(registrySubjectVersion.subjectId, subjectIds.slice(i, i + CHUNK)))
      .orderBy(asc(registrySubjectVersion.subjectId), asc(registrySubjectVersion.version));
    for (const row of rows) {
      const list = out.get(row.subjectId) ?? [];
      list.push(row);
      out.set(row.subjectId, list);
    }
  }
  return out;
}

/**
 * Which existing subjects of a release's names another application keeps. The sender of a message owns its
 * subjects: a subject governed by an application that sends the message stays with it, and refuses a release
 * that sends it too with another schema than its latest; a subject governed by a reader passes to the sender. A
 * direct subject is taken over when the principal may: it writes for the team that owns it (the team of the
 * application it is linked to, else its own team), and only an admin takes over a subject no team owns; else a
 * sender is refused and a reader leaves it be. A direct subject without versions (its configuration set before
 * any schema) is always taken over. Returns the names to leave alone.
 */
async function claims(
  tx: Executor,
  principal: Principal,
  app: Application,
  planned: PlannedSubject[],
  rows: Map<string, RegistrySubject>,
  history: Map<string, StoredVersion[]>,
  agrees: (p: PlannedSubject) => boolean,
): Promise<Set<string>> {
  const foreign = [...rows.values()].filter((r) => r.applicationId !== null && r.applicationId !== app.id);
  const apps = new Map<string, { slug: string; teamId: string }>();
  const senders = new Set<string>();
  if (foreign.length > 0) {
    const appIds = [...new Set(foreign.map((r) => r.applicationId!))];
    const found = await tx.select({ id: application.id, slug: application.slug, teamId: application.teamId }).from(application).where(inArray(application.id, appIds));
    for (const a of found) apps.set(a.id, a);
    // What the governing applications send now: the flows of their current versions.
    const current = await currentVersions(tx, appIds);
    const versionApp = new Map([...current].map(([appId, v]) => [v.id, appId]));
    if (versionApp.size > 0) {
      const sends = await tx
        .select({ versionId: flow.versionId, channel: flow.channel, messageKey: flow.messageKey })
        .from(flow)
        .where(and(inArray(flow.versionId, [...versionApp.keys()]), eq(flow.action, "send")));
      for (const f of sends) senders.add(`${versionApp.get(f.versionId)}\u0000${f.channel}\u0000${f.messageKey}`);
    }
  }
  const skipped = new Set<string>();
  for (const p of planned) {
    const row = rows.get(p.name)!;
    const other = row.applicationId && row.applicationId !== app.id ? apps.get(row.applicationId) : undefined;
    if (row.governed && other) {
      const otherSends = senders.has(`${row.applicationId}\u0000${row.channel}\u0000${row.messageKey}`);
      // Two senders that agree on the schema share the subject; it stays with the first.
      if (!p.sends || (otherSends && agrees(p))) {
        skipped.add(p.name);
      } else if (otherSends) {
        throw new MeshportError("conflict", `Subject ${row.name} is governed by the contract of application ${other.slug}, which sends this message too; application ${app.slug} cannot register it. Choose another subject naming, or rename the channel or message.`, {
          subject: "subject_governed",
          details: { subject: row.name, application: app.slug, governedBy: other.slug },
        });
      }
      continue;
    }
    if (row.governed || (history.get(row.id) ?? []).length === 0) continue;
    const ownerTeam = row.applicationId === app.id ? app.teamId : (other?.teamId ?? row.teamId);
    const mayTakeOver = ownerTeam ? ownerTeam === app.teamId || (await mayWriteForTeam(tx, principal, ownerTeam)) : isAdmin(principal);
    if (!mayTakeOver) {
      if (!p.sends) {
        skipped.add(p.name);
        continue;
      }
      const owner = ownerTeam ? `owned by another team${other ? ` (linked to application ${other.slug})` : ""}` : "no team owns (only an admin can release a contract that takes it over)";
      throw new MeshportError("conflict", `Subject ${row.name} is a registry subject ${owner}; application ${app.slug} cannot take it over.`, {
        subject: "subject_owned",
        details: { subject: row.name, application: app.slug, owned: ownerTeam !== null, ...(other ? { linkedTo: other.slug } : {}) },
      });
    }
  }
  return skipped;
}

async function parsedStored(tx: Executor, v: Pick<StoredVersion, "format" | "canonical" | "references">): Promise<ParsedSchema | string> {
  const schemaType = storedType(v.format);
  if (!schemaType) return `a schema of format ${v.format}`;
  const refs = Array.isArray(v.references) ? (v.references as SchemaReference[]) : [];
  // Stored schemas had their references checked when they were registered: follow soft-deleted ones too.
  const references = refs.length > 0 ? await resolveReferences(tx, refs, { deleted: true }) : [];
  const outcome = parseSchema({ schemaType, schema: v.canonical, references });
  return outcome.ok ? outcome.schema : outcome.message;
}

/**
 * Checks the new schema of a subject against its live versions under the subject's level (nothing under NONE).
 * `foreign`: versions registered over the API, not by a contract; then a schema of another type than the latest
 * is refused too.
 */
async function assertSubjectAccepts(tx: Executor, subject: string, level: CompatibilityMode, planned: PlannedSubject, live: StoredVersion[], foreign: boolean): Promise<void> {
  const refuse = (messages: string[]) =>
    new MeshportError(
      "conflict",
      `Subject ${subject} has the compatibility level ${level}${foreign ? " and versions registered over the API" : ""}, and the new ${planned.part} schema of channel ${planned.channel}, message ${planned.messageKey} breaks it: ${messages.slice(0, MAX_QUOTED_MESSAGES).join("; ") || "incompatible"}`,
      { subject: "subject_incompatible", details: { subject, compatibility: level, channel: planned.channel, messageKey: planned.messageKey, part: planned.part, messages: messages.slice(0, 50) } },
    );
  const latestType = storedType(live.at(-1)!.format);
  if (foreign && latestType !== planned.schemaType) {
    throw refuse([`the subject's latest version is a ${latestType ?? live.at(-1)!.format} schema, the new schema is ${planned.schemaType}`]);
  }
  if (level === "NONE") return;
  const candidate = await parsedStored(tx, { format: planned.schema.format, canonical: planned.schema.canonical, references: [] });
  if (typeof candidate === "string") throw refuse([`the new schema cannot be read as ${planned.schemaType}: ${candidate}`]);
  const earlier: ParsedSchema[] = [];
  for (const v of live) {
    const parsed = await parsedStored(tx, v);
    if (typeof parsed === "string") throw refuse([`version ${v.version} cannot be read: ${parsed}`]);
    earlier.push(parsed);
  }
  const verdict = await judgeCompatibility(level, candidate, earlier);
  if (!verdict.compatible) throw refuse(verdict.messages);
}

/**
 * Writes the subjects of the released and deprecated versions stored without them (by a build that predates the
 * registry), oldest first. Run at start-up after the flows backfill; idempotent, and each batch holds the
 * migration advisory lock, as `backfillFlows` does. A version whose subjects cannot be written (a name another
 * application governs) is reported to `onError` and left for the next start. Returns how many versions it did.
 */
export async function backfillRegistrySubjects(
  db: Executor,
  options: { batchSize?: number; onError?: (versionId: string, error: unknown) => void } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 50;
  const onError = options.onError ?? ((id, error) => console.warn(`meshport: cannot write the registry subjects of version ${id}:`, error));
  const principal = systemPrincipal("registry backfill");
  const failed: string[] = [];
  let done = 0;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      const pending = await tx
        .select({ id: contractVersion.id, version: contractVersion.version, contract: contractVersion.contract, applicationId: contractVersion.applicationId })
        .from(contractVersion)
        .where(
          and(
            isNull(contractVersion.subjectsRegisteredAt),
            inArray(contractVersion.state, ["released", "deprecated"]),
            failed.length ? notInArray(contractVersion.id, failed) : undefined,
          ),
        )
        .orderBy(asc(contractVersion.publishedAt), asc(contractVersion.major), asc(contractVersion.minor), asc(contractVersion.patch), asc(contractVersion.id))
        .limit(batchSize);
      let written = 0;
      for (const version of pending) {
        try {
          await tx.transaction(async (sp) => {
            const [app] = await sp.select().from(application).where(eq(application.id, version.applicationId));
            await registerContractSubjects(sp, principal, app!, version);
          });
          written++;
        } catch (error) {
          failed.push(version.id);
          onError(version.id, error);
        }
      }
      return { seen: pending.length, written };
    });
    done += batch.written;
    if (batch.seen < batchSize) return done;
  }
}

// --- Linking direct subjects to channels, and their owners ---

const subjectName = z.string().min(1).max(MAX_SUBJECT_NAME_LENGTH);

/** Input to link a direct subject to a message of a channel of an application's current contract. */
export const linkSubjectInput = z.object({
  subject: subjectName,
  application: z.string().trim().min(1).max(80),
  channel: z.string().min(1).max(1000),
  messageKey: z.string().min(1).max(1000),
  part: z.enum(SUBJECT_PARTS).default("payload"),
});

/** A direct subject named in a command, locked; governed and soft-deleted subjects are refused. */
async function directSubject(tx: Transaction, name: string): Promise<RegistrySubject> {
  const [row] = await tx.select().from(registrySubject).where(and(eq(registrySubject.name, name), isNull(registrySubject.deletedAt))).for("update");
  if (!row) throw new MeshportError("not_found", `No registry subject ${name}.`, { subject: "subject" });
  if (row.governed) {
    throw new MeshportError("conflict", `Subject ${name} is governed by a contract; its channel comes from the contract.`, { subject: "subject_governed", details: { subject: name } });
  }
  return row;
}

/** True for admins, admin-scoped tokens and the system. */
function isAdmin(principal: Principal): boolean {
  return principal.kind === "system" || (principal.kind === "token" ? principal.scopes.includes("admin") : principal.role === "admin");
}

/** Throws unless the principal may change the direct subject as it is owned now (its linked application's team, else its team; unowned: admins). */
async function assertOwnsSubject(tx: Transaction, principal: Principal, row: RegistrySubject): Promise<{ linkedSlug: string | null }> {
  let ownerTeam = row.teamId;
  let linkedSlug: string | null = null;
  if (row.applicationId) {
    const [linked] = await tx.select({ slug: application.slug, teamId: application.teamId }).from(application).where(eq(application.id, row.applicationId));
    if (linked) {
      ownerTeam = linked.teamId;
      linkedSlug = linked.slug;
    }
  }
  if (ownerTeam ? !(await mayWriteForTeam(tx, principal, ownerTeam)) : !isAdmin(principal)) {
    throw new MeshportError("forbidden", `Only the team that owns subject ${row.name} (or an admin) can change it.`, { subject: "team" });
  }
  return { linkedSlug };
}

/** The subject as the linking commands answer it. */
export interface LinkedSubject {
  subject: string;
  application: string | null;
  channel: string | null;
  messageKey: string | null;
  part: SubjectPart | null;
}

/**
 * Links a direct subject to a message of a channel of an application: the principal writes for the application's
 * team and for the subject's owner; the channel and message exist in the application's current contract.
 */
export const linkSubjectToChannel = defineCommand({
  permission: "contracts:write",
  input: linkSubjectInput,
  audit: "registry.subject.link",
  run: async ({ tx, principal, input, audit }): Promise<LinkedSubject> => {
    const row = await directSubject(tx, input.subject);
    const [app] = await tx.select().from(application).where(eq(application.slug, input.application));
    if (!app) throw new MeshportError("not_found", `No application ${input.application}.`, { subject: "application" });
    await assertWritesForTeam(tx, principal, app.teamId);
    const { linkedSlug } = await assertOwnsSubject(tx, principal, row);
    const current = (await currentVersions(tx, [app.id])).get(app.id);
    const [version] = current ? await tx.select({ contract: contractVersion.contract }).from(contractVersion).where(eq(contractVersion.id, current.id)) : [];
    const channel = version ? Object.values(version.contract.channels).find((c) => c.address === input.channel) : undefined;
    if (!channel) {
      throw new MeshportError("invalid_input", `The current contract of ${app.slug} has no channel ${input.channel}.`, { details: { fieldErrors: { channel: ["No such channel in the current contract."] }, formErrors: [] } });
    }
    if (!Object.hasOwn(channel.messages, input.messageKey)) {
      throw new MeshportError("invalid_input", `Channel ${input.channel} of ${app.slug} has no message ${input.messageKey}.`, { details: { fieldErrors: { messageKey: ["No such message on this channel."] }, formErrors: [] } });
    }
    await tx
      .update(registrySubject)
      .set({ applicationId: app.id, channel: input.channel, messageKey: input.messageKey, part: input.part, updatedAt: new Date() })
      .where(eq(registrySubject.id, row.id));
    audit({
      targetType: "registry_subject",
      targetId: row.id,
      details: {
        subject: row.name,
        application: app.slug,
        before: { application: linkedSlug, channel: row.channel, messageKey: row.messageKey, part: row.part },
        after: { application: app.slug, channel: input.channel, messageKey: input.messageKey, part: input.part },
      },
    });
    return { subject: row.name, application: app.slug, channel: input.channel, messageKey: input.messageKey, part: input.part };
  },
});

/** Removes a direct subject's link to a channel (the subject's owner: the linked application's team, or admins). */
export const unlinkSubject = defineCommand({
  permission: "contracts:write",
  input: z.object({ subject: subjectName }),
  audit: "registry.subject.unlink",
  run: async ({ tx, principal, input, audit }): Promise<LinkedSubject> => {
    const row = await directSubject(tx, input.subject);
    const { linkedSlug } = await assertOwnsSubject(tx, principal, row);
    if (row.applicationId === null && row.channel === null) {
      throw new MeshportError("conflict", `Subject ${row.name} is not linked to a channel.`, { subject: "subject_not_linked" });
    }
    await tx.update(registrySubject).set({ applicationId: null, channel: null, messageKey: null, part: null, updatedAt: new Date() }).where(eq(registrySubject.id, row.id));
    audit({
      targetType: "registry_subject",
      targetId: row.id,
      details: {
        subject: row.name,
        ...(linkedSlug ? { application: linkedSlug } : {}),
        before: { application: linkedSlug, channel: row.channel, messageKey: row.messageKey, part: row.part },
        after: { application: null, channel: null, messageKey: null, part: null },
      },
    });
    return { subject: row.name, application: null, channel: null, messageKey: null, part: null };
  },
});

/** Sets (or clears) the team that owns a direct subject: admins only. */
export const setSubjectOwner = defineCommand({
  permission: "contracts:write",
  input: z.object({ subject: subjectName, team: z.string().trim().min(1).max(80).nullable() }),
  audit: "registry.subject.owner",
  run: async ({ tx, principal, input, audit }): Promise<{ subject: string; team: string | null }> => {
    if (!isAdmin(principal)) throw new MeshportError("forbidden", "Only admins choose the team that owns a registry subject.", { subject: "admin" });
    const row = await directSubject(tx, input.subject);
    let teamId: string | null = null;
    if (input.team !== null) {
      const [found] = await tx.select({ id: team.id }).from(team).where(eq(team.slug, input.team));
      if (!found) throw new MeshportError("invalid_input", `No team ${input.team}.`, { details: { fieldErrors: { team: [`No team ${input.team}.`] }, formErrors: [] } });
      teamId = found.id;
    }
    const [before] = row.teamId ? await tx.select({ slug: team.slug }).from(team).where(eq(team.id, row.teamId)) : [];
    await tx.update(registrySubject).set({ teamId, updatedAt: new Date() }).where(eq(registrySubject.id, row.id));
    audit({ targetType: "registry_subject", targetId: row.id, details: { subject: row.name, before: { team: before?.slug ?? null }, after: { team: input.team } } });
    return { subject: row.name, team: input.team };
  },
});

/** The governed subjects of an application, by name (for its pages). */
export async function governedSubjectsOf(db: Executor, applicationId: string): Promise<Array<Pick<RegistrySubject, "name" | "channel" | "messageKey" | "part">>> {
  return db
    .select({ name: registrySubject.name, channel: registrySubject.channel, messageKey: registrySubject.messageKey, part: registrySubject.part })
    .from(registrySubject)
    .where(and(eq(registrySubject.applicationId, applicationId), eq(registrySubject.governed, true), isNull(registrySubject.deletedAt), isNotNull(registrySubject.channel)))
    .orderBy(asc(registrySubject.name));
}
