import "server-only";
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { z } from "zod";
import {
  agentReportSchema,
  jsonShapeProblem,
  MAX_COUNT,
  MAX_TEMPLATES_PER_BATCH,
  REPORT_JSON_LIMITS,
  topicObservationSchema,
  type AgentReport,
  type ChannelTemplate,
  type TopicObservation,
} from "@/agents/protocol.ts";
import { getDb, type Transaction } from "@/db/client.ts";
import { application, broker, brokerLink, brokerTopic, catalogEntry, contractVersion, ingestBatch, observation, observationRollup, type BrokerTopic } from "@/db/schema.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { brokerId as brokerIdRule } from "@/lib/brokers/brokers.ts";
import { driftOnReport } from "@/lib/drift/hooks.ts";
import { MeshportError, zodErrorDetails } from "@/lib/errors.ts";
import { affectedRows, ensureDayPartition, maintainPartitions } from "@/lib/observations/partitions.ts";
import { DAY_MS, dailyRetentionDays, hourlyRetentionDays, rawRetentionDays } from "@/lib/observations/retention.ts";
import { addToRollups } from "@/lib/observations/rollups.ts";
import { defineCommand, defineQuery, noInput, type AuditRecord } from "@/lib/service.ts";
import { matchesBrokerBinding } from "@/lib/tokens/binding.ts";
import { brokerBindingOf } from "@/lib/tokens/tokens.ts";
import { resolveRemote } from "./links.ts";
import { addCounts, mergeClients, mergeDuplicateTemplates, sumCounts } from "./merge.ts";

/** What the portal answers an agent. */
export interface IngestOutcome {
  accepted: true;
  duplicate: boolean;
  batchId: string;
}

// Rows per multi-row INSERT; PostgreSQL allows 65,535 bind parameters per statement.
const INSERT_CHUNK = 500;

// Serialises the ingest of one batch id (two-key advisory locks, apart from the one-key ones).
const BATCH_LOCK_NAMESPACE = 7_316_542;

// The envelope first, each topic after: a malformed report is described by its first bad
// topic, so the error work and reply stay small whatever the body holds.
const envelopeSchema = agentReportSchema.extend({ topics: z.array(z.unknown()).max(MAX_TEMPLATES_PER_BATCH) });

function invalidReport(message: string, field: string | null, problem: string): MeshportError {
  return new MeshportError("invalid_input", message, {
    subject: "agent_report",
    details: field ? { fieldErrors: { [field]: [problem] }, formErrors: [] } : { fieldErrors: {}, formErrors: [problem] },
  });
}

/**
 * Validates a decoded report body; a malformed one is refused with the schema's field
 * errors. The shape of the JSON (depth, array and object sizes, storable text) is checked
 * first by a cheap walk, so no body makes validation costly. Times must lie between the
 * retention and the server clock plus {@link clockSkewSeconds}; the broker id follows the
 * rule of declared brokers. Repeated templates are merged into one observation.
 */
export function parseAgentReport(body: unknown): AgentReport {
  const shape = jsonShapeProblem(body, REPORT_JSON_LIMITS);
  if (shape) throw invalidReport(`The agent report is not a report the portal can store: it has ${shape}.`, null, `The body has ${shape}.`);
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) {
    throw new MeshportError("invalid_input", "The agent report does not match the report schema.", {
      subject: "agent_report",
      details: zodErrorDetails(envelope.error),
    });
  }
  const topics: TopicObservation[] = [];
  for (const [index, raw] of envelope.data.topics.entries()) {
    const parsed = topicObservationSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({ ...issue, path: ["topics", index, ...issue.path] }));
      throw new MeshportError("invalid_input", `The agent report does not match the report schema (topics.${index}).`, {
        subject: "agent_report",
        details: zodErrorDetails(new z.ZodError(issues)),
      });
    }
    topics.push(parsed.data);
  }
  const report: AgentReport = { ...envelope.data, topics: mergeDuplicateTemplates(topics) };

  const id = brokerIdRule.safeParse(report.broker.id);
  if (!id.success || id.data !== report.broker.id) {
    throw invalidReport(
      `The broker id ${JSON.stringify(report.broker.id)} is not a valid broker id.`,
      "broker.id",
      id.success ? "Use the id without surrounding spaces." : (id.error.issues[0]?.message ?? "Not a valid broker id."),
    );
  }
  if (report.broker.protocol !== "mqtt" && report.broker.protocolVersion !== null) {
    throw invalidReport(
      `The report says the broker is ${report.broker.protocol} but gives an MQTT protocol level (${report.broker.protocolVersion}): only MQTT brokers have one.`,
      "broker.protocolVersion",
      "Null for brokers other than MQTT.",
    );
  }
  const { start, end } = report.window;
  if (Date.parse(end) < Date.now() - retentionDays() * 86_400_000) {
    // Its batch id may already be pruned, so it could not be deduplicated any more.
    throw invalidReport(`The report window is older than the ${retentionDays()}-day retention.`, "window.end", "Older than the observation retention.");
  }
  if (Date.parse(end) < Date.parse(start)) {
    throw invalidReport("The report window ends before it starts.", "window.end", "Before window.start.");
  }
  assertNotInFuture(report);
  return report;
}

/** Refuses a report that claims times past the server clock (plus the allowed skew): it would freeze the broker's picture. */
function assertNotInFuture(report: AgentReport): void {
  const skew = clockSkewSeconds();
  const latest = Date.now() + skew * 1000;
  const times: Array<[string, string]> = [
    ["window.start", report.window.start],
    ["window.end", report.window.end],
    ["agent.startedAt", report.agent.startedAt],
  ];
  report.topics.forEach((t, i) => {
    times.push([`topics.${i}.firstSeen`, t.firstSeen], [`topics.${i}.lastSeen`, t.lastSeen]);
    t.samples.forEach((sample, j) => times.push([`topics.${i}.samples.${j}.at`, sample.at]));
  });
  for (const [field, value] of times) {
    if (Date.parse(value) > latest) {
      throw invalidReport(
        `The report's ${field} (${value}) is in the future: more than ${skew} s past the portal's clock. Check the agent host's clock.`,
        field,
        `More than ${skew} s in the future.`,
      );
    }
  }
}

/** Throws `forbidden:broker_binding` unless a token may report for the broker (the system may report for any). */
async function assertBoundToBroker(tx: Transaction, principal: Principal, id: string): Promise<void> {
  if (principal.kind !== "token") return;
  const binding = await brokerBindingOf(tx, principal.id);
  if (binding === null) {
    throw new MeshportError(
      "forbidden",
      `The agent token ${principal.name} is not bound to any broker, so it may not report for broker ${id}. ` +
        `An admin creates an agent:report token bound to ${id} (or a pattern such as ${id.split(/[-_.]/)[0]}-*) and gives it to this agent.`,
      { subject: "broker_binding", details: { broker: id, binding: null } },
    );
  }
  if (!matchesBrokerBinding(binding, id)) {
    throw new MeshportError("forbidden", `The agent token ${principal.name} is bound to broker ${binding} and may not report for broker ${id}.`, {
      subject: "broker_binding",
      details: { broker: id, binding },
    });
  }
}

/**
 * Stores one report batch: the batch id, the observations, and the merged picture of
 * each topic, in one transaction. A batch id seen before is acknowledged as a duplicate
 * and changes nothing, so an agent replaying its spool counts every message once.
 * Reports are not audited one by one (the batch table records each with its token);
 * the audit log records a broker the first report registers, a broker whose kind a
 * report changes (`broker.register` with `before` and `after`), and each link to another
 * broker a report shows for the first time (`bridge.discover`).
 *
 * The newest window decides the broker's picture: its kind, its inventory and its links.
 * A report that carries `bridges` replaces the broker's discovered links (upserted by
 * kind and name, those it no longer lists removed); one without leaves them alone.
 */
export const ingestReport = defineCommand({
  permission: "agent:report",
  input: parseAgentReport,
  audit: ["broker.register", "bridge.discover"],
  auditOptional: true,
  run: async ({ tx, principal, input: report, audit }): Promise<IngestOutcome> => {
    await assertBoundToBroker(tx, principal, report.broker.id);
    // Deduplicate before anything else: a replay, even one naming another broker, changes nothing.
    // The lock makes racing copies of one batch wait, then see it stored.
    await tx.execute(sql`select pg_advisory_xact_lock(${BATCH_LOCK_NAMESPACE}::int4, hashtext(${report.batchId}))`);
    const [seen] = await tx.select({ batchId: ingestBatch.batchId }).from(ingestBatch).where(eq(ingestBatch.batchId, report.batchId));
    if (seen) return { accepted: true, duplicate: true, batchId: report.batchId };
    await ensureBroker(tx, report, audit);
    const [stored] = await tx
      .insert(ingestBatch)
      .values({
        batchId: report.batchId,
        brokerId: report.broker.id,
        agentId: report.agent.id,
        sequence: report.sequence,
        tokenId: principal.kind === "token" ? principal.id : null,
        windowStart: new Date(report.window.start),
        windowEnd: new Date(report.window.end),
        templates: report.topics.length,
        messages: sumCounts(report.topics.map((t) => t.messages)),
      })
      .onConflictDoNothing({ target: ingestBatch.batchId })
      .returning({ batchId: ingestBatch.batchId });
    // Unreachable under the lock; if it ever happens, roll back (no stray broker) and let the agent retry into the duplicate answer.
    if (!stored) throw new MeshportError("unavailable", "The batch was stored concurrently; send it again.", { subject: "agent_report" });

    const newest = await updateBrokerFromReport(tx, report, audit);
    if (newest && report.bridges !== undefined) await replaceLinks(tx, report, audit);
    await insertObservations(tx, report);
    await mergeTopics(tx, report);
    await driftOnReport(tx, principal, report);
    return { accepted: true, duplicate: false, batchId: report.batchId };
  },
});

type IngestAudit = (record: AuditRecord<"broker.register" | "bridge.discover">) => void;

async function ensureBroker(tx: Transaction, report: AgentReport, audit: IngestAudit): Promise<void> {
  const [created] = await tx
    .insert(broker)
    .values({ id: report.broker.id, name: report.broker.id, url: report.broker.url, protocol: report.broker.protocol })
    .onConflictDoNothing({ target: broker.id })
    .returning({ id: broker.id });
  if (created) {
    audit({
      action: "broker.register",
      targetType: "broker",
      targetId: created.id,
      details: { url: report.broker.url, protocol: report.broker.protocol, agent: report.agent.id },
    });
  }
}

/**
 * Updates the broker's row from the report; true when the report's window is the newest the broker has seen
 * (then its kind, inventory and links are the broker's present picture).
 */
async function updateBrokerFromReport(tx: Transaction, report: AgentReport, audit: IngestAudit): Promise<boolean> {
  const dropped = sumCounts(Object.values(report.drops));
  const windowEnd = new Date(report.window.end);
  const [before] = await tx
    .select({ protocol: broker.protocol, lastWindowEnd: broker.lastWindowEnd })
    .from(broker)
    .where(eq(broker.id, report.broker.id))
    .for("update");
  // A replayed old batch must not move the broker's picture back in time.
  const newest = !before?.lastWindowEnd || before.lastWindowEnd <= windowEnd;
  const kindChanged = newest && before !== undefined && before.protocol !== report.broker.protocol;
  await tx
    .update(broker)
    .set({
      agentId: report.agent.id,
      agentVersion: report.agent.version,
      agentHostname: report.agent.hostname,
      brokerVersion: report.broker.version,
      lastReportAt: new Date(),
      lastWindowStart: sql`case when ${broker.lastWindowEnd} is null or ${broker.lastWindowEnd} <= ${windowEnd} then ${new Date(report.window.start)} else ${broker.lastWindowStart} end`,
      lastWindowEnd: sql`greatest(${broker.lastWindowEnd}, ${windowEnd})`,
      capabilities: report.capabilities,
      lastStats: { ...report.stats, clientsConnected: report.broker.clientsConnected },
      lastDrops: report.drops,
      // Saturates: a total past what a JS number holds exactly would read back wrong.
      droppedTotal: sql`least(${broker.droppedTotal} + ${dropped}::bigint, ${MAX_COUNT}::bigint)`,
      url: sql`case when ${broker.url} = '' then ${report.broker.url} else ${broker.url} end`,
      ...(kindChanged ? { protocol: report.broker.protocol } : {}),
      ...(newest && report.inventory !== undefined ? { inventory: report.inventory, inventoryAt: windowEnd } : {}),
    })
    .where(eq(broker.id, report.broker.id));
  if (kindChanged) {
    // What was stored is in the old kind's topic syntax: read in the new one it would mean other topics.
    await tx.delete(brokerTopic).where(eq(brokerTopic.brokerId, report.broker.id));
    await tx.delete(brokerLink).where(eq(brokerLink.brokerId, report.broker.id));
    audit({
      action: "broker.register",
      targetType: "broker",
      targetId: report.broker.id,
      details: { url: report.broker.url, agent: report.agent.id, before: { protocol: before.protocol }, after: { protocol: report.broker.protocol } },
    });
  }
  return newest;
}

/** Brokers read to resolve the far ends of links at most. */
const MAX_LINK_CANDIDATES = 5_000;

/** Replaces the broker's discovered links with those the report lists; a new one is audited. */
async function replaceLinks(tx: Transaction, report: AgentReport, audit: IngestAudit): Promise<void> {
  const brokerId = report.broker.id;
  // One row per kind and name: the last listed wins.
  const links = new Map<string, NonNullable<AgentReport["bridges"]>[number]>();
  for (const link of report.bridges ?? []) links.set(`${link.kind}\u0000${link.name}`, link);
  const existing = await tx.select({ kind: brokerLink.kind, name: brokerLink.name }).from(brokerLink).where(eq(brokerLink.brokerId, brokerId)).for("update");
  const known = new Set(existing.map((l) => `${l.kind}\u0000${l.name}`));
  const gone = existing.filter((l) => !links.has(`${l.kind}\u0000${l.name}`));
  for (const l of gone) {
    await tx.delete(brokerLink).where(and(eq(brokerLink.brokerId, brokerId), eq(brokerLink.kind, l.kind), eq(brokerLink.name, l.name)));
  }
  if (links.size === 0) return;
  const candidates = await tx.select({ id: broker.id, url: broker.url }).from(broker).orderBy(broker.id).limit(MAX_LINK_CANDIDATES);
  const seenAt = new Date(report.window.end);
  const rows = [...links.values()].map((link) => ({
    brokerId,
    kind: link.kind,
    name: link.name,
    remote: link.remote,
    remoteBrokerId: resolveRemote(link.remote, brokerId, candidates),
    direction: link.direction,
    topics: [...new Set(link.topics)],
    state: link.state,
    firstSeen: seenAt,
    lastSeen: seenAt,
  }));
  await tx
    .insert(brokerLink)
    .values(rows)
    .onConflictDoUpdate({
      target: [brokerLink.brokerId, brokerLink.kind, brokerLink.name],
      set: {
        remote: sql`excluded.remote`,
        remoteBrokerId: sql`excluded.remote_broker_id`,
        direction: sql`excluded.direction`,
        topics: sql`excluded.topics`,
        state: sql`excluded.state`,
        lastSeen: sql`greatest(${brokerLink.lastSeen}, excluded.last_seen)`,
      },
    });
  for (const row of rows) {
    if (known.has(`${row.kind}\u0000${row.name}`)) continue;
    audit({
      action: "bridge.discover",
      targetType: "broker_link",
      targetId: `${brokerId}/${row.kind}/${row.name}`,
      details: { broker: brokerId, kind: row.kind, name: row.name, remote: row.remote, remoteBroker: row.remoteBrokerId, direction: row.direction, topics: row.topics },
    });
  }
}

async function insertObservations(tx: Transaction, report: AgentReport): Promise<void> {
  const windowStart = new Date(report.window.start);
  // The day's partition first; a window far outside the kept days goes to the default partition.
  const now = Date.now();
  await ensureDayPartition(tx, windowStart, new Date(now - retentionDays() * DAY_MS), new Date(now + 2 * DAY_MS));
  const rows = report.topics.map((t) => ({
    brokerId: report.broker.id,
    batchId: report.batchId,
    template: t.template,
    channelAddress: t.channel?.address ?? null,
    windowStart,
    windowEnd: new Date(report.window.end),
    messages: t.messages,
    bytes: t.bytes,
    minSize: t.minSize,
    maxSize: t.maxSize,
    ratePerSecond: t.ratePerSecond,
    qos: t.qos,
    retained: t.retained,
    contentKind: t.content.kind,
    producers: t.producers,
    consumers: t.consumers,
  }));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await tx.insert(observation).values(rows.slice(i, i + INSERT_CHUNK));
  }
  await addToRollups(tx, report);
}

async function mergeTopics(tx: Transaction, report: AgentReport): Promise<void> {
  if (report.topics.length === 0) return;
  const templates = report.topics.map((t) => t.template);
  const existing = new Map<string, BrokerTopic>();
  for (let i = 0; i < templates.length; i += INSERT_CHUNK) {
    const rows = await tx
      .select()
      .from(brokerTopic)
      .where(and(eq(brokerTopic.brokerId, report.broker.id), inArray(brokerTopic.template, templates.slice(i, i + INSERT_CHUNK))))
      .for("update");
    for (const row of rows) existing.set(row.template, row);
  }
  const windowEnd = new Date(report.window.end);
  const at = windowEnd.toISOString();
  const merged = report.topics.map((t) => {
    const before = existing.get(t.template);
    // The newest window decides the current picture; an older replayed one only adds counts.
    const newer = !before || before.lastWindowEnd <= windowEnd;
    const firstSeen = new Date(t.firstSeen);
    const lastSeen = new Date(t.lastSeen);
    return {
      brokerId: report.broker.id,
      template: t.template,
      channel: newer ? t.channel : (before?.channel ?? null),
      firstSeen: before && before.firstSeen < firstSeen ? before.firstSeen : firstSeen,
      lastSeen: before && before.lastSeen > lastSeen ? before.lastSeen : lastSeen,
      totalMessages: addCounts(before?.totalMessages ?? 0, t.messages),
      totalBytes: addCounts(before?.totalBytes ?? 0, t.bytes),
      lastRatePerSecond: newer ? t.ratePerSecond : before!.lastRatePerSecond,
      lastWindowEnd: newer ? windowEnd : before!.lastWindowEnd,
      contentKind: newer ? t.content.kind : before!.contentKind,
      distinctTopics: newer ? t.distinctTopics : before!.distinctTopics,
      topics: newer ? t.topics : before!.topics,
      schema: newer && t.schema ? t.schema : (before?.schema ?? t.schema),
      samples: newer && t.samples.length > 0 ? t.samples : (before?.samples ?? t.samples),
      producers: mergeClients(before?.producers ?? [], t.producers, at),
      consumers: mergeClients(before?.consumers ?? [], t.consumers, at),
    };
  });
  for (let i = 0; i < merged.length; i += INSERT_CHUNK) {
    await tx
      .insert(brokerTopic)
      .values(merged.slice(i, i + INSERT_CHUNK))
      .onConflictDoUpdate({
        target: [brokerTopic.brokerId, brokerTopic.template],
        set: {
          channel: sql`excluded.channel`,
          firstSeen: sql`excluded.first_seen`,
          lastSeen: sql`excluded.last_seen`,
          totalMessages: sql`excluded.total_messages`,
          totalBytes: sql`excluded.total_bytes`,
          lastRatePerSecond: sql`excluded.last_rate_per_second`,
          lastWindowEnd: sql`excluded.last_window_end`,
          contentKind: sql`excluded.content_kind`,
          distinctTopics: sql`excluded.distinct_topics`,
          topics: sql`excluded.topics`,
          schema: sql`excluded.schema`,
          samples: sql`excluded.samples`,
          producers: sql`excluded.producers`,
          consumers: sql`excluded.consumers`,
        },
      });
  }
}

/** The channel address templates of every application's current contract, for agents to label topics with. */
export const channelTemplatesForAgents = defineQuery({
  permission: "agent:report",
  input: noInput,
  run: async ({ db }): Promise<ChannelTemplate[]> => {
    const rows = await db
      .selectDistinct({ address: catalogEntry.address, application: application.slug, contractVersion: contractVersion.version })
      .from(catalogEntry)
      .innerJoin(application, eq(application.id, catalogEntry.applicationId))
      .innerJoin(contractVersion, eq(contractVersion.id, catalogEntry.versionId))
      .where(eq(catalogEntry.kind, "channel"))
      .orderBy(catalogEntry.address, application.slug);
    return rows.flatMap((r) => (r.address ? [{ address: r.address, application: r.application, contractVersion: r.contractVersion }] : []));
  },
});

/** Seconds a report's times may lie past the portal's clock (`MESHPORT_INGEST_CLOCK_SKEW_SECONDS`, default 300). */
export function clockSkewSeconds(): number {
  const seconds = Number(process.env.MESHPORT_INGEST_CLOCK_SKEW_SECONDS || 300);
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= 86_400 ? seconds : 300;
}

/** Days raw observations and batch ids are kept (`MESHPORT_OBSERVATION_RETENTION_DAYS`, default 30); older reports are refused. */
export function retentionDays(): number {
  return rawRetentionDays();
}

let lastPrune = 0;

/** Prunes at most once an hour per process, after an ingest; failures only log. */
export function maybePruneObservations(): void {
  if (Date.now() - lastPrune < 3_600_000) return;
  lastPrune = Date.now();
  pruneObservations().catch((error: unknown) => console.error("meshport: observation pruning failed", error));
}

/** What one pruning pass removed (and the day partitions it created ahead). */
export interface PruneOutcome {
  partitionsCreated: string[];
  partitionsDropped: string[];
  defaultRowsDeleted: number;
  hourlyDeleted: number;
  dailyDeleted: number;
  batchesDeleted: number;
}

/**
 * Keeps each resolution of observation history within its retention: drops whole raw
 * day partitions older than the raw retention (and old rows of the default partition),
 * deletes hourly and daily roll-ups by bucket, and forgets batch ids as old as the raw
 * retention. Creates today's and tomorrow's partitions ahead of the reports.
 */
export async function pruneObservations(now = new Date()): Promise<PruneOutcome> {
  const cutoff = new Date(now.getTime() - retentionDays() * DAY_MS);
  const db = await getDb();
  const partitions = await maintainPartitions(db, now, cutoff);
  const rollupsBefore = async (resolution: "hour" | "day", days: number) =>
    affectedRows(
      await db
        .delete(observationRollup)
        .where(and(eq(observationRollup.resolution, resolution), lt(observationRollup.bucketStart, new Date(now.getTime() - days * DAY_MS)))),
    );
  const hourlyDeleted = await rollupsBefore("hour", hourlyRetentionDays());
  const dailyDeleted = await rollupsBefore("day", dailyRetentionDays());
  const batchesDeleted = affectedRows(await db.delete(ingestBatch).where(lt(ingestBatch.windowEnd, cutoff)));
  return {
    partitionsCreated: partitions.created,
    partitionsDropped: partitions.dropped,
    defaultRowsDeleted: partitions.defaultRowsDeleted,
    hourlyDeleted,
    dailyDeleted,
    batchesDeleted,
  };
}
