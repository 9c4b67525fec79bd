import { asc, eq, sql } from "drizzle-orm";
import { setDatabaseHandle, type DatabaseHandle } from "../db/client.ts";
import { application, broker, brokerTopic, channelActivity, contractVersion, flow } from "../db/schema.ts";
import { recordAudits, type AuditEvent } from "../lib/audit/record.ts";
import type { Principal } from "../lib/auth/principal.ts";
import { backfillFlows } from "../lib/catalog/flows.ts";
import { sweepDrift } from "../lib/drift/sweep.ts";
import { round } from "./stats.ts";

/** Brokers of the benchmark mesh, and how many topic templates each has observed. */
export const MESH_BROKERS = 3;
export const TOPICS_PER_BROKER = 5_000;
/** Of each broker's topics, this many carry no catalog channel (undocumented). */
const UNDOCUMENTED_PER_BROKER = 1_000;
export const AUDIT_ENTRIES = 30_000;

/** Actors of the seeded audit log: a few people and tokens, as a real portal's log has. */
const ACTORS: Principal[] = [
  ...Array.from({ length: 8 }, (_, i): Principal => ({ kind: "user", id: `user_${i}`, email: `engineer${i}@meshport.example`, name: `Engineer ${i}`, role: "editor", address: `10.0.0.${i + 10}` })),
  { kind: "token", id: "tok_ci", name: "ci", scopes: ["contracts:write"], teamId: null, createdBy: "user_0", address: "10.0.1.5" },
  { kind: "system", id: "system:ingest", name: "ingest" },
];

// A fixed-seed generator keeps every run on the same mesh.
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** One audit event as the services record them: the application's slug in `details.application`, changes with before and after. */
function auditEvent(random: () => number, apps: number, n: number): AuditEvent {
  const app = `service-${Math.floor(random() * apps)}`;
  switch (n % 5) {
    case 0:
      return { action: "contract.publish", targetType: "contract_version", targetId: `ver_${n}`, details: { application: app, version: `1.${n % 40}.0`, semver: "minor", files: 1 } };
    case 1:
      return { action: "application.update", targetType: "application", targetId: `app_${n}`, details: { application: app, before: { description: `was ${n}` }, after: { description: `now ${n}` } } };
    case 2:
      return { action: "change_request.open", targetType: "change_request", targetId: `cr_${n}`, details: { application: app, version: `2.${n % 10}.0`, breaking: n % 3 === 0 } };
    case 3:
      return { action: "drift.finding.acknowledge", targetType: "drift_finding", targetId: `df_${n}`, details: { application: app, rule: "UNDECLARED_CONSUMER", before: { status: "open" }, after: { status: "acknowledged" } } };
    default:
      return { action: "broker.declare", targetType: "broker", targetId: `site-${n % MESH_BROKERS}`, details: { id: `site-${n % MESH_BROKERS}`, name: `Site ${n % MESH_BROKERS}`, url: "mqtt://10.0.0.1:1883", protocol: "mqtt", description: "" } };
  }
}

/**
 * Fills a database already holding the catalog benchmark's applications (bench/catalog.ts `seedCatalog`) with
 * what the other portal pages list: the flows and registry schemas of every version (derived as at start-up),
 * {@link MESH_BROKERS} brokers with {@link TOPICS_PER_BROKER} observed topic templates each (most on catalog
 * channels, with their producer and consumer clients), and {@link AUDIT_ENTRIES} audit entries written through
 * the audit writer, so the hash chain verifies; then the drift sweep a running portal would have made (its findings
 * and their audit entries). Runs ANALYZE at the end.
 */
export async function seedMesh(handle: DatabaseHandle): Promise<{ versionsDerived: number; brokers: number; topics: number; auditEntries: number; seconds: number }> {
  const started = performance.now();
  const { db } = handle;
  const random = seeded(11);
  const versionsDerived = await backfillFlows(db, { batchSize: 200 });

  const now = new Date();
  await db.insert(broker).values(
    Array.from({ length: MESH_BROKERS }, (_, i) => ({
      id: `site-${i}`,
      name: `Site ${i}`,
      url: `mqtt://10.0.${i}.1:1883`,
      protocol: "mqtt",
      // Registered a week ago: the sweep judges silence only over time the brokers were observed.
      createdAt: new Date(now.getTime() - 7 * 86_400_000),
      agentId: `agent-${i}`,
      agentVersion: "0.1.0",
      agentHostname: `edge-${i}`,
      brokerVersion: "mosquitto 2.0.11",
      lastReportAt: now,
      lastWindowStart: new Date(now.getTime() - 60_000),
      lastWindowEnd: now,
      capabilities: { producers: true, consumers: true, samples: true },
      lastStats: { clients: 120 + i, messagesReceived: 1_000_000 },
      lastDrops: { topics: 0, samples: 0 },
    })),
  );

  // The sent channels of the catalog, with their application, spread over the brokers.
  const documented = MESH_BROKERS * (TOPICS_PER_BROKER - UNDOCUMENTED_PER_BROKER);
  const sent = await db
    .selectDistinct({ channel: flow.channel, applicationId: application.id, slug: application.slug, version: contractVersion.version })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .innerJoin(application, eq(application.id, contractVersion.applicationId))
    .where(eq(flow.action, "send"))
    .orderBy(asc(flow.channel))
    .limit(documented)
    // One sent channel in four is observed nowhere: the sweep judges it silent.
    .then((rows) => rows.filter((_, n) => n % 4 !== 3));
  const topics: Array<typeof brokerTopic.$inferInsert> = [];
  const seen = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000);
  sent.forEach((s, n) => {
    const template = s.channel.replace(/\{[^}]*\}/g, "{p1}");
    const messages = 100 + Math.floor(random() * 100_000);
    topics.push({
      brokerId: `site-${n % MESH_BROKERS}`,
      template,
      channel: { address: s.channel, application: s.slug, contractVersion: s.version },
      firstSeen: seen(60 * 24 * 7),
      lastSeen: seen(Math.floor(random() * 5)),
      totalMessages: messages,
      totalBytes: messages * 180,
      lastRatePerSecond: round(random() * 20, 2),
      lastWindowEnd: random() < 0.8 ? now : seen(10),
      contentKind: "json",
      distinctTopics: 1 + Math.floor(random() * 40),
      topics: Array.from({ length: 5 }, (_, k) => ({ topic: template.replace("{p1}", `line-${k}`), messages: Math.floor(messages / 5) })),
      schema: { type: "object", properties: { value: { type: "number" }, unit: { type: "string" }, timestamp: { type: "string" } } },
      samples: Array.from({ length: 3 }, (_, k) => ({ at: now.toISOString(), size: 64, encoding: "json", payload: JSON.stringify({ value: k, unit: "C", timestamp: now.toISOString() }), truncated: false, redacted: false })),
      producers: [{ clientId: `${s.slug}-${n % 4}`, messages, lastSeen: now.toISOString() }],
      consumers: Array.from({ length: 1 + (n % 3) }, (_, k) => ({ clientId: `reader-${(n + k) % 500}`, filter: `${template.split("/")[0]}/#`, lastSeen: now.toISOString() })),
    });
  });
  for (let u = 0; u < MESH_BROKERS * UNDOCUMENTED_PER_BROKER; u++) {
    topics.push({
      brokerId: `site-${u % MESH_BROKERS}`, template: `debug/{p1}/u${u}`, channel: null, firstSeen: seen(600), lastSeen: seen(3), totalMessages: 5, totalBytes: 500,
      lastRatePerSecond: 0.1, lastWindowEnd: now, contentKind: "json", distinctTopics: 1, topics: [{ topic: `debug/a/u${u}`, messages: 5 }], samples: [],
      producers: [{ clientId: `stray-${u}`, messages: 5, lastSeen: now.toISOString() }], consumers: [],
    });
  }
  for (let r = 0; r < topics.length; r += 500) await db.insert(brokerTopic).values(topics.slice(r, r + 500));
  // What ingest keeps beside the topics: when each observed contract channel was last seen, for the silence judgement.
  const activity = sent.map((s, n) => ({ applicationId: s.applicationId, channel: s.channel, lastSeen: now, brokerIds: [`site-${n % MESH_BROKERS}`] }));
  for (let r = 0; r < activity.length; r += 1000) await db.insert(channelActivity).values(activity.slice(r, r + 1000)).onConflictDoNothing();

  // Through the audit writer, a thousand entries per transaction, so the chain links and verifies.
  for (let start = 0; start < AUDIT_ENTRIES; start += 1000) {
    await db.transaction(async (tx) => {
      const byActor = new Map<Principal, AuditEvent[]>();
      for (let n = start; n < Math.min(AUDIT_ENTRIES, start + 1000); n++) {
        const actor = ACTORS[n % ACTORS.length]!;
        byActor.set(actor, [...(byActor.get(actor) ?? []), auditEvent(random, 2_000, n)]);
      }
      for (const [actor, events] of byActor) await recordAudits(tx, actor, events);
    });
  }
  // The catalog was published a month ago, and the drift sweep a running portal has made by now: the channels nothing was observed on are judged silent.
  await db.update(contractVersion).set({ publishedAt: new Date(now.getTime() - 30 * 86_400_000) });
  setDatabaseHandle(handle);
  try {
    await sweepDrift(now);
  } finally {
    setDatabaseHandle(undefined);
  }
  await db.execute(sql`analyze`);
  return { versionsDerived, brokers: MESH_BROKERS, topics: topics.length, auditEntries: AUDIT_ENTRIES, seconds: round((performance.now() - started) / 1000, 1) };
}
