import "server-only";
import { and, asc, desc, eq, gte, inArray, isNotNull, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client.ts";
import { application, broker, brokerBridge, brokerLink, brokerTopic, contractVersion, flow, team } from "@/db/schema.ts";
import { isCurrentVersion } from "@/lib/catalog/applications.ts";
import { observedBetween } from "@/lib/observations/history.ts";
import { brokerDialect, ChannelIndexes } from "@/lib/brokers/dialect.ts";
import { catalogChannelIndexes } from "@/lib/catalog/participants.ts";
import { clientMapper } from "@/lib/reviews/impact.ts";
import { MQTT_DIALECT } from "@/registry/topics/index.ts";
import { defineQuery } from "@/lib/service.ts";
import { buildTopology, MAX_CLIENTS_PER_TOPIC, type TopologyApplication, type TopologyBridge, type TopologyFlow, type TopologyInput, type TopologyLink, type TopologyObservation } from "./graph.ts";
import { layoutNeighbourhood, layoutTopology, type LaidOutGraph } from "./layout.ts";

/** Applications read at most. */
export const MAX_APPLICATIONS = 5_000;
/** Declared flows (application × channel × action) read at most. */
export const MAX_FLOWS = 60_000;
/** Observed topic templates read at most. */
export const MAX_OBSERVED_TOPICS = 10_000;
/** Brokers and bridges read at most. */
export const MAX_BROKERS = 1_000;
export const MAX_BRIDGES = 5_000;

/** Time windows the page offers: observations whose last sighting falls inside it. */
export const TOPOLOGY_WINDOWS = { "1h": 3_600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400, all: null } as const;
export type TopologyWindow = keyof typeof TOPOLOGY_WINDOWS;

const blankAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalText = (max: number) => z.preprocess(blankAsUndefined, z.string().trim().max(max).optional());

/** A date (`2026-03-01`, the end of that day, UTC) or a date and time with an offset. */
const pastDate = z.preprocess(
  blankAsUndefined,
  z
    .string()
    .trim()
    .max(40)
    .transform((text, ctx) => {
      const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
      const value = dateOnly ? new Date(`${text}T23:59:59.999Z`) : /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : new Date(NaN);
      if (Number.isNaN(value.getTime()) || value.getUTCFullYear() < 2000 || value.getUTCFullYear() > 9999) {
        ctx.addIssue({ code: "custom", message: "Enter a date such as 2026-03-01 (or a date and time with its offset)." });
        return z.NEVER;
      }
      return value;
    })
    .optional(),
);

/** What the page, the JSON and the SVG export accept. */
export const topologyInput = z
  .object({
    team: optionalText(100),
    domain: optionalText(200),
    broker: optionalText(100),
    prefix: optionalText(500),
    window: z.preprocess(blankAsUndefined, z.enum(Object.keys(TOPOLOGY_WINDOWS) as [TopologyWindow, ...TopologyWindow[]]).default("all")),
    at: pastDate,
    group: z.preprocess(blankAsUndefined, z.enum(["auto", "none", "team", "domain"]).default("auto")),
    expand: z.preprocess(
      (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : (v ?? [])),
      z.array(z.string().max(300)).max(100, { message: "Expand at most 100 groups." }),
    ),
    focus: z
      .discriminatedUnion("kind", [
        z.object({ kind: z.literal("application"), slug: z.string().max(100) }),
        z.object({ kind: z.literal("channel"), address: z.string().max(1000) }),
        z.object({ kind: z.literal("broker"), id: z.string().max(100) }),
      ])
      .optional(),
  })
  .default({ window: "all", group: "auto", expand: [] });
export type TopologyQueryInput = z.output<typeof topologyInput>;

/** The search parameters of the page and the export routes, as the query's input. */
export function topologyParams(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["team", "domain", "broker", "prefix", "window", "at", "group", "expand"]) {
    const value = params.get(key);
    if (value !== null) out[key] = value;
  }
  return out;
}

/** The laid-out graph with what the filter form offers and what was applied. */
export interface TopologyView extends LaidOutGraph {
  filters: { team?: string; domain?: string; broker?: string; prefix?: string; window: TopologyWindow; at?: string; group: "auto" | "none" | "team" | "domain"; expand: string[] };
  choices: { teams: { slug: string; name: string }[]; domains: string[]; brokers: { id: string; name: string }[] };
}

/** Flows of the version each application had current at the date: the highest released or deprecated one published by then. */
function currentAt(at: Date): SQL {
  return sql`(${contractVersion.state} in ('released', 'deprecated') and ${contractVersion.publishedAt} <= ${at.toISOString()} and not exists (
    select 1 from ${contractVersion} as newer
    where newer.application_id = ${contractVersion.applicationId}
      and newer.state in ('released', 'deprecated')
      and newer.published_at <= ${at.toISOString()}
      and (newer.major, newer.minor, newer.patch, newer.prerelease = '', newer.prerelease)
        > (${contractVersion.major}, ${contractVersion.minor}, ${contractVersion.patch}, ${contractVersion.prerelease} = '', ${contractVersion.prerelease})))`;
}

const iso = (v: Date | string) => (typeof v === "string" ? v : v.toISOString());

/** The present picture: the merged topics of every broker, last seen within the window. */
async function observedNow(db: Executor, since: Date | null, brokerId: string | undefined, narrow?: SQL): Promise<{ topics: TopologyObservation[]; truncated: boolean }> {
  const conditions = [since ? gte(brokerTopic.lastSeen, since) : undefined, brokerId ? eq(brokerTopic.brokerId, brokerId) : undefined, narrow].filter((c) => c !== undefined);
  const rows = await db
    .select({
      brokerId: brokerTopic.brokerId,
      template: brokerTopic.template,
      topics: brokerTopic.topics,
      distinctTopics: brokerTopic.distinctTopics,
      messages: brokerTopic.totalMessages,
      lastSeen: brokerTopic.lastSeen,
      producers: brokerTopic.producers,
      consumers: brokerTopic.consumers,
    })
    .from(brokerTopic)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(brokerTopic.lastSeen), asc(brokerTopic.brokerId), asc(brokerTopic.template))
    .limit(MAX_OBSERVED_TOPICS + 1);
  const recent = (c: { lastSeen?: string }) => !since || !c.lastSeen || c.lastSeen >= since.toISOString();
  return {
    topics: rows.slice(0, MAX_OBSERVED_TOPICS).map((r) => ({
      brokerId: r.brokerId,
      template: r.template,
      topics: (r.topics ?? []).map((t) => t?.topic).filter((t): t is string => typeof t === "string"),
      distinctTopics: r.distinctTopics,
      messages: r.messages,
      lastSeen: iso(r.lastSeen),
      producers: (r.producers ?? []).filter(recent),
      consumers: (r.consumers ?? []).filter(recent),
    })),
    truncated: rows.length > MAX_OBSERVED_TOPICS,
  };
}

/**
 * A past picture: what the history kept for [from, to] (report windows, or hourly and daily roll-ups further
 * back), merged per broker and template. History names templates, not their concrete topics, so a past template
 * meets the channels it overlaps.
 */
async function observedThen(db: Executor, from: Date, to: Date, brokerId: string | undefined): Promise<{ topics: TopologyObservation[]; truncated: boolean }> {
  const history = await observedBetween(db, { from, to }, brokerId ? { brokerIds: [brokerId] } : {}, MAX_OBSERVED_TOPICS);
  return {
    topics: history.topics.map((t) => ({
      brokerId: t.brokerId,
      template: t.template,
      topics: [],
      distinctTopics: 0,
      messages: t.messages,
      lastSeen: t.lastSeen,
      producers: t.producers.slice(0, MAX_CLIENTS_PER_TOPIC),
      consumers: t.consumers.slice(0, MAX_CLIENTS_PER_TOPIC),
    })),
    truncated: history.truncated,
  };
}

/** Applications, brokers, bridges and links: what every picture reads whole (bounded), with the client mapping. */
async function loadMesh(db: Executor) {
  // The bridges and links of the brokers read (the first MAX_BROKERS by id): read side by side with them.
  const brokersRead = db.select({ id: broker.id }).from(broker).orderBy(asc(broker.id)).limit(MAX_BROKERS);
  const [appRows, brokerRows, bridgeRows, linkRows] = await Promise.all([
    db
      .select({
        id: application.id,
        slug: application.slug,
        name: application.name,
        domain: application.domain,
        patterns: application.clientIdPatterns,
        teamId: team.id,
        teamSlug: team.slug,
        teamName: team.name,
      })
      .from(application)
      .innerJoin(team, eq(team.id, application.teamId))
      .orderBy(asc(application.slug))
      .limit(MAX_APPLICATIONS + 1),
    db.select({ id: broker.id, name: broker.name, protocol: broker.protocol }).from(broker).orderBy(asc(broker.id)).limit(MAX_BROKERS + 1),
    db
      .select({ id: brokerBridge.id, fromBrokerId: brokerBridge.fromBrokerId, toBrokerId: brokerBridge.toBrokerId, topicFilter: brokerBridge.topicFilter, direction: brokerBridge.direction })
      .from(brokerBridge)
      .where(inArray(brokerBridge.fromBrokerId, brokersRead))
      .orderBy(asc(brokerBridge.fromBrokerId), asc(brokerBridge.toBrokerId), asc(brokerBridge.topicFilter))
      .limit(MAX_BRIDGES + 1),
    // Discovered links count as bridges once their far end is known to be a broker of the mesh.
    db
      .select({ brokerId: brokerLink.brokerId, kind: brokerLink.kind, remoteBrokerId: brokerLink.remoteBrokerId, direction: brokerLink.direction, topics: brokerLink.topics })
      .from(brokerLink)
      .where(and(isNotNull(brokerLink.remoteBrokerId), inArray(brokerLink.brokerId, brokersRead)))
      .orderBy(asc(brokerLink.brokerId), asc(brokerLink.kind), asc(brokerLink.name))
      .limit(MAX_BRIDGES + 1),
  ]);
  let truncated = appRows.length > MAX_APPLICATIONS;
  const apps = appRows.slice(0, MAX_APPLICATIONS);
  const applications: TopologyApplication[] = apps.map((a) => ({ id: a.id, slug: a.slug, name: a.name, teamSlug: a.teamSlug, teamName: a.teamName, domain: a.domain }));
  truncated ||= brokerRows.length > MAX_BROKERS;
  const brokers = brokerRows.slice(0, MAX_BROKERS);
  truncated ||= bridgeRows.length > MAX_BRIDGES;
  const bridges: TopologyBridge[] = bridgeRows.slice(0, MAX_BRIDGES);
  truncated ||= linkRows.length > MAX_BRIDGES;
  const links: TopologyLink[] = linkRows.slice(0, MAX_BRIDGES).flatMap((l) => (l.remoteBrokerId ? [{ ...l, remoteBrokerId: l.remoteBrokerId }] : []));
  const owners = apps
    .filter((a) => a.patterns.length > 0)
    .map((a) => ({ ref: { id: a.id, slug: a.slug, name: a.name, teamId: a.teamId, teamSlug: a.teamSlug, teamName: a.teamName }, patterns: a.patterns }));
  const teams = new Map(apps.map((a) => [a.teamSlug, a.teamName]));
  return {
    apps,
    applications,
    brokers,
    bridges,
    links,
    map: clientMapper(owners),
    truncated,
    choices: {
      teams: [...teams].map(([slug, name]) => ({ slug, name })).sort((a, b) => a.name.localeCompare(b.name)),
      domains: [...new Set(apps.map((a) => a.domain).filter(Boolean))].sort(),
      brokers: brokers.map((b) => ({ id: b.id, name: b.name })),
    },
  };
}

/** The builder's input from what was loaded; the client mapping may still cut while the graph is built. */
function assemble(mesh: Awaited<ReturnType<typeof loadMesh>>, flows: TopologyFlow[], observations: TopologyObservation[], cut: boolean): TopologyInput & { choices: TopologyView["choices"] } {
  let truncated = mesh.truncated || cut;
  return {
    applications: mesh.applications,
    flows,
    brokers: mesh.brokers,
    bridges: mesh.bridges,
    links: mesh.links,
    observations,
    mapClient: (clientId) => {
      const found = mesh.map(clientId);
      if (found.cut) truncated = true;
      return found.applications.map((a) => a.id);
    },
    get truncated() {
      return truncated;
    },
    choices: mesh.choices,
  };
}

/** Current flows (or those current at the date), narrowed by a condition on the flow. */
async function flowsWhere(db: Executor, at: Date | undefined, narrow?: SQL): Promise<{ flows: TopologyFlow[]; truncated: boolean }> {
  const rows = await db
    .selectDistinct({ applicationId: contractVersion.applicationId, channel: flow.channel, action: flow.action })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .where(and(at ? currentAt(at) : isCurrentVersion(), narrow))
    .orderBy(asc(contractVersion.applicationId), asc(flow.channel), asc(flow.action))
    .limit(MAX_FLOWS + 1);
  return { flows: rows.slice(0, MAX_FLOWS), truncated: rows.length > MAX_FLOWS };
}

function windowStart(input: Pick<TopologyQueryInput, "window" | "at">, now: Date): Date | null {
  const seconds = TOPOLOGY_WINDOWS[input.window];
  const end = input.at ?? now;
  return seconds === null ? null : new Date(end.getTime() - seconds * 1000);
}

/** Loads what the builder needs for the filters: applications, declared flows, brokers, bridges, observations, client mapping. */
export async function loadTopologyInput(db: Executor, input: Pick<TopologyQueryInput, "window" | "at" | "broker">, now = new Date()): Promise<TopologyInput & { choices: TopologyView["choices"] }> {
  const mesh = await loadMesh(db);
  const flows = await flowsWhere(db, input.at);
  const since = windowStart(input, now);
  const observed = input.at ? await observedThen(db, since ?? new Date(0), input.at, input.broker) : await observedNow(db, since, input.broker);
  return assemble(mesh, flows.flows, observed.topics, flows.truncated || observed.truncated);
}

// --- the neighbourhood of one application, channel or broker ---

/**
 * The literal start of an address or template, before its first level separator (of any kind) or parameter.
 * Two that meet in any dialect have the same one, unless either has a parameter in that first part.
 */
export function firstWord(address: string): string {
  return /^[^/.{]*/.exec(address)![0];
}

/** Whether the first part (before any level separator) holds a parameter (or a wildcard): it may meet anything. */
export function openStart(address: string): boolean {
  return /^[^/.]*[{+*#>]/.test(address);
}

/** Rows of the column that may meet one of the addresses (decided exactly in code); null: every row may, undefined: none. */
function mayMeet(column: typeof flow.channel | typeof brokerTopic.template, addresses: Iterable<string>): SQL | null | undefined {
  const words = new Set<string>();
  for (const a of addresses) {
    if (openStart(a)) return null;
    words.add(firstWord(a));
  }
  if (words.size === 0) return undefined;
  // The patterns are constants; the words are bound values.
  return sql`(substring(${column} from '^[^/.{]*') in (${sql.join([...words].map((w) => sql`${w}`), sql`, `)}) or ${column} ~ '^[^/.]*[{+*#>]')`;
}

/** A last level that may stand for other text: a parameter (or a brace of one), or a wildcard of some dialect. */
const OPEN_LEVEL = /[{}+*#>]/;

/**
 * Rows whose template may overlap one of the channels by its last level, in the separator of each row's broker
 * (`.` for the brokers given, `/` for the rest, as MQTT): two templates overlap only level by level, so where
 * both last levels are literal they are the same text. Null: every row may (a channel's last level is open).
 */
function lastLevelMayMeet(channels: Iterable<string>, dotBrokers: readonly string[]): SQL | null {
  const condition = (separator: "/" | "."): SQL | null => {
    const literals = new Set<string>();
    for (const c of channels) {
      const last = c.slice(c.lastIndexOf(separator) + 1);
      if (OPEN_LEVEL.test(last)) return null;
      literals.add(last);
    }
    // The patterns are constants; the levels are bound values.
    const last = separator === "/" ? sql`substring(${brokerTopic.template} from '[^/]*$')` : sql`substring(${brokerTopic.template} from '[^.]*$')`;
    return sql`(${last} in (${sql.join([...literals].map((l) => sql`${l}`), sql`, `)}) or ${last} ~ '[{}+*#>]')`;
  };
  const slash = condition("/");
  const dot = dotBrokers.length > 0 ? condition(".") : sql`false`;
  if (!slash && !dot) return null;
  const onDot = dotBrokers.length > 0 ? sql`${brokerTopic.brokerId} in (${sql.join(dotBrokers.map((b) => sql`${b}`), sql`, `)})` : sql`false`;
  return sql`(case when ${onDot} then ${dot ?? sql`true`} else ${slash ?? sql`true`} end)`;
}

/** A client-id pattern (`*` any run) as a LIKE pattern. */
const likePattern = (glob: string) => glob.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, "%");

/** Observed topics listing a client one of the patterns claims. */
function claimedBy(patterns: readonly string[]): SQL {
  const likes = sql.join(
    patterns.map((p) => sql`${likePattern(p)}`),
    sql`, `,
  );
  return sql`exists (select 1 from jsonb_array_elements(${brokerTopic.producers} || ${brokerTopic.consumers}) as c where c->>'clientId' like any (array[${likes}]::text[]))`;
}

const obsKey = (o: Pick<TopologyObservation, "brokerId" | "template">) => `${o.brokerId}\u0000${o.template}`;

/** Channels a neighbourhood reaches at most: past it, the part around the busiest topics is drawn, said to be partial. */
export const MAX_NEIGHBOURHOOD_CHANNELS = 100;
/** Topics of the focus itself (a broker's, an application's clients') read at most, busiest first. */
export const MAX_NEIGHBOURHOOD_SEEDS = 200;
/** Nodes a neighbourhood drawing holds at most. */
export const MAX_NEIGHBOURHOOD_NODES = 250;

/** The focus's own topics, busiest first, one more than the bound (to tell it was cut). */
async function seedTopics(db: Executor, since: Date | null, condition: SQL): Promise<{ topics: TopologyObservation[]; truncated: boolean }> {
  const rows = await db
    .select({ brokerId: brokerTopic.brokerId, template: brokerTopic.template })
    .from(brokerTopic)
    .where(and(since ? gte(brokerTopic.lastSeen, since) : undefined, condition))
    .orderBy(desc(brokerTopic.totalMessages), asc(brokerTopic.brokerId), asc(brokerTopic.template))
    .limit(MAX_NEIGHBOURHOOD_SEEDS + 1);
  const kept = rows.slice(0, MAX_NEIGHBOURHOOD_SEEDS);
  const order = new Map(kept.map((r, i) => [obsKey(r), i]));
  const topics = (await topicsByKey(db, since, kept)).sort((a, b) => order.get(obsKey(a))! - order.get(obsKey(b))!);
  return { topics, truncated: rows.length > MAX_NEIGHBOURHOOD_SEEDS };
}

/** The observed topics of the given keys (broker and template), whole. */
async function topicsByKey(db: Executor, since: Date | null, keys: ReadonlyArray<Pick<TopologyObservation, "brokerId" | "template">>): Promise<TopologyObservation[]> {
  if (keys.length === 0) return [];
  // One bound value, whatever the number of keys.
  const list = JSON.stringify(keys.map((k) => ({ b: k.brokerId, t: k.template })));
  const pairs = sql`(${brokerTopic.brokerId}, ${brokerTopic.template}) in (select k.b, k.t from jsonb_to_recordset(${list}::jsonb) as k(b text, t text))`;
  return (await observedNow(db, since, undefined, pairs)).topics;
}

/**
 * Loads only what the neighbourhood of a focus can contain, so that the graph drawn for it is the one the whole
 * mesh narrowed to it gives: the channels in reach of the focus (declared by the application or met by its
 * clients' topics, met by the broker's topics, or the channel itself), every observed topic that may meet them,
 * every declared flow on a channel those topics meet (which decides what each topic meets), and the other flows of
 * the applications found (an application's role is what all its flows declare). Candidates are narrowed in the
 * database by their first literal part and decided in code against the catalog's channel index. A focus reaching
 * more than {@link MAX_NEIGHBOURHOOD_CHANNELS} channels (a broker carrying much of the mesh) is drawn around its
 * busiest topics and marked truncated.
 */
export async function loadNeighbourhoodInput(
  db: Executor,
  input: Pick<TopologyQueryInput, "window">,
  focus: NonNullable<TopologyQueryInput["focus"]>,
  now = new Date(),
): Promise<TopologyInput & { choices: TopologyView["choices"] }> {
  const since = windowStart({ window: input.window }, now);
  // A broker's own topics need nothing else read first.
  const brokerSeeds = focus.kind === "broker" ? seedTopics(db, since, eq(brokerTopic.brokerId, focus.id)) : null;
  const [mesh, catalog, brokerFound] = await Promise.all([loadMesh(db), catalogChannelIndexes(db), brokerSeeds]);
  // A catalog too large to index in process: the whole mesh, bounded as the full page is.
  if (!catalog) return loadTopologyInput(db, { window: input.window }, now);
  const dialectOf = new Map(mesh.brokers.map((b) => [b.id, brokerDialect(b.protocol)]));
  const metBy = new Map<string, string[]>();
  const meets = (o: TopologyObservation) => {
    const key = obsKey(o);
    let met = metBy.get(key);
    if (!met) metBy.set(key, (met = catalog.met(dialectOf.get(o.brokerId) ?? MQTT_DIALECT, o)));
    return met;
  };
  let cut = false;
  // The reach, in the order its channels are kept when it is bounded.
  const reach = new Set<string>();
  let seeds: TopologyObservation[] = [];
  if (focus.kind === "channel") reach.add(focus.address);
  else if (focus.kind === "broker") {
    cut ||= brokerFound!.truncated;
    seeds = brokerFound!.topics;
  } else {
    const app = mesh.apps.find((a) => a.slug === focus.slug);
    if (!app) return assemble(mesh, [], [], cut);
    const own = await flowsWhere(db, undefined, eq(contractVersion.applicationId, app.id));
    cut ||= own.truncated;
    for (const f of own.flows) reach.add(f.channel);
    if (app.patterns.length > 0) {
      const found = await seedTopics(db, since, claimedBy(app.patterns));
      cut ||= found.truncated;
      seeds = found.topics;
    }
  }
  // The channels the focus's own topics meet: those of current flows their templates or topics reach (or, meeting
  // none, the topic's own template, undocumented).
  let seedFlows: TopologyFlow[] = [];
  if (seeds.length > 0) {
    const channels = new Set(seeds.flatMap(meets));
    const candidates = channels.size > 0 ? await flowsWhere(db, undefined, inArray(flow.channel, [...channels])) : { flows: [], truncated: false };
    cut ||= candidates.truncated;
    seedFlows = candidates.flows;
  }
  const declared = new Set(seedFlows.map((f) => f.channel));
  const channelsOf = (o: TopologyObservation) => {
    const met = meets(o).filter((c) => declared.has(c));
    return met.length > 0 ? met.sort() : [o.template];
  };
  if (focus.kind === "broker") for (const o of seeds) for (const c of channelsOf(o)) reach.add(c);
  else if (focus.kind === "application" && seeds.length > 0) {
    // A client of several applications counts for the one declaring the flow: the graph of its topics tells.
    const graph = buildTopology(assemble(mesh, seedFlows, seeds, false), { group: "none", maxNodes: Number.MAX_SAFE_INTEGER, maxEdges: Number.MAX_SAFE_INTEGER });
    const self = `application:${focus.slug}`;
    for (const e of graph.edges) {
      const other = e.source === self ? e.target : e.target === self ? e.source : null;
      if (other?.startsWith("channel:")) reach.add(other.slice("channel:".length));
    }
  }
  if (reach.size > MAX_NEIGHBOURHOOD_CHANNELS) {
    cut = true;
    const kept = new Set([...reach].slice(0, MAX_NEIGHBOURHOOD_CHANNELS));
    reach.clear();
    for (const c of kept) reach.add(c);
    // A topic of the focus on none of the kept channels would draw a channel whose neighbourhood was not read.
    seeds = seeds.filter((o) => channelsOf(o).some((c) => reach.has(c)));
  }
  if (reach.size === 0) return assemble(mesh, [], [], cut);

  // Every topic that may meet a channel in reach: narrowed by first word in the database, by overlap here (a topic
  // whose listed topics are instances of a channel has a template that overlaps it).
  const inReach = new ChannelIndexes<string>();
  for (const c of reach) inReach.add(c, c);
  const narrow = mayMeet(brokerTopic.template, reach);
  const dotBrokers = mesh.brokers.filter((b) => dialectOf.get(b.id)!.separator === ".").map((b) => b.id);
  const candidates =
    narrow === undefined
      ? []
      : await db
          .select({ brokerId: brokerTopic.brokerId, template: brokerTopic.template })
          .from(brokerTopic)
          .where(and(since ? gte(brokerTopic.lastSeen, since) : undefined, narrow ?? undefined, lastLevelMayMeet(reach, dotBrokers) ?? undefined))
          .orderBy(desc(brokerTopic.lastSeen), asc(brokerTopic.brokerId), asc(brokerTopic.template))
          .limit(MAX_OBSERVED_TOPICS + 1);
  cut ||= candidates.length > MAX_OBSERVED_TOPICS;
  const observations = new Map<string, TopologyObservation>();
  for (const o of seeds) observations.set(obsKey(o), o);
  const wanted = candidates
    .slice(0, MAX_OBSERVED_TOPICS)
    .filter((c) => !observations.has(obsKey(c)) && inReach.met(dialectOf.get(c.brokerId) ?? MQTT_DIALECT, { template: c.template, topics: [], distinctTopics: 1 }).length > 0);
  for (const o of await topicsByKey(db, since, wanted)) observations.set(obsKey(o), o);

  // Every flow on a channel those topics meet (what they meet depends on it), or in reach.
  const channels = new Set(reach);
  for (const o of observations.values()) for (const c of meets(o)) channels.add(c);
  const flows = await flowsWhere(db, undefined, inArray(flow.channel, [...channels]));
  cut ||= flows.truncated;
  // The other flows of the applications on those channels, or whose clients the topics list.
  const involved = new Set(flows.flows.map((f) => f.applicationId));
  for (const o of observations.values())
    for (const client of [...o.producers.slice(0, MAX_CLIENTS_PER_TOPIC), ...o.consumers.slice(0, MAX_CLIENTS_PER_TOPIC)])
      if (typeof client?.clientId === "string") for (const a of mesh.map(client.clientId).applications) involved.add(a.id);
  const more = involved.size > 0 ? await flowsWhere(db, undefined, inArray(contractVersion.applicationId, [...involved])) : { flows: [], truncated: false };
  cut ||= more.truncated;
  const all = new Map<string, TopologyFlow>();
  for (const f of [...flows.flows, ...more.flows]) all.set(`${f.applicationId}\u0000${f.channel}\u0000${f.action}`, f);
  return assemble(mesh, [...all.values()], [...observations.values()], cut);
}

/** The topology of the mesh, filtered, grouped and laid out; or the neighbourhood of one focus. */
export const getTopology = defineQuery({
  permission: "catalog:read",
  input: topologyInput,
  run: async ({ db, input }): Promise<TopologyView> => {
    // A neighbourhood alone (the application, channel and broker pages) reads only what it can contain.
    const alone = input.focus && !input.at && !input.team && !input.domain && !input.broker && !input.prefix;
    const loaded = alone && input.focus ? await loadNeighbourhoodInput(db, input, input.focus) : await loadTopologyInput(db, input);
    const graph = buildTopology(loaded, {
      ...(alone ? { maxNodes: MAX_NEIGHBOURHOOD_NODES } : {}),
      ...(input.team ? { team: input.team } : {}),
      ...(input.domain ? { domain: input.domain } : {}),
      ...(input.broker ? { broker: input.broker } : {}),
      ...(input.prefix ? { prefix: input.prefix } : {}),
      ...(input.focus ? { focus: input.focus } : {}),
      group: input.group,
      expand: input.expand,
      linkParams: { ...(input.window !== "all" ? { window: input.window } : {}), ...(input.at ? { at: input.at.toISOString() } : {}) },
    });
    // A neighbourhood is drawn in columns at once; the layered layout is for the topology page.
    const laid = alone ? layoutNeighbourhood(graph) : await layoutTopology(graph);
    return {
      ...laid,
      filters: {
        ...(input.team ? { team: input.team } : {}),
        ...(input.domain ? { domain: input.domain } : {}),
        ...(input.broker ? { broker: input.broker } : {}),
        ...(input.prefix ? { prefix: input.prefix } : {}),
        ...(input.at ? { at: input.at.toISOString() } : {}),
        window: input.window,
        group: input.group,
        expand: input.expand,
      },
      choices: loaded.choices,
    };
  },
});
