import "server-only";
import { and, asc, desc, eq, getTableColumns, inArray, isNotNull, lte, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client.ts";
import { application, auditEntry, broker, brokerBridge, brokerLink, brokerTopic, changeRequest, contractVersion, flow, team } from "@/db/schema.ts";
import { parseAuditInstant } from "@/lib/audit/audit.ts";
import { can } from "@/lib/auth/permissions.ts";
import { isCurrentVersion } from "@/lib/catalog/applications.ts";
import { MeshportError, slugSchema } from "@/lib/errors.ts";
import { clientMapper, mayOverlap, patternOwners } from "@/lib/reviews/impact.ts";
import { defineQuery } from "@/lib/service.ts";
import { AMQP_DIALECT, MQTT_DIALECT, NATS_DIALECT, splitLevels, templatesOverlap, utf8Length, type Template, type TopicDialect } from "@/registry/topics/index.ts";
import type { AppRef } from "@/registry/index.ts";
import { brokerDialect } from "@/lib/brokers/dialect.ts";
import { attributeClient, bridgePaths, channelTemplate, historyPrefixesIn, meetsChannel, schemaChanges, type BridgeLike, type SchemaChange } from "./graph.ts";
import { observedBetween, type ObservedAt } from "@/lib/observations/history.ts";

/*
 * The lineage of an event: the applications that produce it (declared in their contracts, observed by the agents,
 * or both), the brokers it was seen on, the bridges that carry it further, the applications that consume it, the
 * history of its payload schemas across the producers' versions, and who changed those contracts. Every read is
 * bounded; past a bound the answer says `truncated`.
 */

/** Longest channel address asked about, in UTF-8 bytes. */
export const MAX_CHANNEL_BYTES = 2048;
/** Flows (of every version) read at most. */
export const MAX_LINEAGE_FLOWS = 5000;
/** Observed topic templates read at most. */
export const MAX_LINEAGE_TOPICS = 2000;
/** Clients per topic template and role considered at most. */
export const MAX_LINEAGE_CLIENTS = 200;
/** Unknown clients listed at most. */
export const MAX_UNKNOWN_CLIENTS = 500;
/** Declared bridges read at most. */
export const MAX_LINEAGE_BRIDGES = 1000;
/** Applications whose versions are listed at most, and versions read at most in all. */
export const MAX_HISTORY_APPLICATIONS = 50;
export const MAX_HISTORY_VERSIONS = 5000;
/** Audit entries listed at most. */
export const MAX_LINEAGE_CHANGES = 200;

/** How far back from `at` observations count (`MESHPORT_DRIFT_SILENT_AFTER_SECONDS`, default a day). */
export function lineageWindowSeconds(): number {
  const configured = Number(process.env.MESHPORT_DRIFT_SILENT_AFTER_SECONDS);
  return Number.isInteger(configured) && configured >= 60 && configured <= 30 * 86_400 ? configured : 86_400;
}

/** An application as a lineage names it. */
export interface LineageApp {
  id: string;
  slug: string;
  name: string;
  team: { slug: string; name: string };
}

/** declared: the contract says so; observed: an agent saw its client do it; both. */
export type LineageMark = "declared" | "observed" | "both";

/** An application producing or consuming the event. */
export interface LineageParticipant {
  application: LineageApp;
  mark: LineageMark;
  /** the flows of its (then) current version on the channel */
  declared: Array<{ version: string; channel: string; messages: string[] }>;
  /** its clients the agents saw, per broker */
  observed: Array<{ brokerId: string; template: string; clientId: string; messages: number | null; filter: string | null; lastSeen: string | null }>;
}

/** A client that maps to no application. */
export interface LineageUnknownClient {
  brokerId: string;
  template: string;
  clientId: string;
  role: "producer" | "consumer";
  messages: number | null;
  filter: string | null;
  lastSeen: string | null;
}

/** The channel on one broker. */
export interface LineageBroker {
  brokerId: string;
  name: string;
  /** an agent saw it there; false for a broker only a bridge leads to */
  observed: boolean;
  /** bridge hops from a broker it was observed on (null when observed here) */
  hop: number | null;
  topics: Array<{ template: string; topics: string[]; messages: number; ratePerSecond: number; firstSeen: string; lastSeen: string }>;
  messages: number;
  ratePerSecond: number;
  firstSeen: string | null;
  lastSeen: string | null;
}

/** One bridge hop of the event. */
export interface LineageBridge {
  id: string;
  fromBrokerId: string;
  toBrokerId: string;
  topicFilter: string;
  direction: "out" | "both";
  reverse: boolean;
  hop: number;
  /** for a link a broker told of (not declared): how the brokers link, and which broker told */
  discovered?: { kind: string; reportedBy: string };
}

/** One version of a producer's contract, with the payload schemas of the channel's messages. */
export interface LineageVersion {
  application: { slug: string; name: string };
  version: string;
  state: string;
  publishedAt: string;
  publishedByLabel: string;
  changeRequest: { id: string; number: number | null } | null;
  action: "send" | "receive";
  schemas: Array<{ channel: string; messageKey: string; payloadSchemaId: number | null }>;
  change: SchemaChange;
  schemaChanged: boolean;
}

/** An audit entry about one of the producers. */
export interface LineageChange {
  seq: number;
  at: string;
  actor: { kind: string; id: string; label: string };
  action: string;
  target: { type: string; id: string };
  application: string | null;
  version: string | null;
}

/** The lineage of a channel (optionally one message of it), now or at a past instant. */
export interface ChannelLineage {
  channel: string;
  message: string | null;
  application: string | null;
  /** the instant asked about; null for now */
  at: string | null;
  /** the observations' range for `at` */
  window: { from: string; to: string } | null;
  generatedAt: string;
  /** contract channel templates that meet the channel */
  declaredChannels: string[];
  producers: LineageParticipant[];
  consumers: LineageParticipant[];
  unknownClients: LineageUnknownClient[];
  brokers: LineageBroker[];
  bridges: LineageBridge[];
  versions: LineageVersion[];
  /** audit entries about the producers: only for principals who read the audit log */
  changes: { visible: boolean; entries: LineageChange[]; truncated: boolean };
  truncated: boolean;
}

const instantInput = z.union([
  z.date(),
  z
    .string()
    .trim()
    .max(40)
    .transform((text, ctx) => {
      // A day alone means its end: what had happened by that day.
      const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? parseAuditInstant(text, true) : parseAuditInstant(text);
      if (!at) {
        ctx.addIssue({ code: "custom", message: "Use an ISO date or date and time, such as 2026-12-01 or 2026-12-01T14:05Z." });
        return z.NEVER;
      }
      return at;
    }),
]);

/** What a lineage is asked for. */
export const channelLineageInput = z.object({
  channel: z
    .string()
    .min(1, { message: "Name a channel address." })
    .max(MAX_CHANNEL_BYTES, { message: `A channel address is at most ${MAX_CHANNEL_BYTES} bytes.` })
    .refine((v) => utf8Length(v) <= MAX_CHANNEL_BYTES, { message: `A channel address is at most ${MAX_CHANNEL_BYTES} bytes.` })
    .refine((v) => channelTemplate(v) !== null, { message: "Not a channel address or topic (no + or #, no empty parameter)." }),
  message: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((v) => !v.includes("\u0000"), { message: "A message key contains no NUL character." })
    .optional(),
  application: slugSchema(80).optional(),
  at: instantInput
    .refine((d) => !Number.isNaN(d.getTime()) && d.getTime() >= 0 && d.getUTCFullYear() <= 9999, { message: "Not a date the portal knows." })
    .optional(),
});

/**
 * The channel read in each broker dialect, parsed once: observed templates, topics and filters of a broker meet it
 * in the broker's syntax (null: the address is no channel there).
 */
function channelIn(address: string): (dialect: TopicDialect) => Template | null {
  const parsed = new Map<string, Template | null>();
  return (dialect) => {
    if (!parsed.has(dialect.protocol)) parsed.set(dialect.protocol, channelTemplate(address, dialect));
    return parsed.get(dialect.protocol)!;
  };
}

/** Rows whose address column may meet the channel (same narrowing as a change's impact); checked exactly in code. */
const mayMeet = (column: typeof flow.channel | typeof brokerTopic.template, channel: string) => mayOverlap(column, [channel]);

/**
 * True for the row of `contract_version` that was its application's current version at the instant: released or
 * deprecated, published by then, and no such version of the same application ranking above it.
 */
function wasCurrentVersion(at: Date): SQL {
  const by = sql`${at.toISOString()}::timestamptz`;
  return sql`(${contractVersion.state} in ('released', 'deprecated') and ${contractVersion.publishedAt} <= ${by} and not exists (
    select 1 from ${contractVersion} as newer
    where newer.application_id = ${contractVersion.applicationId}
      and newer.state in ('released', 'deprecated')
      and newer.published_at <= ${by}
      and (newer.major, newer.minor, newer.patch, newer.prerelease = '', newer.prerelease)
        > (${contractVersion.major}, ${contractVersion.minor}, ${contractVersion.patch}, ${contractVersion.prerelease} = '', ${contractVersion.prerelease})))`;
}

interface FlowRow {
  channel: string;
  action: "send" | "receive";
  messageKey: string;
  payloadSchemaId: number | null;
  versionId: string;
  version: string;
  current: boolean;
  app: LineageApp;
}

/** The flows of every version on channels that meet the channel; `current` marks those of the (then) current version. */
async function flowsMeeting(db: Executor, channel: Template, at: Date | null): Promise<{ rows: FlowRow[]; truncated: boolean }> {
  const rows = await db
    .select({
      channel: flow.channel,
      action: flow.action,
      messageKey: flow.messageKey,
      payloadSchemaId: flow.payloadSchemaId,
      versionId: flow.versionId,
      version: contractVersion.version,
      current: sql<boolean>`${at ? wasCurrentVersion(at) : isCurrentVersion()}`,
      appId: application.id,
      appSlug: application.slug,
      appName: application.name,
      teamSlug: team.slug,
      teamName: team.name,
    })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .innerJoin(application, eq(application.id, contractVersion.applicationId))
    .innerJoin(team, eq(team.id, application.teamId))
    .where(or(eq(flow.channel, channel.address), mayMeet(flow.channel, channel.address)))
    .orderBy(asc(application.slug), asc(flow.versionId), asc(flow.channel), asc(flow.action), asc(flow.messageKey))
    .limit(MAX_LINEAGE_FLOWS + 1);
  return {
    truncated: rows.length > MAX_LINEAGE_FLOWS,
    rows: rows
      .slice(0, MAX_LINEAGE_FLOWS)
      .filter((r) => r.channel === channel.address || templatesOverlap(r.channel, channel))
      .map((r) => ({
        channel: r.channel,
        action: r.action,
        messageKey: r.messageKey,
        payloadSchemaId: r.payloadSchemaId,
        versionId: r.versionId,
        version: r.version,
        // The driver may hand a boolean expression back as text.
        current: r.current === true || (r.current as unknown) === "t" || (r.current as unknown) === "true",
        app: { id: r.appId, slug: r.appSlug, name: r.appName, team: { slug: r.teamSlug, name: r.teamName } },
      })),
  };
}

/** An observed topic template that meets the channel, in one shape for now and for a past range. */
interface ObservedRow {
  brokerId: string;
  template: string;
  topics: string[];
  messages: number;
  ratePerSecond: number;
  firstSeen: string;
  lastSeen: string;
  producers: Array<{ clientId: string; messages: number | null; lastSeen: string | null }>;
  consumers: Array<{ clientId: string; filter: string | null; lastSeen: string | null }>;
  clientsCut: boolean;
}

const iso = (value: Date | string | null | undefined): string | null => {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
};

/** The current picture: broker topics that meet the channel, each read in its broker's syntax. */
async function observedNow(db: Executor, channel: Template): Promise<{ rows: ObservedRow[]; truncated: boolean }> {
  const inDialect = channelIn(channel.address);
  const rows = await db
    .select({
      protocol: broker.protocol,
      brokerId: brokerTopic.brokerId,
      template: brokerTopic.template,
      topics: brokerTopic.topics,
      distinctTopics: brokerTopic.distinctTopics,
      totalMessages: brokerTopic.totalMessages,
      lastRatePerSecond: brokerTopic.lastRatePerSecond,
      firstSeen: brokerTopic.firstSeen,
      lastSeen: brokerTopic.lastSeen,
      producers: brokerTopic.producers,
      consumers: brokerTopic.consumers,
    })
    .from(brokerTopic)
    .innerJoin(broker, eq(broker.id, brokerTopic.brokerId))
    // Levels by `/` narrow dotted names too (as one level), so the narrowing holds for every kind.
    .where(mayMeet(brokerTopic.template, channel.address))
    .orderBy(asc(brokerTopic.brokerId), asc(brokerTopic.template))
    .limit(MAX_LINEAGE_TOPICS + 1);
  const found: ObservedRow[] = [];
  for (const row of rows.slice(0, MAX_LINEAGE_TOPICS)) {
    const there = inDialect(brokerDialect(row.protocol));
    if (!there) continue;
    const listed = (row.topics ?? []).flatMap((t) => (typeof t?.topic === "string" ? [t.topic] : []));
    const met = meetsChannel({ template: row.template, topics: listed, distinctTopics: row.distinctTopics }, there);
    if (!met.meets) continue;
    const producers = row.producers ?? [];
    const consumers = row.consumers ?? [];
    found.push({
      brokerId: row.brokerId,
      template: row.template,
      topics: met.topics,
      messages: row.totalMessages,
      ratePerSecond: row.lastRatePerSecond,
      firstSeen: row.firstSeen.toISOString(),
      lastSeen: row.lastSeen.toISOString(),
      producers: producers.slice(0, MAX_LINEAGE_CLIENTS).flatMap((p) =>
        typeof p?.clientId === "string" ? [{ clientId: p.clientId, messages: typeof p.messages === "number" ? p.messages : null, lastSeen: iso(p.lastSeen) }] : [],
      ),
      consumers: consumers.slice(0, MAX_LINEAGE_CLIENTS).flatMap((c) =>
        typeof c?.clientId === "string" ? [{ clientId: c.clientId, filter: typeof c.filter === "string" ? c.filter : null, lastSeen: iso(c.lastSeen) }] : [],
      ),
      clientsCut: producers.length > MAX_LINEAGE_CLIENTS || consumers.length > MAX_LINEAGE_CLIENTS,
    });
  }
  return { rows: found, truncated: rows.length > MAX_LINEAGE_TOPICS };
}

/** A past picture: what the agents reported in the window before the instant. */
async function observedAt(db: Executor, channel: Template, range: { from: Date; to: Date }): Promise<{ rows: ObservedRow[]; truncated: boolean }> {
  const seconds = Math.max(1, (range.to.getTime() - range.from.getTime()) / 1000);
  const inDialect = channelIn(channel.address);
  const topics: ObservedAt[] = [];
  let truncated = false;
  for (const templatePrefix of historyPrefixesIn(channel.address, [MQTT_DIALECT, NATS_DIALECT, AMQP_DIALECT])) {
    const history = await observedBetween(db, range, templatePrefix === undefined ? {} : { templatePrefix }, MAX_LINEAGE_TOPICS);
    truncated ||= history.truncated;
    topics.push(...history.topics);
  }
  const brokerIds = [...new Set(topics.map((t) => t.brokerId))];
  const kinds = new Map(
    brokerIds.length === 0 ? [] : (await db.select({ id: broker.id, protocol: broker.protocol }).from(broker).where(inArray(broker.id, brokerIds))).map((b) => [b.id, b.protocol] as const),
  );
  const found: ObservedRow[] = [];
  for (const row of topics) {
    const dialect = brokerDialect(kinds.get(row.brokerId));
    const there = inDialect(dialect);
    if (!there || splitLevels(row.template, dialect).length !== there.levels.length) continue;
    // A past window keeps no topic list: the agent's label, or the templates meeting, decides.
    const labelled = row.channelAddress !== null && (row.channelAddress === channel.address || templatesOverlap(row.channelAddress, there));
    if (!labelled && !meetsChannel({ template: row.template, topics: [], distinctTopics: 0 }, there).meets) continue;
    found.push({
      brokerId: row.brokerId,
      template: row.template,
      topics: [],
      messages: row.messages,
      ratePerSecond: row.messages / seconds,
      firstSeen: iso(row.firstSeen) ?? range.from.toISOString(),
      lastSeen: iso(row.lastSeen) ?? range.to.toISOString(),
      producers: row.producers.slice(0, MAX_LINEAGE_CLIENTS).map((p) => ({ clientId: p.clientId, messages: p.messages, lastSeen: iso(row.lastSeen) })),
      consumers: row.consumers.slice(0, MAX_LINEAGE_CLIENTS).map((c) => ({ clientId: c.clientId, filter: c.filter, lastSeen: iso(row.lastSeen) })),
      clientsCut: row.producers.length > MAX_LINEAGE_CLIENTS || row.consumers.length > MAX_LINEAGE_CLIENTS,
    });
  }
  found.sort((a, b) => (a.brokerId < b.brokerId ? -1 : a.brokerId > b.brokerId ? 1 : a.template < b.template ? -1 : a.template > b.template ? 1 : 0));
  return { rows: found, truncated };
}

const byName = (a: { application: LineageApp }, b: { application: LineageApp }) =>
  a.application.name < b.application.name ? -1 : a.application.name > b.application.name ? 1 : a.application.slug < b.application.slug ? -1 : a.application.slug > b.application.slug ? 1 : 0;

/** Builds one side (producers or consumers): declared flows, then the observed clients counted for them. */
function participants(
  role: "producer" | "consumer",
  declaredFlows: readonly FlowRow[],
  observed: readonly ObservedRow[],
  mapClient: (clientId: string) => { applications: AppRef[]; cut: boolean },
  unknown: LineageUnknownClient[],
): { list: LineageParticipant[]; truncated: boolean } {
  const byApp = new Map<string, LineageParticipant & { declaredSeen: boolean; observedSeen: boolean }>();
  const entry = (app: LineageApp) => {
    let found = byApp.get(app.id);
    if (!found) {
      found = { application: app, mark: "declared", declared: [], observed: [], declaredSeen: false, observedSeen: false };
      byApp.set(app.id, found);
    }
    return found;
  };
  const grouped = new Map<string, { version: string; channel: string; messages: string[] }>();
  for (const row of declaredFlows) {
    const participant = entry(row.app);
    participant.declaredSeen = true;
    const key = `${row.app.id}\u0000${row.version}\u0000${row.channel}`;
    let group = grouped.get(key);
    if (!group) {
      group = { version: row.version, channel: row.channel, messages: [] };
      grouped.set(key, group);
      participant.declared.push(group);
    }
    if (!group.messages.includes(row.messageKey)) group.messages.push(row.messageKey);
  }
  const declaring = new Set(declaredFlows.map((r) => r.app.id));
  let truncated = false;
  for (const topic of observed) {
    const clients = role === "producer" ? topic.producers : topic.consumers;
    for (const client of clients) {
      const { applications, cut } = mapClient(client.clientId);
      truncated ||= cut;
      const messages = "messages" in client ? client.messages : null;
      const filter = "filter" in client ? client.filter : null;
      if (applications.length === 0) {
        if (unknown.length >= MAX_UNKNOWN_CLIENTS) truncated = true;
        else unknown.push({ brokerId: topic.brokerId, template: topic.template, clientId: client.clientId, role, messages, filter, lastSeen: client.lastSeen });
        continue;
      }
      const { applications: counted } = attributeClient(applications, declaring);
      for (const ref of counted) {
        const participant = entry({ id: ref.id, slug: ref.slug, name: ref.name, team: { slug: ref.teamSlug, name: ref.teamName } });
        participant.observedSeen = true;
        participant.observed.push({ brokerId: topic.brokerId, template: topic.template, clientId: client.clientId, messages, filter, lastSeen: client.lastSeen });
      }
    }
  }
  const list = [...byApp.values()]
    .map(({ declaredSeen, observedSeen, ...p }) => ({ ...p, mark: (declaredSeen && observedSeen ? "both" : declaredSeen ? "declared" : "observed") as LineageMark }))
    .sort(byName);
  return { list, truncated };
}

/** The channel on each broker it was observed on, and those bridges lead to. */
function brokersOf(observed: readonly ObservedRow[], reached: ReadonlyMap<string, number>, names: ReadonlyMap<string, string>): LineageBroker[] {
  const byBroker = new Map<string, LineageBroker>();
  for (const row of observed) {
    let entry = byBroker.get(row.brokerId);
    if (!entry) {
      entry = { brokerId: row.brokerId, name: names.get(row.brokerId) ?? row.brokerId, observed: true, hop: null, topics: [], messages: 0, ratePerSecond: 0, firstSeen: null, lastSeen: null };
      byBroker.set(row.brokerId, entry);
    }
    entry.topics.push({ template: row.template, topics: row.topics, messages: row.messages, ratePerSecond: row.ratePerSecond, firstSeen: row.firstSeen, lastSeen: row.lastSeen });
    entry.messages += row.messages;
    entry.ratePerSecond += row.ratePerSecond;
    if (!entry.firstSeen || row.firstSeen < entry.firstSeen) entry.firstSeen = row.firstSeen;
    if (!entry.lastSeen || row.lastSeen > entry.lastSeen) entry.lastSeen = row.lastSeen;
  }
  for (const [brokerId, hop] of reached) {
    if (!byBroker.has(brokerId)) {
      byBroker.set(brokerId, { brokerId, name: names.get(brokerId) ?? brokerId, observed: false, hop, topics: [], messages: 0, ratePerSecond: 0, firstSeen: null, lastSeen: null });
    }
  }
  return [...byBroker.values()].sort((a, b) => (a.hop ?? 0) - (b.hop ?? 0) || (a.brokerId < b.brokerId ? -1 : a.brokerId > b.brokerId ? 1 : 0));
}

/** Every version of the applications (published by `at` when given), oldest first, with the channel's schemas. */
async function versionHistory(
  db: Executor,
  apps: ReadonlyArray<{ app: LineageApp; action: "send" | "receive" }>,
  flows: readonly FlowRow[],
  message: string | null,
  at: Date | null,
): Promise<{ versions: LineageVersion[]; truncated: boolean }> {
  if (apps.length === 0) return { versions: [], truncated: false };
  const { files: _files, contract: _contract, changelog: _changelog, lint: _lint, ...columns } = getTableColumns(contractVersion);
  void _files;
  void _contract;
  void _changelog;
  void _lint;
  const rows = await db
    .select({ ...columns, changeRequestNumber: changeRequest.number })
    .from(contractVersion)
    .leftJoin(changeRequest, eq(changeRequest.id, contractVersion.changeRequestId))
    .where(and(inArray(contractVersion.applicationId, apps.map((a) => a.app.id)), at ? lte(contractVersion.publishedAt, at) : undefined))
    .orderBy(
      asc(contractVersion.applicationId),
      asc(contractVersion.major),
      asc(contractVersion.minor),
      asc(contractVersion.patch),
      // A release ranks above its pre-releases.
      sql`${contractVersion.prerelease} = '' asc`,
      asc(contractVersion.prerelease),
    )
    .limit(MAX_HISTORY_VERSIONS + 1);
  const schemasOf = new Map<string, LineageVersion["schemas"]>();
  const actionOf = new Map(apps.map((a) => [a.app.id, a.action]));
  for (const row of flows) {
    if (row.action !== actionOf.get(row.app.id)) continue;
    if (message !== null && row.messageKey !== message) continue;
    const list = schemasOf.get(row.versionId) ?? [];
    list.push({ channel: row.channel, messageKey: row.messageKey, payloadSchemaId: row.payloadSchemaId });
    schemasOf.set(row.versionId, list);
  }
  const versions: LineageVersion[] = [];
  for (const { app, action } of apps) {
    const own = rows.slice(0, MAX_HISTORY_VERSIONS).filter((r) => r.applicationId === app.id);
    const listed = own.map((r) => ({
      application: { slug: app.slug, name: app.name },
      version: r.version,
      state: r.state,
      publishedAt: r.publishedAt.toISOString(),
      publishedByLabel: r.publishedByLabel,
      changeRequest: r.changeRequestId ? { id: r.changeRequestId, number: r.changeRequestNumber ?? null } : null,
      action,
      schemas: schemasOf.get(r.id) ?? [],
    }));
    versions.push(...schemaChanges(listed));
  }
  return { versions, truncated: rows.length > MAX_HISTORY_VERSIONS };
}

/** The audit entries about the applications' contracts and change requests, newest first. */
async function changesOf(db: Executor, slugs: readonly string[], at: Date | null): Promise<{ entries: LineageChange[]; truncated: boolean }> {
  if (slugs.length === 0) return { entries: [], truncated: false };
  const rows = await db
    .select()
    .from(auditEntry)
    .where(
      and(
        // Written as the index expression, so the filter uses audit_entry_application_idx.
        sql`(${auditEntry.details}->>'application') in (${sql.join(slugs.map((s) => sql`${s}`), sql`, `)})`,
        or(sql`starts_with(${auditEntry.action}, 'contract.')`, sql`starts_with(${auditEntry.action}, 'change_request.')`),
        at ? lte(auditEntry.at, at) : undefined,
      ),
    )
    .orderBy(desc(auditEntry.seq))
    .limit(MAX_LINEAGE_CHANGES + 1);
  return {
    truncated: rows.length > MAX_LINEAGE_CHANGES,
    entries: rows.slice(0, MAX_LINEAGE_CHANGES).map((e) => ({
      seq: e.seq,
      at: e.at.toISOString(),
      actor: { kind: e.actorKind, id: e.actorId, label: e.actorLabel },
      action: e.action,
      target: { type: e.targetType, id: e.targetId },
      application: typeof e.details?.application === "string" ? e.details.application : null,
      version: typeof e.details?.version === "string" ? e.details.version : null,
    })),
  };
}

/**
 * The bridges the event may cross: declared bridges, and links brokers told of whose far end is a broker of the
 * mesh, one per filter they list, in the syntax of the broker that told (a link between two brokers a declared
 * bridge already links is left out; a link that tells nothing of what flows over it carries nothing here).
 */
async function bridgesOf(db: Executor): Promise<{ list: BridgeLike[]; discovered: Map<string, { kind: string; reportedBy: string }>; truncated: boolean }> {
  const declared = await db
    .select({
      id: brokerBridge.id,
      fromBrokerId: brokerBridge.fromBrokerId,
      toBrokerId: brokerBridge.toBrokerId,
      topicFilter: brokerBridge.topicFilter,
      direction: brokerBridge.direction,
      protocol: broker.protocol,
    })
    .from(brokerBridge)
    .innerJoin(broker, eq(broker.id, brokerBridge.fromBrokerId))
    .orderBy(asc(brokerBridge.id))
    .limit(MAX_LINEAGE_BRIDGES + 1);
  const links = await db
    .select({
      brokerId: brokerLink.brokerId,
      kind: brokerLink.kind,
      name: brokerLink.name,
      remoteBrokerId: brokerLink.remoteBrokerId,
      direction: brokerLink.direction,
      topics: brokerLink.topics,
      protocol: broker.protocol,
    })
    .from(brokerLink)
    .innerJoin(broker, eq(broker.id, brokerLink.brokerId))
    .where(and(isNotNull(brokerLink.remoteBrokerId), sql`cardinality(${brokerLink.topics}) > 0`))
    .orderBy(asc(brokerLink.brokerId), asc(brokerLink.kind), asc(brokerLink.name))
    .limit(MAX_LINEAGE_BRIDGES + 1);
  const list: BridgeLike[] = declared.slice(0, MAX_LINEAGE_BRIDGES).map(({ protocol, ...b }) => ({ ...b, dialect: brokerDialect(protocol) }));
  const pair = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);
  const linked = new Set(list.map((b) => pair(b.fromBrokerId, b.toBrokerId)));
  const discovered = new Map<string, { kind: string; reportedBy: string }>();
  for (const link of links.slice(0, MAX_LINEAGE_BRIDGES)) {
    const remote = link.remoteBrokerId!;
    if (remote === link.brokerId || linked.has(pair(link.brokerId, remote))) continue;
    const id = `link:${link.brokerId}/${link.kind}/${link.name}`;
    discovered.set(id, { kind: link.kind, reportedBy: link.brokerId });
    const [fromBrokerId, toBrokerId] = link.direction === "in" ? [remote, link.brokerId] : [link.brokerId, remote];
    for (const topicFilter of link.topics) {
      list.push({ id, fromBrokerId, toBrokerId, topicFilter, direction: link.direction === "both" ? "both" : "out", dialect: brokerDialect(link.protocol) });
    }
  }
  return { list, discovered, truncated: declared.length > MAX_LINEAGE_BRIDGES || links.length > MAX_LINEAGE_BRIDGES };
}

/**
 * The lineage of a channel address (a contract's channel template or a concrete topic), optionally of one message
 * of it and from one application's side, now or as it stood at `at`: declared producers and consumers are the
 * flows of each application's current version (for `at`: the highest released or deprecated version published by
 * then), observed ones the clients the agents saw on topic templates that meet the channel (for `at`: in the
 * window before it). A channel nothing declares and nothing was seen on is a 404.
 */
export const channelLineage = defineQuery({
  permission: "catalog:read",
  input: channelLineageInput,
  run: async ({ db, principal, input }): Promise<ChannelLineage> => {
    const channel = channelTemplate(input.channel)!;
    const at = input.at ?? null;
    const message = input.message ?? null;
    let truncated = false;

    let named: { id: string; slug: string } | null = null;
    if (input.application) {
      const [found] = await db.select({ id: application.id, slug: application.slug }).from(application).where(eq(application.slug, input.application));
      if (!found) throw new MeshportError("not_found", `No application ${input.application}.`, { subject: "application" });
      named = found;
    }

    const flows = await flowsMeeting(db, channel, at);
    truncated ||= flows.truncated;
    const window = at ? { from: new Date(at.getTime() - lineageWindowSeconds() * 1000), to: at } : null;
    const observed = window ? await observedAt(db, channel, window) : await observedNow(db, channel);
    truncated ||= observed.truncated || observed.rows.some((r) => r.clientsCut);

    if (flows.rows.length === 0 && observed.rows.length === 0) {
      throw new MeshportError("not_found", `No channel ${input.channel}: no contract declares it and no agent saw it.`, { subject: "channel" });
    }
    if (named && !flows.rows.some((r) => r.app.id === named.id)) {
      throw new MeshportError("not_found", `${named.slug} declares no channel ${input.channel}.`, { subject: "channel" });
    }
    if (message !== null && !flows.rows.some((r) => r.messageKey === message && (!named || r.app.id === named.id))) {
      throw new MeshportError("not_found", `No message ${message} on the channel ${input.channel}.`, { subject: "message" });
    }

    const current = flows.rows.filter((r) => r.current);
    // One message: the senders of that message; whoever receives the channel receives it.
    const sends = current.filter((r) => r.action === "send" && (message === null || r.messageKey === message));
    const receives = current.filter((r) => r.action === "receive");

    const { owners, truncated: ownersCut } = await patternOwners(db);
    truncated ||= ownersCut;
    const mapClient = clientMapper(owners);
    const unknownClients: LineageUnknownClient[] = [];
    const producers = participants("producer", sends, observed.rows, mapClient, unknownClients);
    const consumers = participants("consumer", receives, observed.rows, mapClient, unknownClients);
    truncated ||= producers.truncated || consumers.truncated;

    const bridges = await bridgesOf(db);
    truncated ||= bridges.truncated;
    const origins = [...new Set(observed.rows.map((r) => r.brokerId))];
    const paths = bridgePaths(origins, bridges.list, channel);
    truncated ||= paths.truncated;
    const brokerIds = [...new Set([...origins, ...paths.reached.keys()])];
    const names = new Map(
      brokerIds.length === 0 ? [] : (await db.select({ id: broker.id, name: broker.name }).from(broker).where(inArray(broker.id, brokerIds))).map((b) => [b.id, b.name] as const),
    );

    // The producers' histories, and the named application's from its side.
    const historyApps: Array<{ app: LineageApp; action: "send" | "receive" }> = producers.list.map((p) => ({ app: p.application, action: "send" }));
    if (named && !historyApps.some((h) => h.app.id === named.id)) {
      const own = flows.rows.find((r) => r.app.id === named.id)!;
      historyApps.push({ app: own.app, action: flows.rows.some((r) => r.app.id === named.id && r.action === "send") ? "send" : "receive" });
    }
    if (historyApps.length > MAX_HISTORY_APPLICATIONS) truncated = true;
    const history = await versionHistory(db, historyApps.slice(0, MAX_HISTORY_APPLICATIONS), flows.rows, message, at);
    truncated ||= history.truncated;

    const visible = can(principal, "audit:read");
    const changes = visible ? await changesOf(db, historyApps.slice(0, MAX_HISTORY_APPLICATIONS).map((h) => h.app.slug), at) : { entries: [], truncated: false };

    return {
      channel: input.channel,
      message,
      application: named?.slug ?? null,
      at: at?.toISOString() ?? null,
      window: window ? { from: window.from.toISOString(), to: window.to.toISOString() } : null,
      generatedAt: new Date().toISOString(),
      declaredChannels: [...new Set(current.map((r) => r.channel))].sort(),
      producers: producers.list,
      consumers: consumers.list,
      unknownClients,
      brokers: brokersOf(observed.rows, paths.reached, names),
      bridges: paths.hops.map((h) => {
        const told = bridges.discovered.get(h.bridgeId);
        return { id: h.bridgeId, fromBrokerId: h.fromBrokerId, toBrokerId: h.toBrokerId, topicFilter: h.topicFilter, direction: h.direction, reverse: h.reverse, hop: h.hop, ...(told ? { discovered: told } : {}) };
      }),
      versions: history.versions,
      changes: { visible, entries: changes.entries, truncated: changes.truncated },
      truncated,
    };
  },
});
