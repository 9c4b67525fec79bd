/**
 * A broker's kind as the portal speaks of it: its name, its topic syntax, and what its agent can and cannot see.
 * Every place that matches a broker's observed templates, topics or filters against contract channel addresses
 * parses both in the broker's dialect (`dialectFor(broker.protocol)`): on a NATS broker `orders.{p1}.created`
 * meets the channel `orders.{region}.created`, and `{region}` never spans two tokens. Pure: no I/O.
 */
import {
  dialectFor,
  parseFilter,
  parseTemplate,
  parseTopic,
  TemplateIndex,
  templatesOverlap,
  type Filter,
  type Template,
  type Topic,
  type TopicDialect,
} from "@/registry/topics/index.ts";

/** The names the portal gives each kind of broker. */
export const BROKER_KIND_LABELS: Readonly<Record<string, string>> = Object.freeze({
  mqtt: "MQTT",
  nats: "NATS",
  amqp: "RabbitMQ",
  kafka: "Kafka",
  solace: "Solace",
  other: "other",
});

/** Kinds a broker list filters by: those agents report, then those an admin may declare. */
export const BROKER_KINDS = ["mqtt", "nats", "amqp", "kafka", "solace", "other"] as const;
export type BrokerKind = (typeof BROKER_KINDS)[number];

/** The name of a broker kind (`amqp` is RabbitMQ, the broker whose agent speaks it). */
export function kindLabel(protocol: string | null | undefined): string {
  return BROKER_KIND_LABELS[protocol ?? ""] ?? protocol ?? "other";
}

/** The topic syntax of a broker of this kind (MQTT for kinds without one of their own). */
export function brokerDialect(protocol: string | null | undefined): TopicDialect {
  return dialectFor(protocol);
}

/** Parsed addresses a process remembers per kind (they are read-only values); past it, it starts over. */
const MAX_REMEMBERED_PARSES = 50_000;

/**
 * The same addresses are parsed on every topology, drift and participants view (the catalog's channels, the
 * observed templates): their parses are remembered, bounded.
 */
function remembered<T>(parse: (text: string, dialect: TopicDialect) => T): (text: string, dialect: TopicDialect) => T {
  const byDialect = new WeakMap<TopicDialect, Map<string, T>>();
  return (text, dialect) => {
    let memo = byDialect.get(dialect);
    if (!memo) byDialect.set(dialect, (memo = new Map()));
    const known = memo.get(text);
    if (known !== undefined || memo.has(text)) return known as T;
    const value = parse(text, dialect);
    if (memo.size >= MAX_REMEMBERED_PARSES) memo.clear();
    memo.set(text, value);
    return value;
  };
}

/** A channel address or observed template parsed in the dialect; null when it is not one there. */
export const templateIn: (address: string, dialect: TopicDialect) => Template | null = remembered((address, dialect) => {
  const parsed = parseTemplate(address, dialect);
  return parsed.ok ? parsed.value : null;
});

/** A concrete topic (subject, routing key) parsed in the dialect; null when it is not one there. */
export const topicIn: (topic: string, dialect: TopicDialect) => Topic | null = remembered((topic, dialect) => {
  const parsed = parseTopic(topic, dialect);
  return parsed.ok ? parsed.value : null;
});

/** A subscription filter parsed in the dialect; null when it is not one there. */
export function filterIn(filter: string, dialect: TopicDialect): Filter | null {
  const parsed = parseFilter(filter, dialect);
  return parsed.ok ? parsed.value : null;
}

/** The template's levels joined back in its own syntax, parameter levels as the one-level wildcard (`orders.*.created`). */
export function subscriptionFilterText(template: Template): string {
  const { dialect } = template;
  return template.levels.map((level) => (level.kind === "literal" ? level.text : dialect.single)).join(dialect.separator);
}

/** The narrowest filter in the template's own dialect that receives every topic of it; null when the dialect refuses it. */
export function subscriptionFilterOf(template: Template): Filter | null {
  return filterOfTemplate(template.address, template.dialect);
}

const filterOfTemplate = remembered((address, dialect) => {
  const template = templateIn(address, dialect);
  return template && filterIn(subscriptionFilterText(template), dialect);
});

/** How a subscriber of this broker subscribes to the template (`orders/+/created`, `orders.*.created`); null when it is no template there. */
export function subscriptionFilterIn(template: string, dialect: TopicDialect): string | null {
  const parsed = templateIn(template, dialect);
  return parsed ? subscriptionFilterText(parsed) : null;
}

/** Most listed concrete topics of one observed template considered when matching. */
export const MAX_LISTED_TOPICS = 50;

/**
 * Channel addresses indexed once per dialect, built on first use: an address that is not valid in a dialect is
 * simply absent from that dialect's index. Values are what `add` was given, one per address.
 */
export class ChannelIndexes<T> {
  private readonly entries: Array<{ address: string; value: T }> = [];
  private readonly built = new Map<string, TemplateIndex<T>>();

  /** Adds a channel address (before the first look-up). */
  add(address: string, value: T): void {
    this.entries.push({ address, value });
    this.built.clear();
  }

  /** The index of every address in the dialect. */
  index(dialect: TopicDialect): TemplateIndex<T> {
    let index = this.built.get(dialect.protocol);
    if (!index) {
      index = new TemplateIndex<T>(dialect);
      for (const { address, value } of this.entries) {
        const parsed = templateIn(address, dialect);
        if (parsed) index.add(parsed, value);
      }
      this.built.set(dialect.protocol, index);
    }
    return index;
  }

  /**
   * The channels an observed template of a broker with this dialect meets: those its listed concrete topics are
   * instances of, and, when it lists none or fewer than it saw, those its template overlaps.
   */
  met(dialect: TopicDialect, observed: { template: string; topics: readonly string[]; distinctTopics: number }): T[] {
    const index = this.index(dialect);
    const met = new Set<T>();
    const listed = observed.topics.slice(0, MAX_LISTED_TOPICS);
    for (const text of listed) {
      const topic = topicIn(text, dialect);
      if (topic) for (const hit of index.matchTopic(topic)) met.add(hit.value);
    }
    if (listed.length === 0 || observed.distinctTopics > listed.length) {
      const template = templateIn(observed.template, dialect);
      const filter = template && subscriptionFilterOf(template);
      if (template && filter) {
        // The agent's placeholders are not subscriptions: they reach `$` topics too.
        for (const hit of index.matchFilter(filter, { reservedTopics: true })) if (!met.has(hit.value) && templatesOverlap(template, hit.template)) met.add(hit.value);
      }
    }
    return [...met];
  }
}

/** What an agent of a broker can tell, and what it cannot, in plain words. */
export interface AgentVisibility {
  /** the kind, as named */
  kind: string;
  /** what a topic is called on this kind: topic, subject, routing key */
  topicWord: string;
  producers: { known: boolean; text: string };
  consumers: { known: boolean; text: string };
  /** null when the kind has no retain flag */
  retain: string | null;
  bridges: { known: boolean; text: string };
  inventory: { known: boolean; text: string } | null;
}

const PRODUCER_SOURCES: Record<string, string> = {
  "broker-log": "from the broker's log (who published each message)",
  hooks: "from the embedded broker's hooks",
  firehose: "from RabbitMQ's firehose tracer (amq.rabbitmq.trace): publishes per exchange and routing key, with the publishing connection",
};

const CONSUMER_SOURCES: Record<string, string> = {
  "sys-log": "from the broker's $SYS log (subscribe and unsubscribe lines)",
  hooks: "from the embedded broker's hooks",
  monitoring: "from the NATS monitoring endpoint (/connz?subs=detail): subscriptions per client",
  management: "from RabbitMQ's management API: queues, their bindings and consumers",
};

/**
 * What the broker's agent can see, from the broker's kind and the capabilities its last report carried; null when
 * no agent has reported (nothing is known of what it can see).
 */
export function agentVisibility(protocol: string, capabilities: Record<string, unknown> | null): AgentVisibility | null {
  if (!capabilities) return null;
  const dialect = brokerDialect(protocol);
  const producerSource = typeof capabilities.producerSource === "string" ? capabilities.producerSource : "none";
  const consumerSource = typeof capabilities.consumerSource === "string" ? capabilities.consumerSource : "none";
  const knowsProducers = capabilities.producers === true;
  const knowsConsumers = capabilities.consumers === true;

  let producers: string;
  if (knowsProducers) producers = `Producers are known ${PRODUCER_SOURCES[producerSource] ?? `from ${producerSource}`}.`;
  else if (protocol === "nats") producers = "NATS does not tell who publishes a subject: producers are unknown.";
  else if (protocol === "amqp") producers = "Producers are unknown: RabbitMQ names publishers only with the firehose tracer on (rabbitmqctl trace_on), which is off.";
  else if (protocol === "mqtt") producers = "Producers are unknown: this broker does not tell its agent who publishes (Mosquitto does with log_type all in its log).";
  else producers = "Producers are unknown: the broker does not tell its agent who publishes.";

  let consumers: string;
  if (knowsConsumers) consumers = `Consumers are known ${CONSUMER_SOURCES[consumerSource] ?? `from ${consumerSource}`}.`;
  else if (protocol === "nats") consumers = "Consumers are unknown: the agent cannot read the server's monitoring endpoint.";
  else if (protocol === "amqp") consumers = "Consumers are unknown: the agent cannot read RabbitMQ's management API.";
  else consumers = "Consumers are unknown: the broker does not tell its agent who subscribes.";

  const retainFlag = capabilities.retainFlag;
  const retain =
    retainFlag === "exact"
      ? "Retained messages are known as published."
      : retainFlag === "subscribe-only"
        ? "Retained messages are known only when the agent receives stored ones (MQTT 3.1.1)."
        : null;

  const bridges =
    capabilities.bridges === true
      ? { known: true, text: "Links to other brokers are discovered from the broker." }
      : { known: false, text: "Links to other brokers are not discovered: only declared bridges are known." };
  const inventory =
    protocol === "nats" || protocol === "amqp" || capabilities.inventory === true
      ? capabilities.inventory === true
        ? { known: true, text: protocol === "nats" ? "JetStream streams and consumers are listed." : protocol === "amqp" ? "Exchanges, queues and bindings are listed." : "The broker's resources are listed." }
        : { known: false, text: protocol === "nats" ? "JetStream streams and consumers are not listed (JetStream off, or not readable)." : "Exchanges, queues and bindings are not listed (the management API is not readable)." }
      : null;
  return { kind: kindLabel(protocol), topicWord: dialect.words.topic, producers: { known: knowsProducers, text: producers }, consumers: { known: knowsConsumers, text: consumers }, retain, bridges, inventory };
}
