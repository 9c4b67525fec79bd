import "server-only";
import { and, asc, eq, inArray, or, sql } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { application, contractVersion, flow, team } from "@/db/schema.ts";
import { filterOverlapsTemplate, MQTT_DIALECT, splitLevels, type TopicDialect } from "@/registry/topics/index.ts";
import { ChannelIndexes } from "@/lib/brokers/dialect.ts";
import { catalogGenerationOf } from "@/lib/drift/catalog.ts";
import { isCurrentVersion } from "./applications.ts";

/** An application that sends or receives on a channel, in its current version. */
export interface ChannelParticipant {
  application: { slug: string; name: string };
  team: { slug: string; name: string };
  version: string;
  /** Its channel template that the queried address reaches. */
  address: string;
  action: "send" | "receive";
  /** Keys of the messages it sends or receives there. */
  messages: string[];
}

/** The senders and receivers of one address; `truncated` when more than the limit asked for exist. */
export interface Participants {
  producers: ChannelParticipant[];
  consumers: ChannelParticipant[];
  truncated: boolean;
}

/** Rows one call returns at most, whatever the limits per address: a bound on the page, not an expected size. */
export const MAX_PARTICIPANT_ROWS = 5000;

/** Channel templates one call matches at most (an address of parameters only can reach every template of its length). */
export const MAX_MATCHED_CHANNELS = 20_000;

/** Distinct channel templates the process holds at most; past it, each call matches in the database instead. */
export const MAX_INDEXED_CHANNELS = 500_000;

/** The channel templates of one length, by the literal of each level (or a parameter there). */
interface LengthBucket {
  all: string[];
  literal: Array<Map<string, string[]>>;
  parameter: string[][];
}

/** Every channel template of the stored flows, for one catalog generation; indexed per dialect on first use. */
interface ChannelIndex {
  key: string;
  channels: string[];
  byDialect: Map<string, Map<number, LengthBucket>>;
  /** The same templates in the topic algebra's indexes, built on first use. */
  indexes?: ChannelIndexes<string>;
}

// Per database object: a process (a test run) may hold several databases.
const globalForChannels = globalThis as typeof globalThis & { __meshportChannelIndexes?: WeakMap<object, ChannelIndex> };

/**
 * The channel templates of every stored flow (of any version: the query then keeps current versions only), held in
 * process and checked against the catalog generation at each call, which every publish and lifecycle change counts
 * in its transaction: another instance's publish is seen at the next call. A transaction reads its own copy (what it
 * sees may roll back). Null past {@link MAX_INDEXED_CHANNELS}.
 */
async function channelIndex(db: Executor): Promise<ChannelIndex | null> {
  const { generation, stamp } = await catalogGenerationOf(db);
  const key = `${generation}\u0000${stamp}`;
  const inTransaction = "rollback" in db;
  const indexes = (globalForChannels.__meshportChannelIndexes ??= new WeakMap());
  const held = indexes.get(db);
  if (!inTransaction && held?.key === key) return held;
  const rows = await db.selectDistinct({ channel: flow.channel }).from(flow).limit(MAX_INDEXED_CHANNELS + 1);
  if (rows.length > MAX_INDEXED_CHANNELS) return null;
  const index: ChannelIndex = { key, channels: rows.map((r) => r.channel), byDialect: new Map() };
  if (!inTransaction) indexes.set(db, index);
  return index;
}

/**
 * Every channel template of the stored flows (of any version: callers keep current versions when they read flows),
 * indexed per dialect, as the process holds them for the catalog generation the executor sees; null past
 * {@link MAX_INDEXED_CHANNELS}.
 */
export async function catalogChannelIndexes(db: Executor): Promise<ChannelIndexes<string> | null> {
  const index = await channelIndex(db);
  if (!index) return null;
  if (!index.indexes) {
    const indexes = new ChannelIndexes<string>();
    for (const channel of index.channels) indexes.add(channel, channel);
    index.indexes = indexes;
  }
  return index.indexes;
}

function bucketsOf(index: ChannelIndex, dialect: TopicDialect): Map<number, LengthBucket> {
  const name = `${dialect.protocol}\u0000${dialect.separator}`;
  let buckets = index.byDialect.get(name);
  if (buckets) return buckets;
  buckets = new Map();
  for (const channel of index.channels) {
    const levels = splitLevels(channel, dialect);
    let bucket = buckets.get(levels.length);
    if (!bucket) {
      bucket = { all: [], literal: levels.map(() => new Map()), parameter: levels.map(() => []) };
      buckets.set(levels.length, bucket);
    }
    bucket.all.push(channel);
    levels.forEach((level, i) => {
      if (level.includes("{")) bucket.parameter[i]!.push(channel);
      else (bucket.literal[i]!.get(level) ?? bucket.literal[i]!.set(level, []).get(level)!).push(channel);
    });
  }
  index.byDialect.set(name, buckets);
  return buckets;
}

// A `{name}` placeholder inside a level: a constant pattern, never built from input.
const PLACEHOLDER = /\{[^}]+\}/;

/** True when a template's level, each `{parameter}` standing for any text, covers the queried level (as SQL LIKE would). */
function levelCovers(template: string, queried: string): boolean {
  const pieces = template.split(PLACEHOLDER);
  if (pieces.length === 1) return template === queried;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (queried.length < first.length + last.length || !queried.startsWith(first) || !queried.endsWith(last)) return false;
  let at = first.length;
  const end = queried.length - last.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = queried.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/**
 * The templates the address reaches: its own address, and templates with parameters of as many levels whose literal
 * text matches it level by level, then checked exactly in the topic algebra. The level that narrows most is looked up.
 */
function templatesReached(buckets: Map<number, LengthBucket>, address: string, levels: string[], dialect: TopicDialect): string[] {
  const bucket = buckets.get(levels.length);
  if (!bucket) return [];
  let candidates = bucket.all;
  levels.forEach((level, i) => {
    if (level.includes("{")) return;
    const literal = bucket.literal[i]!.get(level) ?? [];
    const parameter = bucket.parameter[i]!;
    if (literal.length + parameter.length < candidates.length) candidates = [...literal, ...parameter];
  });
  const reached: string[] = [];
  for (const template of candidates) {
    if (template === address) {
      reached.push(template);
      continue;
    }
    if (!template.includes("{")) continue;
    const own = splitLevels(template, dialect);
    if (own.every((level, i) => levelCovers(level, levels[i]!)) && filterOverlapsTemplate(address, template, { dialect })) reached.push(template);
  }
  return reached;
}

/**
 * Who sends and who receives each of the given addresses (channel templates or concrete topics): the flows of the
 * current version of every application (highest released or deprecated; drafts and retired versions excluded) whose
 * channel template the address reaches, with MQTT semantics (`plant/{lineId}/temperature` reaches
 * `plant/{line}/temperature`), or in the dialect of the broker the addresses were seen on (`dialectFor(broker.protocol)`:
 * on NATS `orders.{p1}.created` reaches `orders.{region}.created`, a parameter never spanning two tokens). At most
 * `perAddress` producers and as many consumers per address, ordered by application name. The templates reached are
 * found in the process's index of channel templates; one bounded query then reads their flows.
 */
export async function participantsOf(
  db: Executor,
  addresses: readonly string[],
  perAddress: number,
  dialect: TopicDialect = MQTT_DIALECT,
): Promise<Map<string, Participants>> {
  const result = new Map<string, Participants>();
  const distinct = [...new Set(addresses)];
  for (const address of distinct) result.set(address, { producers: [], consumers: [], truncated: false });
  if (distinct.length === 0 || perAddress < 1) return result;
  const index = await channelIndex(db);
  if (!index) return participantsInDatabase(db, distinct, perAddress, dialect, result);
  const buckets = bucketsOf(index, dialect);

  const reachedBy = new Map<string, string[]>();
  const templates = new Set<string>();
  for (const address of distinct) {
    const reached = templatesReached(buckets, address, splitLevels(address, dialect), dialect);
    const kept = reached.slice(0, Math.max(0, MAX_MATCHED_CHANNELS - templates.size));
    if (kept.length < reached.length) result.get(address)!.truncated = true;
    reachedBy.set(address, kept);
    for (const t of kept) templates.add(t);
  }
  if (templates.size === 0) return result;

  const ranked = db
    .select({
      channel: flow.channel,
      action: flow.action,
      messageKey: flow.messageKey,
      appSlug: sql<string>`${application.slug}`.as("app_slug"),
      appName: sql<string>`${application.name}`.as("app_name"),
      teamSlug: sql<string>`${team.slug}`.as("team_slug"),
      teamName: sql<string>`${team.name}`.as("team_name"),
      version: contractVersion.version,
      // Rows of one participant (application × template × action) share a rank: its messages come together.
      rank: sql<number>`dense_rank() over (partition by ${flow.channel}, ${flow.action} order by ${application.name}, ${application.slug})`.as("rank"),
      // The order of participants across templates, in the database's collation.
      position: sql<number>`dense_rank() over (order by ${application.name}, ${application.slug}, ${flow.channel})`.as("position"),
    })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .innerJoin(application, eq(application.id, contractVersion.applicationId))
    .innerJoin(team, eq(team.id, application.teamId))
    .where(and(inArray(flow.channel, [...templates]), isCurrentVersion()))
    .as("ranked");
  const rows = await db
    .select()
    .from(ranked)
    // One rank past the limit says that there are more.
    .where(sql`${ranked.rank} <= ${perAddress + 1}`)
    .orderBy(asc(ranked.channel), asc(ranked.action), asc(ranked.rank), asc(ranked.messageKey))
    .limit(MAX_PARTICIPANT_ROWS + 1);

  // The participants of each template and action, in rank order; a rank past the limit marks the template cut.
  const byTemplate = new Map<string, { list: Array<ChannelParticipant & { position: number }>; cut: boolean }>();
  const grouped = new Map<string, ChannelParticipant>();
  for (const row of rows.slice(0, MAX_PARTICIPANT_ROWS)) {
    const side = `${row.channel}\u0000${row.action}`;
    const entry = byTemplate.get(side) ?? byTemplate.set(side, { list: [], cut: false }).get(side)!;
    if (Number(row.rank) > perAddress) {
      entry.cut = true;
      continue;
    }
    const key = `${side}\u0000${row.appSlug}`;
    let participant = grouped.get(key);
    if (!participant) {
      participant = {
        application: { slug: row.appSlug, name: row.appName },
        team: { slug: row.teamSlug, name: row.teamName },
        version: row.version,
        address: row.channel,
        action: row.action,
        messages: [],
      };
      grouped.set(key, participant);
      entry.list.push(Object.assign(participant, { position: Number(row.position) }));
    }
    participant.messages.push(row.messageKey);
  }
  for (const [address, reached] of reachedBy) {
    const entry = result.get(address)!;
    for (const action of ["send", "receive"] as const) {
      const found: Array<ChannelParticipant & { position: number }> = [];
      for (const template of reached) {
        const side = byTemplate.get(`${template}\u0000${action}`);
        if (!side) continue;
        if (side.cut) entry.truncated = true;
        found.push(...side.list);
      }
      found.sort((a, b) => a.position - b.position);
      if (found.length > perAddress) entry.truncated = true;
      const list = found.slice(0, perAddress).map(({ position: _position, ...p }) => ({ ...p, messages: [...p.messages] }));
      if (action === "send") entry.producers = list;
      else entry.consumers = list;
    }
  }
  if (rows.length > MAX_PARTICIPANT_ROWS) for (const entry of result.values()) entry.truncated = true;
  return result;
}

/** Flows {@link participantsInDatabase} considers at most: those of current versions with the queried level counts. */
export const MAX_CANDIDATE_FLOWS = 200_000;

/** {@link participantsOf} matched in the database, for a catalog of more channel templates than the process holds. */
async function participantsInDatabase(
  db: Executor,
  distinct: string[],
  perAddress: number,
  dialect: TopicDialect,
  result: Map<string, Participants>,
): Promise<Map<string, Participants>> {
  const levelsOf = (address: string) => splitLevels(address, dialect);
  const separator = dialect.separator;
  const levels = [...new Set(distinct.map((a) => levelsOf(a).length))];
  const queried = sql`unnest(array[${sql.join(
    distinct.map((a) => sql`${a}`),
    sql`, `,
  )}]::text[], array[${sql.join(
    distinct.map((a) => sql`${levelsOf(a).length}`),
    sql`, `,
  )}]::int[]) as queried(address, levels)`;
  const levelsOfChannel = sql`array_length(string_to_array(${flow.channel}, ${separator}::text), 1)`;
  const firstLevelOfChannel = sql`split_part(${flow.channel}, ${separator}::text, 1)`;
  const firsts = [...new Set(distinct.map((a) => levelsOf(a)[0] ?? ""))];
  // The flows of current versions that may reach one of the addresses: a template without parameters by its own
  // address only, one with parameters by an address of as many levels. Each is read once, with its LIKE pattern:
  // every `{parameter}` a wildcard and the literal `\`, `%` and `_` escaped (the levels being equal, a wildcard
  // cannot take a `/`). The LIMIT bounds the work and keeps PostgreSQL from computing the pattern once per
  // address instead of once per flow; the exact match is checked in code afterwards.
  const candidate = db
    .select({
      channel: flow.channel,
      action: flow.action,
      messageKey: flow.messageKey,
      levels: sql<number>`${levelsOfChannel}`.as("channel_levels"),
      pattern: sql<string | null>`case when ${flow.channel} like '%{%' then regexp_replace(replace(replace(replace(${flow.channel}, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '\\{[^}]+\\}', '%', 'g') end`.as("channel_pattern"),
      // Aliased: a subquery's columns go by their names, and slug and name are in two tables.
      appSlug: sql<string>`${application.slug}`.as("app_slug"),
      appName: sql<string>`${application.name}`.as("app_name"),
      teamSlug: sql<string>`${team.slug}`.as("team_slug"),
      teamName: sql<string>`${team.name}`.as("team_name"),
      version: contractVersion.version,
    })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .innerJoin(application, eq(application.id, contractVersion.applicationId))
    .innerJoin(team, eq(team.id, application.teamId))
    .where(
      and(
        or(
          inArray(flow.channel, distinct),
          and(
            sql`${flow.channel} like '%{%'`,
            inArray(levelsOfChannel, levels),
            // A literal first level is reached only by the same first level.
            or(inArray(firstLevelOfChannel, firsts), sql`${firstLevelOfChannel} like '%{%'`),
          ),
        ),
        isCurrentVersion(),
      ),
    )
    .limit(MAX_CANDIDATE_FLOWS)
    .as("candidate");
  const ranked = db
    .select({
      queried: sql<string>`queried.address`.as("queried"),
      address: candidate.channel,
      action: candidate.action,
      messageKey: candidate.messageKey,
      appSlug: candidate.appSlug,
      appName: candidate.appName,
      teamSlug: candidate.teamSlug,
      teamName: candidate.teamName,
      version: candidate.version,
      // Rows of one participant (application × template × action) share a rank: its messages come together.
      rank: sql<number>`dense_rank() over (partition by queried.address, ${candidate.action} order by ${candidate.appName}, ${candidate.appSlug}, ${candidate.channel})`.as("rank"),
    })
    .from(candidate)
    .innerJoin(
      queried,
      // Equal levels first: PostgreSQL can hash on them. A template without parameters has no pattern.
      sql`${candidate.levels} = queried.levels and (${candidate.channel} = queried.address or queried.address like ${candidate.pattern})`,
    )
    .as("ranked");
  const rows = await db
    .select()
    .from(ranked)
    // One rank past the limit says that there are more.
    .where(sql`${ranked.rank} <= ${perAddress + 1}`)
    .orderBy(asc(ranked.queried), asc(ranked.action), asc(ranked.rank), asc(ranked.messageKey))
    .limit(MAX_PARTICIPANT_ROWS + 1);

  const grouped = new Map<string, ChannelParticipant>();
  const seen = new Map<string, number>();
  for (const row of rows.slice(0, MAX_PARTICIPANT_ROWS)) {
    const entry = result.get(row.queried)!;
    if (row.address !== row.queried && !filterOverlapsTemplate(row.queried, row.address, { dialect })) continue;
    const key = `${row.queried}\u0000${row.appSlug}\u0000${row.address}\u0000${row.action}`;
    let participant = grouped.get(key);
    if (!participant) {
      const countKey = `${row.queried}\u0000${row.action}`;
      const n = seen.get(countKey) ?? 0;
      if (n >= perAddress) {
        entry.truncated = true;
        continue;
      }
      seen.set(countKey, n + 1);
      participant = {
        application: { slug: row.appSlug, name: row.appName },
        team: { slug: row.teamSlug, name: row.teamName },
        version: row.version,
        address: row.address,
        action: row.action,
        messages: [],
      };
      grouped.set(key, participant);
      (row.action === "send" ? entry.producers : entry.consumers).push(participant);
    }
    participant.messages.push(row.messageKey);
  }
  if (rows.length > MAX_PARTICIPANT_ROWS) for (const entry of result.values()) entry.truncated = true;
  return result;
}

/** A flow of one version at one channel, for the direction an application takes there. */
export interface VersionFlow {
  versionId: string;
  channel: string;
  action: "send" | "receive";
  messageKey: string;
}

/** Rows {@link directionsOf} reads at most. */
export const MAX_DIRECTION_ROWS = 5000;

/**
 * The actions each version takes on each of the given channels, per message (`send`, `receive`, or both), from
 * `flow`: one bounded query for a page of search hits. Keyed by version id, channel and message key.
 */
export async function directionsOf(db: Executor, pairs: ReadonlyArray<{ versionId: string; channel: string }>): Promise<Map<string, Set<"send" | "receive">>> {
  const byMessage = new Map<string, Set<"send" | "receive">>();
  const distinct = [...new Map(pairs.map((p) => [`${p.versionId}\u0000${p.channel}`, p])).values()];
  if (distinct.length === 0) return byMessage;
  const rows = await db
    .select({ versionId: flow.versionId, channel: flow.channel, action: flow.action, messageKey: flow.messageKey })
    .from(flow)
    .where(
      and(
        sql`(${flow.versionId}, ${flow.channel}) in (${sql.join(
          distinct.map((p) => sql`(${p.versionId}, ${p.channel})`),
          sql`, `,
        )})`,
      ),
    )
    .orderBy(asc(flow.versionId), asc(flow.channel), asc(flow.messageKey), asc(flow.action))
    .limit(MAX_DIRECTION_ROWS);
  for (const row of rows) {
    for (const key of [directionKey(row.versionId, row.channel, row.messageKey), directionKey(row.versionId, row.channel, null)]) {
      (byMessage.get(key) ?? byMessage.set(key, new Set()).get(key)!).add(row.action);
    }
  }
  return byMessage;
}

/** The key of {@link directionsOf}: a version's channel, or one message of it. */
export function directionKey(versionId: string, channel: string, messageKey: string | null): string {
  return `${versionId}\u0000${channel}\u0000${messageKey ?? "\u0001"}`;
}

/** Actions as one label, sorted: `send`, `receive`, `receive,send`; null when there is none. */
export function actionLabel(actions: ReadonlySet<string> | undefined): string | null {
  return actions && actions.size > 0 ? [...actions].sort().join(",") : null;
}
