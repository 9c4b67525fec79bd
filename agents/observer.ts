/**
 * The observer aggregates messages per concrete topic and per template within
 * a report window: counts, sizes, QoS, retain, content kinds, a bounded
 * reservoir of samples and an inferred schema. It is the hot path: one map
 * lookup and a few increments per message; payloads are parsed only within a
 * per-template budget. Everything it holds is bounded and reset per window.
 */
import { encodeSample, sniff, sniffPrefix, type RawSample } from "./content.ts";
import {
  emptyDrops,
  fitsBytes,
  jsonShapeProblem,
  MAX_CLIENT_ID_BYTES,
  MAX_TEMPLATE_BYTES,
  MAX_TOPIC_BYTES,
  SCHEMA_JSON_LIMITS,
  MAX_CLIENTS_PER_TEMPLATE,
  MAX_CONCRETE_TOPICS_PER_TEMPLATE,
  MAX_EXCHANGES_PER_TEMPLATE,
  MAX_NAME_BYTES,
  MAX_SAMPLES_PER_TEMPLATE,
  type ChannelTemplate,
  type Consumer,
  type DropCounters,
  type TopicObservation,
} from "./protocol.ts";
import { Reservoir } from "./reservoir.ts";
import { SchemaAccumulator, type InferenceOptions, type NodeBudget } from "./schema-infer.ts";
import { MQTT_DIALECT, type TopicDialect } from "../registry/topics/index.ts";
import { compileChannels, isValidTopic, matchChannel, TemplateTrie, type ChannelMatcher } from "./templates.ts";

// Read once: each new topic checks them, and imported bindings cost a call each under the loader.
const TOPIC_BYTES = MAX_TOPIC_BYTES;
const TEMPLATE_BYTES = MAX_TEMPLATE_BYTES;

/** {@link fitsBytes}, without counting bytes when even three per character fit (UTF-8 needs at most that). */
function fitsShort(text: string, maxBytes: number): boolean {
  return 3 * text.length <= maxBytes || fitsBytes(text, maxBytes);
}

/** Limits and behaviour of an {@link Observer}; all have defaults. */
export interface ObserverOptions {
  /** distinct concrete topics per window (default 100,000); messages on further topics are dropped and counted */
  maxTopics?: number;
  /** distinct templates per window (default 10,000) */
  maxTemplates?: number;
  /** samples kept per template (default 5, at most MAX_SAMPLES_PER_TEMPLATE) */
  samplesPerTemplate?: number;
  /** leading bytes of a payload kept in a sample (default 2,048) */
  maxSampleBytes?: number;
  /** bytes all samples together may hold (default 16 MiB) */
  maxSampleBytesTotal?: number;
  /** payloads parsed for content sniffing and schema inference per template per window (default 64) */
  parseBudgetPerTemplate?: number;
  /** larger payloads are classified by their first bytes only, never parsed (default 256 KiB) */
  maxParseBytes?: number;
  /** producer entries (topic × client) per window (default 100,000) */
  maxProducerEntries?: number;
  /** distinct values at one level before it collapses into a placeholder (default 20) */
  collapseThreshold?: number;
  /** property names redacted in samples, case-insensitive */
  redact?: readonly string[];
  /** schema inference limits */
  inference?: InferenceOptions;
  /** schema nodes all templates together may hold per window (default 100,000) */
  maxSchemaNodes?: number;
  /** injectable randomness for the reservoirs */
  random?: () => number;
  /** topic syntax of the broker (default MQTT): how topics split into levels, how channels match */
  dialect?: TopicDialect;
}

interface TemplateEntry {
  key: string;
  messages: number;
  bytes: number;
  minSize: number;
  maxSize: number;
  first: number;
  last: number;
  q0: number;
  q1: number;
  q2: number;
  retained: number;
  json: number;
  text: number;
  binary: number;
  empty: number;
  parsed: number;
  schema: SchemaAccumulator | null;
  samples: Reservoir<RawSample> | null;
  /** AMQP exchanges the template's messages were published to, at most MAX_EXCHANGES_PER_TEMPLATE */
  exchanges: Set<string> | null;
}

interface ProducerEntry {
  messages: number;
  bytes: number;
  first: number;
  last: number;
}

interface Group {
  key: string;
  tpl: TemplateEntry;
  /** the group's concrete topics and their messages, in parallel: two arrays rather than an object per topic */
  topicNames: string[];
  topicMessages: number[];
  /** null while no producer is known (most templates, when the broker does not tell) */
  producers: Map<string, ProducerEntry> | null;
}

/** Figures of a closed window besides its observations. */
export interface WindowSummary {
  start: number;
  end: number;
  drops: DropCounters;
  messages: number;
  bytes: number;
  topicsTracked: number;
  templatesTracked: number;
  samplesKept: number;
}

/**
 * A closed window whose observations are rendered on demand, so a large
 * window can be encoded batch by batch instead of all at once.
 */
export interface ClosedWindow extends WindowSummary {
  /** number of templates, in report order */
  size: number;
  /** a cheap upper-bound guess of template i's JSON size, for splitting batches before rendering */
  estimateBytes(i: number): number;
  /** renders template i's observation */
  render(i: number): TopicObservation;
}

/** A closed window with every observation rendered. */
export interface WindowSnapshot extends WindowSummary {
  observations: TopicObservation[];
}

/** Looks up the consumers of a template (with some of its concrete topics) at snapshot time. */
export type ConsumerLookup = (template: string, topics: readonly string[]) => { consumers: Consumer[]; omitted: number };

/** Aggregates messages per topic and template for one window at a time. */
export class Observer {
  private readonly o: Required<Omit<ObserverOptions, "redact" | "inference" | "random" | "dialect">>;
  /** topic syntax of the observed broker */
  readonly dialect: TopicDialect;
  private schemaBudget: NodeBudget;
  private readonly redactFields: ReadonlySet<string>;
  private readonly inference: InferenceOptions;
  private readonly random: () => number;
  private readonly trie: TemplateTrie;
  private channels: ChannelMatcher[] = [];

  /**
   * The window's concrete topics, each its index into the parallel arrays of its template and its
   * messages: 100,000 topics hold no object each, only a map entry and two array slots.
   */
  private topics = new Map<string, number>();
  private topicTemplates: TemplateEntry[] = [];
  private topicMessages: number[] = [];
  private templates = new Map<string, TemplateEntry>();
  private producers = new Map<string, Map<string, ProducerEntry>>();
  private producerEntries = 0;
  private sampleBytes = 0;
  private windowStart: number;
  private messages = 0;
  private bytes = 0;
  /** drops since the last snapshot */
  drops: DropCounters = emptyDrops();

  /** Creates an observer whose first window starts at `now`. */
  constructor(options: ObserverOptions = {}, now = Date.now()) {
    this.o = {
      maxTopics: options.maxTopics ?? 100_000,
      maxTemplates: options.maxTemplates ?? 10_000,
      samplesPerTemplate: Math.min(options.samplesPerTemplate ?? 5, MAX_SAMPLES_PER_TEMPLATE),
      maxSampleBytes: options.maxSampleBytes ?? 2_048,
      maxSampleBytesTotal: options.maxSampleBytesTotal ?? 16 * 1024 * 1024,
      parseBudgetPerTemplate: options.parseBudgetPerTemplate ?? 64,
      maxParseBytes: options.maxParseBytes ?? 256 * 1024,
      maxProducerEntries: options.maxProducerEntries ?? 100_000,
      collapseThreshold: options.collapseThreshold ?? 20,
      maxSchemaNodes: options.maxSchemaNodes ?? 100_000,
    };
    this.schemaBudget = { used: 0, max: this.o.maxSchemaNodes };
    this.redactFields = new Set((options.redact ?? []).map((f) => f.toLowerCase()));
    this.inference = options.inference ?? {};
    this.random = options.random ?? Math.random;
    this.dialect = options.dialect ?? MQTT_DIALECT;
    // The trie outlives windows so templates stay stable; it is bounded on its own.
    this.trie = new TemplateTrie({ collapseThreshold: this.o.collapseThreshold, maxNodes: Math.max(4 * this.o.maxTopics, 1_000), dialect: this.dialect });
    this.windowStart = now;
  }

  /** Replaces the contract channel templates used to label observations. */
  setChannels(channels: readonly ChannelTemplate[]): void {
    this.channels = compileChannels(channels, this.dialect);
  }

  /** Number of channel templates known. */
  get channelCount(): number {
    return this.channels.length;
  }

  /** Distinct concrete topics in the current window. */
  get topicsTracked(): number {
    return this.topics.size;
  }

  /** Templates in the current window. */
  get templatesTracked(): number {
    return this.templates.size;
  }

  /** Messages in the current window. */
  get messagesSeen(): number {
    return this.messages;
  }

  /** Bytes of samples currently held. */
  get sampleBytesHeld(): number {
    return this.sampleBytes;
  }

  /** Counts a malformed input (unparseable log line, invalid topic). */
  countMalformed(n = 1): void {
    this.drops.malformed += n;
  }

  /** Observes one message as delivered to the agent; `exchange` is the AMQP exchange it was published to. */
  observe(topic: string, payload: Uint8Array, qos: number, retain: boolean, now = Date.now(), exchange?: string): void {
    let i = this.topics.get(topic);
    if (i === undefined) {
      i = this.newTopic(topic);
      if (i < 0) return;
    }
    this.topicMessages[i] = this.topicMessages[i]! + 1;
    const t = this.topicTemplates[i]!;
    const size = payload.length;
    this.messages++;
    this.bytes += size;
    if (t.messages === 0) {
      t.first = now;
      t.minSize = size;
      t.maxSize = size;
    } else {
      if (size < t.minSize) t.minSize = size;
      if (size > t.maxSize) t.maxSize = size;
    }
    t.messages++;
    t.bytes += size;
    t.last = now;
    if (qos === 0) t.q0++;
    else if (qos === 1) t.q1++;
    else t.q2++;
    if (retain) t.retained++;
    if (exchange !== undefined) addExchange(t, exchange);
    // The first payloads of a window are parsed; after that, those the reservoir keeps (a uniform
    // trickle, about samples × ln(n)), so late drift still reaches the schema at bounded cost.
    const parsed = t.parsed < this.o.parseBudgetPerTemplate;
    if (parsed) this.classify(t, payload);
    // Most messages are offers the reservoir skips: counted here, without a call.
    const r = t.samples;
    if (r !== null && ++r.seen < r.next) return;
    if (this.sample(t, r, payload, now) && !parsed) this.classify(t, payload);
  }

  private classify(t: TemplateEntry, payload: Uint8Array): void {
    t.parsed++;
    const s = payload.length > this.o.maxParseBytes ? { kind: sniffPrefix(payload), value: undefined } : sniff(payload);
    t[s.kind]++;
    if (s.kind === "json" && s.value !== undefined) {
      if (!t.schema && this.schemaBudget.used >= this.schemaBudget.max) this.drops.sampleCap++;
      else (t.schema ??= new SchemaAccumulator(this.inference, this.schemaBudget)).observe(s.value);
    }
  }

  /** Records that a client published on a topic (from the broker log or hooks). */
  observeProducer(topic: string, clientId: string, bytes: number, now = Date.now()): void {
    // What the portal would refuse is not reported: too long for its storage.
    if (!isValidTopic(topic, this.dialect) || !fitsBytes(topic, MAX_TOPIC_BYTES) || !fitsBytes(clientId, MAX_CLIENT_ID_BYTES)) {
      this.drops.malformed++;
      return;
    }
    let clients = this.producers.get(topic);
    let p = clients?.get(clientId);
    if (!p) {
      if (this.producerEntries >= this.o.maxProducerEntries) {
        this.drops.clientCap++;
        return;
      }
      if (!clients) this.producers.set(topic, (clients = new Map()));
      clients.set(clientId, (p = { messages: 0, bytes: 0, first: now, last: now }));
      this.producerEntries++;
    }
    p.messages++;
    p.bytes += bytes;
    p.last = now;
  }

  /** Adds a topic to the window and returns its index, or -1 when it is dropped. */
  private newTopic(topic: string): number {
    if (!isValidTopic(topic, this.dialect) || !fitsShort(topic, TOPIC_BYTES)) {
      this.drops.malformed++;
      return -1;
    }
    if (this.topics.size >= this.o.maxTopics) {
      this.drops.topicCap++;
      return -1;
    }
    const full = this.templates.size >= this.o.maxTemplates;
    // At the template cap only topics of known templates are kept, and the rest must not grow the trie.
    const key = full ? this.trie.peek(topic) : this.trie.resolve(topic);
    // Placeholders can make a template longer than its topic; one the portal cannot store is malformed.
    if (!fitsShort(key, TEMPLATE_BYTES)) {
      this.drops.malformed++;
      return -1;
    }
    let tpl = this.templates.get(key);
    if (!tpl) {
      if (full) {
        this.drops.templateCap++;
        return -1;
      }
      tpl = newTemplate(key);
      this.templates.set(key, tpl);
    }
    const i = this.topicTemplates.length;
    this.topicTemplates.push(tpl);
    this.topicMessages.push(0);
    this.topics.set(topic, i);
    return i;
  }

  /**
   * Offers a payload to the template's reservoir, `counted` (the reservoir, whose `seen` already counts the offer)
   * or, for a template's first offer, none yet; true when it was kept.
   */
  private sample(t: TemplateEntry, counted: Reservoir<RawSample> | null, payload: Uint8Array, now: number): boolean {
    let r = counted;
    if (r === null) {
      r = t.samples = new Reservoir<RawSample>(this.o.samplesPerTemplate, this.random);
      r.seen++;
    }
    const keep = Math.min(payload.length, this.o.maxSampleBytes);
    if (r.items.length < r.capacity && this.sampleBytes + keep > this.o.maxSampleBytesTotal) {
      // The global budget is spent: the offer still counts, so later picks stay uniform.
      this.drops.sampleCap++;
      return false;
    }
    const j = r.pick();
    if (j < 0) return false;
    this.sampleBytes += keep - (r.items[j]?.bytes.length ?? 0);
    // Copy: the payload may be a view into a much larger socket buffer.
    r.put(j, { at: now, size: payload.length, bytes: Buffer.from(payload.subarray(0, keep)) });
    return true;
  }

  /** Closes the current window and renders every observation (see {@link close}). */
  snapshot(now = Date.now(), consumersOf?: ConsumerLookup): WindowSnapshot {
    const closed = this.close(now, consumersOf);
    const observations: TopicObservation[] = [];
    for (let i = 0; i < closed.size; i++) observations.push(closed.render(i));
    const { start, end, drops, messages, bytes, topicsTracked, templatesTracked, samplesKept } = closed;
    return { start, end, drops, messages, bytes, topicsTracked, templatesTracked, samplesKept, observations };
  }

  /**
   * Closes the current window: merges templates that collapsed during it,
   * attaches producers, and starts a new window. Consumers and channels are
   * looked up when each observation is rendered.
   */
  close(now = Date.now(), consumersOf?: ConsumerLookup): ClosedWindow {
    const byKey = new Map<string, Group>();
    const finalKey = new Map<TemplateEntry, string>();
    for (const tpl of this.templates.values()) {
      // Resolving a template again maps it onto placeholders that appeared later in the window.
      const key = this.trie.resolve(tpl.key);
      finalKey.set(tpl, key);
      const g = byKey.get(key);
      if (g) mergeTemplate(g.tpl, tpl, this.random);
      else {
        // The window's own entry becomes its group's: nothing else holds it once the window is closed.
        tpl.key = key;
        byKey.set(key, { key, tpl, topicNames: [], topicMessages: [], producers: null });
      }
    }
    const topicTemplates = this.topicTemplates;
    const topicMessages = this.topicMessages;
    for (const [topic, i] of this.topics) addTopic(byKey.get(finalKey.get(topicTemplates[i]!)!)!, topic, topicMessages[i]!);
    for (const [topic, clients] of this.producers) {
      const i = this.topics.get(topic);
      const key = i !== undefined ? finalKey.get(topicTemplates[i]!)! : this.trie.resolve(topic);
      let g = byKey.get(key);
      if (!g) {
        // Published but not delivered to the agent (an ACL, or the message went before we subscribed).
        g = { key, tpl: newTemplate(key), topicNames: [], topicMessages: [], producers: null };
        byKey.set(key, g);
      }
      // Topics the agent received are listed already; list producer-only ones too, boundedly.
      if (i === undefined && g.topicNames.length < this.o.maxTopics) addTopic(g, topic, 0);
      const producers = (g.producers ??= new Map());
      for (const [client, p] of clients) {
        const mine = producers.get(client);
        if (mine) {
          mine.messages += p.messages;
          mine.bytes += p.bytes;
          mine.first = Math.min(mine.first, p.first);
          mine.last = Math.max(mine.last, p.last);
        } else producers.set(client, { ...p });
      }
    }
    const groups = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let samplesKept = 0;
    for (const g of groups) samplesKept += g.tpl.samples?.items.length ?? 0;

    const start = this.windowStart;
    const seconds = Math.max((now - start) / 1000, 0.001);
    const channels = this.channels;
    const redactFields = this.redactFields;
    const closed: ClosedWindow = {
      start,
      end: now,
      drops: this.drops,
      messages: this.messages,
      bytes: this.bytes,
      topicsTracked: this.topics.size,
      templatesTracked: groups.length,
      samplesKept,
      size: groups.length,
      estimateBytes(i) {
        const g = groups[i]!;
        let n = 700 + 2 * g.key.length + 60 * Math.min(g.producers?.size ?? 0, MAX_CLIENTS_PER_TEMPLATE);
        for (const x of g.tpl.exchanges ?? []) n += 2 * x.length + 4;
        for (let k = 0; k < Math.min(g.topicNames.length, MAX_CONCRETE_TOPICS_PER_TEMPLATE); k++) n += g.topicNames[k]!.length + 40;
        // JSON escaping and base64 grow a payload by up to a third; each sample has ~150 bytes of fields.
        for (const sample of g.tpl.samples?.items ?? []) n += Math.ceil(sample.bytes.length * 1.4) + 150;
        return n + 160 * (g.tpl.schema?.nodeCount ?? 0);
      },
      render(i) {
        return renderGroup(groups[i]!, seconds, now, channels, redactFields, consumersOf);
      },
    };
    this.topics = new Map();
    this.topicTemplates = [];
    this.topicMessages = [];
    this.templates = new Map();
    this.producers = new Map();
    this.producerEntries = 0;
    this.sampleBytes = 0;
    this.schemaBudget = { used: 0, max: this.o.maxSchemaNodes };
    this.messages = 0;
    this.bytes = 0;
    this.drops = emptyDrops();
    this.windowStart = now;
    return closed;
  }
}

/** Lists a topic of a group; a group's first lists are made of exact length (most groups have one topic). */
function addTopic(g: Group, topic: string, messages: number): void {
  if (g.topicNames.length === 0) {
    g.topicNames = [topic];
    g.topicMessages = [messages];
  } else {
    g.topicNames.push(topic);
    g.topicMessages.push(messages);
  }
}

/** The group's most active topics (most messages first, then by name), at most `max`. */
function topTopics(g: Group, max: number): Array<{ topic: string; messages: number }> {
  const names = g.topicNames;
  const counts = g.topicMessages;
  const order = Array.from(names, (_, k) => k);
  order.sort((a, b) => counts[b]! - counts[a]! || (names[a]! < names[b]! ? -1 : 1));
  const n = Math.min(order.length, max);
  const listed = new Array<{ topic: string; messages: number }>(n);
  for (let k = 0; k < n; k++) listed[k] = { topic: names[order[k]!]!, messages: counts[order[k]!]! };
  return listed;
}

function renderGroup(
  g: Group,
  seconds: number,
  now: number,
  channels: readonly ChannelMatcher[],
  redactFields: ReadonlySet<string>,
  consumersOf: ConsumerLookup | undefined,
): TopicObservation {
  const t = g.tpl;
  const listed = topTopics(g, MAX_CONCRETE_TOPICS_PER_TEMPLATE);
  const producers = [...(g.producers ?? [])].sort((a, b) => b[1].messages - a[1].messages);
  const cons = consumersOf ? consumersOf(g.key, listed.map((x) => x.topic)) : { consumers: [], omitted: 0 };
  const samples = [...(t.samples?.items ?? [])];
  let first = t.messages ? t.first : Infinity;
  let last = t.messages ? t.last : 0;
  for (const [, p] of producers) {
    first = Math.min(first, p.first);
    last = Math.max(last, p.last);
  }
  const classified = t.json + t.text + t.binary + t.empty;
  return {
    template: g.key,
    channel: matchChannel(g.key, channels),
    ...(t.exchanges?.size ? { exchanges: [...t.exchanges].sort() } : {}),
    topics: listed,
    distinctTopics: g.topicNames.length,
    messages: t.messages,
    bytes: t.bytes,
    minSize: t.messages ? t.minSize : 0,
    maxSize: t.maxSize,
    avgSize: t.messages ? Math.round((t.bytes / t.messages) * 100) / 100 : 0,
    ratePerSecond: Math.round((t.messages / seconds) * 1000) / 1000,
    firstSeen: new Date(Number.isFinite(first) ? first : now).toISOString(),
    lastSeen: new Date(last || now).toISOString(),
    qos: { q0: t.q0, q1: t.q1, q2: t.q2 },
    retained: t.retained,
    content: { kind: dominantKind(t, classified), json: t.json, text: t.text, binary: t.binary, empty: t.empty },
    schema: withinSchemaLimits(t.schema?.toJsonSchema() ?? null),
    schemaSamples: t.schema?.samples ?? 0,
    samples: samples.sort((a, b) => a.at - b.at).map((s) => encodeSample(s, redactFields)),
    producers: producers.slice(0, MAX_CLIENTS_PER_TEMPLATE).map(([clientId, p]) => ({ clientId, messages: p.messages, bytes: p.bytes })),
    consumers: cons.consumers.slice(0, MAX_CLIENTS_PER_TEMPLATE),
    omittedProducers: Math.max(0, producers.length - MAX_CLIENTS_PER_TEMPLATE),
    omittedConsumers: cons.omitted + Math.max(0, cons.consumers.length - MAX_CLIENTS_PER_TEMPLATE),
  };
}

/** An inferred schema the portal would refuse (too large or deep) is left out rather than sinking the batch. */
function withinSchemaLimits(schema: Record<string, unknown> | null): Record<string, unknown> | null {
  return schema && jsonShapeProblem(schema, SCHEMA_JSON_LIMITS) === null ? schema : null;
}

function newTemplate(key: string): TemplateEntry {
  return {
    key,
    messages: 0,
    bytes: 0,
    minSize: 0,
    maxSize: 0,
    first: 0,
    last: 0,
    q0: 0,
    q1: 0,
    q2: 0,
    retained: 0,
    json: 0,
    text: 0,
    binary: 0,
    empty: 0,
    parsed: 0,
    schema: null,
    samples: null,
    exchanges: null,
  };
}

/** Notes an exchange of a template, boundedly; a name the portal cannot store is left out. */
function addExchange(t: TemplateEntry, exchange: string): void {
  if (t.exchanges?.has(exchange)) return;
  if ((t.exchanges?.size ?? 0) >= MAX_EXCHANGES_PER_TEMPLATE || !fitsBytes(exchange, MAX_NAME_BYTES)) return;
  (t.exchanges ??= new Set()).add(exchange);
}

function mergeTemplate(into: TemplateEntry, from: TemplateEntry, random: () => number): void {
  if (from.messages) {
    if (into.messages === 0) {
      into.first = from.first;
      into.minSize = from.minSize;
    } else {
      into.first = Math.min(into.first, from.first);
      into.minSize = Math.min(into.minSize, from.minSize);
    }
    into.last = Math.max(into.last, from.last);
    into.maxSize = Math.max(into.maxSize, from.maxSize);
  }
  into.messages += from.messages;
  into.bytes += from.bytes;
  into.q0 += from.q0;
  into.q1 += from.q1;
  into.q2 += from.q2;
  into.retained += from.retained;
  into.json += from.json;
  into.text += from.text;
  into.binary += from.binary;
  into.empty += from.empty;
  into.parsed += from.parsed;
  if (from.schema) {
    if (into.schema) into.schema.merge(from.schema);
    else into.schema = from.schema;
  }
  for (const x of from.exchanges ?? []) addExchange(into, x);
  if (from.samples) {
    if (into.samples) {
      const merged = new Reservoir<RawSample>(into.samples.capacity, random);
      merged.merge(into.samples);
      merged.merge(from.samples);
      into.samples = merged;
    } else into.samples = from.samples;
  }
}

function dominantKind(t: TemplateEntry, classified: number): TopicObservation["content"]["kind"] {
  if (classified === 0) return "empty";
  const kinds = [
    ["json", t.json],
    ["text", t.text],
    ["binary", t.binary],
    ["empty", t.empty],
  ] as const;
  const top = kinds.reduce((a, b) => (b[1] > a[1] ? b : a));
  // A kind is dominant when at least 90% of the classified payloads have it.
  return top[1] >= 0.9 * classified ? top[0] : "mixed";
}
