/**
 * A small MQTT bridge, like a Mosquitto `connection` section: it links a local and a
 * remote broker and forwards the topics of its filters out (local → remote), in
 * (remote → local) or both ways.
 *
 * Loop safety is the brokers' own: an MQTT 3.1.1 connection with the bridge bit
 * (protocol level 0x84, Mosquitto's `try_private`) is never sent a message back that
 * it published, nor one with its retain flag cleared; an MQTT 5 connection subscribes
 * with no-local and retain-as-published instead. The remote end sets the bit, so the
 * remote broker (and its agent) can tell the connection is a bridge. The local end,
 * inside the broker for Mosquitto, is a plain client unless told otherwise; without
 * the bit it may not subscribe to what the bridge forwards into its broker, so lines
 * that would echo (both-way lines, in and out filters that overlap) are refused.
 */
import mqtt, { type IClientOptions, type MqttClient, type Packet } from "mqtt";
import { filterMatchesTopic, parseFilter, type Filter } from "../registry/topics/index.ts";

/** Which way a bridge topic is forwarded: out = local → remote, in = remote → local. */
export type BridgeDirection = "out" | "in" | "both";

/** One `topic` line of a bridge: a filter, its direction and the QoS it is subscribed with. */
export interface BridgeTopic {
  filter: string;
  /** default out */
  direction?: BridgeDirection;
  /** default 1 */
  qos?: 0 | 1 | 2;
}

/** One end of a bridge. */
export interface BridgeEndpoint {
  /** mqtt://host:port */
  url: string;
  clientId?: string;
  username?: string;
  password?: string;
  /** 4 (3.1.1, default) or 5 (no-local subscriptions) */
  mqttVersion?: 4 | 5;
  /** MQTT 3.1.1 only: set the bridge bit (default: on the remote end, off on the local one) */
  bridgeBit?: boolean;
}

/** Options of {@link startEmbeddedBridge}. */
export interface EmbeddedBridgeOptions {
  /** the connection's name, e.g. `plant-eu.cloud-core` */
  name: string;
  local: BridgeEndpoint;
  remote: BridgeEndpoint;
  topics: BridgeTopic[];
  /** reconnect period in ms (default 2000) */
  reconnectPeriodMs?: number;
  log?: (line: string) => void;
}

/** Counters of a running bridge. */
export interface BridgeStats {
  /** messages forwarded local → remote */
  out: number;
  /** messages forwarded remote → local */
  in: number;
  /** messages not forwarded because the other end was disconnected */
  dropped: number;
}

/** A running bridge. */
export interface EmbeddedBridge {
  name: string;
  localClientId: string;
  remoteClientId: string;
  stats(): BridgeStats;
  /** Resolves once both ends are connected and subscribed (rejects after the timeout). */
  whenReady(timeoutMs?: number): Promise<void>;
  /** Disconnects both ends. */
  close(): Promise<void>;
}

/** At most this many topic lines, as the portal keeps of a bridge. */
export const MAX_BRIDGE_TOPIC_LINES = 100;
const MAX_NAME_CHARS = 100;
const MAX_FILTER_CHARS = 500;
const MAX_CLIENT_ID_CHARS = 256;

interface CompiledTopic {
  text: string;
  filter: Filter;
  direction: BridgeDirection;
  qos: 0 | 1 | 2;
}

function compileTopics(topics: readonly BridgeTopic[]): CompiledTopic[] {
  if (topics.length === 0) throw new Error("A bridge needs at least one topic filter.");
  if (topics.length > MAX_BRIDGE_TOPIC_LINES) throw new Error(`A bridge has at most ${MAX_BRIDGE_TOPIC_LINES} topic filters.`);
  return topics.map((t) => {
    if (typeof t.filter !== "string" || t.filter.length > MAX_FILTER_CHARS) throw new Error(`A bridge topic filter has at most ${MAX_FILTER_CHARS} characters.`);
    const parsed = parseFilter(t.filter);
    if (!parsed.ok) throw new Error(`Not an MQTT topic filter: ${t.filter.slice(0, 80)} (${parsed.reason})`);
    const direction = t.direction ?? "out";
    if (direction !== "out" && direction !== "in" && direction !== "both") throw new Error(`A bridge topic's direction is out, in or both, not ${String(direction)}.`);
    const qos = t.qos ?? 1;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error("A bridge topic's QoS is 0, 1 or 2.");
    return { text: t.filter, filter: parsed.value, direction, qos };
  });
}

function checkEndpoint(end: BridgeEndpoint, which: string): void {
  if (typeof end.url !== "string" || !/^(mqtts?|wss?|tcp|ssl):\/\/\S+$/i.test(end.url) || end.url.length > 500) throw new Error(`The bridge's ${which} broker needs a URL such as mqtt://host:1883.`);
  if (end.clientId !== undefined && (end.clientId.length === 0 || end.clientId.length > MAX_CLIENT_ID_CHARS)) throw new Error(`The bridge's ${which} client id has 1 to ${MAX_CLIENT_ID_CHARS} characters.`);
  if (end.mqttVersion !== undefined && end.mqttVersion !== 4 && end.mqttVersion !== 5) throw new Error(`The bridge's ${which} MQTT version is 4 (3.1.1) or 5.`);
}

/** True when some topic matches both filters (MQTT filters, level by level). */
export function filtersOverlap(a: Filter, b: Filter): boolean {
  for (let i = 0; ; i++) {
    const x = a.levels[i];
    const y = b.levels[i];
    if (x?.kind === "multi" || y?.kind === "multi") return true;
    if (x === undefined || y === undefined) return x === y;
    if (x.kind === "literal" && y.kind === "literal" && x.text !== y.text) return false;
  }
}

/** The filters one end subscribes to: out topics on the local end, in topics on the remote one. */
function subscriptionsOf(topics: readonly CompiledTopic[], end: "local" | "remote"): CompiledTopic[] {
  const wanted = end === "local" ? "out" : "in";
  const byFilter = new Map<string, CompiledTopic>();
  for (const t of topics) {
    if (t.direction !== wanted && t.direction !== "both") continue;
    // One subscription per filter, at the highest QoS any line asks for.
    const seen = byFilter.get(t.text);
    if (!seen || seen.qos < t.qos) byFilter.set(t.text, t);
  }
  return [...byFilter.values()];
}

/**
 * Connects one end. mqtt.js does not pass `bridgeMode` from its options into the CONNECT
 * packet it writes, so the packet is amended on its way out, before the first connect.
 */
function connectEnd(end: BridgeEndpoint, clientId: string, reconnectPeriod: number, bridgeBit: boolean): MqttClient {
  const version = end.mqttVersion ?? 4;
  const options: IClientOptions = {
    clientId,
    protocolVersion: version,
    clean: true,
    reconnectPeriod,
    connectTimeout: 5_000,
    username: end.username,
    password: end.password,
    // A bridge forwards what flows now; nothing waits for an end that is away.
    queueQoSZero: false,
    manualConnect: true,
  };
  const client = mqtt.connect(end.url, options);
  if (version === 4 && bridgeBit) {
    const internals = client as unknown as { _writePacket(packet: Packet, ...rest: unknown[]): void };
    const write = internals._writePacket.bind(client);
    internals._writePacket = (packet: Packet, ...rest: unknown[]) => write(packet.cmd === "connect" ? ({ ...packet, bridgeMode: true } as Packet) : packet, ...rest);
  }
  client.connect();
  return client;
}

/** Starts a bridge between two brokers; it keeps reconnecting both ends until closed. */
export async function startEmbeddedBridge(options: EmbeddedBridgeOptions): Promise<EmbeddedBridge> {
  if (typeof options.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.name) || options.name.length > MAX_NAME_CHARS) {
    throw new Error(`A bridge's name has 1 to ${MAX_NAME_CHARS} letters, digits, dots, dashes or underscores.`);
  }
  checkEndpoint(options.local, "local");
  checkEndpoint(options.remote, "remote");
  const topics = compileTopics(options.topics);
  const localBit = options.local.bridgeBit ?? false;
  const remoteBit = options.remote.bridgeBit ?? true;
  for (const [which, end, bit] of [["local", options.local, localBit], ["remote", options.remote, remoteBit]] as const) {
    if ((end.mqttVersion ?? 4) === 5 || bit) continue;
    // Without no-local, this end would be sent back what the bridge forwards into its broker.
    const subscribed = subscriptionsOf(topics, which);
    const forwardedInto = subscriptionsOf(topics, which === "local" ? "remote" : "local");
    const echo = subscribed.find((s) => forwardedInto.some((f) => filtersOverlap(s.filter, f.filter)));
    if (echo) throw new Error(`The bridge's ${which} end needs the bridge bit (or MQTT 5) for ${echo.text}: it would be sent back what the bridge forwards.`);
  }
  const log = options.log ?? (() => {});
  const reconnectPeriod = Math.min(Math.max(options.reconnectPeriodMs ?? 2_000, 100), 60_000);
  // Mosquitto's defaults: the remote id is the connection's, the local one `local.<remote id>`.
  const remoteClientId = options.remote.clientId ?? options.name;
  const localClientId = options.local.clientId ?? `local.${remoteClientId}`;
  const stats: BridgeStats = { out: 0, in: 0, dropped: 0 };

  const local = connectEnd(options.local, localClientId, reconnectPeriod, localBit);
  const remote = connectEnd(options.remote, remoteClientId, reconnectPeriod, remoteBit);
  const ends = [
    { which: "local" as const, client: local, subscriptions: subscriptionsOf(topics, "local"), version: options.local.mqttVersion ?? 4 },
    { which: "remote" as const, client: remote, subscriptions: subscriptionsOf(topics, "remote"), version: options.remote.mqttVersion ?? 4 },
  ];

  let closed = false;
  const ready = ends.map(
    (end) =>
      new Promise<void>((resolve) => {
        if (end.subscriptions.length === 0) {
          if (end.client.connected) resolve();
          else end.client.once("connect", () => resolve());
          return;
        }
        // Subscribed once; mqtt.js subscribes again after each reconnect of a clean session.
        end.client.once("connect", () => {
          const request = Object.fromEntries(
            end.subscriptions.map((s) => [s.text, end.version === 5 ? { qos: s.qos, nl: true, rap: true, rh: 0 } : { qos: s.qos }]),
          );
          end.client.subscribe(request, (error) => {
            if (error) log(`bridge ${options.name}: ${end.which} subscribe failed: ${error.message}`);
            else resolve();
          });
        });
      }),
  );
  const allReady = Promise.all(ready).then(() => log(`bridge ${options.name}: connected, ${topics.length} topic filter(s)`));

  const forward = (from: "local" | "remote", target: MqttClient, topic: string, payload: Buffer, packet: Packet) => {
    if (closed || packet.cmd !== "publish") return;
    const wanted = from === "local" ? "out" : "in";
    // Only what a line of this direction covers: a broker may deliver a retained message on an overlapping filter.
    if (!topics.some((t) => (t.direction === wanted || t.direction === "both") && filterMatchesTopic(t.filter, topic))) return;
    if (!target.connected) {
      stats.dropped++;
      return;
    }
    if (from === "local") stats.out++;
    else stats.in++;
    target.publish(topic, payload, { qos: packet.qos, retain: packet.retain }, (error) => {
      if (error && !closed) log(`bridge ${options.name}: forwarding ${topic.slice(0, 200)} ${from === "local" ? "out" : "in"} failed: ${error.message}`);
    });
  };
  local.on("message", (topic, payload, packet) => forward("local", remote, topic, payload, packet));
  remote.on("message", (topic, payload, packet) => forward("remote", local, topic, payload, packet));
  for (const end of ends) {
    end.client.on("error", (error) => log(`bridge ${options.name}: ${end.which}: ${error.message}`));
  }

  return {
    name: options.name,
    localClientId,
    remoteClientId,
    stats: () => ({ ...stats }),
    whenReady(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`bridge ${options.name} is not connected after ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
      });
      return Promise.race([allReady, timeout]).finally(() => clearTimeout(timer));
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(ends.map((end) => end.client.endAsync(!end.client.connected).catch(() => undefined)));
    },
  };
}
