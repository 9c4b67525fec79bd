/**
 * The NATS source of the agent: subscribes to `>` and feeds every subject it sees; polls the
 * server's monitoring endpoint (nats-server `-m PORT`) for the subscriptions of each client,
 * the links to other servers (routes, leafnodes, gateways) and JetStream's streams and
 * consumers. NATS never tells who publishes a subject, so producers stay unknown.
 *
 * Monitoring answers are never trusted: each is bounded in size and time, validated, and a
 * malformed answer (or item) is counted and skipped; when the endpoint is down or wrong the
 * previous state is kept.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { connect, Events, type ConnectionOptions, type NatsConnection, type Subscription } from "nats";
import type { Logger } from "pino";
import { z } from "zod";
import { NATS_DIALECT } from "../registry/topics/index.ts";
import {
  fitsBytes,
  MAX_BRIDGE_TOPICS,
  MAX_BRIDGES,
  MAX_CLIENT_ID_BYTES,
  MAX_COUNT,
  MAX_INT32,
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

/** Options of {@link createNatsSource}. */
export interface NatsSourceOptions {
  /** server URL(s), comma-separated: `nats://host:4222`, `tls://host:4222` or `host:port` */
  servers: string;
  /** monitoring base URL (`http://host:8222`); without it only subjects and rates are observed */
  monitorUrl?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** PEM files for TLS: CA bundle, client certificate and key */
  ca?: string;
  cert?: string;
  key?: string;
  /** the agent's connection name (default meshport-agent-<brokerId>-<random>) */
  name?: string;
  /** how often the monitoring endpoint is polled, in seconds (default 5) */
  pollSeconds?: number;
  /** time budget of one monitoring request, in ms (default 3000) */
  pollTimeoutMs?: number;
  /** largest monitoring answer read, in bytes (default 32 MiB) */
  maxAnswerBytes?: number;
  /** most client connections listed from `/connz` (default 4096) */
  maxConnections?: number;
  /** wait between connection attempts, in ms (default 1000) */
  reconnectWaitMs?: number;
  brokerId: string;
}

/** Most subscriptions taken from one `/connz` answer in all. */
export const MAX_POLLED_SUBSCRIPTIONS = 100_000;
/** Most subscriptions taken per client from `/connz` (the consumer tracker keeps 100 per client). */
export const MAX_POLLED_SUBSCRIPTIONS_PER_CLIENT = 1_000;

// ---------------------------------------------------------------------------------------------
// Monitoring answers: envelopes are validated whole, items one by one (a bad item is counted and
// skipped, the rest kept). Unknown fields are ignored; numbers are clamped to what is reported.

/** What a parser made of one answer: the value, and how many items it had to skip. */
export interface Parsed<T> {
  value: T;
  malformed: number;
}

const num = z.number().finite();
const str = z.string();
const list = z.array(z.unknown()).nullish();

const clampCount = (n: number | null | undefined) => (typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), MAX_COUNT) : 0);
const clampInt = (n: number | null | undefined) => Math.min(clampCount(n), MAX_INT32);
const nameOk = (s: string | null | undefined): s is string => typeof s === "string" && s.length > 0 && fitsBytes(s, MAX_NAME_BYTES);
const subjectOk = (s: unknown): s is string => typeof s === "string" && s.length > 0 && fitsBytes(s, MAX_TOPIC_BYTES);

/** Parses each item with the schema; counts the ones that do not fit. */
function items<T>(raw: readonly unknown[] | null | undefined, schema: z.ZodType<T>, max: number): { items: T[]; malformed: number; omitted: number } {
  const out: T[] = [];
  let malformed = 0;
  let omitted = 0;
  for (const item of raw ?? []) {
    const r = schema.safeParse(item);
    if (!r.success) malformed++;
    else if (out.length >= max) omitted++;
    else out.push(r.data);
  }
  return { items: out, malformed, omitted };
}

const varzSchema = z.object({ version: str.max(MAX_LABEL_CHARS).optional(), connections: num.optional() });

/** `/varz`: the server's version and its client connections now; null when the answer is not one. */
export function parseVarz(body: unknown): { version: string | null; connections: number | null } | null {
  const r = varzSchema.safeParse(body);
  if (!r.success) return null;
  return { version: r.data.version ?? null, connections: r.data.connections === undefined ? null : clampCount(r.data.connections) };
}

const connzSubSchema = z.object({ subject: str, qgroup: str.optional() });
const connzConnSchema = z.object({
  cid: num,
  name: str.optional(),
  subscriptions_list: z.array(z.unknown()).nullish(),
  subscriptions_list_detail: z.array(z.unknown()).nullish(),
});
const connzSchema = z.object({ connections: list });

/**
 * `/connz?subs=detail`: one snapshot entry per client subscription (queue groups included: a
 * member of a group consumes too). A client is its connection name when it has one, else
 * `cid:<n>`; the agent's own connection (by cid or name) is left out. Null when the answer
 * is not a connz answer.
 */
export function parseConnz(body: unknown, own: { cid?: number | null; name: string }, maxConnections = 4_096): Parsed<SubscriptionSnapshot[]> | null {
  const env = connzSchema.safeParse(body);
  if (!env.success) return null;
  const conns = items(env.data.connections, connzConnSchema, maxConnections);
  let malformed = conns.malformed;
  const out: SubscriptionSnapshot[] = [];
  for (const c of conns.items) {
    if ((own.cid != null && c.cid === own.cid) || c.name === own.name) continue;
    const clientId = c.name ? c.name : `cid:${c.cid}`;
    if (!fitsBytes(clientId, MAX_CLIENT_ID_BYTES)) {
      malformed++;
      continue;
    }
    // Detail lists carry queue groups; plain lists (subs=1, or older servers) only subjects.
    const raw = c.subscriptions_list_detail ?? c.subscriptions_list ?? [];
    let taken = 0;
    for (const s of raw) {
      if (out.length >= MAX_POLLED_SUBSCRIPTIONS) return { value: out, malformed };
      if (taken >= MAX_POLLED_SUBSCRIPTIONS_PER_CLIENT) break;
      const subject = typeof s === "string" ? s : connzSubSchema.safeParse(s).data?.subject;
      if (!subjectOk(subject)) {
        malformed++;
        continue;
      }
      out.push({ clientId, filter: subject, qos: 0 });
      taken++;
    }
  }
  return { value: out, malformed };
}

// Internal interest (`$SYS…`, `$LDS…`, `$JS…`, `_INBOX…`) says nothing about the mesh's traffic.
const internalSubject = (s: string) => s.charCodeAt(0) === 36 || s.startsWith("_INBOX.") || s.startsWith("_R_.") || s.startsWith("_GR_.");
const linkTopics = (raw: readonly unknown[] | null | undefined): string[] => {
  const out = new Set<string>();
  for (const s of raw ?? []) {
    if (out.size >= MAX_BRIDGE_TOPICS) break;
    if (subjectOk(s) && !internalSubject(s)) out.add(s);
  }
  return [...out];
};
const hostPort = (ip: string | undefined, port: number | undefined) => (ip ? (port ? `${ip}:${port}` : ip) : null);
const boundedName = (s: string) => (fitsBytes(s, MAX_NAME_BYTES) ? s : s.slice(0, MAX_NAME_BYTES / 4));

const routeSchema = z.object({
  rid: num,
  remote_id: str.optional(),
  remote_name: str.optional(),
  did_solicit: z.boolean().optional(),
  ip: str.max(200).optional(),
  port: num.optional(),
  subscriptions_list: z.array(z.unknown()).nullish(),
});
const routezSchema = z.object({ routes: list });

/** `/routez`: cluster routes, named after the server at the other end. */
export function parseRoutez(body: unknown): Parsed<DiscoveredBridge[]> | null {
  const env = routezSchema.safeParse(body);
  if (!env.success) return null;
  const r = items(env.data.routes, routeSchema, MAX_BRIDGES);
  const value = r.items.map((route): DiscoveredBridge => {
    const peer = route.remote_name || route.remote_id || `route-${route.rid}`;
    const at = hostPort(route.ip, route.port);
    // Only the soliciting side knows the peer's route URL; the accepting side sees an ephemeral port.
    const remote = route.did_solicit && at ? `nats-route://${at}` : peer;
    return { kind: "nats-route", name: boundedName(peer), remote: remote.slice(0, MAX_URL_CHARS), direction: "both", topics: linkTopics(route.subscriptions_list), state: "connected" };
  });
  return { value, malformed: r.malformed };
}

const leafSchema = z.object({
  name: str.optional(),
  account: str.max(200).optional(),
  ip: str.max(200).optional(),
  port: num.optional(),
  is_spoke: z.boolean().optional(),
  subscriptions_list: z.array(z.unknown()).nullish(),
});
const leafzSchema = z.object({ leafs: list });

/** `/leafz?subs=1`: leafnode connections; their topics are the interest the remote side registered. */
export function parseLeafz(body: unknown): Parsed<DiscoveredBridge[]> | null {
  const env = leafzSchema.safeParse(body);
  if (!env.success) return null;
  const r = items(env.data.leafs, leafSchema, MAX_BRIDGES);
  const value = r.items.map((leaf): DiscoveredBridge => {
    const at = hostPort(leaf.ip, leaf.port) ?? "unknown";
    const name = leaf.name || `leafnode ${at}${leaf.account ? ` (${leaf.account})` : ""}`;
    return { kind: "nats-leafnode", name: boundedName(name), remote: `nats-leaf://${at}`.slice(0, MAX_URL_CHARS), direction: "both", topics: linkTopics(leaf.subscriptions_list), state: "connected" };
  });
  return { value, malformed: r.malformed };
}

const gatewayConnSchema = z.object({ connection: z.object({ ip: str.max(200).optional(), port: num.optional(), name: str.optional() }).optional() });
const gatewayzSchema = z.object({
  outbound_gateways: z.record(z.string(), z.unknown()).nullish(),
  inbound_gateways: z.record(z.string(), z.unknown()).nullish(),
});

/** `/gatewayz`: super-cluster gateways by remote cluster name; out and in links of one name merge into both. */
export function parseGatewayz(body: unknown): Parsed<DiscoveredBridge[]> | null {
  const env = gatewayzSchema.safeParse(body);
  if (!env.success) return null;
  let malformed = 0;
  const byName = new Map<string, { out: boolean; in: boolean; remote: string | null }>();
  const note = (name: string, dir: "out" | "in", conn: unknown) => {
    if (!nameOk(name)) {
      malformed++;
      return;
    }
    const c = gatewayConnSchema.safeParse(conn);
    if (!c.success) {
      malformed++;
      return;
    }
    const entry = byName.get(name) ?? { out: false, in: false, remote: null };
    if (!byName.has(name)) {
      if (byName.size >= MAX_BRIDGES) return;
      byName.set(name, entry);
    }
    entry[dir] = true;
    const at = hostPort(c.data.connection?.ip, c.data.connection?.port);
    if (dir === "out" && at) entry.remote = `nats://${at}`;
  };
  for (const [name, conn] of Object.entries(env.data.outbound_gateways ?? {})) note(name, "out", conn);
  for (const [name, conns] of Object.entries(env.data.inbound_gateways ?? {})) {
    if (!Array.isArray(conns)) {
      malformed++;
      continue;
    }
    for (const conn of conns.slice(0, MAX_BRIDGES)) note(name, "in", conn);
  }
  const value = [...byName].map(([name, e]): DiscoveredBridge => ({
    kind: "nats-gateway",
    name,
    remote: (e.remote ?? name).slice(0, MAX_URL_CHARS),
    direction: e.out && e.in ? "both" : e.out ? "out" : "in",
    topics: [],
    state: "connected",
  }));
  return { value, malformed };
}

const consumerSchema = z.object({
  stream_name: str.optional(),
  name: str,
  config: z.object({ durable_name: str.optional(), filter_subject: str.optional(), filter_subjects: z.array(z.unknown()).nullish() }).optional(),
  num_pending: num.optional(),
});
const streamSchema = z.object({
  name: str,
  config: z.object({ subjects: z.array(z.unknown()).nullish() }).optional(),
  state: z.object({ messages: num.optional(), bytes: num.optional(), consumer_count: num.optional() }).optional(),
  consumer_detail: list,
});
const accountSchema = z.object({ stream_detail: list });
const jszSchema = z.object({ disabled: z.boolean().optional(), account_details: list });

/** `/jsz?streams=true&consumers=true&config=true`: JetStream streams and consumers; value null when JetStream is disabled. */
export function parseJsz(body: unknown): Parsed<Inventory | null> | null {
  const env = jszSchema.safeParse(body);
  if (!env.success) return null;
  if (env.data.disabled) return { value: null, malformed: 0 };
  let malformed = 0;
  let omitted = 0;
  const streams: NonNullable<Inventory["streams"]> = [];
  const streamConsumers: NonNullable<Inventory["streamConsumers"]> = [];
  const accounts = items(env.data.account_details, accountSchema, MAX_INVENTORY_ITEMS);
  malformed += accounts.malformed;
  for (const account of accounts.items) {
    for (const rawStream of account.stream_detail ?? []) {
      const s = streamSchema.safeParse(rawStream);
      if (!s.success || !nameOk(s.data.name)) {
        malformed++;
        continue;
      }
      if (streams.length >= MAX_INVENTORY_ITEMS) {
        omitted++;
        continue;
      }
      const subjects = (s.data.config?.subjects ?? []).filter(subjectOk).slice(0, MAX_BRIDGE_TOPICS);
      streams.push({
        name: s.data.name,
        subjects,
        messages: clampCount(s.data.state?.messages),
        bytes: clampCount(s.data.state?.bytes),
        consumers: clampInt(s.data.state?.consumer_count),
      });
      for (const rawConsumer of s.data.consumer_detail ?? []) {
        const c = consumerSchema.safeParse(rawConsumer);
        if (!c.success || !nameOk(c.data.name)) {
          malformed++;
          continue;
        }
        if (streamConsumers.length >= MAX_INVENTORY_ITEMS) {
          omitted++;
          continue;
        }
        // A consumer with several filter subjects (2.10) is listed by its first.
        const filter = c.data.config?.filter_subject || c.data.config?.filter_subjects?.find(subjectOk) || null;
        streamConsumers.push({
          stream: s.data.name,
          name: c.data.name,
          filter: filter && subjectOk(filter) ? filter : null,
          pending: clampCount(c.data.num_pending),
          durable: !!c.data.config?.durable_name,
        });
      }
    }
  }
  return { value: { streams, streamConsumers, ...(omitted ? { omitted } : {}) }, malformed };
}

// ---------------------------------------------------------------------------------------------

/** Removes credentials from each server URL before it is logged or reported. */
function sanitizeServers(servers: string): string {
  return servers
    .split(",")
    .map((s) => s.trim().replace(/\/\/[^@/]*@/, "//"))
    .join(",")
    .slice(0, MAX_URL_CHARS);
}

function validServers(servers: string): string[] {
  const list = servers
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0 || list.length > 32) throw new Error("--broker: give 1 to 32 NATS server URLs, comma-separated");
  for (const s of list) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `nats://${s}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new Error(`--broker: not a NATS server URL: ${sanitizeServers(s)}`);
    }
    if (!["nats:", "tls:"].includes(url.protocol) || !url.hostname) throw new Error(`--broker: not a nats:// or tls:// URL: ${sanitizeServers(s)}`);
  }
  return list;
}

/** Polls between two reads of a monitoring endpoint whose last answer was empty (30 s at the default 5 s polls). */
export const QUIET_POLL_EVERY = 6;
/** What a poll holds for an endpoint it did not read. */
const NOT_POLLED = Symbol("not polled");

/** Reads a monitoring path: JSON within the time and size budget; "down" for no answer, "malformed" for a wrong one. */
async function fetchJson(base: string, pathAndQuery: string, timeoutMs: number, maxBytes: number, abort: AbortSignal): Promise<unknown | "down" | "malformed"> {
  const signal = AbortSignal.any([abort, AbortSignal.timeout(timeoutMs)]);
  let res: Response;
  try {
    res = await fetch(new URL(pathAndQuery, base), { signal, headers: { accept: "application/json" }, redirect: "error" });
  } catch {
    return "down";
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    // No answer to judge: a server without this endpoint (an old version), a proxy's error page.
    return "down";
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        return "malformed";
      }
      chunks.push(value);
    }
  } catch {
    return "down";
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return "malformed";
  }
}

/** Creates the NATS source; nothing connects before start(). Throws on bad configuration. */
export function createNatsSource(options: NatsSourceOptions): BrokerSource {
  const servers = validServers(options.servers);
  let monitorBase: string | null = null;
  if (options.monitorUrl) {
    let u: URL;
    try {
      u = new URL(options.monitorUrl);
    } catch {
      throw new Error("--monitor: not a URL");
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("--monitor: give an http:// or https:// URL");
    // A base path (nats-server http_base_path) keeps its segments: the paths are resolved under it.
    monitorBase = u.toString().replace(/\/?$/, "/");
  }
  for (const [flag, file] of [["--ca", options.ca], ["--cert", options.cert], ["--key", options.key]] as const) {
    if (file && !existsSync(file)) throw new Error(`${flag}: no such file: ${file}`);
  }
  const pollMs = Math.round(Math.max(0.05, Math.min(options.pollSeconds ?? 5, 3_600)) * 1000);
  const pollTimeoutMs = Math.max(100, Math.min(options.pollTimeoutMs ?? 3_000, pollMs));
  const maxAnswerBytes = options.maxAnswerBytes ?? 32 * 1024 * 1024;
  const maxConnections = Math.max(1, Math.min(options.maxConnections ?? 4_096, 100_000));
  const reconnectWaitMs = options.reconnectWaitMs ?? 1_000;
  const clientId = options.name ?? `meshport-agent-${options.brokerId}-${randomBytes(3).toString("hex")}`;
  // The agent never sends requests, but its inbox is its own: replies to it are not mesh traffic.
  const inboxPrefix = `_INBOX.${clientId.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const url = sanitizeServers(options.servers);

  let nc: NatsConnection | null = null;
  let sub: Subscription | null = null;
  let connected = false;
  let subscribed = false;
  let reconnects = 0;
  let everConnected = false;
  let stopping = false;
  let brokerVersion: string | null = null;
  let clientsConnected: number | null = null;
  let consumersKnown = false;
  let bridgesKnown = false;
  let inventoryKnown = false;
  const links: Record<"routes" | "leafs" | "gateways", DiscoveredBridge[]> = { routes: [], leafs: [], gateways: [] };
  let inventory: Inventory | undefined;
  const abort = new AbortController();
  let pollTimer: NodeJS.Timeout | null = null;
  let polling: Promise<void> = Promise.resolve();
  let loop: Promise<void> = Promise.resolve();
  let wake: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => ((wake = null), resolve()), ms);
      wake = () => (clearTimeout(t), (wake = null), resolve());
    });

  const connectOptions = (): ConnectionOptions => ({
    servers,
    name: clientId,
    user: options.user,
    pass: options.pass,
    token: options.token,
    ...(options.ca || options.cert || options.key ? { tls: { caFile: options.ca, certFile: options.cert, keyFile: options.key } } : {}),
    inboxPrefix,
    maxReconnectAttempts: -1,
    reconnectTimeWait: reconnectWaitMs,
    // The agent only listens; its own publications (none) need no echo.
    noEcho: true,
    timeout: 10_000,
  });

  async function run(sink: SourceSink, log: Logger): Promise<void> {
    while (!stopping) {
      let conn: NatsConnection;
      try {
        conn = await connect(connectOptions());
      } catch (err) {
        log.warn({ err: (err as Error).message, broker: url }, "cannot connect to the NATS server; retrying");
        await sleep(reconnectWaitMs);
        continue;
      }
      if (stopping) {
        await conn.close().catch(() => {});
        return;
      }
      nc = conn;
      connected = true;
      if (everConnected) reconnects++;
      everConnected = true;
      brokerVersion = conn.info?.version?.slice(0, 200) ?? brokerVersion;
      log.info({ broker: url, clientId }, "connected to broker");
      void (async () => {
        for await (const s of conn.status()) {
          if (s.type === Events.Disconnect) {
            if (!stopping) log.warn({ broker: url }, "broker connection lost; reconnecting");
            connected = false;
            subscribed = false;
          } else if (s.type === Events.Reconnect) {
            connected = true;
            reconnects++;
            brokerVersion = conn.info?.version?.slice(0, 200) ?? brokerVersion;
            log.info({ broker: url }, "reconnected to broker");
            // The client re-sends its subscriptions on reconnect; a round trip proves the server has them.
            conn.flush().then(
              () => {
                if (sub && !sub.isClosed()) {
                  subscribed = true;
                  sink.ready();
                }
              },
              () => {},
            );
          } else if (s.type === Events.Error) {
            log.warn({ err: String(s.data), broker: url }, "broker error");
          }
        }
      })();
      const ownInbox = `${inboxPrefix}.`;
      sub = conn.subscribe(">", {
        callback: (err, msg) => {
          if (err) {
            // A permissions violation on `>`: nothing more will arrive on this subscription.
            subscribed = false;
            log.error({ err: err.message }, "the server refused the subscription to >: nothing will be observed");
            return;
          }
          const subject = msg.subject;
          if (subject.startsWith(ownInbox)) return;
          sink.message(subject, msg.data, 0, false);
        },
      });
      try {
        await conn.flush();
        if (!sub.isClosed()) {
          subscribed = true;
          log.info({ broker: url }, "subscribed");
          sink.ready();
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, "could not confirm the subscription");
      }
      const closed = await conn.closed();
      connected = false;
      subscribed = false;
      sub = null;
      nc = null;
      if (stopping) return;
      log.warn({ err: closed ? closed.message : undefined, broker: url }, "broker connection closed; connecting again");
      await sleep(reconnectWaitMs);
    }
  }

  // Endpoints whose last answer was empty: a server without routes, leafnodes, gateways or JetStream rarely grows
  // them, so they are read every QUIET_POLL_EVERY polls only; the others (and varz, connz) at every poll.
  const quiet = { routez: false, leafz: false, gatewayz: false, jsz: false };
  let polls = 0;

  async function pollOnce(sink: SourceSink, log: Logger): Promise<void> {
    if (!monitorBase) return;
    const get = (p: string) => fetchJson(monitorBase!, p, pollTimeoutMs, maxAnswerBytes, abort.signal);
    const lookAtQuiet = polls++ % QUIET_POLL_EVERY === 0;
    const getUnlessQuiet = (endpoint: keyof typeof quiet, p: string) => (quiet[endpoint] && !lookAtQuiet ? Promise.resolve(NOT_POLLED) : get(p));
    const [varz, connz, routez, leafz, gatewayz, jsz] = await Promise.all([
      get("varz"),
      get(`connz?subs=detail&limit=${maxConnections}`),
      getUnlessQuiet("routez", "routez?subs=1"),
      getUnlessQuiet("leafz", "leafz?subs=1"),
      getUnlessQuiet("gatewayz", "gatewayz"),
      getUnlessQuiet("jsz", "jsz?streams=true&consumers=true&config=true"),
    ]);
    if (stopping) return;
    let malformed = 0;
    const take = <T>(answer: unknown, parse: (body: unknown) => Parsed<T> | { value: T; malformed?: number } | null, what: string): T | undefined => {
      if (answer === "down" || answer === NOT_POLLED) return undefined;
      const parsed = answer === "malformed" ? null : parse(answer);
      if (!parsed) {
        malformed++;
        log.debug({ endpoint: what }, "malformed monitoring answer; keeping the previous state");
        return undefined;
      }
      malformed += parsed.malformed ?? 0;
      return parsed.value;
    };
    const v = take(varz, (b) => {
      const r = parseVarz(b);
      return r ? { value: r } : null;
    }, "varz");
    if (v) {
      brokerVersion = v.version ?? brokerVersion;
      clientsConnected = v.connections;
    }
    const subs = take(connz, (b) => parseConnz(b, { cid: nc?.info?.client_id ?? null, name: clientId }, maxConnections), "connz");
    if (subs) {
      consumersKnown = true;
      sink.subscriptions(subs);
    }
    const routes = take(routez, parseRoutez, "routez");
    const leafs = take(leafz, parseLeafz, "leafz");
    const gateways = take(gatewayz, parseGatewayz, "gatewayz");
    if (routes) links.routes = routes;
    if (leafs) links.leafs = leafs;
    if (gateways) links.gateways = gateways;
    if (routes || leafs || gateways) bridgesKnown = true;
    if (routes) quiet.routez = routes.length === 0;
    if (leafs) quiet.leafz = leafs.length === 0;
    if (gateways) quiet.gatewayz = gateways.length === 0;
    const js = take(jsz, parseJsz, "jsz");
    if (js !== undefined) {
      inventoryKnown = js !== null;
      inventory = js ?? undefined;
      quiet.jsz = js === null;
    }
    if (malformed) sink.malformed(malformed);
  }

  const capabilities = (): Capabilities => ({
    producers: false,
    consumers: consumersKnown,
    producerSource: "none",
    consumerSource: consumersKnown ? "monitoring" : "none",
    sys: false,
    retainFlag: "none",
    bridges: bridgesKnown,
    inventory: inventoryKnown,
  });

  return {
    protocol: "nats",
    dialect: NATS_DIALECT,
    url,
    clientId,
    async start(sink, log) {
      loop = run(sink, log).catch((err: unknown) => log.error({ err: String(err) }, "the NATS source stopped"));
      if (monitorBase) {
        const tick = () => {
          polling = pollOnce(sink, log)
            .catch((err: unknown) => log.warn({ err: String(err) }, "monitoring poll failed"))
            .finally(() => {
              // Polls never overlap: the next one is planned when this one is over.
              if (!stopping) pollTimer = setTimeout(tick, pollMs);
            });
        };
        tick();
      }
    },
    status(): SourceStatus {
      const bridges = [...links.routes, ...links.leafs, ...links.gateways].slice(0, MAX_BRIDGES);
      return {
        connected,
        subscribed,
        reconnects,
        brokerVersion,
        clientsConnected,
        protocolVersion: null,
        capabilities: capabilities(),
        ...(bridgesKnown ? { bridges } : {}),
        ...(inventoryKnown && inventory ? { inventory } : {}),
        logLinesRead: 0,
      };
    },
    async stop() {
      stopping = true;
      if (pollTimer) clearTimeout(pollTimer);
      abort.abort();
      wake?.();
      const conn = nc;
      if (conn) {
        sub?.unsubscribe();
        await conn.close().catch(() => {});
      }
      await loop;
      await polling;
    },
  };
}
