/**
 * The pure parts of an event's lineage: which observed topic templates meet a channel, where bridges carry it,
 * which application an observed client counts for, and how its payload schemas changed from version to version.
 * No I/O; lib/lineage/lineage.ts loads the rows and assembles the answer.
 */
import { templateIn } from "@/lib/brokers/dialect.ts";
import { FilterIndex, MQTT_DIALECT, parseTemplate, templatesOverlap, topicMatchesTemplate, type Template, type TopicDialect } from "@/registry/topics/index.ts";

/** Bridge hops followed at most from a broker where the channel was observed. */
export const MAX_BRIDGE_HOPS = 8;
/** Bridge edges a lineage lists at most. */
export const MAX_BRIDGE_EDGES = 500;
/** Concrete topics listed per observed template at most. */
export const MAX_TOPICS_SHOWN = 10;

/** The channel as a template (in the dialect, MQTT by default), or null when the address is not a valid channel address or topic there. */
export function channelTemplate(address: string, dialect: TopicDialect = MQTT_DIALECT): Template | null {
  const parsed = parseTemplate(address, dialect);
  return parsed.ok ? parsed.value : null;
}

/** An observed topic template as the rules see it: the concrete topics the agent listed, and how many it saw in all. */
export interface ObservedShape {
  template: string;
  topics: readonly string[];
  distinctTopics: number;
}

/**
 * Whether an observed template meets the channel, and the listed concrete topics that are instances of it. A listed
 * topic that is an instance decides; when the agent listed no topics, or fewer than it saw, the templates meeting
 * (some topic in common) also counts, since an unlisted topic may be an instance. The observed texts are read in the
 * channel template's dialect: parse the channel in the dialect of the broker they were observed on.
 */
export function meetsChannel(observed: ObservedShape, channel: Template): { meets: boolean; topics: string[] } {
  const topics = observed.topics.filter((t) => topicMatchesTemplate(t, channel));
  if (topics.length > 0) return { meets: true, topics: topics.slice(0, MAX_TOPICS_SHOWN) };
  const partial = observed.topics.length === 0 || observed.distinctTopics > observed.topics.length;
  return { meets: partial && templatesOverlap(observed.template, channel), topics: [] };
}

/**
 * The history reads that can hold the channel's templates: those starting with its first level, and those whose
 * first level the agent collapsed into a parameter; every template when the channel's own first level is one.
 */
export function historyPrefixes(channel: Template): Array<string | undefined> {
  const first = channel.levels[0]!;
  if (first.kind !== "literal") return [undefined];
  return [channel.levels.length > 1 ? `${first.text}${channel.dialect.separator}` : first.text, "{"];
}

/**
 * The history reads for the channel read in every dialect given, without a prefix that another already covers
 * (`orders.` covers `orders.eu.created`); one read of everything when any dialect needs it.
 */
export function historyPrefixesIn(address: string, dialects: readonly TopicDialect[]): Array<string | undefined> {
  const all = new Set<string>();
  for (const dialect of dialects) {
    const channel = channelTemplate(address, dialect);
    if (!channel) continue;
    for (const prefix of historyPrefixes(channel)) {
      if (prefix === undefined) return [undefined];
      all.add(prefix);
    }
  }
  const sorted = [...all].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(q)));
}

/** A declared bridge (or a discovered link, one per filter it lists) as the lineage follows it. */
export interface BridgeLike {
  id: string;
  fromBrokerId: string;
  toBrokerId: string;
  topicFilter: string;
  direction: "out" | "both";
  /** the syntax of the filter: the broker's that declared or told it (MQTT when absent) */
  dialect?: TopicDialect;
}

/** One hop of the event across a bridge. */
export interface BridgeHop {
  bridgeId: string;
  /** the broker the event leaves */
  fromBrokerId: string;
  /** the broker it reaches */
  toBrokerId: string;
  topicFilter: string;
  direction: "out" | "both";
  /** true when a `both` bridge carries it from its declared target back to its source */
  reverse: boolean;
  /** 1 for a bridge leaving a broker where the channel was observed, 2 for the next, … */
  hop: number;
}

/**
 * The bridges that carry the channel, breadth first from the brokers it was observed on: a bridge carries it when a
 * subscriber with the bridge's filter would receive some of its topics (`out` from its source, `both` either way).
 * Each broker is entered once (cycle-safe), at most {@link MAX_BRIDGE_HOPS} hops and {@link MAX_BRIDGE_EDGES} edges;
 * `reached` holds the brokers first reached over a bridge (not those it was observed on), with their hop.
 */
export function bridgePaths(
  origins: readonly string[],
  bridges: readonly BridgeLike[],
  channel: Template,
  limits: { maxHops?: number; maxEdges?: number } = {},
): { hops: BridgeHop[]; reached: Map<string, number>; truncated: boolean } {
  const maxHops = limits.maxHops ?? MAX_BRIDGE_HOPS;
  const maxEdges = limits.maxEdges ?? MAX_BRIDGE_EDGES;
  // One look-up for every filter of a syntax: bridges sharing a filter share an entry.
  const indexes = new Map<string, FilterIndex<BridgeLike[]>>();
  for (const bridge of bridges) {
    const dialect = bridge.dialect ?? MQTT_DIALECT;
    let index = indexes.get(dialect.protocol);
    if (!index) indexes.set(dialect.protocol, (index = new FilterIndex<BridgeLike[]>(dialect)));
    const list = index.get(bridge.topicFilter);
    if (list) list.push(bridge);
    else index.set(bridge.topicFilter, [bridge]);
  }
  const carryingAll: BridgeLike[] = [];
  for (const index of indexes.values()) {
    const inDialect = index.dialect.protocol === channel.dialect.protocol ? channel : templateIn(channel.address, index.dialect);
    if (inDialect) carryingAll.push(...index.matchTemplate(inDialect).flatMap((entry) => entry.value));
  }
  // A link listing several filters that carry the channel is one hop.
  const carrying = [...new Map(carryingAll.map((b) => [b.id, b])).values()];
  const leaving = new Map<string, Array<{ bridge: BridgeLike; to: string; reverse: boolean }>>();
  const add = (from: string, step: { bridge: BridgeLike; to: string; reverse: boolean }) => {
    const list = leaving.get(from);
    if (list) list.push(step);
    else leaving.set(from, [step]);
  };
  for (const bridge of [...carrying].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    add(bridge.fromBrokerId, { bridge, to: bridge.toBrokerId, reverse: false });
    if (bridge.direction === "both") add(bridge.toBrokerId, { bridge, to: bridge.fromBrokerId, reverse: true });
  }
  const visited = new Set(origins);
  const reached = new Map<string, number>();
  const hops: BridgeHop[] = [];
  let truncated = false;
  let frontier = [...new Set(origins)].sort();
  for (let hop = 1; frontier.length > 0; hop++) {
    const next: string[] = [];
    for (const from of frontier) {
      for (const step of leaving.get(from) ?? []) {
        if (hop > maxHops || hops.length >= maxEdges) {
          truncated = true;
          continue;
        }
        hops.push({
          bridgeId: step.bridge.id,
          fromBrokerId: from,
          toBrokerId: step.to,
          topicFilter: step.bridge.topicFilter,
          direction: step.bridge.direction,
          reverse: step.reverse,
          hop,
        });
        if (!visited.has(step.to)) {
          visited.add(step.to);
          reached.set(step.to, hop);
          next.push(step.to);
        }
      }
    }
    frontier = next.sort();
  }
  return { hops, reached, truncated };
}

/** An application an observed client may count for (the shape clientMapper gives). */
export interface MappedApp {
  id: string;
}

/**
 * The applications an observed client counts for: those of its matches that declare the role on the channel (it
 * does what they declare), else the most specific match alone (it does something none declares); none for an
 * unknown client.
 */
export function attributeClient<A extends MappedApp>(matches: readonly A[], declaring: ReadonlySet<string>): { applications: A[]; declared: boolean } {
  const declared = matches.filter((app) => declaring.has(app.id));
  if (declared.length > 0) return { applications: declared, declared: true };
  return { applications: matches.slice(0, 1), declared: false };
}

/** How one version's payload schemas on the channel stand against the version before it. */
export type SchemaChange = "added" | "changed" | "unchanged" | "removed";

/** The schemas of one version on the channel: message key and payload schema id (null: the message declares none). */
export interface VersionSchemas {
  schemas: ReadonlyArray<{ messageKey: string; payloadSchemaId: number | null }>;
}

const schemaKey = (v: VersionSchemas) =>
  [...new Set(v.schemas.map((s) => `${s.messageKey}\u0000${s.payloadSchemaId ?? ""}`))].sort().join("\u0001");

/**
 * Compares each version with the one before it (the list in version order, oldest first): `added` when the channel
 * appears (the first version that has it included), `removed` when it goes, `changed` when a message or its payload
 * schema differs. Versions before the channel first appears, and after it is gone, are left out.
 */
export function schemaChanges<V extends VersionSchemas>(versions: readonly V[]): Array<V & { change: SchemaChange; schemaChanged: boolean }> {
  const result: Array<V & { change: SchemaChange; schemaChanged: boolean }> = [];
  let previous: V | null = null;
  for (const version of versions) {
    const has = version.schemas.length > 0;
    const had = previous !== null && previous.schemas.length > 0;
    if (!has && !had) {
      previous = version;
      continue;
    }
    const change: SchemaChange = !had ? "added" : !has ? "removed" : schemaKey(previous!) === schemaKey(version) ? "unchanged" : "changed";
    // The first version listed has nothing before it to change from.
    result.push({ ...version, change, schemaChanged: result.length > 0 && change !== "unchanged" });
    previous = version;
  }
  return result;
}
