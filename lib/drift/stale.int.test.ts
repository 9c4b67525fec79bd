/** Drift and the stale window: what was not seen for it stays resolved, and a person's change never deadlocks with an evaluation. */
import { and, asc, eq, sql } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import type { TopicObservation } from "@/agents/protocol.ts";
import { auditEntry, brokerTopic, driftFinding, driftFindingEvent, type DriftFinding } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { ingestReport } from "@/lib/ingest/reports.ts";
import { report, topic } from "@/lib/ingest/report-fixtures.ts";
import type { DriftRuleId } from "@/registry/drift/types.ts";
import { acknowledgeFinding, applyEvaluation } from "./findings.ts";
import { lockAuditChain } from "./record.ts";
import { sweepDrift } from "./sweep.ts";

function doc(title: string, version: string, channels: Array<{ address: string; action: "send" | "receive"; payload: object }>): string {
  const lines = [`asyncapi: 3.0.0`, `info: { title: ${title}, version: ${version} }`, `channels:`];
  const ops = [`operations:`];
  channels.forEach((c, i) => {
    const params = [...c.address.matchAll(/\{([^}]+)\}/g)].map((m) => `${m[1]}: {}`);
    lines.push(`  ch${i}:`, `    address: '${c.address}'`, `    parameters: { ${params.join(", ")} }`, `    messages:`, `      msg${i}:`, `        name: Message${i}`, `        payload: ${JSON.stringify(c.payload)}`);
    ops.push(`  op${i}:`, `    action: ${c.action}`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return [...lines, ...ops].join("\n") + "\n";
}

const DAY = 86_400_000;
const TEMPERATURE = "plant/{p1}/temperature";
const PRESSURE = "press/{p1}/pressure";
const numeric = (field: string) => ({ type: "object", properties: { [field]: { type: "number" } }, required: [field] });
const inferred = (properties: Record<string, object>) => ({ type: "object", properties, required: Object.keys(properties) });

describeEachBackend("drift and the stale window", ({ backend, handle }) => {
  const agent = systemPrincipal("agent");
  const db = () => handle().db;
  let admin: Principal;
  const appIds: Record<string, string> = {};
  let sequence = 0;
  const at = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString();

  async function ingest(topics: TopicObservation[]): Promise<void> {
    sequence++;
    expect((await ingestReport(agent, report(sequence, topics, at(-15), at(0)))).duplicate).toBe(false);
  }
  function observed(template: string, concrete: string, extra: Partial<TopicObservation>): TopicObservation {
    return topic(template, 10, {
      topics: [{ topic: concrete, messages: 10 }],
      firstSeen: at(-10),
      lastSeen: at(-1),
      consumers: [],
      ...extra,
      samples: (extra.samples ?? []).map((s) => ({ ...s, at: at(-5) })),
    });
  }
  const sample = (payload: unknown) => ({ at: "", size: 20, encoding: "json" as const, payload: JSON.stringify(payload), truncated: false, redacted: false });
  const producers = (...ids: string[]) => ids.map((clientId) => ({ clientId, messages: 5, bytes: 500 }));

  const finding = async (rule: DriftRuleId, where: Partial<Pick<DriftFinding, "applicationId" | "template">> = {}): Promise<DriftFinding> => {
    const all = (await db().select().from(driftFinding).orderBy(asc(driftFinding.id))).filter((f) => f.rule === rule && Object.entries(where).every(([k, v]) => f[k as keyof DriftFinding] === v));
    expect(all).toHaveLength(1);
    return all[0]!;
  };
  const eventsOf = async (id: string) => (await db().select().from(driftFindingEvent).where(eq(driftFindingEvent.findingId, id)).orderBy(asc(driftFindingEvent.id))).map((e) => e.kind);
  const twoDaysAgo = () => new Date(Date.now() - 2 * DAY);

  beforeAll(async () => {
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: a.id, email: a.email, name: a.name, role: "admin" };
    await createTeam(admin, { slug: "plant-ops", name: "Plant Ops" });
    for (const [slug, name, patterns] of [["line-sensors", "Line sensors", ["line-sensor-*"]], ["machine-monitor", "Machine monitor", ["machine-monitor-*"]], ["press-line", "Press line", ["press-*"]]] as const) {
      appIds[slug] = (await createApplication(admin, { slug, name, team: "plant-ops", clientIdPatterns: [...patterns] })).id;
    }
    await publishVersion(admin, "line-sensors", { files: { "asyncapi.yaml": doc("Line sensors", "1.0.0", [{ address: "plant/{lineId}/temperature", action: "send", payload: numeric("value") }]) } });
    await publishVersion(admin, "machine-monitor", { files: { "asyncapi.yaml": doc("Machine monitor", "1.0.0", [{ address: "plant/{line}/temperature", action: "receive", payload: numeric("value") }]) } });
    await publishVersion(admin, "press-line", { files: { "asyncapi.yaml": doc("Press line", "1.0.0", [{ address: "press/{id}/pressure", action: "send", payload: numeric("pressure") }]) } });
  });

  it("a client not seen for the stale window draws nothing when a catalog change judges its topic again", async () => {
    await ingest([observed(TEMPERATURE, "plant/line-1/temperature", { samples: [sample({ value: 21 })], schema: inferred({ value: { type: "number" } }), producers: producers("line-sensor-1", "machine-monitor-1") })]);
    const undeclared = await finding("UNDECLARED_PRODUCER", { applicationId: appIds["machine-monitor"] });
    expect(undeclared.status).toBe("open");

    // machine-monitor-1 stopped publishing two days ago; line-sensor-1 still publishes on the topic.
    const [row] = await db().select().from(brokerTopic).where(eq(brokerTopic.template, TEMPERATURE));
    await db()
      .update(brokerTopic)
      .set({ producers: row!.producers.map((c) => (c.clientId === "machine-monitor-1" ? { ...c, lastSeen: twoDaysAgo().toISOString() } : c)) })
      .where(eq(brokerTopic.template, TEMPERATURE));
    await db().update(driftFinding).set({ lastSeen: twoDaysAgo() }).where(eq(driftFinding.id, undeclared.id));
    await sweepDrift(new Date());
    expect(await finding("UNDECLARED_PRODUCER")).toMatchObject({ status: "resolved", resolution: "not_seen" });

    // A publish judges the topic again: the client gone for the window is not drawn, so the finding stays resolved.
    await publishVersion(admin, "machine-monitor", { files: { "asyncapi.yaml": doc("Machine monitor", "1.0.1", [{ address: "plant/{line}/temperature", action: "receive", payload: numeric("value") }]) } });
    expect(await finding("UNDECLARED_PRODUCER")).toMatchObject({ status: "resolved", resolution: "not_seen" });
    expect(await eventsOf(undeclared.id)).toEqual(["opened", "resolved"]);
  });

  it("a topic not seen for the stale window is not judged again by a catalog change", async () => {
    await ingest([observed(PRESSURE, "press/p-1/pressure", { samples: [sample({ pressure: "high", unit: "bar" })], schema: inferred({ pressure: { type: "string" }, unit: { type: "string" } }), producers: producers("press-1") })]);
    const violation = await finding("PAYLOAD_SCHEMA_VIOLATION", { template: PRESSURE });
    const field = await finding("UNDOCUMENTED_FIELD", { template: PRESSURE });
    expect([violation.status, field.status]).toEqual(["open", "open"]);

    // The topic was last seen two days ago: the sweep resolves its violation; its field finding is still open.
    await db().update(brokerTopic).set({ lastSeen: twoDaysAgo() }).where(eq(brokerTopic.template, PRESSURE));
    await db().update(driftFinding).set({ lastSeen: twoDaysAgo() }).where(eq(driftFinding.id, violation.id));
    await sweepDrift(new Date());
    expect(await finding("PAYLOAD_SCHEMA_VIOLATION", { template: PRESSURE })).toMatchObject({ status: "resolved", resolution: "not_seen" });
    const fieldBefore = await finding("UNDOCUMENTED_FIELD", { template: PRESSURE });
    expect(fieldBefore.status).toBe("open");

    await publishVersion(admin, "press-line", { files: { "asyncapi.yaml": doc("Press line", "1.0.1", [{ address: "press/{id}/pressure", action: "send", payload: numeric("pressure") }]) } });
    expect(await finding("PAYLOAD_SCHEMA_VIOLATION", { template: PRESSURE })).toMatchObject({ status: "resolved", resolution: "not_seen" });
    expect(await eventsOf(violation.id)).toEqual(["opened", "resolved"]);
    // Not judged again, not even refreshed: the stale topic's open finding is left to the sweep.
    expect(await finding("UNDOCUMENTED_FIELD", { template: PRESSURE })).toEqual(fieldBefore);
  });

  it("an evaluation never reopens a resolved finding from what was last seen longer ago than the stale window", async () => {
    const violation = await finding("PAYLOAD_SCHEMA_VIOLATION", { template: PRESSURE });
    expect(violation.status).toBe("resolved");
    const draft = (lastSeen: Date) => ({
      subject: { rule: violation.rule, brokerId: violation.brokerId, template: violation.template, channel: violation.channel, applicationId: violation.applicationId, clientId: violation.clientId, messageKey: violation.messageKey },
      severity: violation.severity,
      summary: violation.summary,
      evidence: violation.evidence,
      occurrences: 1,
      firstSeen: lastSeen.toISOString(),
      lastSeen: lastSeen.toISOString(),
    });
    const apply = (lastSeen: Date) => db().transaction((tx) => applyEvaluation(tx, agent, { findings: [draft(lastSeen)] }, { now: new Date(), resolution: "stopped" }));

    expect(await apply(twoDaysAgo())).toEqual({ opened: [], reopened: [], resolved: [], refreshed: 0 });
    expect(await finding("PAYLOAD_SCHEMA_VIOLATION", { template: PRESSURE })).toMatchObject({ status: "resolved", resolution: "not_seen", reopenedCount: 0 });
    // Seen within the window: reopened.
    expect((await apply(new Date())).reopened).toEqual([violation.id]);
    expect(await finding("PAYLOAD_SCHEMA_VIOLATION", { template: PRESSURE })).toMatchObject({ status: "open", reopenedCount: 1 });
    expect(await eventsOf(violation.id)).toEqual(["opened", "resolved", "reopened"]);
  });

  it("acknowledging waits for the audit chain before it locks the finding, in the order an evaluation takes them", async () => {
    // PGlite has one connection: two transactions cannot interleave.
    if (backend !== "postgres") return;
    const field = await finding("UNDOCUMENTED_FIELD", { template: PRESSURE });
    let release!: () => void;
    let taken!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const chainTaken = new Promise<void>((resolve) => (taken = resolve));
    let rowFree: boolean | undefined;
    // An evaluation holds the audit chain and then wants the finding's row.
    const evaluation = db().transaction(async (tx) => {
      await lockAuditChain(tx);
      taken();
      await held;
      try {
        await tx.execute(sql`savepoint probe`);
        await tx.execute(sql`select id from drift_finding where id = ${field.id} for update nowait`);
        rowFree = true;
      } catch {
        rowFree = false;
        await tx.execute(sql`rollback to savepoint probe`);
      }
    });
    await chainTaken;
    const acknowledging = acknowledgeFinding(admin, field.id, { note: "Unit goes into the next contract." });
    // Wait until the acknowledgement is blocked on the audit chain's advisory lock.
    let waiting = 0;
    for (let i = 0; i < 500 && waiting === 0; i++) {
      const result = (await db().execute(
        sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`,
      )) as unknown as { rows: Array<{ n: number }> };
      waiting = Number(result.rows[0]?.n ?? 0);
      if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(waiting).toBe(1);
    release();
    await evaluation;
    expect(rowFree).toBe(true);
    expect(await acknowledging).toMatchObject({ status: "acknowledged" });
    const [entry] = await db().select().from(auditEntry).where(and(eq(auditEntry.action, "drift.finding.acknowledge"), eq(auditEntry.targetId, field.id)));
    expect(entry!.details).toMatchObject({ application: "press-line", after: { status: "acknowledged" } });
  });
});
