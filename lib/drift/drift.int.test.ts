/** Drift as a service: judged on every report and every catalog change, findings with a life (open, acknowledged, resolved, reopened). */
import { and, asc, eq, inArray, like, sql } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import type { AgentReport, TopicObservation } from "@/agents/protocol.ts";
import { auditEntry, catalogGeneration, channelActivity, driftFinding, driftFindingEvent, webhook, webhookDelivery, type DriftFinding } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam, setTeamMember } from "@/lib/accounts/teams.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { verifyAuditChain } from "@/lib/audit/audit.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication, updateApplication } from "@/lib/catalog/applications.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { ingestReport } from "@/lib/ingest/reports.ts";
import { report, topic } from "@/lib/ingest/report-fixtures.ts";
import type { DriftRuleId } from "@/registry/drift/types.ts";
import { acknowledgeFinding, unacknowledgeFinding } from "./findings.ts";
import { DRIFT_SWEEP_LOCK_KEY, sweepDrift } from "./sweep.ts";

/** An AsyncAPI 3.0 contract with one message per channel. */
function doc(title: string, version: string, channels: Array<{ address: string; action: "send" | "receive"; payload?: object }>): string {
  const lines = [`asyncapi: 3.0.0`, `info: { title: ${title}, version: ${version} }`, `channels:`];
  const ops = [`operations:`];
  channels.forEach((c, i) => {
    const params = [...c.address.matchAll(/\{([^}]+)\}/g)].map((m) => `${m[1]}: {}`);
    lines.push(
      `  ch${i}:`,
      `    address: '${c.address}'`,
      ...(params.length ? [`    parameters: { ${params.join(", ")} }`] : []),
      `    messages:`,
      `      msg${i}:`,
      `        name: Message${i}`,
      `        payload: ${JSON.stringify(c.payload ?? { type: "object", properties: { value: { type: "number" } }, required: ["value"] })}`,
    );
    ops.push(`  op${i}:`, `    action: ${c.action}`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return [...lines, ...ops].join("\n") + "\n";
}

const user = (u: { id: string; email: string; name: string }, role: "admin" | "reviewer" | "editor" | "viewer"): Principal => ({ kind: "user", id: u.id, email: u.email, name: u.name, role });
const DAY = 86_400_000;
const TEMPERATURE = "plant/{p1}/temperature";
const HUMIDITY = "plant/{p1}/humidity";
const PRESSURE = "press/{p1}/pressure";
const inferred = (properties: Record<string, object>) => ({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties, required: Object.keys(properties) });

describeEachBackend("drift findings", ({ backend, handle }) => {
  const agent = systemPrincipal("agent");
  const db = () => handle().db;
  let admin: Principal;
  let pat: Principal; // editor in plant-ops, owning line-sensors
  let eddie: Principal; // editor in maintenance
  const appIds: Record<string, string> = {};
  const teamIds: Record<string, string> = {};
  let sequence = 0;
  const at = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString();

  /** An observation with recent times. */
  function observed(template: string, concrete: string, extra: Partial<TopicObservation>): TopicObservation {
    const sampleAt = at(-5);
    return topic(template, 10, {
      topics: [{ topic: concrete, messages: 10 }],
      firstSeen: at(-10),
      lastSeen: at(-1),
      ...extra,
      samples: (extra.samples ?? []).map((s) => ({ ...s, at: sampleAt })),
    });
  }
  const sample = (payload: unknown) => ({ at: "", size: 20, encoding: "json" as const, payload: JSON.stringify(payload), truncated: false, redacted: false });
  const producers = (...ids: string[]) => ids.map((clientId) => ({ clientId, messages: 5, bytes: 500 }));
  const consumers = (...list: Array<[string, string]>) => list.map(([clientId, filter]) => ({ clientId, filter, qos: 1 }));

  function temperature(payload: unknown, schemaProps: Record<string, object> = { value: { type: "number" } }, extra: Partial<TopicObservation> = {}): TopicObservation {
    return observed(TEMPERATURE, "plant/line-1/temperature", {
      samples: [sample(payload)],
      schema: inferred(schemaProps),
      producers: producers("line-sensor-1"),
      consumers: consumers(["machine-monitor-1", "plant/+/temperature"]),
      ...extra,
    });
  }

  async function ingest(topics: TopicObservation[]): Promise<AgentReport> {
    sequence++;
    const body = report(sequence, topics, at(-15), at(0));
    const outcome = await ingestReport(agent, body);
    expect(outcome.duplicate).toBe(false);
    return body;
  }

  const findings = async (): Promise<DriftFinding[]> => db().select().from(driftFinding).orderBy(asc(driftFinding.rule), asc(driftFinding.id));
  const finding = async (rule: DriftRuleId, where: Partial<Pick<DriftFinding, "applicationId" | "template" | "clientId" | "channel">> = {}): Promise<DriftFinding> => {
    const all = (await findings()).filter((f) => f.rule === rule && Object.entries(where).every(([k, v]) => f[k as keyof DriftFinding] === v));
    expect(all).toHaveLength(1);
    return all[0]!;
  };
  const eventsOf = async (id: string) => (await db().select().from(driftFindingEvent).where(eq(driftFindingEvent.findingId, id)).orderBy(asc(driftFindingEvent.id))).map((e) => e.kind);

  beforeAll(async () => {
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = user(a, "admin");
    pat = user(await createUser(admin, { name: "Pat", email: "pat@example.com", password: "correct horse battery", role: "editor" }), "editor");
    eddie = user(await createUser(admin, { name: "Eddie", email: "eddie@example.com", password: "correct horse battery", role: "editor" }), "editor");
    for (const [slug, name] of [["plant-ops", "Plant Ops"], ["maintenance", "Maintenance"], ["insights", "Insights"]] as const) {
      teamIds[slug] = (await createTeam(admin, { slug, name })).id;
    }
    await setTeamMember(admin, "plant-ops", { email: "pat@example.com" });
    await setTeamMember(admin, "maintenance", { email: "eddie@example.com" });
    const apps: Array<[string, string, string, string[], "NONE" | null]> = [
      ["line-sensors", "Line sensors", "plant-ops", ["line-sensor-*"], null],
      ["machine-monitor", "Machine monitor", "maintenance", ["machine-monitor-*"], null],
      ["dashboard", "Dashboard", "insights", [], null],
      ["press-line", "Press line", "plant-ops", ["press-*"], "NONE"],
    ];
    for (const [slug, name, team, clientIdPatterns, compatibilityMode] of apps) {
      appIds[slug] = (await createApplication(admin, { slug, name, team, clientIdPatterns, compatibilityMode })).id;
    }
    await publishVersion(admin, "line-sensors", { files: { "asyncapi.yaml": doc("Line sensors", "1.0.0", [{ address: "plant/{lineId}/temperature", action: "send" }]) } });
    await publishVersion(admin, "machine-monitor", { files: { "asyncapi.yaml": doc("Machine monitor", "1.0.0", [{ address: "plant/{line}/temperature", action: "receive" }]) } });
    await publishVersion(admin, "dashboard", { files: { "asyncapi.yaml": doc("Dashboard", "1.0.0", [{ address: "plant/{line}/temperature", action: "receive" }]) } });
    const pressure = (type: string) => ({ type: "object", properties: { pressure: { type } }, required: ["pressure"] });
    await publishVersion(admin, "press-line", { files: { "asyncapi.yaml": doc("Press line", "1.0.0", [{ address: "press/{id}/pressure", action: "send", payload: pressure("number") }]) } });
    await publishVersion(admin, "press-line", { files: { "asyncapi.yaml": doc("Press line", "2.0.0", [{ address: "press/{id}/pressure", action: "send", payload: pressure("string") }]) } });
    // Webhooks of the owning team and of another team: only the owner's hears of the owner's findings.
    for (const [id, team] of [["wh_plant", "plant-ops"], ["wh_insights", "insights"]] as const) {
      await db().insert(webhook).values({ id, teamId: teamIds[team]!, name: id, url: "https://hooks.example.com/drift", events: ["drift.finding.opened", "drift.finding.reopened"], secretCiphertext: "x", createdById: admin.id });
    }
  });

  it("a conforming report opens no finding and records the activity of the channels it meets", async () => {
    await ingest([temperature({ value: 21.5 })]);
    expect(await findings()).toEqual([]);
    const activity = await db().select().from(channelActivity).orderBy(asc(channelActivity.applicationId));
    expect(new Set(activity.map((a) => a.applicationId))).toEqual(new Set([appIds["line-sensors"], appIds["machine-monitor"], appIds.dashboard]));
    expect(activity.every((a) => a.brokerIds.includes("plant-eu"))).toBe(true);
  });

  let second: AgentReport;
  it("a report with each kind of drift opens the right finding, audited and announced to the owning team", async () => {
    second = await ingest([
      temperature(
        { value: "hot", unit: "C" },
        { value: { type: "string" }, unit: { type: "string" } },
        {
          producers: producers("line-sensor-1", "stranger-9", "machine-monitor-1"),
          consumers: consumers(["machine-monitor-1", "plant/+/temperature"], ["line-sensor-2", "plant/#"]),
        },
      ),
      observed(HUMIDITY, "plant/line-1/humidity", { samples: [], schema: inferred({ value: { type: "number" } }), producers: [], consumers: [] }),
      observed(PRESSURE, "press/p-1/pressure", { samples: [sample({ pressure: 5 })], schema: inferred({ pressure: { type: "number" } }), producers: producers("press-1"), consumers: [] }),
    ]);
    const all = await findings();
    expect(all.map((f) => f.rule).sort()).toEqual(
      ["PAYLOAD_SCHEMA_VIOLATION", "UNDECLARED_CONSUMER", "UNDECLARED_PRODUCER", "UNDOCUMENTED_FIELD", "UNDOCUMENTED_TOPIC", "UNKNOWN_CLIENT", "VERSION_SKEW"].sort(),
    );
    expect(all.every((f) => f.status === "open" && f.brokerId === "plant-eu")).toBe(true);

    const violation = await finding("PAYLOAD_SCHEMA_VIOLATION");
    expect(violation).toMatchObject({ template: TEMPERATURE, channel: "plant/{lineId}/temperature", applicationId: appIds["line-sensors"], severity: "error" });
    expect(violation.evidence).toMatchObject({ validated: 1, failed: 1, version: "1.0.0" });
    expect(violation.evidence.samples?.[0]).toMatchObject({ path: "/value" });
    expect((await finding("UNDOCUMENTED_FIELD")).evidence.fields).toEqual(["/unit"]);
    expect(await finding("UNDOCUMENTED_TOPIC")).toMatchObject({ template: HUMIDITY, applicationId: null, channel: null });
    expect((await finding("UNDOCUMENTED_TOPIC")).evidence.topics).toEqual(["plant/line-1/humidity"]);
    expect(await finding("UNKNOWN_CLIENT")).toMatchObject({ clientId: "stranger-9", template: null });
    const producer = await finding("UNDECLARED_PRODUCER");
    expect(producer).toMatchObject({ template: TEMPERATURE, applicationId: appIds["machine-monitor"] });
    expect(producer.evidence.clients).toEqual([{ clientId: "machine-monitor-1", role: "producer" }]);
    const consumer = await finding("UNDECLARED_CONSUMER");
    expect(consumer).toMatchObject({ template: TEMPERATURE, applicationId: appIds["line-sensors"] });
    expect(consumer.evidence.clients).toEqual([{ clientId: "line-sensor-2", filter: "plant/#", role: "consumer" }]);
    const skew = await finding("VERSION_SKEW");
    expect(skew).toMatchObject({ template: PRESSURE, channel: "press/{id}/pressure", applicationId: appIds["press-line"] });
    expect(skew.evidence).toMatchObject({ matchingVersions: ["1.0.0"], version: "2.0.0" });

    for (const f of all) expect(await eventsOf(f.id)).toEqual(["opened"]);
    const audits = await db().select().from(auditEntry).where(eq(auditEntry.action, "drift.finding.open"));
    expect(audits).toHaveLength(7);
    const byTarget = new Map(audits.map((a) => [a.targetId, a]));
    expect(byTarget.get(violation.id)!.details).toMatchObject({ rule: "PAYLOAD_SCHEMA_VIOLATION", broker: "plant-eu", template: TEMPERATURE, application: "line-sensors" });
    expect(byTarget.get(producer.id)!.details).toMatchObject({ application: "machine-monitor" });
    expect(byTarget.get((await finding("UNKNOWN_CLIENT")).id)!.details).toMatchObject({ application: null, client: "stranger-9" });

    const deliveries = await db().select().from(webhookDelivery).orderBy(asc(webhookDelivery.id));
    const plant = deliveries.filter((d) => d.webhookId === "wh_plant");
    // line-sensors' violation, field and undeclared consumer, press-line's skew: the findings of plant-ops' applications.
    expect(plant.map((d) => (d.payload.data as { findingId: string }).findingId).sort()).toEqual([violation.id, (await finding("UNDOCUMENTED_FIELD")).id, consumer.id, skew.id].sort());
    expect(plant.every((d) => d.eventType === "drift.finding.opened")).toBe(true);
    expect(plant.find((d) => (d.payload.data as { findingId: string }).findingId === violation.id)!.payload.link).toBe(`/drift/${violation.id}`);
    expect(deliveries.filter((d) => d.webhookId === "wh_insights")).toEqual([]);
  });

  it("a replayed batch changes no finding", async () => {
    const before = await findings();
    const auditsBefore = (await db().select({ seq: auditEntry.seq }).from(auditEntry)).length;
    expect((await ingestReport(agent, second)).duplicate).toBe(true);
    expect(await findings()).toEqual(before);
    expect((await db().select({ seq: auditEntry.seq }).from(auditEntry)).length).toBe(auditsBefore);
  });

  it("a fixed payload resolves its violation; a new bad one reopens it", async () => {
    const keep = { producers: producers("line-sensor-1", "stranger-9", "machine-monitor-1"), consumers: consumers(["machine-monitor-1", "plant/+/temperature"], ["line-sensor-2", "plant/#"]) };
    await ingest([temperature({ value: 22 }, { value: { type: "number" } }, keep)]);
    const violation = await finding("PAYLOAD_SCHEMA_VIOLATION");
    expect(violation).toMatchObject({ status: "resolved", resolution: "stopped" });
    expect(await finding("UNDOCUMENTED_FIELD")).toMatchObject({ status: "resolved", resolution: "stopped" });
    // Not judged by this report (another topic), or drawn again: as they were.
    expect(await finding("UNDOCUMENTED_TOPIC")).toMatchObject({ status: "open" });
    expect(await finding("VERSION_SKEW")).toMatchObject({ status: "open" });
    const consumer = await finding("UNDECLARED_CONSUMER");
    expect(consumer).toMatchObject({ status: "open" });
    expect(consumer.occurrences).toBe(2);

    await ingest([temperature({ value: false }, { value: { type: "boolean" } }, keep)]);
    const back = await finding("PAYLOAD_SCHEMA_VIOLATION");
    expect(back).toMatchObject({ id: violation.id, status: "open", resolution: null, resolvedAt: null, reopenedCount: 1 });
    expect(back.evidence.samples?.[0]?.payload).toBe(JSON.stringify({ value: false }));
    expect(await eventsOf(violation.id)).toEqual(["opened", "resolved", "reopened"]);
    const audits = await db().select().from(auditEntry).where(eq(auditEntry.targetId, violation.id)).orderBy(asc(auditEntry.seq));
    expect(audits.map((a) => a.action)).toEqual(["drift.finding.open", "drift.finding.resolve", "drift.finding.reopen"]);
    expect(audits[1]!.details).toMatchObject({ resolution: "stopped", application: "line-sensors" });
    const reopened = await db().select().from(webhookDelivery).where(eq(webhookDelivery.eventType, "drift.finding.reopened"));
    expect(reopened.map((d) => d.webhookId)).toEqual(["wh_plant"]);
  });

  it("acknowledging needs a note and the owning team (or a reviewer); a resolved finding cannot be acknowledged", async () => {
    const violation = await finding("PAYLOAD_SCHEMA_VIOLATION");
    const topicFinding = await finding("UNDOCUMENTED_TOPIC");
    await expect(acknowledgeFinding(pat, violation.id, { note: "  " })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(acknowledgeFinding(pat, violation.id, {})).rejects.toMatchObject({ code: "invalid_input" });
    await expect(acknowledgeFinding(pat, violation.id, { note: "x".repeat(2_001) })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(acknowledgeFinding(eddie, violation.id, { note: "not mine" })).rejects.toMatchObject({ code: "forbidden:team" });
    await expect(acknowledgeFinding(eddie, topicFinding.id, { note: "no app" })).rejects.toMatchObject({ code: "forbidden:drift_finding" });
    await expect(acknowledgeFinding(pat, "drift_nope", { note: "x" })).rejects.toMatchObject({ code: "not_found:drift_finding" });
    expect(await finding("PAYLOAD_SCHEMA_VIOLATION")).toMatchObject({ status: "open", note: null });

    const acked = await acknowledgeFinding(pat, violation.id, { note: "Firmware 2.1 sends booleans; fix rolling out." });
    expect(acked).toMatchObject({ status: "acknowledged", note: "Firmware 2.1 sends booleans; fix rolling out.", acknowledgedByLabel: "pat@example.com" });
    const [entry] = await db().select().from(auditEntry).where(and(eq(auditEntry.action, "drift.finding.acknowledge"), eq(auditEntry.targetId, violation.id)));
    expect(entry!.details).toMatchObject({ application: "line-sensors", before: { status: "open" }, after: { status: "acknowledged", note: "Firmware 2.1 sends booleans; fix rolling out." } });

    // An acknowledged finding drawn again stays acknowledged.
    const keep = { producers: producers("line-sensor-1", "stranger-9", "machine-monitor-1"), consumers: consumers(["machine-monitor-1", "plant/+/temperature"], ["line-sensor-2", "plant/#"]) };
    await ingest([temperature({ value: false }, { value: { type: "boolean" } }, keep)]);
    expect(await finding("PAYLOAD_SCHEMA_VIOLATION")).toMatchObject({ status: "acknowledged" });

    await expect(unacknowledgeFinding(eddie, violation.id, undefined)).rejects.toMatchObject({ code: "forbidden:team" });
    expect(await unacknowledgeFinding(pat, violation.id, undefined)).toMatchObject({ status: "open", note: null });
    await expect(unacknowledgeFinding(pat, violation.id, undefined)).rejects.toMatchObject({ code: "conflict:drift_finding" });

    const resolvedField = await finding("UNDOCUMENTED_FIELD");
    expect(resolvedField.status).toBe("resolved");
    await expect(acknowledgeFinding(pat, resolvedField.id, { note: "late" })).rejects.toMatchObject({ code: "conflict:drift_finding" });
    // A finding of no application: a reviewer or a broker manager.
    expect(await acknowledgeFinding(admin, topicFinding.id, { note: "Humidity goes into the next contract." })).toMatchObject({ status: "acknowledged" });
    expect(await eventsOf(violation.id)).toEqual(["opened", "resolved", "reopened", "acknowledged", "unacknowledged"]);
  });

  it("publishing a version that declares an undocumented topic resolves it as documented", async () => {
    const generation = async () => (await db().select({ generation: catalogGeneration.generation }).from(catalogGeneration))[0]!.generation;
    const before = await generation();
    await publishVersion(admin, "line-sensors", {
      files: { "asyncapi.yaml": doc("Line sensors", "1.1.0", [{ address: "plant/{lineId}/temperature", action: "send" }, { address: "plant/{lineId}/humidity", action: "send" }]) },
    });
    expect(await generation()).toBeGreaterThan(before);
    expect(await finding("UNDOCUMENTED_TOPIC")).toMatchObject({ status: "resolved", resolution: "documented" });
    const [entry] = await db().select().from(auditEntry).where(and(eq(auditEntry.action, "drift.finding.resolve"), eq(auditEntry.targetId, (await finding("UNDOCUMENTED_TOPIC")).id)));
    expect(entry!.details).toMatchObject({ resolution: "documented", template: HUMIDITY });
    // What the new version does not change stays: the violation is still drawn from the topic's current picture.
    expect(await finding("PAYLOAD_SCHEMA_VIOLATION")).toMatchObject({ status: "open" });
  });

  it("new client-id patterns resolve an unknown client as documented and may open an undeclared producer", async () => {
    await updateApplication(admin, "dashboard", { clientIdPatterns: ["stranger-*"] });
    expect(await finding("UNKNOWN_CLIENT")).toMatchObject({ status: "resolved", resolution: "documented" });
    const undeclared = await finding("UNDECLARED_PRODUCER", { applicationId: appIds.dashboard });
    expect(undeclared).toMatchObject({ status: "open", template: TEMPERATURE });
    expect(undeclared.evidence.clients).toEqual([{ clientId: "stranger-9", role: "producer" }]);
    const [entry] = await db().select().from(auditEntry).where(and(eq(auditEntry.action, "drift.finding.open"), eq(auditEntry.targetId, undeclared.id)));
    expect(entry!.details).toMatchObject({ application: "dashboard", client: null });
  });

  it("retiring the current version judges its topics again: the payloads of the version now current are no skew", async () => {
    expect(await finding("VERSION_SKEW")).toMatchObject({ status: "open" });
    await setVersionState(admin, "press-line", "2.0.0", { state: "retired", reason: "Back to numeric pressure." });
    expect(await finding("VERSION_SKEW")).toMatchObject({ status: "resolved", resolution: "documented" });
    // Judged against 1.0.0 now: the sampled payloads conform, so nothing new is drawn for the topic.
    expect((await findings()).filter((f) => f.template === PRESSURE && f.status !== "resolved")).toEqual([]);
  });

  it("the sweep opens SILENT_CHANNEL for a declared channel nothing flows on, and resolves findings not seen for the window", async () => {
    const now = new Date();
    // Everything was published, and the broker first reported, two days ago; the broker still reports.
    await db().execute(sql`update contract_version set published_at = ${new Date(now.getTime() - 2 * DAY)}`);
    await db().execute(sql`update ingest_batch set received_at = ${new Date(now.getTime() - 2 * DAY)}`);
    const swept = await sweepDrift(now);
    expect(swept).toMatchObject({ ran: true, opened: 1, resolved: 0 });
    const silent = await finding("SILENT_CHANNEL");
    // line-sensors' humidity channel: declared in 1.1.0, never observed since. Its temperature channel and press-line's are active.
    expect(silent).toMatchObject({ status: "open", applicationId: appIds["line-sensors"], channel: "plant/{lineId}/humidity", brokerId: null, template: null });
    expect(silent.evidence).toMatchObject({ lastObserved: null, windowSeconds: 86_400 });

    // Two days on, nothing reported: open findings are stale; SILENT_CHANNEL is not judged (no broker reports) and stays.
    const later = await sweepDrift(new Date(now.getTime() + 2 * DAY));
    expect(later.ran).toBe(true);
    const after = await findings();
    const unresolved = after.filter((f) => f.status !== "resolved");
    expect(unresolved.map((f) => f.rule)).toEqual(["SILENT_CHANNEL"]);
    const aged = after.filter((f) => f.resolution === "not_seen").map((f) => f.rule).sort();
    expect(aged).toEqual(["PAYLOAD_SCHEMA_VIOLATION", "UNDECLARED_CONSUMER", "UNDECLARED_PRODUCER", "UNDECLARED_PRODUCER"].sort());

    // Traffic on the silent channel: the next sweep resolves it.
    await ingest([observed(HUMIDITY, "plant/line-1/humidity", { samples: [sample({ value: 40 })], schema: inferred({ value: { type: "number" } }), producers: producers("line-sensor-1"), consumers: [] })]);
    // The catalog of the new version is the one judged (the cached one of before the publish is not): humidity is documented.
    expect(await finding("UNDOCUMENTED_TOPIC")).toMatchObject({ status: "resolved", resolution: "documented" });
    await sweepDrift(new Date());
    expect(await finding("SILENT_CHANNEL")).toMatchObject({ status: "resolved", resolution: "stopped" });
    expect(await eventsOf(silent.id)).toEqual(["opened", "resolved"]);
  });

  it("evidence cut inside a surrogate pair is stored, not refused", async () => {
    // The evidence keeps 1,000 characters of a payload: here the 1,000th is the first half of an emoji.
    const payload = { value: `${"a".repeat(989)}😀 tail` };
    await ingest([temperature(payload, { value: { type: "string" } })]);
    const violation = await finding("PAYLOAD_SCHEMA_VIOLATION");
    expect(violation.status).toBe("open");
    const kept = violation.evidence.samples?.[0];
    expect(kept).toMatchObject({ truncated: true, path: "/value" });
    expect(kept!.payload).toHaveLength(1_000);
    expect(kept!.payload.endsWith("\ufffd")).toBe(true);
  });

  it("a sweep while another instance sweeps does nothing", async () => {
    // PGlite has one connection: a second transaction cannot hold the lock meanwhile.
    if (backend !== "postgres") return;
    let release!: () => void;
    let taken!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const lockTaken = new Promise<void>((resolve) => (taken = resolve));
    const other = db().transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${DRIFT_SWEEP_LOCK_KEY})`);
      taken();
      await held;
    });
    await lockTaken;
    try {
      expect(await sweepDrift(new Date(Date.now() + 3 * DAY))).toEqual({ ran: false, opened: 0, reopened: 0, resolved: 0 });
    } finally {
      release();
      await other;
    }
    expect((await findings()).filter((f) => f.status !== "resolved").map((f) => f.rule)).toEqual(["PAYLOAD_SCHEMA_VIOLATION"]);
  });

  it("every change of a finding's state is one audit entry and one finding event, and the chain verifies", async () => {
    const drift = await db().select().from(auditEntry).where(like(auditEntry.action, "drift.finding.%"));
    const events = await db().select().from(driftFindingEvent);
    expect(drift).toHaveLength(events.length);
    const findingIds = (await findings()).map((f) => f.id);
    expect(new Set(drift.map((a) => a.targetId))).toEqual(new Set(findingIds));
    const withApp = await db().select({ id: driftFinding.id }).from(driftFinding).where(inArray(driftFinding.applicationId, Object.values(appIds)));
    const ids = new Set(withApp.map((f) => f.id));
    for (const entry of drift) {
      expect(entry.targetType).toBe("drift_finding");
      if (ids.has(entry.targetId)) expect(typeof entry.details.application).toBe("string");
    }
    expect(await verifyAuditChain(admin)).toMatchObject({ ok: true });
  });
});
