import "server-only";
import { and, asc, desc, eq, inArray, isNotNull, isNull, like, or, sql, type SQL } from "drizzle-orm";
import { alias, type AnyPgColumn } from "drizzle-orm/pg-core";
import { z } from "zod";
import type { Executor } from "@/db/client.ts";
import {
  application,
  auditEntry,
  broker,
  brokerTopic,
  contractVersion,
  flow,
  registryConfig,
  registrySchema,
  registrySchemaReference,
  registrySubject,
  registrySubjectVersion,
  team,
  type RegistryMode,
  type SchemaReference,
} from "@/db/schema.ts";
import { resolveSubjectLevel } from "./config.ts";
import { MeshportError } from "@/lib/errors.ts";
import { defineQuery } from "@/lib/service.ts";
import { COMPATIBILITY_MODES, type CompatibilityMode } from "@/registry/index.ts";
import { SCHEMA_TYPE_FORMATS, SCHEMA_TYPES, type SchemaType } from "@/registry/schematypes/index.ts";

/*
 * The registry as the portal pages read it: the subjects list, one subject, one schema id, and the subjects of a
 * catalog message. Each list is one query, bounded; the Confluent-compatible API reads through api.ts instead.
 */

/** Subjects a Registry page shows. */
export const REGISTRY_PAGE_SIZE = 50;
/** The last page the Registry list serves: keeps the offset a small whole number. */
export const REGISTRY_MAX_PAGE = 2000;
/** Subject names are at most this long (Confluent's limit as the registry enforces it). */
export const MAX_SUBJECT_NAME = 255;
/** Versions, audit entries, flows, clients and references one subject page reads at most. */
export const MAX_SUBJECT_VERSIONS = 1000;
export const MAX_SUBJECT_HISTORY = 100;
export const MAX_USAGE_ROWS = 200;
const MAX_INT4 = 2_147_483_647;

/** How a subject came to be: written by a contract release, registered over the API, or registered and linked to a channel. */
export type SubjectKind = "governed" | "direct" | "linked";
export const SUBJECT_KINDS: readonly SubjectKind[] = ["governed", "direct", "linked"];

/** Where a subject's effective compatibility level comes from. */
export type CompatibilitySource = "subject" | "application" | "global";

export interface EffectiveCompatibility {
  level: CompatibilityMode;
  source: CompatibilitySource;
  /** True unless the subject carries its own level. */
  inherited: boolean;
}

export interface RegistryGlobalConfig {
  compatibility: CompatibilityMode;
  /** False: nobody set one; Confluent's default (BACKWARD) applies. */
  compatibilityConfigured: boolean;
  mode: RegistryMode;
}

export interface SubjectSummary {
  name: string;
  kind: SubjectKind;
  schemaType: SchemaType | null;
  latestVersion: number | null;
  latestSchemaId: number | null;
  compatibility: EffectiveCompatibility;
  /** The governing application, or the one a direct subject is linked to. */
  application: { slug: string; name: string } | null;
  channel: string | null;
  messageKey: string | null;
  part: "payload" | "headers" | "key" | null;
  /** Who may change it: the governing or linked application's team, else the subject's own owner (null: admins). */
  team: { slug: string; name: string } | null;
  lastRegisteredAt: Date | null;
  deleted: boolean;
}

export interface RegistryOverview {
  subjects: SubjectSummary[];
  total: number;
  page: number;
  pageSize: number;
  hasNext: boolean;
  global: RegistryGlobalConfig;
}

/** The schema type a stored format stands for (contract schemas of any JSON Schema format count as JSON). */
export function schemaTypeOf(format: string): SchemaType {
  if (format.startsWith(SCHEMA_TYPE_FORMATS.AVRO.split(";")[0]!)) return "AVRO";
  if (format.startsWith(SCHEMA_TYPE_FORMATS.PROTOBUF)) return "PROTOBUF";
  return "JSON";
}

/** The canonical text as people read it: indented JSON, the `.proto` text as stored. */
export function prettySchema(canonical: string, schemaType: SchemaType): string {
  if (schemaType === "PROTOBUF") return canonical;
  try {
    return JSON.stringify(JSON.parse(canonical), null, 2);
  } catch {
    return canonical;
  }
}

/** Text for ILIKE '%text%': the pattern characters of the input are matched literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const asLevel = (value: string | null | undefined): CompatibilityMode | undefined =>
  COMPATIBILITY_MODES.find((m) => m === value?.toUpperCase());
const asMode = (value: string | null | undefined): RegistryMode | undefined =>
  (["READWRITE", "READONLY", "IMPORT"] as const).find((m) => m === value?.toUpperCase());

async function globalConfig(db: Executor): Promise<RegistryGlobalConfig> {
  const [row] = await db.select({ compatibility: registryConfig.compatibility, mode: registryConfig.mode }).from(registryConfig).where(eq(registryConfig.id, 1));
  const level = asLevel(row?.compatibility);
  return { compatibility: level ?? "BACKWARD", compatibilityConfigured: level !== undefined, mode: asMode(row?.mode) ?? "READWRITE" };
}

/** The level the registry checks a subject under, and where it comes from (config.ts `resolveSubjectLevel`). */
export function effectiveCompatibility(
  subject: { compatibility: string | null; governed: boolean },
  app: { compatibilityMode: string | null } | null,
  global: RegistryGlobalConfig,
): EffectiveCompatibility {
  const { level, source } = resolveSubjectLevel(subject, app, global.compatibilityConfigured ? global.compatibility : null);
  return { level, source, inherited: source !== "subject" };
}

const kindOf = (row: { governed: boolean; applicationId: string | null }): SubjectKind =>
  row.governed ? "governed" : row.applicationId ? "linked" : "direct";

const kindCondition = (kind: SubjectKind): SQL =>
  kind === "governed"
    ? eq(registrySubject.governed, true)
    : kind === "linked"
      ? and(eq(registrySubject.governed, false), isNotNull(registrySubject.applicationId))!
      : and(eq(registrySubject.governed, false), isNull(registrySubject.applicationId))!;

const typeCondition = (type: SchemaType): SQL => {
  if (type === "AVRO") return like(registrySchema.format, "application/vnd.apache.avro%");
  if (type === "PROTOBUF") return like(registrySchema.format, `${SCHEMA_TYPE_FORMATS.PROTOBUF}%`);
  return sql`not (${registrySchema.format} like 'application/vnd.apache.avro%' or ${registrySchema.format} like ${`${SCHEMA_TYPE_FORMATS.PROTOBUF}%`})`;
};

const appTeam = alias(team, "app_team");
const ownerTeam = alias(team, "owner_team");

/** The latest version of each subject: the highest non-deleted one, or with `deleted` the highest of any. */
function latestVersions(db: Executor, deleted: boolean) {
  const v = registrySubjectVersion;
  return db
    .selectDistinctOn([v.subjectId], { subjectId: v.subjectId, version: v.version, schemaId: v.schemaId, createdAt: v.createdAt })
    .from(v)
    .where(deleted ? undefined : isNull(v.deletedAt))
    .orderBy(v.subjectId, sql`(${v.deletedAt} is null) desc`, desc(v.version))
    .as("latest");
}

export const registryOverviewInput = z
  .object({
    text: z.string().trim().max(200).optional(),
    kind: z.enum(["governed", "direct", "linked"]).optional(),
    schemaType: z.enum(SCHEMA_TYPES).optional(),
    team: z.string().max(100).optional(),
    deleted: z.boolean().optional(),
    page: z.number().int().min(1).max(REGISTRY_MAX_PAGE).optional(),
  })
  .strict()
  .optional();
export type RegistryOverviewFilters = NonNullable<z.input<typeof registryOverviewInput>>;

/**
 * The Registry page: subjects by name, filtered and paged ({@link REGISTRY_PAGE_SIZE} a page), each with its
 * latest version and schema id, effective compatibility and who governs it; and the registry-wide level and mode.
 * Subjects without any version (a level configured before the first schema) are not listed, as the API's
 * `GET /subjects` does not list them.
 */
export const registryOverview = defineQuery({
  permission: "catalog:read",
  input: registryOverviewInput,
  run: async ({ db, input }): Promise<RegistryOverview> => {
    const filters = input ?? {};
    const page = filters.page ?? 1;
    const deleted = filters.deleted ?? false;
    const latest = latestVersions(db, deleted);
    const conditions: Array<SQL | undefined> = [
      deleted ? undefined : isNull(registrySubject.deletedAt),
      filters.text ? sql`${registrySubject.name} ilike ${containsPattern(filters.text)} escape '\\'` : undefined,
      filters.kind ? kindCondition(filters.kind) : undefined,
      filters.schemaType ? typeCondition(filters.schemaType) : undefined,
      filters.team
        ? sql`coalesce(${appTeam.slug}, ${ownerTeam.slug}) = ${filters.team}`
        : undefined,
    ];
    const [rows, global] = await Promise.all([
      db
        .select({
          name: registrySubject.name,
          governed: registrySubject.governed,
          applicationId: registrySubject.applicationId,
          channel: registrySubject.channel,
          messageKey: registrySubject.messageKey,
          part: registrySubject.part,
          compatibility: registrySubject.compatibility,
          deletedAt: registrySubject.deletedAt,
          latestVersion: latest.version,
          latestSchemaId: latest.schemaId,
          lastRegisteredAt: latest.createdAt,
          format: registrySchema.format,
          appSlug: application.slug,
          appName: application.name,
          appCompatibility: application.compatibilityMode,
          appTeamSlug: appTeam.slug,
          appTeamName: appTeam.name,
          ownerTeamSlug: ownerTeam.slug,
          ownerTeamName: ownerTeam.name,
          total: sql<number>`cast(count(*) over () as integer)`,
        })
        .from(registrySubject)
        .innerJoin(latest, eq(latest.subjectId, registrySubject.id))
        .innerJoin(registrySchema, eq(registrySchema.id, latest.schemaId))
        .leftJoin(application, eq(application.id, registrySubject.applicationId))
        .leftJoin(appTeam, eq(appTeam.id, application.teamId))
        .leftJoin(ownerTeam, eq(ownerTeam.id, registrySubject.teamId))
        .where(and(...conditions))
        .orderBy(asc(registrySubject.name))
        .limit(REGISTRY_PAGE_SIZE + 1)
        .offset((page - 1) * REGISTRY_PAGE_SIZE),
      globalConfig(db),
    ]);
    const total = rows[0]?.total ?? (page > 1 ? await countSubjects(db, latest, conditions) : 0);
    return {
      subjects: rows.slice(0, REGISTRY_PAGE_SIZE).map((row) => {
        const app = row.appSlug ? { slug: row.appSlug, name: row.appName ?? row.appSlug, compatibilityMode: row.appCompatibility } : null;
        const teamSlug = row.appTeamSlug ?? row.ownerTeamSlug;
        const teamName = row.appTeamSlug ? row.appTeamName : row.ownerTeamName;
        return {
          name: row.name,
          kind: kindOf(row),
          schemaType: row.format ? schemaTypeOf(row.format) : null,
          latestVersion: row.latestVersion,
          latestSchemaId: row.latestSchemaId,
          compatibility: effectiveCompatibility(row, app, global),
          application: app ? { slug: app.slug, name: app.name } : null,
          channel: row.channel,
          messageKey: row.messageKey,
          part: row.part,
          team: teamSlug ? { slug: teamSlug, name: teamName ?? teamSlug } : null,
          lastRegisteredAt: row.lastRegisteredAt,
          deleted: row.deletedAt !== null,
        };
      }),
      total,
      page,
      pageSize: REGISTRY_PAGE_SIZE,
      hasNext: rows.length > REGISTRY_PAGE_SIZE,
      global,
    };
  },
});

/** The count when the page asked for lies past the last row (the window count came back with no row). */
async function countSubjects(db: Executor, latest: ReturnType<typeof latestVersions>, conditions: Array<SQL | undefined>): Promise<number> {
  const [row] = await db
    .select({ total: sql<number>`cast(count(*) as integer)` })
    .from(registrySubject)
    .innerJoin(latest, eq(latest.subjectId, registrySubject.id))
    .innerJoin(registrySchema, eq(registrySchema.id, latest.schemaId))
    .leftJoin(application, eq(application.id, registrySubject.applicationId))
    .leftJoin(appTeam, eq(appTeam.id, application.teamId))
    .leftJoin(ownerTeam, eq(ownerTeam.id, registrySubject.teamId))
    .where(and(...conditions));
  return row?.total ?? 0;
}

export interface SubjectVersionRow {
  version: number;
  schemaId: number;
  schemaType: SchemaType;
  registeredAt: Date;
  registeredBy: string;
  /** The level this version was checked under when it was registered. */
  compatibility: string;
  deleted: boolean;
  /** The contract version that released it (governed subjects). */
  contractVersion: string | null;
}

export interface SchemaBody {
  id: number;
  schemaType: SchemaType;
  format: string;
  /** Canonical text, pretty-printed. */
  text: string;
  references: SchemaReference[];
}

export interface HistoryEntry {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

export interface SchemaFlow {
  application: { slug: string; name: string };
  version: string;
  channel: string;
  action: "send" | "receive";
  messageKey: string;
  part: "payload" | "headers";
  schemaId: number;
}

export interface ObservedProducer {
  clientId: string;
  brokerId: string;
  brokerName: string;
  template: string;
  lastSeen: string;
}

export interface SubjectDetail {
  name: string;
  kind: SubjectKind;
  deleted: boolean;
  application: { slug: string; name: string } | null;
  channel: string | null;
  messageKey: string | null;
  part: "payload" | "headers" | "key" | null;
  team: { slug: string; name: string } | null;
  /** The subject's own owner team (direct subjects; a linked one is changed by its application's team while linked). */
  ownerTeam: string | null;
  compatibility: EffectiveCompatibility;
  mode: { mode: RegistryMode; source: "subject" | "global" };
  global: RegistryGlobalConfig;
  versions: SubjectVersionRow[];
  versionsTruncated: boolean;
  /** The version shown: `?version=N`, else the latest non-deleted (else the latest). Null when the subject has none. */
  selected: (SubjectVersionRow & { schema: SchemaBody }) | null;
  /** Subject versions whose schemas reference the selected version. */
  referencedBy: Array<{ schemaId: number; subject: string; version: number }>;
  history: HistoryEntry[];
  flows: SchemaFlow[];
  producers: ObservedProducer[];
}

const notFound = (what: string) => new MeshportError("not_found", `${what} not found.`, { subject: "registry" });

async function flowsOfSchemas(db: Executor, ids: readonly number[]): Promise<SchemaFlow[]> {
  if (ids.length === 0) return [];
  const holds = (column: AnyPgColumn) => inArray(column, [...ids]);
  const rows = await db
    .select({
      slug: application.slug,
      name: application.name,
      version: contractVersion.version,
      channel: flow.channel,
      action: flow.action,
      messageKey: flow.messageKey,
      payloadSchemaId: flow.payloadSchemaId,
      headersSchemaId: flow.headersSchemaId,
    })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .innerJoin(application, eq(application.id, contractVersion.applicationId))
    .where(or(holds(flow.payloadSchemaId), holds(flow.headersSchemaId)))
    .orderBy(asc(application.slug), desc(contractVersion.major), desc(contractVersion.minor), desc(contractVersion.patch), asc(flow.channel), asc(flow.action), asc(flow.messageKey))
    .limit(MAX_USAGE_ROWS);
  const wanted = new Set(ids);
  return rows.flatMap((r) => {
    const parts: SchemaFlow[] = [];
    const base = { application: { slug: r.slug, name: r.name }, version: r.version, channel: r.channel, action: r.action, messageKey: r.messageKey };
    if (r.payloadSchemaId !== null && wanted.has(r.payloadSchemaId)) parts.push({ ...base, part: "payload", schemaId: r.payloadSchemaId });
    if (r.headersSchemaId !== null && wanted.has(r.headersSchemaId)) parts.push({ ...base, part: "headers", schemaId: r.headersSchemaId });
    return parts;
  });
}

export const subjectDetailInput = z
  .object({ version: z.number().int().min(1).max(MAX_INT4).optional() })
  .strict()
  .optional();

/**
 * One subject: its versions (newest first), the selected version's schema with its references and what references
 * it, where its compatibility comes from, its history (the `registry.*` audit entries naming it, newest first), the
 * contract flows using its schemas, and the clients the agents saw producing on its channel. Unknown → not_found.
 */
export const subjectDetail = defineQuery({
  permission: "catalog:read",
  input: subjectDetailInput,
  run: async ({ db, input }, name: string): Promise<SubjectDetail> => {
    if (name.length === 0 || name.length > MAX_SUBJECT_NAME) throw notFound("Subject");
    const [subject] = await db
      .select({
        id: registrySubject.id,
        name: registrySubject.name,
        governed: registrySubject.governed,
        applicationId: registrySubject.applicationId,
        channel: registrySubject.channel,
        messageKey: registrySubject.messageKey,
        part: registrySubject.part,
        compatibility: registrySubject.compatibility,
        mode: registrySubject.mode,
        deletedAt: registrySubject.deletedAt,
        appSlug: application.slug,
        appName: application.name,
        appCompatibility: application.compatibilityMode,
        appTeamSlug: appTeam.slug,
        appTeamName: appTeam.name,
        ownerTeamSlug: ownerTeam.slug,
        ownerTeamName: ownerTeam.name,
      })
      .from(registrySubject)
      .leftJoin(application, eq(application.id, registrySubject.applicationId))
      .leftJoin(appTeam, eq(appTeam.id, application.teamId))
      .leftJoin(ownerTeam, eq(ownerTeam.id, registrySubject.teamId))
      .where(eq(registrySubject.name, name));
    if (!subject) throw notFound("Subject");
    const v = registrySubjectVersion;
    const app = subject.appSlug ? { slug: subject.appSlug, name: subject.appName ?? subject.appSlug, compatibilityMode: subject.appCompatibility } : null;

    const [versionRows, global, history, producers] = await Promise.all([
      db
        .select({
          version: v.version,
          schemaId: v.schemaId,
          format: registrySchema.format,
          registeredAt: v.createdAt,
          registeredBy: v.registeredByLabel,
          compatibility: v.compatibility,
          deletedAt: v.deletedAt,
          contractVersion: contractVersion.version,
        })
        .from(v)
        .innerJoin(registrySchema, eq(registrySchema.id, v.schemaId))
        .leftJoin(contractVersion, eq(contractVersion.id, v.contractVersionId))
        .where(eq(v.subjectId, subject.id))
        .orderBy(desc(v.version))
        .limit(MAX_SUBJECT_VERSIONS + 1),
      globalConfig(db),
      db
        .select({ seq: auditEntry.seq, at: auditEntry.at, actor: auditEntry.actorLabel, action: auditEntry.action, details: auditEntry.details })
        .from(auditEntry)
        .where(and(like(auditEntry.action, "registry.%"), sql`${auditEntry.details}->>'subject' = ${subject.name}`))
        .orderBy(desc(auditEntry.seq))
        .limit(MAX_SUBJECT_HISTORY),
      app && subject.channel ? producersOn(db, app.slug, subject.channel) : Promise.resolve([]),
    ]);
    const versions: SubjectVersionRow[] = versionRows.slice(0, MAX_SUBJECT_VERSIONS).map((r) => ({
      version: r.version,
      schemaId: r.schemaId,
      schemaType: schemaTypeOf(r.format),
      registeredAt: r.registeredAt,
      registeredBy: r.registeredBy,
      compatibility: r.compatibility,
      deleted: r.deletedAt !== null,
      contractVersion: r.contractVersion,
    }));
    const flows = await flowsOfSchemas(db, [...new Set(versions.map((x) => x.schemaId))]);
    const wanted = input?.version;
    const chosen =
      wanted !== undefined ? versions.find((x) => x.version === wanted) : (versions.find((x) => !x.deleted) ?? versions[0]);
    if (wanted !== undefined && !chosen) throw notFound(`Version ${wanted} of subject '${subject.name}'`);

    let selected: SubjectDetail["selected"] = null;
    let referencedBy: SubjectDetail["referencedBy"] = [];
    if (chosen) {
      const [body, refs] = await Promise.all([
        schemaBody(db, chosen.schemaId),
        db
          .select({ schemaId: registrySchemaReference.schemaId, subject: registrySubject.name, version: v.version })
          .from(registrySchemaReference)
          .innerJoin(v, eq(v.schemaId, registrySchemaReference.schemaId))
          .innerJoin(registrySubject, eq(registrySubject.id, v.subjectId))
          .where(and(eq(registrySchemaReference.subject, subject.name), eq(registrySchemaReference.version, chosen.version)))
          .orderBy(asc(registrySubject.name), asc(v.version))
          .limit(MAX_USAGE_ROWS),
      ]);
      if (body) selected = { ...chosen, schema: body };
      referencedBy = refs;
    }
    const teamSlug = subject.appTeamSlug ?? subject.ownerTeamSlug;
    const teamName = subject.appTeamSlug ? subject.appTeamName : subject.ownerTeamName;
    const ownMode = asMode(subject.mode);
    return {
      name: subject.name,
      kind: kindOf(subject),
      deleted: subject.deletedAt !== null,
      application: app ? { slug: app.slug, name: app.name } : null,
      channel: subject.channel,
      messageKey: subject.messageKey,
      part: subject.part,
      team: teamSlug ? { slug: teamSlug, name: teamName ?? teamSlug } : null,
      ownerTeam: subject.ownerTeamSlug,
      compatibility: effectiveCompatibility(subject, app, global),
      mode: ownMode ? { mode: ownMode, source: "subject" } : { mode: global.mode, source: "global" },
      global,
      versions,
      versionsTruncated: versionRows.length > MAX_SUBJECT_VERSIONS,
      selected,
      referencedBy,
      history,
      flows,
      producers,
    };
  },
});

async function schemaBody(db: Executor, id: number): Promise<SchemaBody | null> {
  const [row] = await db
    .select({ id: registrySchema.id, format: registrySchema.format, canonical: registrySchema.canonical, references: registrySchema.references })
    .from(registrySchema)
    .where(eq(registrySchema.id, id));
  if (!row) return null;
  const schemaType = schemaTypeOf(row.format);
  return { id: row.id, schemaType, format: row.format, text: prettySchema(row.canonical, schemaType), references: row.references ?? [] };
}

/** Producers the agents saw on the topics labelled with this application's channel, latest first. */
async function producersOn(db: Executor, appSlug: string, channel: string): Promise<ObservedProducer[]> {
  const rows = await db
    .select({ brokerId: brokerTopic.brokerId, brokerName: broker.name, template: brokerTopic.template, producers: brokerTopic.producers })
    .from(brokerTopic)
    .innerJoin(broker, eq(broker.id, brokerTopic.brokerId))
    .where(and(sql`${brokerTopic.channel}->>'application' = ${appSlug}`, sql`${brokerTopic.channel}->>'address' = ${channel}`))
    .orderBy(desc(brokerTopic.lastSeen))
    .limit(MAX_USAGE_ROWS);
  const producers = rows.flatMap((r) =>
    (r.producers ?? []).map((p) => ({ clientId: p.clientId, brokerId: r.brokerId, brokerName: r.brokerName, template: r.template, lastSeen: p.lastSeen })),
  );
  return producers.sort((a, b) => b.lastSeen.localeCompare(a.lastSeen)).slice(0, MAX_USAGE_ROWS);
}

export interface SchemaDetail extends SchemaBody {
  /** Every subject version holding this schema, by subject then version. */
  subjects: Array<{ subject: string; version: number; deleted: boolean }>;
  flows: SchemaFlow[];
}

export const schemaDetailInput = z.number().int().min(1).max(MAX_INT4);

/** One global schema id: the schema, the subject versions holding it, and the contract flows using it. Unknown → not_found. */
export const schemaDetail = defineQuery({
  permission: "catalog:read",
  input: (raw: unknown) => {
    const parsed = schemaDetailInput.safeParse(raw);
    if (!parsed.success) throw notFound("Schema");
    return parsed.data;
  },
  run: async ({ db, input: id }): Promise<SchemaDetail> => {
    const v = registrySubjectVersion;
    const [body, subjects, flows] = await Promise.all([
      schemaBody(db, id),
      db
        .select({ subject: registrySubject.name, version: v.version, versionDeleted: v.deletedAt, subjectDeleted: registrySubject.deletedAt })
        .from(v)
        .innerJoin(registrySubject, eq(registrySubject.id, v.subjectId))
        .where(eq(v.schemaId, id))
        .orderBy(asc(registrySubject.name), asc(v.version))
        .limit(MAX_USAGE_ROWS),
      flowsOfSchemas(db, [id]),
    ]);
    if (!body) throw notFound(`Schema ${id}`);
    return {
      ...body,
      subjects: subjects.map((s) => ({ subject: s.subject, version: s.version, deleted: s.versionDeleted !== null || s.subjectDeleted !== null })),
      flows,
    };
  },
});

export interface MessageSubject {
  name: string;
  part: "payload" | "headers" | "key" | null;
  kind: SubjectKind;
  latestVersion: number | null;
  latestSchemaId: number | null;
}

/** The registry subjects of one message of an application's channel (governed or linked), not soft-deleted. */
export const subjectsOfMessage = defineQuery({
  permission: "catalog:read",
  input: z.string().max(500),
  run: async ({ db, input: messageKey }, appSlug: string, channel: string): Promise<MessageSubject[]> => {
    if (appSlug.length > 100 || channel.length > 4096) return [];
    const latest = latestVersions(db, false);
    const rows = await db
      .select({
        name: registrySubject.name,
        part: registrySubject.part,
        governed: registrySubject.governed,
        applicationId: registrySubject.applicationId,
        latestVersion: latest.version,
        latestSchemaId: latest.schemaId,
      })
      .from(registrySubject)
      .innerJoin(application, eq(application.id, registrySubject.applicationId))
      .leftJoin(latest, eq(latest.subjectId, registrySubject.id))
      .where(
        and(
          eq(application.slug, appSlug),
          eq(registrySubject.channel, channel),
          eq(registrySubject.messageKey, messageKey),
          isNull(registrySubject.deletedAt),
        ),
      )
      .orderBy(asc(registrySubject.part), asc(registrySubject.name))
      .limit(50);
    return rows.map((r) => ({ name: r.name, part: r.part, kind: kindOf(r), latestVersion: r.latestVersion, latestSchemaId: r.latestSchemaId }));
  },
});
