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

