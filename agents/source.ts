/**
 * What the agent needs from one kind of broker. The agent core (window, observer, consumer
 * tracker, spool, reporter, metrics) is the same for every kind; a source connects to its
 * broker, feeds what it sees into the sink, and says what its broker can and cannot tell.
 * MQTT: agents/mqtt-source.ts; NATS: agents/nats-source.ts; RabbitMQ: agents/amqp-source.ts.
 */
import type { Logger } from "pino";
import type { TopicDialect } from "../registry/topics/index.ts";
import type { BrokerEvent } from "./mosquitto-log.ts";
import type { BrokerProtocol, Capabilities, DiscoveredBridge, Inventory } from "./protocol.ts";

/** One subscription of a client, as a polling source lists them (filter in the source's dialect). */
export interface SubscriptionSnapshot {
  clientId: string;
  filter: string;
  /** MQTT QoS; NATS 0; AMQP 0 for no-ack consumers, 1 for acknowledging ones */
  qos: number;
}

/** Where a source delivers what it sees. Every method is cheap and never throws. */
export interface SourceSink {
  /** A message the agent received on a concrete topic (subject, routing key). */
  message(topic: string, payload: Uint8Array, qos: number, retain: boolean, exchange?: string): void;
  /** A broker event: a publish by a known client (producer), a (un)subscription, a connection. */
  event(event: BrokerEvent): void;
  /** The whole set of subscriptions now, from a source that polls them; replaces what was known. */
  subscriptions(all: readonly SubscriptionSnapshot[]): void;
  /** Input the source could not parse (a monitoring answer, a trace message), counted as `malformed`. */
  malformed(count?: number): void;
  /** The source is connected and receiving everything it may see: resolves `whenSubscribed`. */
  ready(): void;
}

/** What a source says of its broker when a window closes. */
export interface SourceStatus {
  /** connected to the broker now */
  connected: boolean;
  /** receiving messages (subscribed to everything it may see) */
  subscribed: boolean;
  reconnects: number;
  /** the broker's version, when it tells */
  brokerVersion: string | null;
  clientsConnected: number | null;
  /** MQTT protocol level; null for other kinds */
  protocolVersion: 3 | 4 | 5 | null;
  capabilities: Capabilities;
  /** links to other brokers, when the source can see them */
  bridges?: DiscoveredBridge[];
  /** the broker's own resources, when the source lists them */
  inventory?: Inventory;
  /** broker log lines read (Mosquitto log follower), 0 otherwise */
  logLinesRead: number;
}

/** One kind of broker. */
export interface BrokerSource {
  readonly protocol: BrokerProtocol;
  /** topic syntax of the broker: templates, filters and matching use it */
  readonly dialect: TopicDialect;
  /** the broker URL without credentials, as reported */
  readonly url: string;
  /** the agent's own client name on the broker: never reported as a producer or consumer */
  readonly clientId: string;
  /** Connects and starts feeding the sink; keeps reconnecting until stop(). Rejects only on bad configuration. */
  start(sink: SourceSink, log: Logger): Promise<void>;
  status(): SourceStatus;
  /** Disconnects; nothing is fed after it resolves. */
  stop(): Promise<void>;
}
