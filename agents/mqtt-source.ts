/**
 * The MQTT source of the agent: one connection subscribed to `#` and `$SYS/#`, Mosquitto's
 * `$SYS/broker/log/…` notices and log file for consumers and producers, or the embedded
 * broker's hooks; and the bridges of other brokers connected to this one.
 */
import { sanitizeUrl } from "./url.ts";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import { MQTT_DIALECT } from "../registry/topics/index.ts";
import { LogFollower, parseLogFileConnection, parseLogFileLine, parseSysLog, type BrokerEvent } from "./mosquitto-log.ts";
import { fitsBytes, MAX_BRIDGE_TOPICS, MAX_BRIDGES, MAX_NAME_BYTES, MAX_TOPIC_BYTES, MAX_URL_CHARS, type Capabilities, type DiscoveredBridge } from "./protocol.ts";
import type { BrokerSource, SourceSink, SourceStatus } from "./source.ts";

/** A source of broker events other than Mosquitto's logs (the embedded broker's hooks). */
export interface BrokerEventSource {
  /** Registers a listener; returns a function that removes it. */
  subscribe(listener: (event: BrokerEvent) => void): () => void;
}

/** Options of {@link createMqttSource}; only broker is required. */
export interface MqttSourceOptions {
  /** broker URL: mqtt://, mqtts://, ws://, wss:// */
  broker: string;
  /** the broker's id in the mesh, for the default client id */
  brokerId?: string;
  username?: string;
  password?: string;
  /** PEM files for TLS: CA bundle, client certificate and key */
  ca?: string;
  cert?: string;
  key?: string;
  /** MQTT protocol level: 3 (3.1), 4 (3.1.1, default) or 5 */
  mqttVersion?: 3 | 4 | 5;
  /** client id of the agent (default meshport-agent-<brokerId>-<random>) */
  clientId?: string;
  /** Mosquitto log file to follow for publishers */
  brokerLog?: string;
  /** read the broker log from its start (default: only new lines) */
  brokerLogFromStart?: boolean;
  brokerLogPollMs?: number;
  /** broker events from hooks (embedded broker) */
  brokerEvents?: BrokerEventSource;
  /** QoS of the agent's `#` subscription (default 2, so the delivered QoS is the published one) */
  subscribeQos?: 0 | 1 | 2;
  /** broker reconnect period in ms (default 1000) */
  reconnectPeriodMs?: number;
}

export { sanitizeUrl };

interface BridgeEntry {
  address: string | null;
  /** filters the bridge subscribed to here: this broker's topics flowing out */
  out: Set<string>;
  /** topics the bridge published here: the remote's topics flowing in */
  in: Set<string>;
}

/**
 * Bridges of other brokers connected to this one as clients (Mosquitto's bridge bit in CONNECT):
 * their subscriptions are topics flowing out of this broker, their publishes topics flowing in.
 * Bounded: at most MAX_BRIDGES bridges, MAX_BRIDGE_TOPICS topics each.
 */
export class BridgeTracker {
  private readonly bridges = new Map<string, BridgeEntry>();

  /** Number of connected bridges. */
  get size(): number {
    return this.bridges.size;
  }

  /** True when the client is a connected bridge. */
  has(clientId: string): boolean {
    return this.bridges.has(clientId);
  }

  /** Applies a broker event; events of other clients are ignored. */
  event(ev: BrokerEvent): void {
    if (ev.type === "connect") {
      const known = this.bridges.get(ev.clientId);
      if (!ev.bridge) {
        // The id now belongs to an ordinary client.
        if (known) this.bridges.delete(ev.clientId);
        return;
      }
      if (known) {
        if (ev.address) known.address = ev.address;
        // A clean reconnect subscribes again.
        if (ev.clean) known.out.clear();
        return;
      }
      if (this.bridges.size >= MAX_BRIDGES || !fitsBytes(ev.clientId, MAX_NAME_BYTES)) return;
      this.bridges.set(ev.clientId, { address: ev.address ?? null, out: new Set(), in: new Set() });
      return;
    }
    const b = this.bridges.get(ev.clientId);
    if (!b) return;
    switch (ev.type) {
      case "disconnect":
        this.bridges.delete(ev.clientId);
        return;
      case "subscribe":
        add(b.out, ev.filter);
        return;
      case "unsubscribe":
        b.out.delete(ev.filter);
        return;
      case "publish":
        // `$SYS/broker/connection/<id>/state` is the bridge's own notice, not traffic.
        if (!ev.topic.startsWith("$")) add(b.in, ev.topic);
        return;
    }
  }

  /** The connected bridges, by client id. */
  list(): DiscoveredBridge[] {
    const out: DiscoveredBridge[] = [];
    for (const [clientId, b] of [...this.bridges].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      const direction = b.out.size && !b.in.size ? "out" : b.in.size && !b.out.size ? "in" : "both";
      const topics = [...new Set([...b.out, ...b.in])].slice(0, MAX_BRIDGE_TOPICS);
      out.push({
        kind: "mqtt-bridge",
        name: clientId,
        remote: (b.address ? `${clientId}@${b.address}` : clientId).slice(0, MAX_URL_CHARS),
        direction,
        topics,
        state: "connected",
      });
    }
    return out;
  }
}

function add(set: Set<string>, topic: string): void {
  if (set.size < MAX_BRIDGE_TOPICS && fitsBytes(topic, MAX_TOPIC_BYTES)) set.add(topic);
}

/** The MQTT source for {@link startAgent}'s `source`: an MQTT connection plus the broker's logs or hooks. */
export function createMqttSource(options: MqttSourceOptions): BrokerSource {
  const clientId = options.clientId ?? `meshport-agent-${options.brokerId ?? "broker"}-${randomBytes(3).toString("hex")}`;
  const mqttVersion = options.mqttVersion ?? 4;
  // Informational for the portal, which stores at most MAX_URL_CHARS.
  const url = sanitizeUrl(options.broker).slice(0, MAX_URL_CHARS);
  const bridges = new BridgeTracker();
  let client: MqttClient | null = null;
  let follower: LogFollower | null = null;
  let unhook: (() => void) | undefined;
  let connected = false;
  let subscribed = false;
  let sysAllowed = false;
  // Mosquitto grants a subscription its ACL denies and then delivers nothing: only traffic proves access.
  let sysSeen = false;
  let producersSeen = false;
  let consumersInformed = false;
  let brokerVersion: string | null = null;
  let clientsConnected: number | null = null;
  let reconnects = 0;
  let stopping = false;

  const capabilities = (): Capabilities => {
    const hooks = !!options.brokerEvents;
    const sys = sysAllowed && sysSeen;
    return {
      producers: hooks || producersSeen,
      consumers: hooks || consumersInformed,
      producerSource: hooks ? "hooks" : options.brokerLog ? "broker-log" : "none",
      consumerSource: hooks ? "hooks" : consumersInformed ? "sys-log" : "none",
      sys,
      retainFlag: mqttVersion === 5 ? "exact" : "subscribe-only",
      // Bridges announce themselves on connect: in the hooks, on $SYS/broker/log/N and in the log file.
      bridges: hooks || sys || !!options.brokerLog,
    };
  };

  return {
    protocol: "mqtt",
    dialect: MQTT_DIALECT,
    url,
    clientId,
    status(): SourceStatus {
      const caps = capabilities();
      return {
        connected,
        subscribed,
        reconnects,
        brokerVersion,
        clientsConnected,
        protocolVersion: mqttVersion,
        capabilities: caps,
        ...(caps.bridges ? { bridges: bridges.list() } : {}),
        logLinesRead: follower?.linesRead ?? 0,
      };
    },
    async start(sink: SourceSink, log: Logger) {
      const deliver = (ev: BrokerEvent) => {
        if (ev.type === "publish") producersSeen = true;
        else if (ev.type === "subscribe" || ev.type === "unsubscribe") consumersInformed = true;
        bridges.event(ev);
        // A bridge is a link between brokers, not an application: what it carries is reported as the link's
        // topics, never as its producing or consuming. Its disconnect still reaches the tracker, to forget it.
        if (ev.type === "disconnect" || !bridges.has(ev.clientId)) sink.event(ev);
      };
      const onSys = (topic: string, payload: Buffer) => {
        sysSeen = true;
        if (topic.startsWith("$SYS/broker/log/")) {
          const ev = parseSysLog(topic, payload.toString("utf8"));
          if (ev === "malformed") sink.malformed();
          else if (ev) deliver(ev);
        } else if (topic === "$SYS/broker/version") brokerVersion = payload.toString("utf8").slice(0, 200);
        else if (topic === "$SYS/broker/clients/connected") {
          const n = Number(payload.toString("utf8"));
          if (Number.isSafeInteger(n) && n >= 0) clientsConnected = n;
        }
      };

      const read = (file: string | undefined) => (file ? readFileSync(file) : undefined);
      const mqttOptions: IClientOptions = {
        clientId,
        protocolVersion: mqttVersion,
        // MQTT 3.1 names its protocol differently (MQTT 3.1 §3.1).
        protocolId: mqttVersion === 3 ? "MQIsdp" : "MQTT",
        username: options.username,
        password: options.password,
        ca: read(options.ca),
        cert: read(options.cert),
        key: read(options.key),
        clean: true,
        keepalive: 30,
        reconnectPeriod: options.reconnectPeriodMs ?? 1_000,
        connectTimeout: 10_000,
        // We subscribe on every connect ourselves, to learn what was granted.
        resubscribe: false,
        // The agent writes few packets (subscribe, pings, acks): no table of 65,536 pre-made buffers (~6 MB) for their ids.
        writeCache: false,
      };
      const c: MqttClient = mqtt.connect(options.broker, mqttOptions);
      client = c;
      let everConnected = false;
      c.on("connect", () => {
        connected = true;
        if (everConnected) reconnects++;
        everConnected = true;
        log.info({ broker: url, clientId, mqttVersion }, "connected to broker");
        const qos = options.subscribeQos ?? 2;
        // MQTT 5 retain-as-published keeps the retain flag of live messages.
        const subs = mqttVersion === 5 ? { "#": { qos, rap: true }, "$SYS/#": { qos: 0 as const, rap: true } } : { "#": { qos }, "$SYS/#": { qos: 0 as const } };
        c.subscribe(subs, (err, granted) => {
          if (err) {
            log.error({ err: err.message }, "subscription failed");
            return;
          }
          const refused = (g: { qos: number }) => g.qos >= 128;
          const all = granted?.find((g) => g.topic === "#");
          const sys = granted?.find((g) => g.topic === "$SYS/#");
          sysAllowed = !!sys && !refused(sys);
          subscribed = !!all && !refused(all);
          if (!subscribed) log.error({ granted }, "broker refused the subscription to #: nothing will be observed");
          else {
            log.info({ sys: sysAllowed }, "subscribed");
            sink.ready();
          }
        });
      });
      c.on("close", () => {
        if (connected && !stopping) log.warn({ broker: url }, "broker connection lost; reconnecting");
        connected = false;
        subscribed = false;
      });
      c.on("error", (err) => {
        log.warn({ err: err.message, broker: url }, "broker connection error");
      });
      c.on("message", (topic, payload, packet) => {
        // $-topics: `#` never matches them, so these come from the `$SYS/#` subscription.
        if (topic.charCodeAt(0) === 36) {
          onSys(topic, payload);
          return;
        }
        sink.message(topic, payload, packet.qos, packet.retain);
      });

      if (options.brokerLog) {
        const file = options.brokerLog;
        follower = new LogFollower(
          file,
          (line) => {
            const ev = parseLogFileLine(line);
            if (ev) {
              deliver(ev);
              return;
            }
            // Connections come from $SYS/broker/log/N too; the file's copy only tells of bridges, and
            // never restarts one the notices announced already (it is read later, and would undo its subscriptions).
            const conn = parseLogFileConnection(line);
            if (conn && !(conn.type === "connect" && bridges.has(conn.clientId))) bridges.event(conn);
          },
          {
            pollMs: options.brokerLogPollMs ?? 250,
            fromStart: options.brokerLogFromStart,
            onError: (err) => log.warn({ err: String(err), file }, "cannot read the broker log"),
          },
        );
        follower.start();
      }
      unhook = options.brokerEvents?.subscribe(deliver);
    },
    async stop() {
      stopping = true;
      unhook?.();
      await follower?.stop();
      const c = client;
      if (c) await new Promise<void>((resolve) => c.end(true, {}, () => resolve()));
      connected = false;
      subscribed = false;
    },
  };
}
