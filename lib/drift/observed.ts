import "server-only";
import { and, asc, gte, inArray, isNotNull, min, sql } from "drizzle-orm";
import type { AgentReport, TopicObservation } from "@/agents/protocol.ts";
import type { Executor } from "@/db/client.ts";
import { broker, channelActivity, ingestBatch, type BrokerTopic, type KnownClient } from "@/db/schema.ts";
import { brokerDialect } from "@/lib/brokers/dialect.ts";
import type { CompiledDriftCatalog } from "@/registry/drift/index.ts";
import type { ObservedSample, ObservedTopic } from "@/registry/drift/types.ts";

/** Seconds without traffic before a declared channel is silent, and before an unseen finding is stale (`MESHPORT_DRIFT_SILENT_AFTER_SECONDS`, default 86400). */
export function silentAfterSeconds(): number {
  const seconds = Number(process.env.MESHPORT_DRIFT_SILENT_AFTER_SECONDS || 86_400);
  return Number.isFinite(seconds) && seconds >= 1 && seconds <= 10 * 365 * 86_400 ? Math.floor(seconds) : 86_400;
}

/** One observation of a report as the rules read it, in the syntax of the broker's kind. */
export function observedFromReport(report: AgentReport, t: TopicObservation): ObservedTopic {
  return {
    brokerId: report.broker.id,
    dialect: brokerDialect(report.broker.protocol),
    template: t.template,
    topics: t.topics.map((x) => x.topic),
    distinctTopics: t.distinctTopics,
    messages: t.messages,
    firstSeen: t.firstSeen,
    lastSeen: t.lastSeen,
    schema: t.schema,
    samples: t.samples.map((s) => ({ at: s.at, encoding: s.encoding, payload: s.payload, truncated: s.truncated, redacted: s.redacted })),
    producers: t.producers.map((p) => ({ clientId: p.clientId, messages: p.messages })),
    consumers: t.consumers.map((c) => ({ clientId: c.clientId, filter: c.filter })),
    knowsProducers: report.capabilities.producers,
    knowsConsumers: report.capabilities.consumers,
    omittedProducers: t.omittedProducers,
    omittedConsumers: t.omittedConsumers,
  };
}

const ENCODINGS = new Set(["json", "text", "base64"]);

function storedSample(raw: Record<string, unknown>): ObservedSample | null {
  const { at, encoding, payload, truncated, redacted } = raw;
  if (typeof at !== "string" || typeof payload !== "string" || typeof encoding !== "string" || !ENCODINGS.has(encoding)) return null;
  return { at, encoding: encoding as ObservedSample["encoding"], payload, truncated: truncated === true, redacted: redacted !== false };
}

/** The merged clients seen since `since` (ms): one not seen for the stale window no longer draws findings. */
const clients = (list: readonly KnownClient[] | null, since: number) =>
  Array.isArray(list) ? list.filter((c) => typeof c?.clientId === "string" && typeof c.lastSeen === "string" && Date.parse(c.lastSeen) >= since) : [];

/** What drift needs of a broker to judge its stored topics: its kind (the topic syntax) and what its agent can learn. */
export interface BrokerFacts {
  protocol: string;
  capabilities: Record<string, unknown> | null;
}

/**
 * The merged picture of a broker topic as the rules read it, in the syntax of its broker's kind, with what the
 * broker's agent can learn; its clients are those seen within the stale window before `now`.
 */
export function observedFromTopic(row: BrokerTopic, facts: BrokerFacts | null, now = new Date()): ObservedTopic {
  const since = now.getTime() - silentAfterSeconds() * 1000;
  const capabilities = facts?.capabilities ?? null;
  return {
    brokerId: row.brokerId,
    dialect: brokerDialect(facts?.protocol),
    template: row.template,
    topics: (Array.isArray(row.topics) ? row.topics : []).flatMap((t) => (typeof t?.topic === "string" ? [t.topic] : [])),
    distinctTopics: row.distinctTopics,
    messages: row.totalMessages,
    firstSeen: row.firstSeen.toISOString(),
    lastSeen: row.lastSeen.toISOString(),
    schema: row.schema ?? null,
    samples: (Array.isArray(row.samples) ? row.samples : []).flatMap((s) => {
      const sample = s && typeof s === "object" ? storedSample(s) : null;
      return sample ? [sample] : [];
    }),
    producers: clients(row.producers, since).map((c) => ({ clientId: c.clientId, messages: typeof c.messages === "number" ? c.messages : 0 })),
    consumers: clients(row.consumers, since).map((c) => ({ clientId: c.clientId, filter: typeof c.filter === "string" ? c.filter : "" })),
    knowsProducers: capabilities?.producers === true,
    knowsConsumers: capabilities?.consumers === true,
    // A stored topic keeps the clients it lists, not how many were left out.
    omittedProducers: 0,
    omittedConsumers: 0,
  };
}

const BROKERS_PER_CHANNEL = 5;
const CHUNK = 500;

/**
 * Notes, for every declared channel the observed topics meet with messages, when it was last seen and on which
 * broker: the record the silent-channel rule reads. Last seen only moves forward.
 */
export async function recordChannelActivity(tx: Executor, compiled: CompiledDriftCatalog, topics: readonly ObservedTopic[]): Promise<number> {
  const seen = new Map<string, { applicationId: string; channel: string; lastSeen: Date; brokerId: string }>();
  for (const topic of topics) {
    if (!(topic.messages > 0)) continue;
    const lastSeen = new Date(topic.lastSeen);
    if (Number.isNaN(lastSeen.getTime())) continue;
    for (const channel of compiled.channelsMet(topic)) {
      for (const flow of channel.flows) {
        const key = `${flow.application.id}\u0000${channel.address}`;
        const before = seen.get(key);
        if (!before || before.lastSeen < lastSeen) seen.set(key, { applicationId: flow.application.id, channel: channel.address, lastSeen, brokerId: topic.brokerId });
      }
    }
  }
  const rows = [...seen.values()].sort((a, b) => (a.applicationId < b.applicationId ? -1 : a.applicationId > b.applicationId ? 1 : a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
  for (let i = 0; i < rows.length; i += CHUNK) {
    await tx
      .insert(channelActivity)
      .values(rows.slice(i, i + CHUNK).map((r) => ({ applicationId: r.applicationId, channel: r.channel, lastSeen: r.lastSeen, brokerIds: [r.brokerId] })))
      .onConflictDoUpdate({
        target: [channelActivity.applicationId, channelActivity.channel],
        set: {
          lastSeen: sql`greatest(${channelActivity.lastSeen}, excluded.last_seen)`,
          brokerIds: sql`case when excluded.broker_ids[1] = any(${channelActivity.brokerIds}) then ${channelActivity.brokerIds} else (excluded.broker_ids || ${channelActivity.brokerIds})[1:${sql.raw(String(BROKERS_PER_CHANNEL))}] end`,
        },
      });
  }
  return rows.length;
}

/** When something was last seen on each declared channel of the applications, keyed `${applicationId}\u0000${channel}`. */
export async function channelActivityOf(db: Executor, applicationIds: readonly string[]): Promise<Map<string, string>> {
  const ids = [...new Set(applicationIds)];
  const activity = new Map<string, string>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .select({ applicationId: channelActivity.applicationId, channel: channelActivity.channel, lastSeen: channelActivity.lastSeen })
      .from(channelActivity)
      .where(inArray(channelActivity.applicationId, ids.slice(i, i + CHUNK)))
      .orderBy(asc(channelActivity.applicationId), asc(channelActivity.channel));
    for (const r of rows) activity.set(`${r.applicationId}\u0000${r.channel}`, r.lastSeen.toISOString());
  }
  return activity;
}

/**
 * Since when the mesh is observed, for the silent-channel rule: the earliest first report of a broker that reported
 * within the window; null when none did (then nothing is judged silent).
 */
export async function observingSince(db: Executor, now: Date, windowSeconds: number): Promise<string | null> {
  const since = new Date(now.getTime() - windowSeconds * 1000);
  const reporting = await db
    .select({ id: broker.id, createdAt: broker.createdAt })
    .from(broker)
    .where(and(isNotNull(broker.lastReportAt), gte(broker.lastReportAt, since)))
    .orderBy(asc(broker.id))
    .limit(1_000);
  if (reporting.length === 0) return null;
  const firsts = await db
    .select({ brokerId: ingestBatch.brokerId, at: min(ingestBatch.receivedAt) })
    .from(ingestBatch)
    .where(inArray(ingestBatch.brokerId, reporting.map((b) => b.id)))
    .groupBy(ingestBatch.brokerId);
  const firstBatch = new Map(firsts.map((f) => [f.brokerId, f.at ? new Date(f.at) : null]));
  let earliest: Date | null = null;
  for (const b of reporting) {
    // A broker an admin declared before its agent ran is observed from its first batch; past the retention, from its registration.
    const first = firstBatch.get(b.id) ?? b.createdAt;
    if (!earliest || first < earliest) earliest = first;
  }
  return earliest!.toISOString();
}

/** The brokers' kinds and capabilities by id (their topic syntax, what each agent can learn), for re-judging stored topics. */
export async function brokerFactsOf(db: Executor, brokerIds: readonly string[]): Promise<Map<string, BrokerFacts>> {
  const ids = [...new Set(brokerIds)];
  const found = new Map<string, BrokerFacts>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db.select({ id: broker.id, protocol: broker.protocol, capabilities: broker.capabilities }).from(broker).where(inArray(broker.id, ids.slice(i, i + CHUNK)));
    for (const r of rows) found.set(r.id, { protocol: r.protocol, capabilities: r.capabilities ?? null });
  }
  return found;
}

