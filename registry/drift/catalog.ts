/**
 * The catalog as the drift rules query it, compiled once per catalog generation: a template
 * index over the channels of the current versions, one over the channels of other versions,
 * and the flows of each channel by action and application. Observations are matched in their
 * broker's topic syntax: the indexes and memos are kept per dialect, built on first use (an
 * address that is no template in a dialect is absent from its indexes).
 */
import { dialectFor, MQTT_DIALECT, parseTemplate, subscriptionFilterFor, TemplateIndex, templatesOverlap, type Template, type TopicDialect, type TopicProtocol } from "../topics/index.ts";
import type { Contract } from "../types.ts";
import type { DeclaredFlow, DriftApp, DriftCatalog, ObservedTopic, OtherVersionFlow } from "./types.ts";

/**
 * What a flow may add: the topic syntaxes of the servers its channel is on ({@link channelDialects}). Absent or
 * empty: the contract names no server of a known kind, and the channel is matched in every syntax.
 */
export interface ServedOn {
  dialects?: readonly TopicProtocol[];
}

/** Server protocols whose topic syntax is known (others, such as kafka, say nothing of the syntax). */
const KNOWN_PROTOCOL = /^(mqtt|mqtt5|mqtts|secure-mqtt|nats|tls-nats|amqp|amqps)$/i;

/**
 * The topic syntaxes a contract's channel is served in: those of the channel's servers, else of all the
 * contract's servers, that are of a known kind; empty when there are none (then every syntax).
 */
export function channelDialects(contract: Pick<Contract, "servers" | "channels">, address: string): TopicProtocol[] {
  const named = contract.channels[address]?.servers ?? [];
  const servers = named.length > 0 ? named.map((name) => contract.servers[name]).filter((s) => s !== undefined) : Object.values(contract.servers);
  const out = new Set<TopicProtocol>();
  for (const server of servers) if (KNOWN_PROTOCOL.test(server.protocol)) out.add(dialectFor(server.protocol).protocol);
  return [...out].sort();
}

/** One declared channel address with the flows on it. */
export interface DriftChannel {
  address: string;
  flows: readonly DeclaredFlow[];
  send: readonly DeclaredFlow[];
  receive: readonly DeclaredFlow[];
}

/** One channel address of other versions, with their flows on it. */
export interface OtherChannel {
  address: string;
  flows: readonly OtherVersionFlow[];
}

/** What an observed topic template meets. */
export interface TopicMeeting<C> {
  /** the channels met, in address order */
  channels: C[];
  /** listed concrete topics that are an instance of no channel */
  unmatched: string[];
}

/** A channel with the syntaxes it is indexed in (null: every syntax). */
interface Indexed<C> {
  address: string;
  channel: C;
  dialects: ReadonlySet<TopicProtocol> | null;
}

/**
 * The channels of the flows, one per address with the flows of that address, in first-seen order. A channel is
 * served in the union of its flows' syntaxes; in every syntax when one of its flows names none.
 */
function channelsOf<F extends { channel: string } & ServedOn, C>(flows: readonly F[], make: (address: string, flows: F[]) => C): Array<Indexed<C>> {
  const byAddress = new Map<string, F[]>();
  for (const flow of flows) {
    const list = byAddress.get(flow.channel);
    if (list) list.push(flow);
    else byAddress.set(flow.channel, [flow]);
  }
  return [...byAddress].map(([address, list]) => {
    const all = list.some((f) => !f.dialects || f.dialects.length === 0);
    return { address, channel: make(address, list), dialects: all ? null : new Set(list.flatMap((f) => f.dialects ?? [])) };
  });
}

/** Indexes the channels served in the dialect; the same channel objects in every dialect. */
function indexChannels<C>(channels: readonly Indexed<C>[], dialect: TopicDialect): TemplateIndex<C> {
  const index = new TemplateIndex<C>(dialect);
  for (const { address, channel, dialects } of channels) if (dialects === null || dialects.has(dialect.protocol)) index.add(address, channel);
  return index;
}

/**
 * The channels an observed template meets: those its listed concrete topics are instances of, and,
 * when it lists none or fewer than it saw, those its template overlaps (remembered per template).
 */
function meet<C extends { address: string }>(index: TemplateIndex<C>, memo: TopicMemo<C>, templates: TemplateMemo<C>, topic: ObservedTopic, given: Template | null | undefined): TopicMeeting<C> {
  const found = new Set<C>();
  const unmatched: string[] = [];
  for (const concrete of topic.topics) {
    const hits = memo.channelsOf(index, concrete);
    if (hits.length === 0) unmatched.push(concrete);
    for (const hit of hits) found.add(hit);
  }
  if (topic.topics.length === 0 || topic.distinctTopics > topic.topics.length) for (const hit of templates.overlapping(index, topic.template, given)) found.add(hit);
  const channels = [...found].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { channels, unmatched };
}

/** The indexed channels a template overlaps: candidates by its subscription filter, then checked level by level. */
function overlapping<C>(index: TemplateIndex<C>, template: Template): C[] {
  const filter = subscriptionFilterFor(template);
  if (filter === null) return [];
  const out = new Set<C>();
  // The agent's placeholders are not subscriptions: they reach `$` topics too.
  for (const hit of index.matchFilter(filter, { reservedTopics: true })) if (!out.has(hit.value) && templatesOverlap(template, hit.template)) out.add(hit.value);
  return [...out];
}

/** Most concrete topics whose channels a compiled catalog remembers (agents report the same topics window after window). */
export const TOPIC_MEMO_SIZE = 100_000;

/** Most templates whose overlapping channels a compiled catalog remembers (an agent reports its templates window after window). */
export const TEMPLATE_MEMO_SIZE = 10_000;

/** Longest template or address remembered (what an agent may report); longer ones are computed every time. */
const MEMO_KEY_CHARS = 2_048;

/** The channels of concrete topics, remembered for one catalog generation; bounded, emptied when full. */
class TopicMemo<C> {
  private readonly map = new Map<string, readonly C[]>();

  channelsOf(index: TemplateIndex<C>, topic: string): readonly C[] {
    let channels = this.map.get(topic);
    if (channels === undefined) {
      const hits = index.matchTopic(topic);
      channels = hits.length === 0 ? NONE : hits.map((h) => h.value);
      if (this.map.size >= TOPIC_MEMO_SIZE) this.map.clear();
      this.map.set(topic, channels);
    }
    return channels;
  }
}

/** The channels templates overlap, remembered for one catalog generation; bounded, emptied when full. */
class TemplateMemo<C> {
  private readonly map = new Map<string, readonly C[]>();

  /** `given`: the template already parsed (null: invalid), else parsed here. */
  overlapping(index: TemplateIndex<C>, template: string, given?: Template | null): readonly C[] {
    let channels = this.map.get(template);
    if (channels === undefined) {
      const parsed = given === undefined || (given !== null && given.dialect.protocol !== index.dialect.protocol) ? parsedOrNull(template, index.dialect) : given;
      const hits = parsed ? overlapping(index, parsed) : NONE;
      channels = hits.length === 0 ? NONE : hits;
      if (template.length > MEMO_KEY_CHARS) return channels;
      if (this.map.size >= TEMPLATE_MEMO_SIZE) this.map.clear();
      this.map.set(template, channels);
    }
    return channels;
  }
}

function parsedOrNull(address: string, dialect: TopicDialect): Template | null {
  const parsed = parseTemplate(address, dialect);
  return parsed.ok ? parsed.value : null;
}

const NONE: readonly never[] = [];

/** The indexes and memos of one dialect. */
interface DialectView {
  channels: TemplateIndex<DriftChannel>;
  otherChannels: TemplateIndex<OtherChannel>;
  memo: TopicMemo<DriftChannel>;
  otherMemo: TopicMemo<OtherChannel>;
  templateMemo: TemplateMemo<DriftChannel>;
  otherTemplateMemo: TemplateMemo<OtherChannel>;
  /** other versions' channels that are the same channel as a declared address */
  sameChannel: TemplateMemo<OtherChannel>;
}

/** The dialect an observation is read in (MQTT when it names none). */
export const observedDialect = (topic: Pick<ObservedTopic, "dialect">): TopicDialect => topic.dialect ?? MQTT_DIALECT;

/**
 * The compiled catalog: built once per catalog generation, queried for every observed topic in the observation's
 * dialect. It remembers the channels of the concrete topics and templates it was asked about, per dialect.
 */
export class CompiledDriftCatalog {
  /** applications by id */
  readonly applications: ReadonlyMap<string, DriftApp>;
  private readonly declared: Array<Indexed<DriftChannel>>;
  private readonly others: Array<Indexed<OtherChannel>>;
  private readonly views = new Map<string, DialectView>();

  constructor(readonly catalog: DriftCatalog) {
    this.declared = channelsOf(catalog.flows, (address, flows) => ({
      address,
      flows,
      send: flows.filter((f) => f.action === "send"),
      receive: flows.filter((f) => f.action === "receive"),
    }));
    this.others = channelsOf(catalog.otherVersions, (address, flows) => ({ address, flows }));
    const apps = new Map<string, DriftApp>();
    for (const app of catalog.applications) apps.set(app.id, app);
    for (const flow of catalog.flows) if (!apps.has(flow.application.id)) apps.set(flow.application.id, flow.application);
    this.applications = apps;
  }

  private view(dialect: TopicDialect): DialectView {
    let view = this.views.get(dialect.protocol);
    if (!view) {
      view = {
        channels: indexChannels(this.declared, dialect),
        otherChannels: indexChannels(this.others, dialect),
        memo: new TopicMemo(),
        otherMemo: new TopicMemo(),
        templateMemo: new TemplateMemo(),
        otherTemplateMemo: new TemplateMemo(),
        sameChannel: new TemplateMemo(),
      };
      this.views.set(dialect.protocol, view);
    }
    return view;
  }

  /** Channels of the current versions, indexed in MQTT's syntax. */
  get channels(): TemplateIndex<DriftChannel> {
    return this.view(MQTT_DIALECT).channels;
  }

  /** Channels of other versions (older, or newer drafts and pre-releases), indexed in MQTT's syntax. */
  get otherChannels(): TemplateIndex<OtherChannel> {
    return this.view(MQTT_DIALECT).otherChannels;
  }

  /** Channels of the current versions indexed in the dialect. */
  channelsIn(dialect: TopicDialect): TemplateIndex<DriftChannel> {
    return this.view(dialect).channels;
  }

  /** Channels of other versions indexed in the dialect. */
  otherChannelsIn(dialect: TopicDialect): TemplateIndex<OtherChannel> {
    return this.view(dialect).otherChannels;
  }

  /** The declared channels the topic meets in its dialect, and its listed topics that meet none (`parsed`: the topic's template, parsed when needed if not given). */
  meet(topic: ObservedTopic, parsed?: Template | null): TopicMeeting<DriftChannel> {
    const view = this.view(observedDialect(topic));
    return meet(view.channels, view.memo, view.templateMemo, topic, parsed);
  }

  /** The declared channels the topic meets. */
  channelsMet(topic: ObservedTopic): DriftChannel[] {
    return this.meet(topic).channels;
  }

  /** The channels of other versions the topic meets. */
  otherChannelsMet(topic: ObservedTopic, parsed?: Template | null): OtherChannel[] {
    const view = this.view(observedDialect(topic));
    return meet(view.otherChannels, view.otherMemo, view.otherTemplateMemo, topic, parsed).channels;
  }

  /** The channels of other versions that are the same channel as the address in the dialect: equal, or overlapping it (`plant/{line}/x` and `plant/{id}/x`). */
  otherChannelsOverlapping(address: string, dialect: TopicDialect = MQTT_DIALECT): readonly OtherChannel[] {
    const view = this.view(dialect);
    return view.sameChannel.overlapping(view.otherChannels, address);
  }

  /** The flows with the action on the channels, of the applications when given. */
  flowsOn(channels: readonly DriftChannel[], action: "send" | "receive", applicationIds?: ReadonlySet<string>): DeclaredFlow[] {
    const out: DeclaredFlow[] = [];
    for (const channel of channels) for (const flow of channel[action]) if (!applicationIds || applicationIds.has(flow.application.id)) out.push(flow);
    return out;
  }

  /** Whether any of the applications declares the action on any of the channels. */
  declares(channels: readonly DriftChannel[], action: "send" | "receive", apps: readonly DriftApp[]): boolean {
    for (const channel of channels) for (const flow of channel[action]) for (const app of apps) if (flow.application.id === app.id) return true;
    return false;
  }

  /** Flows of other versions of the application with the action on the channels. */
  otherFlowsOn(channels: readonly OtherChannel[], applicationId: string, action: "send" | "receive"): OtherVersionFlow[] {
    const out: OtherVersionFlow[] = [];
    for (const channel of channels) for (const flow of channel.flows) if (flow.applicationId === applicationId && flow.action === action) out.push(flow);
    return out;
  }

  /** The applications a client id maps to, most specific first (empty: an unknown client). */
  mapClient(clientId: string): readonly DriftApp[] {
    return this.catalog.mapClient(clientId);
  }
}

/** The observed template parsed in its dialect, or null when it is not a valid template there (then only its listed topics meet channels). */
export function parseObserved(topic: ObservedTopic): Template | null {
  return parsedOrNull(topic.template, observedDialect(topic));
}

/** Compiles the catalog for the drift rules. */
export function compileDriftCatalog(catalog: DriftCatalog): CompiledDriftCatalog {
  return new CompiledDriftCatalog(catalog);
}
