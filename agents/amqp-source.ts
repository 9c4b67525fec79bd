/**
 * The RabbitMQ source of the agent (AMQP 0-9-1, amqplib).
 *
 * What it sees:
 * - Messages of topic exchanges: every non-internal topic exchange of the vhost (from the management
 *   API), or the `exchanges` given, gets an exclusive, auto-delete, server-named queue of the agent's
 *   bound with `#`; each delivery is fed as (routing key, payload, qos 0, retain false, exchange).
 *   A fanout exchange named in `exchanges` is observed the same way (its binding key is ignored).
 *   Direct and headers exchanges are not observed: a `#` binding there matches nothing useful; their
 *   queues, bindings and consumers are still listed in the inventory.
 * - Producers: only from the firehose (`firehose: true`, after an admin runs `rabbitmqctl trace_on`
 *   or sets the vhost's tracing): each `publish.<exchange>` trace message names the publishing
 *   connection, reported by its client-provided name (else the connection name). Without it RabbitMQ
 *   does not say who publishes; capabilities say `producerSource: "none"`.
 * - Consumers, exchanges, queues, bindings, shovels and federation links: polled from the management
 *   API. A consumer of a queue bound to a topic exchange subscribes with each binding key of that
 *   queue (qos 0 without acknowledgements, 1 with).
 *
 * RabbitMQ does not limit no-ack deliveries by prefetch: TCP back-pressure paces them, and the
 * agent's queues hold at most `queueMaxLength` messages (oldest dropped first) when it falls behind.
 */
import { randomBytes } from "node:crypto";
import amqp, { type Channel, type ChannelModel, type ConsumeMessage, type Options } from "amqplib";
import type { Logger } from "pino";
import { z } from "zod";
import { AMQP_DIALECT } from "../registry/topics/index.ts";
import type { BrokerEvent } from "./mosquitto-log.ts";
import {
  fitsBytes,
  MAX_BRIDGE_TOPICS,
  MAX_BRIDGES,
  MAX_CLIENT_ID_BYTES,
  MAX_INVENTORY_ITEMS,
  MAX_LABEL_CHARS,
  MAX_NAME_BYTES,
  MAX_TOPIC_BYTES,
  MAX_URL_CHARS,
  type Capabilities,
  type DiscoveredBridge,
  type Inventory,
} from "./protocol.ts";
import type { BrokerSource, SourceSink, SourceStatus, SubscriptionSnapshot } from "./source.ts";

/** Options of {@link createAmqpSource}. */
export interface AmqpSourceOptions {
  /** amqp:// or amqps:// URL of the broker; credentials and vhost may be in it */
  url: string;
  /** base URL of the management API, e.g. http://host:15672; credentials may be in it */
  managementUrl: string;
  /** vhost observed (default: the URL's, else `/`) */
  vhost?: string;
  /** only these exchanges (default: every non-internal topic exchange of the vhost) */
  exchanges?: string[];
  /** bind to `amq.rabbitmq.trace` to learn producers (tracing must be on for the vhost) */
  firehose?: boolean;
  /** credentials for AMQP and the management API, when not in the URLs (default guest/guest) */
  user?: string;
  password?: string;
  /** how often the management API is polled, in seconds (default 10) */
  pollSeconds?: number;
  /** the agent's connection name on the broker (default meshport-agent-<brokerId>-<random>) */
  name?: string;
  /** the broker's id in the mesh */
  brokerId: string;
  /** timeout of one management request, in ms (default 5,000) */
  httpTimeoutMs?: number;
  /** most messages waiting in each of the agent's queues when it falls behind (default 100,000) */
  queueMaxLength?: number;
  /** first delay before reconnecting, in ms (default 500; doubles up to 10 s) */
  reconnectMs?: number;
}

/** A RabbitMQ source; {@link pollNow} polls the management API at once (tests, a newly created exchange). */
export interface AmqpSource extends BrokerSource {
  /** Polls the management API now and binds to new exchanges; resolves when done. */
  pollNow(): Promise<void>;
}

/** Most exchanges the agent binds a queue to (one channel each). */
export const MAX_OBSERVED_EXCHANGES = 200;
/** Most entries of one management list the agent reads (the rest are ignored, counted as omitted). */
export const MAX_MANAGEMENT_ITEMS = 50_000;
/** Largest management answer read, in bytes. */
export const MAX_MANAGEMENT_BYTES = 32 * 1024 * 1024;
/** Most subscriptions handed to the agent from one poll. */
export const MAX_SUBSCRIPTIONS = 100_000;
/** Most trace events held while the name of their connection is looked up. */
const MAX_PENDING_TRACES = 10_000;
/** Delays between look-ups of a connection the last poll did not list. */
const LOOKUP_DELAYS_MS = [0, 250, 250, 500, 1_000, 2_000, 4_000];
const CONNECTIONS_PATH = "/api/connections?columns=name,user_provided_name,client_properties";
/** Most connection names remembered between polls. */
const MAX_CONNECTION_NAMES = 20_000;

const TRACE_EXCHANGE = "amq.rabbitmq.trace";

const name = z.string().max(MAX_NAME_BYTES);
const int = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const text = (max: number) => z.string().max(max);

/** The management API's answers, as far as the agent reads them. */
export const managementSchemas = {
  overview: z.object({
    rabbitmq_version: text(MAX_LABEL_CHARS).optional(),
    product_version: text(MAX_LABEL_CHARS).optional(),
    object_totals: z.object({ connections: int.optional() }).optional(),
  }),
  vhost: z.object({ name, tracing: z.boolean().optional() }),
  exchange: z.object({ name, type: text(MAX_LABEL_CHARS), durable: z.boolean(), internal: z.boolean().optional() }),
  queue: z.object({ name, durable: z.boolean(), messages: int.optional(), consumers: int.optional() }),
  binding: z.object({ source: name, destination: name, destination_type: text(32), routing_key: text(MAX_TOPIC_BYTES) }),
  consumer: z.object({
    queue: z.object({ name }),
    ack_required: z.boolean(),
    channel_details: z.object({ connection_name: text(1_024) }),
  }),
  connection: z.object({
    name: text(1_024),
    user_provided_name: z.string().optional(),
    client_properties: z.object({ connection_name: z.unknown().optional() }).optional(),
  }),
  shovel: z.object({
    name,
    state: text(MAX_LABEL_CHARS).optional(),
    src_uri: z.string().optional(),
    dest_uri: z.string().optional(),
    src_queue: name.optional(),
    src_exchange: name.optional(),
    src_exchange_key: text(MAX_TOPIC_BYTES).optional(),
    dest_queue: name.optional(),
    dest_exchange: name.optional(),
  }),
  federationLink: z.object({
    upstream: name,
    type: text(32).optional(),
    exchange: name.optional(),
    queue: name.optional(),
    uri: z.string().optional(),
    status: text(MAX_LABEL_CHARS).optional(),
  }),
};
type Exchange = z.infer<typeof managementSchemas.exchange>;
type Queue = z.infer<typeof managementSchemas.queue>;
type Binding = z.infer<typeof managementSchemas.binding>;
type ConsumerEntry = z.infer<typeof managementSchemas.consumer>;
type Connection = z.infer<typeof managementSchemas.connection>;
type Shovel = z.infer<typeof managementSchemas.shovel>;
type FederationLink = z.infer<typeof managementSchemas.federationLink>;

/** A list read from the management API: the valid entries, how many were invalid, how many left unread. */
export interface ParsedList<T> {
  items: T[];
  invalid: number;
  omitted: number;
}

/** Validates a management list entry by entry: an invalid entry is counted, not fatal; null when it is no list. */
export function parseList<T>(body: unknown, schema: z.ZodType<T>, max = MAX_MANAGEMENT_ITEMS): ParsedList<T> | null {
  if (!Array.isArray(body)) return null;
  const items: T[] = [];
  let invalid = 0;
  const n = Math.min(body.length, max);
  for (let i = 0; i < n; i++) {
    const r = schema.safeParse(body[i]);
    if (r.success) items.push(r.data);
    else invalid++;
  }
  return { items, invalid, omitted: body.length - n };
}

/** Removes credentials (and a query, which may hold secrets) from a URI, as reported. */
export function withoutCredentials(uri: string): string {
  try {
    const u = new URL(uri);
    u.username = "";
    u.password = "";
    u.search = "";
    return u.toString().slice(0, MAX_URL_CHARS);
  } catch {
    // Not a URL: drop anything that looks like user info.
    return uri.replace(/\/\/[^@/]*@/, "//").slice(0, MAX_URL_CHARS);
  }
}

/** The client id of a connection: the name its client gave (connection_name), else the broker's connection name. */
export function clientIdOf(connection: Connection): string {
  const given = connection.user_provided_name ?? connection.client_properties?.connection_name;
  if (typeof given === "string" && given.length > 0 && fitsBytes(given, MAX_CLIENT_ID_BYTES)) return given;
  return connection.name;
}

/** True for the exchanges whose messages the agent observes by default: non-internal topic exchanges, not the default one. */
export function isObservedTopicExchange(e: Exchange): boolean {
  return e.type === "topic" && e.internal !== true && e.name !== "";
}

/** What {@link subscriptionsFrom} needs. */
export interface SubscriptionInput {
  exchanges: readonly Exchange[];
  bindings: readonly Binding[];
  consumers: readonly ConsumerEntry[];
  /** connection name → client id */
  clients: ReadonlyMap<string, string>;
  /** the agent's own client id and queues, left out */
  ownClientId: string;
  ownQueues: ReadonlySet<string>;
}

/**
 * Subscriptions from the management lists: each consumer of a queue bound to a topic exchange
 * subscribes with each binding key of that queue (qos 0 without acknowledgements, 1 with).
 * Duplicates (two consumers of one client on one queue) count once, with the higher qos.
 */
export function subscriptionsFrom(input: SubscriptionInput, max = MAX_SUBSCRIPTIONS): { subscriptions: SubscriptionSnapshot[]; omitted: number } {
  const topic = new Set(input.exchanges.filter(isObservedTopicExchange).map((e) => e.name));
  const keysByQueue = new Map<string, string[]>();
  for (const b of input.bindings) {
    if (b.destination_type !== "queue" || !topic.has(b.source) || input.ownQueues.has(b.destination)) continue;
    let keys = keysByQueue.get(b.destination);
    if (!keys) keysByQueue.set(b.destination, (keys = []));
    if (keys.length < 1_000 && !keys.includes(b.routing_key)) keys.push(b.routing_key);
  }
  const out = new Map<string, SubscriptionSnapshot>();
  let omitted = 0;
  for (const c of input.consumers) {
    const keys = keysByQueue.get(c.queue.name);
    if (!keys || input.ownQueues.has(c.queue.name)) continue;
    const connection = c.channel_details.connection_name;
    const clientId = input.clients.get(connection) ?? connection;
    if (clientId === input.ownClientId) continue;
    const qos = c.ack_required ? 1 : 0;
    for (const filter of keys) {
      const key = `${clientId}\u0000${filter}`;
      const held = out.get(key);
      if (held) held.qos = Math.max(held.qos, qos);
      else if (out.size < max) out.set(key, { clientId, filter, qos });
      else omitted++;
    }
  }
  return { subscriptions: [...out.values()], omitted };
}

/** Lists of the inventory, the agent's own queues left out, each bounded to MAX_INVENTORY_ITEMS. */
export function inventoryFrom(exchanges: readonly Exchange[], queues: readonly Queue[], bindings: readonly Binding[], ownQueues: ReadonlySet<string>): Inventory {
  let omitted = 0;
  const bound = <T>(items: T[]): T[] => {
    if (items.length <= MAX_INVENTORY_ITEMS) return items;
    omitted += items.length - MAX_INVENTORY_ITEMS;
    return items.slice(0, MAX_INVENTORY_ITEMS);
  };
  const inventory: Inventory = {
    exchanges: bound(exchanges.map((e) => ({ name: e.name, type: e.type, durable: e.durable }))),
    queues: bound(
      queues.filter((q) => !ownQueues.has(q.name)).map((q) => ({ name: q.name, messages: q.messages ?? 0, consumers: Math.min(q.consumers ?? 0, 2_147_483_647), durable: q.durable })),
    ),
    // The default exchange's implicit binding of every queue to its own name says nothing.
    bindings: bound(
      bindings
        .filter((b) => b.destination_type === "queue" && b.source !== "" && !ownQueues.has(b.destination))
        .map((b) => ({ exchange: b.source, queue: b.destination, routingKey: b.routing_key })),
    ),
  };
  if (omitted) inventory.omitted = omitted;
  return inventory;
}

// A URI naming no host ("amqp://", "amqp:///vhost") is the shovel's own node.
function isLocalUri(uri: string | undefined): boolean {
  if (!uri) return true;
  try {
    return new URL(uri).hostname === "";
  } catch {
    return false;
  }
}

/** Shovels and federation links as links to other brokers (URIs without credentials). */
export function bridgesFrom(shovels: readonly Shovel[], links: readonly FederationLink[]): DiscoveredBridge[] {
  const out: DiscoveredBridge[] = [];
  for (const s of shovels) {
    const srcLocal = isLocalUri(s.src_uri);
    const destLocal = isLocalUri(s.dest_uri);
    // A shovel between two vhosts of this node links to no other broker.
    if (srcLocal && destLocal && s.src_uri !== undefined && s.dest_uri !== undefined) continue;
    const direction = srcLocal && !destLocal ? "out" : !srcLocal && destLocal ? "in" : "both";
    const remote = direction === "in" ? s.src_uri : s.dest_uri;
    // Topics are routing-key filters: a shovel from an exchange binds with its key (`#` when none);
    // one from a queue carries whatever was routed there, so its keys are unknown.
    const what = s.src_exchange !== undefined ? (s.src_exchange_key ?? "#") : undefined;
    out.push({
      kind: "rabbitmq-shovel",
      name: s.name || "shovel",
      remote: remote ? withoutCredentials(remote) : "",
      direction,
      topics: what !== undefined && what !== "" && fitsBytes(what, MAX_TOPIC_BYTES) ? [what] : [],
      state: s.state?.slice(0, MAX_LABEL_CHARS) ?? null,
    });
  }
  for (const l of links) {
    // A federated exchange receives everything published to its upstream exchange; a federated
    // queue's routing keys are unknown.
    const what = l.exchange !== undefined && l.type !== "queue" ? "#" : undefined;
    out.push({
      kind: "rabbitmq-federation",
      name: l.upstream || "upstream",
      remote: l.uri ? withoutCredentials(l.uri) : "",
      // A federated exchange or queue receives what its upstream has.
      direction: "in",
      topics: what ? [what].slice(0, MAX_BRIDGE_TOPICS) : [],
      state: l.status?.slice(0, MAX_LABEL_CHARS) ?? null,
    });
  }
  return out.filter((b) => b.name.length > 0 && fitsBytes(b.name, MAX_NAME_BYTES)).slice(0, MAX_BRIDGES);
}

/** What a firehose trace message says of one publish. */
export interface TracedPublish {
  /** the broker's name of the publishing connection */
  connection: string;
  exchange: string;
  routingKey: string;
  bytes: number;
}

const traceHeaders = z.object({
  exchange_name: name,
  routing_keys: z.array(z.unknown()).min(1).max(1_000),
  connection: text(1_024).min(1),
});

/** Parses the headers of a `publish.<exchange>` trace message; "malformed" when they are not what RabbitMQ sends. */
export function parseTrace(routingKey: string, headers: unknown, bytes: number): TracedPublish | null | "malformed" {
  if (!routingKey.startsWith("publish.")) return null;
  const r = traceHeaders.safeParse(headers);
  if (!r.success) return "malformed";
  // amqplib decodes AMQP long strings in a table as Buffers.
  const first = r.data.routing_keys[0];
  const key = typeof first === "string" ? first : Buffer.isBuffer(first) ? first.toString("utf8") : null;
  if (key === null || !fitsBytes(key, MAX_TOPIC_BYTES)) return "malformed";
  return { connection: r.data.connection, exchange: r.data.exchange_name, routingKey: key, bytes };
}

/** Checked configuration. */
interface Config {
  connect: Options.Connect;
  url: string;
  managementBase: string;
  managementAuth: string;
  vhost: string;
  exchanges: string[] | null;
  firehose: boolean;
  pollMs: number;
  clientId: string;
  httpTimeoutMs: number;
  queueMaxLength: number;
  reconnectMs: number;
}

/** Checks the options; throws a plain error naming the bad one. */
export function amqpConfig(options: AmqpSourceOptions): Config {
  let u: URL;
  try {
    u = new URL(options.url);
  } catch {
    throw new Error(`invalid broker URL: ${withoutCredentials(options.url)}`);
  }
  if (u.protocol !== "amqp:" && u.protocol !== "amqps:") throw new Error(`the broker URL must be amqp:// or amqps://, not ${u.protocol}`);
  let m: URL;
  try {
    m = new URL(options.managementUrl);
  } catch {
    throw new Error(`invalid management URL: ${withoutCredentials(options.managementUrl)}`);
  }
  if (m.protocol !== "http:" && m.protocol !== "https:") throw new Error("the management URL must be http:// or https://");
  const urlVhost = u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : "/";
  const vhost = options.vhost ?? urlVhost;
  if (vhost.length === 0 || !fitsBytes(vhost, MAX_NAME_BYTES)) throw new Error("the vhost must be 1 to 255 bytes");
  const exchanges = options.exchanges ? [...new Set(options.exchanges)] : null;
  if (exchanges && (exchanges.length > MAX_OBSERVED_EXCHANGES || exchanges.some((e) => e.length === 0 || !fitsBytes(e, MAX_NAME_BYTES) || e === TRACE_EXCHANGE))) {
    throw new Error(`exchanges: at most ${MAX_OBSERVED_EXCHANGES} names of 1 to 255 bytes (the default exchange and ${TRACE_EXCHANGE} cannot be observed)`);
  }
  const pollSeconds = options.pollSeconds ?? 10;
  if (!Number.isFinite(pollSeconds) || pollSeconds < 0.05 || pollSeconds > 3_600) throw new Error("pollSeconds must be between 0.05 and 3600");
  const user = options.user ?? (u.username ? decodeURIComponent(u.username) : "guest");
  const password = options.password ?? (u.password ? decodeURIComponent(u.password) : "guest");
  const mUser = m.username ? decodeURIComponent(m.username) : user;
  const mPassword = m.password ? decodeURIComponent(m.password) : password;
  const clientId = options.name ?? `meshport-agent-${options.brokerId}-${randomBytes(3).toString("hex")}`;
  if (!clientId || !fitsBytes(clientId, MAX_CLIENT_ID_BYTES)) throw new Error("the connection name must be 1 to 256 bytes");
  const bounded = (v: number | undefined, def: number, lo: number, hi: number, what: string) => {
    const n = v ?? def;
    if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`${what} must be an integer between ${lo} and ${hi}`);
    return n;
  };
  m.username = "";
  m.password = "";
  m.search = "";
  m.hash = "";
  const heartbeat = Number(u.searchParams.get("heartbeat") ?? 30);
  return {
    connect: {
      protocol: u.protocol.slice(0, -1),
      hostname: u.hostname,
      port: u.port ? Number(u.port) : u.protocol === "amqps:" ? 5671 : 5672,
      username: user,
      password,
      vhost,
      heartbeat: Number.isInteger(heartbeat) && heartbeat >= 0 && heartbeat <= 3_600 ? heartbeat : 30,
    },
    url: withoutCredentials(`${u.protocol}//${u.host}/${encodeURIComponent(vhost)}`),
    managementBase: m.toString().replace(/\/+$/, ""),
    managementAuth: `Basic ${Buffer.from(`${mUser}:${mPassword}`).toString("base64")}`,
    vhost,
    exchanges,
    firehose: options.firehose === true,
    pollMs: Math.round(pollSeconds * 1000),
    clientId,
    httpTimeoutMs: bounded(options.httpTimeoutMs, 5_000, 100, 120_000, "httpTimeoutMs"),
    queueMaxLength: bounded(options.queueMaxLength, 100_000, 1, 10_000_000, "queueMaxLength"),
    reconnectMs: bounded(options.reconnectMs, 500, 10, 60_000, "reconnectMs"),
  };
}

type Fetched = { kind: "ok"; body: unknown } | { kind: "absent" } | { kind: "failed"; reason: string };

/** A queue of the agent's, bound to one exchange, on its own channel (a failed bind closes only it). */
interface Binder {
  exchange: string;
  channel: Channel;
  queue: string | null;
}

/** Creates the RabbitMQ source; nothing connects before start(). */
export function createAmqpSource(options: AmqpSourceOptions): AmqpSource {
  const cfg = amqpConfig(options);
  let sink: SourceSink | null = null;
  let log: Logger | null = null;
  let stopping = false;
  let model: ChannelModel | null = null;
  let connected = false;
  let everConnected = false;
  let reconnects = 0;
  let readyForThisConnection = false;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let pollTimer: NodeJS.Timeout | null = null;
  const aborts = new Set<AbortController>();

  // What the management API said last (each kept when a later poll fails).
  let brokerVersion: string | null = null;
  let clientsConnected: number | null = null;
  let tracing: boolean | null = null;
  let exchanges: Exchange[] | null = null;
  let queues: Queue[] | null = null;
  let bindings: Binding[] | null = null;
  let consumersAnswered = false;
  let shovels: Shovel[] | null = null;
  let links: FederationLink[] | null = null;
  let inventory: Inventory | undefined;
  let bridges: DiscoveredBridge[] | undefined;
  /** connection name → client id */
  let clients = new Map<string, string>();
  const setClients = (conns: readonly Connection[]) => {
    clients = new Map();
    for (const c of conns) if (clients.size < MAX_CONNECTION_NAMES) clients.set(c.name, clientIdOf(c));
  };

  // The agent's own queues and channels.
  const binders = new Map<string, Binder>();
  const ownQueues = new Set<string>();
  let traceChannel: Channel | null = null;
  let traceSeen = false;
  const pendingTraces = new Map<string, TracedPublish[]>();
  let pendingCount = 0;

  const feed = () => (stopping ? null : sink);

  // ---- management API ----------------------------------------------------------------------

  const get = async (pathname: string): Promise<Fetched> => {
    const ac = new AbortController();
    aborts.add(ac);
    const timer = setTimeout(() => ac.abort(), cfg.httpTimeoutMs);
    try {
      const res = await fetch(cfg.managementBase + pathname, { headers: { authorization: cfg.managementAuth, accept: "application/json" }, signal: ac.signal, redirect: "error" });
      if (res.status === 404 || res.status === 400) {
        await res.body?.cancel();
        return { kind: "absent" };
      }
      if (!res.ok) {
        await res.body?.cancel();
        return { kind: "failed", reason: `HTTP ${res.status}` };
      }
      const body = await readBounded(res, MAX_MANAGEMENT_BYTES);
      if (body === null) return { kind: "failed", reason: `answer larger than ${MAX_MANAGEMENT_BYTES} bytes` };
      try {
        return { kind: "ok", body: JSON.parse(body) as unknown };
      } catch {
        feed()?.malformed();
        return { kind: "failed", reason: "not JSON" };
      }
    } catch (err) {
      return { kind: "failed", reason: ac.signal.aborted ? "timed out" : String((err as Error).message ?? err) };
    } finally {
      clearTimeout(timer);
      aborts.delete(ac);
    }
  };

  const vh = encodeURIComponent(cfg.vhost);
  const warned = new Set<string>();
  const failed = (what: string, reason: string) => {
    // Once per endpoint until it answers again: a broker down for an hour is not an hour of warnings.
    if (warned.has(what)) return;
    warned.add(what);
    log?.warn({ endpoint: what, reason }, "management API did not answer; keeping what it said last");
  };

  /** Reads one list; null when it did not answer (or answered no list). */
  const list = async <T>(pathname: string, schema: z.ZodType<T>, what: string, absent?: () => void): Promise<T[] | null> => {
    const r = await get(pathname);
    if (r.kind === "absent" && absent) {
      absent();
      return null;
    }
    if (r.kind !== "ok") {
      failed(what, r.kind === "absent" ? "not found" : r.reason);
      return null;
    }
    const parsed = parseList(r.body, schema);
    if (!parsed) {
      feed()?.malformed();
      failed(what, "not a list");
      return null;
    }
    warned.delete(what);
    if (parsed.invalid) feed()?.malformed(parsed.invalid);
    return parsed.items;
  };

  const object = async <T>(pathname: string, schema: z.ZodType<T>, what: string): Promise<T | null> => {
    const r = await get(pathname);
    if (r.kind !== "ok") {
      failed(what, r.kind === "absent" ? "not found" : r.reason);
      return null;
    }
    const parsed = schema.safeParse(r.body);
    if (!parsed.success) {
      feed()?.malformed();
      failed(what, "unexpected answer");
      return null;
    }
    warned.delete(what);
    return parsed.data;
  };

  const poll = async () => {
    let shovelsOff = false;
    let linksOff = false;
    const [overview, vhost, ex, qs, bs, cs, conns, sh, fl] = await Promise.all([
      object("/api/overview", managementSchemas.overview, "overview"),
      object(`/api/vhosts/${vh}`, managementSchemas.vhost, "vhost"),
      list(`/api/exchanges/${vh}?disable_stats=true`, managementSchemas.exchange, "exchanges"),
      list(`/api/queues/${vh}?columns=name,durable,messages,consumers`, managementSchemas.queue, "queues"),
      list(`/api/bindings/${vh}`, managementSchemas.binding, "bindings"),
      list(`/api/consumers/${vh}`, managementSchemas.consumer, "consumers"),
      list(CONNECTIONS_PATH, managementSchemas.connection, "connections"),
      // 404 (or 400) means the plugin is off: no links, and no error.
      list(`/api/shovels/${vh}`, managementSchemas.shovel, "shovels", () => (shovelsOff = true)),
      list(`/api/federation-links/${vh}`, managementSchemas.federationLink, "federation links", () => (linksOff = true)),
    ]);
    if (stopping) return;
    if (overview) {
      brokerVersion = (overview.rabbitmq_version ?? overview.product_version ?? null)?.slice(0, MAX_LABEL_CHARS) ?? null;
      const n = overview.object_totals?.connections;
      if (n !== undefined) clientsConnected = n;
    }
    if (vhost) tracing = vhost.tracing ?? null;
    if (ex) exchanges = ex;
    if (qs) queues = qs;
    if (bs) bindings = bs;
    if (conns) setClients(conns);
    if (sh || shovelsOff) shovels = sh;
    if (fl || linksOff) links = fl;
    // Links are known while either plugin answers; with both off the broker tells of none.
    bridges = shovels || links ? bridgesFrom(shovels ?? [], links ?? []) : shovelsOff && linksOff ? undefined : bridges;
    if (exchanges && queues && bindings) inventory = inventoryFrom(exchanges, queues, bindings, ownQueues);
    // Subscriptions replace what the agent knew: only from a complete, fresh picture.
    if (cs && ex && bs && conns) {
      consumersAnswered = true;
      const { subscriptions, omitted } = subscriptionsFrom({ exchanges: ex, bindings: bs, consumers: cs, clients, ownClientId: cfg.clientId, ownQueues });
      if (omitted) log?.warn({ omitted }, "too many subscriptions; some left out");
      feed()?.subscriptions(subscriptions);
    }
  };

  // ---- AMQP connection -----------------------------------------------------------------------

  /** Exchanges to observe now. */
  const wanted = (): string[] => {
    if (!exchanges) return cfg.exchanges ?? ["amq.topic"];
    const byName = new Map(exchanges.map((e) => [e.name, e]));
    // Named exchanges that do not exist (yet) or are neither topic nor fanout are left out until a poll lists them.
    if (cfg.exchanges) return cfg.exchanges.filter((n) => byName.get(n)?.type === "topic" || byName.get(n)?.type === "fanout");
    return exchanges.filter(isObservedTopicExchange).map((e) => e.name);
  };

  const onMessage = (msg: ConsumeMessage | null) => {
    if (!msg) return;
    feed()?.message(msg.fields.routingKey, msg.content, 0, false, msg.fields.exchange);
  };

  const queueArgs = () => ({ exclusive: true, autoDelete: true, durable: false, arguments: { "x-max-length": cfg.queueMaxLength, "x-overflow": "drop-head" } });

  const bind = async (m: ChannelModel, exchange: string): Promise<void> => {
    const channel = await m.createChannel();
    const binder: Binder = { exchange, channel, queue: null };
    binders.set(exchange, binder);
    channel.on("error", (err: Error) => log?.warn({ exchange, err: err.message }, "cannot observe an exchange; retrying at the next poll"));
    channel.on("close", () => {
      if (binders.get(exchange) === binder) binders.delete(exchange);
    });
    try {
      const q = await channel.assertQueue("", queueArgs());
      binder.queue = q.queue;
      ownQueues.add(q.queue);
      await channel.bindQueue(q.queue, exchange, "#");
      await channel.consume(q.queue, onMessage, { noAck: true, exclusive: true });
    } catch {
      // The channel is closed (the exchange went away): the unbound queue stays empty until reconnection.
      binders.delete(exchange);
    }
  };

  const unbind = async (binder: Binder) => {
    binders.delete(binder.exchange);
    try {
      if (binder.queue) await binder.channel.deleteQueue(binder.queue);
      if (binder.queue) ownQueues.delete(binder.queue);
      await binder.channel.close();
    } catch {
      // already closed
    }
  };

  // One list request at a time, shared by every connection waiting for its name.
  let refreshingConnections: Promise<void> | null = null;
  const refreshConnections = (): Promise<void> =>
    (refreshingConnections ??= list(CONNECTIONS_PATH, managementSchemas.connection, "connections")
      .then((conns) => {
        if (conns) setClients(conns);
      })
      .finally(() => (refreshingConnections = null)));

  const resolvePending = async (connection: string) => {
    // The management API lists a new connection a moment after it opens: ask a few times.
    for (const delay of LOOKUP_DELAYS_MS) {
      if (delay) await new Promise((r) => setTimeout(r, delay).unref());
      if (stopping) return;
      if (clients.has(connection)) break;
      await refreshConnections();
      if (clients.has(connection)) break;
    }
    const clientId = clients.get(connection) ?? connection;
    const held = pendingTraces.get(connection) ?? [];
    pendingTraces.delete(connection);
    pendingCount -= held.length;
    for (const t of held) emitPublish(clientId, t);
  };

  const emitPublish = (clientId: string, t: TracedPublish) => {
    if (clientId === cfg.clientId) return;
    const ev: BrokerEvent = { type: "publish", clientId, topic: t.routingKey, qos: 0, retain: false, bytes: t.bytes };
    feed()?.event(ev);
  };

  const onTrace = (msg: ConsumeMessage | null) => {
    if (!msg || stopping) return;
    const t = parseTrace(msg.fields.routingKey, msg.properties.headers, msg.content.length);
    if (t === null) return;
    if (t === "malformed") {
      feed()?.malformed();
      return;
    }
    traceSeen = true;
    // Publishes to exchanges the agent does not observe name topics it never sees.
    if (!binders.has(t.exchange)) return;
    const clientId = clients.get(t.connection);
    if (clientId !== undefined) return emitPublish(clientId, t);
    const held = pendingTraces.get(t.connection);
    if (held) {
      if (pendingCount < MAX_PENDING_TRACES) {
        held.push(t);
        pendingCount++;
      } else emitPublish(t.connection, t);
      return;
    }
    if (pendingCount >= MAX_PENDING_TRACES || pendingTraces.size >= 100) return emitPublish(t.connection, t);
    // A connection newer than the last poll: ask for its name once, hold its publishes meanwhile.
    pendingTraces.set(t.connection, [t]);
    pendingCount++;
    void resolvePending(t.connection);
  };

  const bindTrace = async (m: ChannelModel) => {
    const channel = await m.createChannel();
    traceChannel = channel;
    channel.on("error", (err: Error) => log?.warn({ err: err.message }, "cannot bind to the firehose"));
    channel.on("close", () => {
      if (traceChannel === channel) traceChannel = null;
    });
    try {
      const q = await channel.assertQueue("", queueArgs());
      ownQueues.add(q.queue);
      await channel.bindQueue(q.queue, TRACE_EXCHANGE, "publish.#");
      await channel.consume(q.queue, onTrace, { noAck: true, exclusive: true });
    } catch {
      if (traceChannel === channel) traceChannel = null;
    }
  };

  /** Binds to the exchanges wanted now and leaves those gone; says ready once everything is bound. */
  let reconciling: Promise<void> = Promise.resolve();
  const reconcile = (): Promise<void> => {
    // A failed step must not wedge the chain for every later one.
    reconciling = reconciling.catch(() => {}).then(async () => {
      const m = model;
      if (!m || !connected || stopping) return;
      const want = wanted();
      const keep = new Set(want.slice(0, MAX_OBSERVED_EXCHANGES));
      if (want.length > MAX_OBSERVED_EXCHANGES) log?.warn({ exchanges: want.length, observed: MAX_OBSERVED_EXCHANGES }, "too many exchanges; observing the first");
      for (const b of [...binders.values()]) if (!keep.has(b.exchange)) await unbind(b);
      for (const e of keep) if (!binders.has(e)) await bind(m, e).catch(() => {});
      if (cfg.firehose && !traceChannel) await bindTrace(m).catch(() => {});
      if (model === m && connected && !readyForThisConnection && subscribed()) {
        readyForThisConnection = true;
        log?.info({ exchanges: binders.size, firehose: !!traceChannel }, "observing the broker");
        feed()?.ready();
      }
    });
    return reconciling;
  };

  const subscribed = () => connected && [...wanted()].slice(0, MAX_OBSERVED_EXCHANGES).every((e) => binders.has(e)) && (!cfg.firehose || traceChannel !== null);

  const scheduleReconnect = (attempt: number) => {
    if (stopping) return;
    const delay = Math.min(cfg.reconnectMs * 2 ** Math.min(attempt, 10), 10_000);
    reconnectTimer = setTimeout(() => void connect(attempt + 1), delay);
  };

  const connect = async (attempt: number) => {
    reconnectTimer = null;
    if (stopping) return;
    let m: ChannelModel;
    try {
      m = await amqp.connect(cfg.connect, { clientProperties: { connection_name: cfg.clientId }, timeout: 10_000 });
    } catch (err) {
      if (attempt === 0 || attempt % 10 === 0) log?.warn({ broker: cfg.url, err: (err as Error).message }, "cannot connect to the broker; retrying");
      return scheduleReconnect(attempt);
    }
    if (stopping) {
      await m.close().catch(() => {});
      return;
    }
    model = m;
    connected = true;
    readyForThisConnection = false;
    if (everConnected) reconnects++;
    everConnected = true;
    m.on("error", (err: Error) => log?.warn({ err: err.message }, "broker connection error"));
    m.on("close", () => {
      if (model !== m) return;
      model = null;
      connected = false;
      binders.clear();
      ownQueues.clear();
      traceChannel = null;
      if (!stopping) {
        log?.warn({ broker: cfg.url }, "broker connection lost; reconnecting");
        scheduleReconnect(0);
      }
    });
    log?.info({ broker: cfg.url, connectionName: cfg.clientId }, "connected to broker");
    await firstPoll;
    await reconcile();
  };

  // ---- polling -------------------------------------------------------------------------------

  let polling: Promise<void> = Promise.resolve();
  const pollNow = (): Promise<void> => {
    polling = polling.catch(() => {}).then(async () => {
      if (stopping) return;
      await poll().catch((err: unknown) => log?.error({ err: String(err) }, "management poll failed"));
      await reconcile();
    });
    return polling;
  };
  let firstPoll: Promise<void> = Promise.resolve();
  const loop = () => {
    if (stopping) return;
    pollTimer = setTimeout(() => void pollNow().then(loop), cfg.pollMs);
  };

  const capabilities = (): Capabilities => {
    const firehose = cfg.firehose && traceSeen && tracing !== false;
    return {
      producers: firehose,
      consumers: consumersAnswered,
      producerSource: firehose ? "firehose" : "none",
      consumerSource: consumersAnswered ? "management" : "none",
      sys: false,
      retainFlag: "none",
      bridges: bridges !== undefined,
      inventory: inventory !== undefined,
    };
  };

  return {
    protocol: "amqp",
    dialect: AMQP_DIALECT,
    url: cfg.url,
    clientId: cfg.clientId,
    async start(s: SourceSink, logger: Logger) {
      if (sink) throw new Error("the source is already started");
      sink = s;
      log = logger.child({ source: "amqp", vhost: cfg.vhost });
      firstPoll = pollNow();
      void firstPoll.then(loop);
      void connect(0);
    },
    pollNow,
    status(): SourceStatus {
      return {
        connected,
        subscribed: subscribed(),
        reconnects,
        brokerVersion,
        clientsConnected,
        protocolVersion: null,
        capabilities: capabilities(),
        ...(bridges ? { bridges } : {}),
        ...(inventory ? { inventory } : {}),
        logLinesRead: 0,
      };
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (pollTimer) clearTimeout(pollTimer);
      for (const ac of aborts) ac.abort();
      const m = model;
      model = null;
      connected = false;
      await m?.close().catch(() => {});
      await polling.catch(() => {});
      await reconciling.catch(() => {});
      pendingTraces.clear();
      pendingCount = 0;
    },
  };
}

/** Reads a response body up to `max` bytes; null when it is larger. */
async function readBounded(res: Response, max: number): Promise<string | null> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    return null;
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
