/** Report bodies for the ingest integration tests. */
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { emptyDrops, type AgentReport, type TopicObservation } from "@/agents/protocol.ts";

export function topic(template: string, messages: number, extra: Partial<TopicObservation> = {}): TopicObservation {
  return {
    template,
    channel: null,
    topics: [{ topic: template.replace("{p1}", "line-1"), messages }],
    distinctTopics: 1,
    messages,
    bytes: messages * 100,
    minSize: 90,
    maxSize: 110,
    avgSize: 100,
    ratePerSecond: messages / 10,
    firstSeen: "2026-11-28T10:00:00.000Z",
    lastSeen: "2026-11-28T10:00:09.000Z",
    qos: { q0: 0, q1: messages, q2: 0 },
    retained: 0,
    content: { kind: "json", json: messages, text: 0, binary: 0, empty: 0 },
    schema: { type: "object", properties: { value: { type: "number" } }, required: ["value"] },
    schemaSamples: Math.min(messages, 5),
    samples: [{ at: "2026-11-28T10:00:01.000Z", size: 20, encoding: "json", payload: '{"value":21.5}', truncated: false, redacted: false }],
    producers: [{ clientId: "line-sensor-1", messages, bytes: messages * 100 }],
    consumers: [{ clientId: "line-monitor", filter: "plant/+/temperature", qos: 1 }],
    omittedProducers: 0,
    omittedConsumers: 0,
    ...extra,
  };
}

export function report(sequence: number, topics: TopicObservation[], windowStart: string, windowEnd: string, brokerId = "plant-eu"): AgentReport {
  // Not parsed: tests also send reports the portal must refuse.
  const built: AgentReport = {
    protocolVersion: 1,
    batchId: randomUUID(),
    sequence,
    part: { index: 0, count: 1 },
    agent: { id: "agent-plant-eu", version: "0.1.0", hostname: "edge-1", startedAt: "2026-11-28T09:00:00.000Z" },
    broker: { id: brokerId, url: "mqtt://127.0.0.1:1883", protocol: "mqtt", protocolVersion: 4, version: "mosquitto 2.0.11", clientsConnected: 3 },
    window: { start: windowStart, end: windowEnd },
    capabilities: { producers: true, consumers: true, producerSource: "broker-log", consumerSource: "sys-log", sys: true, retainFlag: "subscribe-only" },
    topics,
    drops: { ...emptyDrops(), sampleCap: 2 },
    stats: {
      uptimeSeconds: 60, messagesSeen: 10, bytesSeen: 1000, topicsTracked: 1, templatesTracked: 1, samplesKept: 1,
      brokerConnected: true, reconnects: 0, spooledBatches: 0, spooledBytes: 0, rejectedBatches: 0, logLinesRead: 10, rssBytes: 50_000_000,
    },
  };
  return built;
}

export const gz = (value: unknown) => gzipSync(Buffer.from(JSON.stringify(value)));


/** A report of a NATS broker's agent: subjects, subscriptions from the monitoring endpoint, JetStream, routes. */
export function natsReport(sequence: number, topics: TopicObservation[], windowStart: string, windowEnd: string, brokerId = "orders-nats", extra: Partial<AgentReport> = {}): AgentReport {
  const base = report(sequence, topics, windowStart, windowEnd, brokerId);
  return {
    ...base,
    agent: { ...base.agent, id: `agent-${brokerId}` },
    broker: { id: brokerId, url: "nats://127.0.0.1:4222", protocol: "nats", protocolVersion: null, version: "2.9.10", clientsConnected: 4 },
    capabilities: { producers: false, consumers: true, producerSource: "none", consumerSource: "monitoring", sys: false, retainFlag: "none", bridges: true, inventory: true },
    ...extra,
  };
}

/** A report of a RabbitMQ broker's agent: routing keys per exchange, the management API, the firehose tracer. */
export function amqpReport(sequence: number, topics: TopicObservation[], windowStart: string, windowEnd: string, brokerId = "billing-rabbit", extra: Partial<AgentReport> = {}): AgentReport {
  const base = report(sequence, topics, windowStart, windowEnd, brokerId);
  return {
    ...base,
    agent: { ...base.agent, id: `agent-${brokerId}` },
    broker: { id: brokerId, url: "amqp://127.0.0.1:5672", protocol: "amqp", protocolVersion: null, version: "RabbitMQ 3.10.8", clientsConnected: 2 },
    capabilities: { producers: true, consumers: true, producerSource: "firehose", consumerSource: "management", sys: false, retainFlag: "none", bridges: true, inventory: true },
    ...extra,
  };
}

/** An observation in a dotted syntax (NATS subjects, AMQP routing keys): `{p1}` becomes `eu` in the listed topic. */
export function dottedTopic(template: string, messages: number, extra: Partial<TopicObservation> = {}): TopicObservation {
  return topic(template, messages, {
    topics: [{ topic: template.replace("{p1}", "eu"), messages }],
    qos: { q0: messages, q1: 0, q2: 0 },
    producers: [],
    consumers: [{ clientId: "order-audit", filter: template.replace("{p1}", "*"), qos: 0 }],
    ...extra,
  });
}
