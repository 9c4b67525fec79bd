/**
 * Wire format between a Meshport broker agent and the portal. This is the one
 * module the portal imports from agents/; keep it free of Node-only imports.
 *
 * HTTP contract (protocol version 1)
 *
 *   POST /api/v1/ingest/reports
 *     Authorization: Bearer <token with the agent:report scope>
 *     Content-Type: application/json
 *     Content-Encoding: gzip
 *     X-Meshport-Batch-Id: <batchId>            (informational; the body is authoritative)
 *     X-Meshport-Agent-Protocol: 1
 *     body: gzip(JSON of an AgentReport), at most MAX_REPORT_BYTES once inflated
 *
 *   Answers and what the agent does:
 *     202 or 200 + IngestResponse  accepted: the agent deletes the batch from its spool.
 *     409 (duplicate batchId)      also accepted: a replay of a batch the portal already stored.
 *     400, 413, 422                malformed: the batch moves to `<spool>/rejected/` with the
 *                                  status and body as the reason; it is never silently dropped.
 *     401, 403                     auth problem: the batch stays spooled, the agent logs at error
 *                                  level and retries with backoff until the token is fixed.
 *                                  403 `forbidden:broker_binding`: the token is bound to other
 *                                  broker ids (or to none) than the report's broker.id.
 *     408, 429, 5xx, network error retry with exponential backoff and jitter, strictly in order.
 *     other                        treated like 5xx (retry), logged as unexpected.
 *
 *   The portal dedupes by batchId: a batch replayed after a lost answer counts once.
 *   Batches of one agent carry an increasing `sequence`; a window too large for one
 *   batch is split into `part.count` batches sharing the window.
 *
 *   GET /api/v1/ingest/channels
 *     Authorization: Bearer <same token>
 *     200 + ChannelList: the contract channel templates the agent labels topics with.
 *     404 or any error: the agent keeps its previous list (possibly empty) and tries later.
 */
import { z } from "zod";
import { utf8Length } from "../registry/topics/index.ts";

export { utf8Length };

/** Version of this wire format; bumped on any incompatible change. */
export const AGENT_PROTOCOL_VERSION = 1 as const;
/** Path of the report ingest endpoint on the portal. */
export const INGEST_REPORTS_PATH = "/api/v1/ingest/reports";
/** Path of the channel-template list endpoint on the portal. */
export const INGEST_CHANNELS_PATH = "/api/v1/ingest/channels";
/** Token scope the portal requires on both ingest endpoints. */
export const AGENT_REPORT_SCOPE = "agent:report";
/** Error code of a 403 for a report whose broker id the token is not bound to. */
export const BROKER_BINDING_ERROR_CODE = "forbidden:broker_binding";

/** Most topic templates in one batch; a larger window is split into parts. */
export const MAX_TEMPLATES_PER_BATCH = 2_000;
/** Most concrete topics listed per template (the rest are only counted in distinctTopics). */
export const MAX_CONCRETE_TOPICS_PER_TEMPLATE = 50;
/** Most redacted sample payloads per template. */
export const MAX_SAMPLES_PER_TEMPLATE = 5;
/** Most characters of one sample payload as sent (after redaction and encoding). */
export const MAX_SAMPLE_CHARS = 4_096;
/** Most producers and most consumers listed per template. */
export const MAX_CLIENTS_PER_TEMPLATE = 100;
/** Largest inflated report body the portal must accept. */
export const MAX_REPORT_BYTES = 16 * 1024 * 1024;

/**
 * Longest concrete topic or subscription filter reported, in UTF-8 bytes. MQTT allows
 * 65,535, but the portal indexes templates in a btree (rows up to ~2.7 KB); real topics
 * are far shorter. The agent counts a longer one as a `malformed` drop.
 */
export const MAX_TOPIC_BYTES = 1_024;
/** Longest topic template or channel address reported, in UTF-8 bytes (placeholders can make a template longer than its topics). */
export const MAX_TEMPLATE_BYTES = 2_048;
/** Longest AMQP exchange, queue or NATS stream/consumer name reported (AMQP short strings are at most 255 bytes). */
export const MAX_NAME_BYTES = 255;
/** Most exchanges listed per AMQP template. */
export const MAX_EXCHANGES_PER_TEMPLATE = 20;
/** Most bridges (links to other brokers) one report lists. */
export const MAX_BRIDGES = 200;
/** Most topic filters listed per bridge. */
export const MAX_BRIDGE_TOPICS = 100;
/** Most entries of each inventory list (streams, consumers, exchanges, queues, bindings) in one report. */
export const MAX_INVENTORY_ITEMS = 1_000;

/** Longest MQTT client id reported, in UTF-8 bytes (MQTT 3.1.1 guarantees 23; brokers allow more). */
export const MAX_CLIENT_ID_BYTES = 256;
/** Longest free-text field of the envelope (agent and broker versions, hostname, application names). */
export const MAX_LABEL_CHARS = 255;
/** Longest broker URL reported. */
export const MAX_URL_CHARS = 500;
/** Largest integer a count may carry: the portal stores counts in bigint columns and reads them as JS numbers. */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;
/** Largest size or small count stored in a 32-bit integer column. */
export const MAX_INT32 = 2_147_483_647;

/** Bounds of the decoded JSON of a whole report, checked before the schema so no input makes validation costly. */
export const REPORT_JSON_LIMITS: JsonShapeLimits = { maxDepth: 64, maxArrayLength: MAX_TEMPLATES_PER_BATCH, maxObjectKeys: 1_000, storableText: true };
/** Bounds of an inferred JSON Schema (free-form JSON), well above what the agent's inference renders. */
export const SCHEMA_JSON_LIMITS: JsonShapeLimits = { maxDepth: 40, maxArrayLength: 1_000, maxObjectKeys: 500, maxNodes: 100_000, maxTextChars: 512 * 1024 };

/** Limits of a JSON value's shape; see {@link jsonShapeProblem}. */
export interface JsonShapeLimits {
  maxDepth: number;
  maxArrayLength: number;
  maxObjectKeys: number;
  /** most values (objects, arrays, scalars) in all */
  maxNodes?: number;
  /** most UTF-16 code units of all strings and keys together */
  maxTextChars?: number;
  /** refuse text PostgreSQL cannot store: NUL characters and lone UTF-16 surrogates */
  storableText?: boolean;
}

// NUL, or a surrogate without its pair: neither fits PostgreSQL text or jsonb.
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when PostgreSQL can store the text (no NUL, no lone surrogate). */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE_TEXT.test(text);
}

/**
 * Replaces, in JSON text made by JSON.stringify, the escapes of characters PostgreSQL
 * cannot store (NUL and lone surrogates, which JSON.stringify always escapes) by U+FFFD.
 */
export function storableJson(json: string): string {
  return json.replace(/(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g, "$1\\ufffd");
}

/**
 * The first way a decoded JSON value exceeds the limits, or null when it fits. An
 * iterative walk (no recursion, so deep input cannot overflow the stack) that stops
 * at the first problem: its cost is bounded by the input, not by what it contains.
 */
export function jsonShapeProblem(value: unknown, limits: JsonShapeLimits): string | null {
  const stack: Array<[unknown, number]> = [[value, 1]];
  let nodes = 0;
  let chars = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    nodes++;
    if (limits.maxNodes !== undefined && nodes > limits.maxNodes) return `more than ${limits.maxNodes} values`;
    if (typeof node === "string") {
      chars += node.length;
      if (limits.storableText && !isStorableText(node)) return "a NUL character or a lone surrogate in a string";
    }
    if (node === null || typeof node !== "object") {
      if (limits.maxTextChars !== undefined && chars > limits.maxTextChars) return `more than ${limits.maxTextChars} characters of text`;
      continue;
    }
    if (depth > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
    if (Array.isArray(node)) {
      if (node.length > limits.maxArrayLength) return `an array longer than ${limits.maxArrayLength} items`;
      for (const item of node) stack.push([item, depth + 1]);
    } else {
      const keys = Object.keys(node);
      if (keys.length > limits.maxObjectKeys) return `an object with more than ${limits.maxObjectKeys} keys`;
      for (const key of keys) {
        chars += key.length;
        if (limits.storableText && !isStorableText(key)) return "a NUL character or a lone surrogate in a key";
        stack.push([(node as Record<string, unknown>)[key], depth + 1]);
      }
    }
    if (limits.maxTextChars !== undefined && chars > limits.maxTextChars) return `more than ${limits.maxTextChars} characters of text`;
  }
  return null;
}

/** True when the text fits `maxBytes` of UTF-8: what the agent checks before reporting a topic, filter or client id. */
export function fitsBytes(text: string, maxBytes: number): boolean {
  return text.length <= maxBytes && utf8Length(text) <= maxBytes;
}

const boundedText = (maxBytes: number) =>
  z
    .string()
    .max(maxBytes)
    .refine((v) => utf8Length(v) <= maxBytes, { message: `Longer than ${maxBytes} bytes of UTF-8.` });

// Agents report times of what they saw: nothing before the Unix epoch (PostgreSQL has no year 0; the portal bounds the future).
const isoDate = z.iso.datetime({ offset: true }).refine((v) => Date.parse(v) >= 0, { message: "Before 1970." });
const count = z.number().int().nonnegative().max(MAX_COUNT);
const int32 = z.number().int().nonnegative().max(MAX_INT32);
const label = z.string().max(MAX_LABEL_CHARS);
const finite = z.number().nonnegative().max(Number.MAX_VALUE);

/** Why the agent left data out; every drop is counted under one of these. */
export const dropReasonSchema = z.enum(["topicCap", "templateCap", "sampleCap", "clientCap", "spoolCap", "malformed"]);
/** A reason for a drop. */
export type DropReason = z.infer<typeof dropReasonSchema>;

/** Counters of dropped items by reason since the previous report. */
export const dropCountersSchema = z.object({
  /** messages on a new topic while the distinct-topic cap was reached (not counted anywhere else) */
  topicCap: count,
  /** messages whose template could not be tracked because the template cap was reached */
  templateCap: count,
  /** payloads not kept as samples because the global sample budget was full */
  sampleCap: count,
  /** producers or subscriptions not tracked because a per-template or global client cap was reached */
  clientCap: count,
  /** spooled batches deleted unsent because the spool was full (oldest first) */
  spoolCap: count,
  /** broker log lines and $SYS messages the agent could not parse, and invalid topics */
  malformed: count,
});
/** Drop counters keyed by reason. */
export type DropCounters = z.infer<typeof dropCountersSchema>;

/** One redacted sample payload. */
export const samplePayloadSchema = z.object({
  at: isoDate,
  /** size of the original payload in bytes */
  size: int32,
  /** json: `payload` is JSON text; text: UTF-8 text; base64: the leading bytes of a binary payload */
  encoding: z.enum(["json", "text", "base64"]),
  payload: z.string().max(MAX_SAMPLE_CHARS),
  truncated: z.boolean(),
  /** true when named fields were replaced by "[redacted]" */
  redacted: z.boolean(),
});
/** A sample payload as reported. */
export type SamplePayload = z.infer<typeof samplePayloadSchema>;

/** A client that published on the template in the window. */
export const producerSchema = z.object({
  clientId: boundedText(MAX_CLIENT_ID_BYTES),
  messages: count,
  bytes: count,
});
/** A producer as reported. */
export type Producer = z.infer<typeof producerSchema>;

/** A client whose subscription matches the template. */
export const consumerSchema = z.object({
  clientId: boundedText(MAX_CLIENT_ID_BYTES),
  /** the filter the client subscribed with, e.g. `plant/+/temperature` */
  filter: boundedText(MAX_TOPIC_BYTES),
  qos: z.number().int().min(0).max(2),
});
/** A consumer as reported. */
export type Consumer = z.infer<typeof consumerSchema>;

/** A contract channel a template was matched to. */
export const channelRefSchema = z.object({
  address: boundedText(MAX_TEMPLATE_BYTES),
  application: label,
  contractVersion: label,
});
/** A reference to a contract channel. */
export type ChannelRef = z.infer<typeof channelRefSchema>;

/** What the agent saw on one topic template during the report window. */
export const topicObservationSchema = z.object({
  /** topic with high-cardinality levels collapsed, e.g. `plant/{p1}/temperature` */
  template: boundedText(MAX_TEMPLATE_BYTES).min(1),
  /** the contract channel whose address template matches, if any */
  channel: channelRefSchema.nullable(),
  /** AMQP: the exchanges the routing keys of this template were published to (topics are routing keys); absent for other kinds */
  exchanges: z.array(boundedText(MAX_NAME_BYTES)).max(MAX_EXCHANGES_PER_TEMPLATE).optional(),
  /** concrete topics seen, busiest first, at most MAX_CONCRETE_TOPICS_PER_TEMPLATE */
  topics: z.array(z.object({ topic: boundedText(MAX_TOPIC_BYTES), messages: count })).max(MAX_CONCRETE_TOPICS_PER_TEMPLATE),
  /** number of distinct concrete topics seen (may exceed the listed ones) */
  distinctTopics: int32,
  messages: count,
  bytes: count,
  minSize: int32,
  maxSize: int32,
  avgSize: finite,
  /** messages per second over the report window */
  ratePerSecond: finite,
  firstSeen: isoDate,
  lastSeen: isoDate,
  /** messages by QoS as delivered to the agent (the agent subscribes with QoS 2, so this is the publish QoS) */
  qos: z.object({ q0: count, q1: count, q2: count }),
  /** messages with the retain flag as delivered (see capabilities.retainFlag) */
  retained: count,
  /** dominant content kind over the classified messages, and the counts behind it */
  content: z.object({
    kind: z.enum(["json", "text", "binary", "empty", "mixed"]),
    json: count,
    text: count,
    binary: count,
    empty: count,
  }),
  /** JSON Schema (draft 2020-12) inferred and merged across the parsed JSON payloads; null when none */
  schema: z
    .record(z.string(), z.unknown())
    .refine((v) => jsonShapeProblem(v, SCHEMA_JSON_LIMITS) === null, { message: "The inferred schema is too large or too deep." })
    .nullable(),
  /** how many payloads the schema was inferred from */
  schemaSamples: count,
  samples: z.array(samplePayloadSchema).max(MAX_SAMPLES_PER_TEMPLATE),
  producers: z.array(producerSchema).max(MAX_CLIENTS_PER_TEMPLATE),
  consumers: z.array(consumerSchema).max(MAX_CLIENTS_PER_TEMPLATE),
  /** producers and consumers known but not listed because of MAX_CLIENTS_PER_TEMPLATE */
  omittedProducers: count,
  omittedConsumers: count,
});
/** One template's observation. */
export type TopicObservation = z.infer<typeof topicObservationSchema>;

/** Kinds of broker an agent observes; each has its topic syntax in registry/topics `dialectFor`. */
export const BROKER_PROTOCOLS = ["mqtt", "nats", "amqp"] as const;
/** The kind of broker. */
export const brokerProtocolSchema = z.enum(BROKER_PROTOCOLS);
/** A kind of broker. */
export type BrokerProtocol = z.infer<typeof brokerProtocolSchema>;

/** How a broker links to another. */
export const BRIDGE_KINDS = ["mqtt-bridge", "nats-route", "nats-leafnode", "nats-gateway", "rabbitmq-shovel", "rabbitmq-federation"] as const;

/**
 * A link to another broker, as this broker tells of it. `remote` is what the broker says of the other end
 * (a bridge's client id, a route's URL, a shovel's destination URI without credentials); the portal resolves
 * it to a broker of the mesh where it can. `direction` is seen from this broker: out = its topics flow to the
 * remote, in = the remote's flow here.
 */
export const discoveredBridgeSchema = z.object({
  kind: z.enum(BRIDGE_KINDS),
  /** the link's own name (shovel or upstream name, bridge client id, route id) */
  name: boundedText(MAX_NAME_BYTES).min(1),
  remote: z.string().max(MAX_URL_CHARS),
  direction: z.enum(["in", "out", "both"]),
  /** what flows over the link, in this broker's topic syntax (`#`, `orders.>`, a queue or routing key); empty when unknown */
  topics: z.array(boundedText(MAX_TOPIC_BYTES)).max(MAX_BRIDGE_TOPICS),
  /** running, starting, down…, as the broker says; null when it does not */
  state: label.nullable(),
});
/** A discovered link to another broker. */
export type DiscoveredBridge = z.infer<typeof discoveredBridgeSchema>;

const inventoryName = boundedText(MAX_NAME_BYTES);
/** The broker's own resources: NATS JetStream streams and consumers, RabbitMQ exchanges, queues and bindings. */
export const inventorySchema = z.object({
  streams: z
    .array(z.object({ name: inventoryName, subjects: z.array(boundedText(MAX_TOPIC_BYTES)).max(MAX_BRIDGE_TOPICS), messages: count, bytes: count, consumers: int32 }))
    .max(MAX_INVENTORY_ITEMS)
    .optional(),
  streamConsumers: z
    .array(z.object({ stream: inventoryName, name: inventoryName, filter: boundedText(MAX_TOPIC_BYTES).nullable(), pending: count, durable: z.boolean() }))
    .max(MAX_INVENTORY_ITEMS)
    .optional(),
  exchanges: z.array(z.object({ name: z.string().max(MAX_NAME_BYTES), type: label, durable: z.boolean() })).max(MAX_INVENTORY_ITEMS).optional(),
  queues: z.array(z.object({ name: inventoryName, messages: count, consumers: int32, durable: z.boolean() })).max(MAX_INVENTORY_ITEMS).optional(),
  bindings: z
    .array(z.object({ exchange: z.string().max(MAX_NAME_BYTES), queue: inventoryName, routingKey: boundedText(MAX_TOPIC_BYTES) }))
    .max(MAX_INVENTORY_ITEMS)
    .optional(),
  /** items left out past MAX_INVENTORY_ITEMS, per list */
  omitted: count.optional(),
});
/** A broker's resources. */
export type Inventory = z.infer<typeof inventorySchema>;

/** What the broker tells the agent beyond the messages themselves. */
export const capabilitiesSchema = z.object({
  /** the agent learns publishers by client id */
  producers: z.boolean(),
  /** the agent learns subscribers by client id and filter */
  consumers: z.boolean(),
  /** broker-log/hooks: MQTT; firehose: RabbitMQ's `amq.rabbitmq.trace`; none: the broker does not tell (NATS never does) */
  producerSource: z.enum(["broker-log", "hooks", "firehose", "none"]),
  /** sys-log/hooks: MQTT; monitoring: NATS `/connz?subs=detail`; management: RabbitMQ's management API */
  consumerSource: z.enum(["sys-log", "hooks", "monitoring", "management", "none"]),
  /** the broker let the agent subscribe to `$SYS/#` */
  sys: z.boolean(),
  /** exact: retain flag as published (MQTT 5 retain-as-published or hooks); subscribe-only: MQTT 3.1.1 marks only stored messages; none: the kind has no retain flag */
  retainFlag: z.enum(["exact", "subscribe-only", "none"]),
  /** the agent discovers links to other brokers (Mosquitto bridges, NATS routes/leafnodes/gateways, RabbitMQ shovels/federation) */
  bridges: z.boolean().optional(),
  /** the agent lists the broker's own resources (NATS JetStream, RabbitMQ exchanges/queues/bindings) in `inventory` */
  inventory: z.boolean().optional(),
});
/** Capabilities of the observed broker. */
export type Capabilities = z.infer<typeof capabilitiesSchema>;

/** Counters describing the agent itself at the end of the window. */
export const agentStatsSchema = z.object({
  uptimeSeconds: finite,
  /** messages and bytes seen in this window */
  messagesSeen: count,
  bytesSeen: count,
  /** distinct concrete topics and templates tracked in this window */
  topicsTracked: count,
  templatesTracked: count,
  samplesKept: count,
  brokerConnected: z.boolean(),
  reconnects: count,
  spooledBatches: count,
  spooledBytes: count,
  rejectedBatches: count,
  logLinesRead: count,
  rssBytes: count,
});
/** Agent self-statistics. */
export type AgentStats = z.infer<typeof agentStatsSchema>;

/** One report batch, as the agent sends it and the portal stores it. */
export const agentReportSchema = z.object({
  protocolVersion: z.literal(AGENT_PROTOCOL_VERSION),
  /** unique per batch; the portal dedupes replays by it */
  batchId: z.uuid(),
  /** increases by one per batch of this agent, across restarts */
  sequence: count,
  /** a window larger than MAX_TEMPLATES_PER_BATCH templates is split into parts */
  part: z.object({ index: int32, count: int32.min(1) }),
  agent: z.object({
    id: z.string().min(1).max(200),
    version: label,
    hostname: label,
    startedAt: isoDate,
  }),
  broker: z.object({
    /** the operator-chosen id of the broker in the mesh, e.g. `plant-eu` */
    id: z.string().min(1).max(200),
    /** broker URL without credentials */
    url: z.string().max(MAX_URL_CHARS),
    /** the kind of broker: its topic syntax, and what its agent can see */
    protocol: brokerProtocolSchema,
    /** MQTT protocol level the agent speaks: 3 (3.1), 4 (3.1.1) or 5; null for other kinds */
    protocolVersion: z.union([z.literal(3), z.literal(4), z.literal(5)]).nullable(),
    /** what `$SYS` says about the broker, when allowed */
    version: label.nullable(),
    clientsConnected: count.nullable(),
  }),
  window: z.object({ start: isoDate, end: isoDate }),
  capabilities: capabilitiesSchema,
  topics: z.array(topicObservationSchema).max(MAX_TEMPLATES_PER_BATCH),
  drops: dropCountersSchema,
  stats: agentStatsSchema,
  /** links to other brokers the broker tells of (first part of a window only; absent when the agent cannot see them) */
  bridges: z.array(discoveredBridgeSchema).max(MAX_BRIDGES).optional(),
  /** the broker's own resources as last listed (first part of a window only) */
  inventory: inventorySchema.optional(),
});
/** A report batch. */
export type AgentReport = z.infer<typeof agentReportSchema>;

/** The portal's answer to an accepted report (202, 200 or 409). */
export const ingestResponseSchema = z.object({
  accepted: z.literal(true),
  /** true when the batchId was already stored; the agent treats it like a first acceptance */
  duplicate: z.boolean(),
  batchId: z.uuid().optional(),
});
/** The portal's answer to an accepted report. */
export type IngestResponse = z.infer<typeof ingestResponseSchema>;

/** The portal's JSON error body (`{ error: { code, message, details } }`), as the agent logs it. */
export const ingestErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
/** The portal's error answer. */
export type IngestError = z.infer<typeof ingestErrorSchema>;

/** One contract channel template, e.g. `{ address: "plant/{lineId}/temperature", application: "line-monitor", contractVersion: "1.2.0" }`. */
export const channelTemplateSchema = z.object({
  address: z.string().min(1),
  application: z.string(),
  contractVersion: z.string(),
});
/** A contract channel template. */
export type ChannelTemplate = z.infer<typeof channelTemplateSchema>;

/** Answer of `GET /api/v1/ingest/channels`. */
export const channelListSchema = z.object({ channels: z.array(channelTemplateSchema) });
/** The channel-template list. */
export type ChannelList = z.infer<typeof channelListSchema>;

/** A zeroed drop counter set. */
export function emptyDrops(): DropCounters {
  return { topicCap: 0, templateCap: 0, sampleCap: 0, clientCap: 0, spoolCap: 0, malformed: 0 };
}
