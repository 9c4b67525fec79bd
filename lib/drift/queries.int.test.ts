/** The drift dashboard's reads: the findings list and its filters, the counts, the trends and one finding. */
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import * as findingsRoute from "@/app/api/v1/drift/findings/route.ts";
import * as findingRoute from "@/app/api/v1/drift/findings/[id]/route.ts";
import * as acknowledgeRoute from "@/app/api/v1/drift/findings/[id]/acknowledge/route.ts";
import { broker, driftFinding, driftFindingEvent } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { declareBroker } from "@/lib/brokers/brokers.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { newId } from "@/lib/ids.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import type { DriftRuleId, DriftSeverity } from "@/registry/drift/types.ts";
import { driftSummary, driftTrends, escapeLike, getFinding, listFindings } from "./queries.ts";

const user = (u: { id: string; email: string; name: string }, role: "admin" | "reviewer" | "editor" | "viewer"): Principal => ({ kind: "user", id: u.id, email: u.email, name: u.name, role });
const DAY = 86_400_000;

describeEachBackend("drift queries", ({ handle }) => {
  let admin: Principal;
  let viewer: Principal;
  let readToken: string;
  let plantToken: string;
  let otherToken: string;
  const db = () => handle().db;
  const ids: Record<string, string> = {};
  let sensorsId = "";
  let monitorId = "";

  async function seed(name: string, f: { rule: DriftRuleId; severity: DriftSeverity; status?: "open" | "acknowledged" | "resolved"; brokerId?: string | null; template?: string | null; channel?: string | null; applicationId?: string | null; clientId?: string | null; summary: string; lastSeen?: Date }) {
    const id = newId("drift");
    ids[name] = id;
    const now = f.lastSeen ?? new Date();
    await db()
      .insert(driftFinding)
      .values({
        id,
        subjectKey: randomBytes(16).toString("hex"),
        rule: f.rule,
        severity: f.severity,
        status: f.status ?? "open",
        brokerId: f.brokerId ?? null,
        template: f.template ?? null,
        channel: f.channel ?? null,
        applicationId: f.applicationId ?? null,
        clientId: f.clientId ?? null,
        summary: f.summary,
        evidence: { topics: ["plant/line-1/humidity"], messages: 12 },
        firstSeen: new Date(now.getTime() - 3600_000),
        lastSeen: now,
        occurrences: 12,
      });
    return id;
  }

  beforeAll(async () => {
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = user(a, "admin");
    viewer = user(await createUser(admin, { name: "Vic", email: "vic@example.com", password: "correct horse battery", role: "viewer" }), "viewer");
    await createTeam(admin, { slug: "plant-ops", name: "Plant Ops" });
    await createTeam(admin, { slug: "maintenance", name: "Maintenance" });
    sensorsId = (await createApplication(admin, { slug: "line-sensors", name: "Line sensors", team: "plant-ops" })).id;
    monitorId = (await createApplication(admin, { slug: "machine-monitor", name: "Machine monitor", team: "maintenance" })).id;
    await declareBroker(admin, { id: "plant-eu", name: "Plant EU" });
    await declareBroker(admin, { id: "plant-us", name: "Plant US" });
    readToken = (await createToken(admin, { name: "read", scopes: ["read"] })).secret;
    plantToken = (await createToken(admin, { name: "plant", scopes: ["contracts:write"], teamSlug: "plant-ops" })).secret;
    otherToken = (await createToken(admin, { name: "other", scopes: ["contracts:write"], teamSlug: "maintenance" })).secret;

    await seed("undocumented", { rule: "UNDOCUMENTED_TOPIC", severity: "warning", brokerId: "plant-eu", template: "plant/{p1}/humidity", summary: "Undocumented topic plant/{p1}/humidity (12 messages)" });
    await seed("violation", { rule: "PAYLOAD_SCHEMA_VIOLATION", severity: "error", brokerId: "plant-eu", template: "plant/{p1}/temperature", channel: "plant/{lineId}/temperature", applicationId: sensorsId, summary: "3 of 10 payloads fail the schema of plant/{lineId}/temperature" });
    await seed("field", { rule: "UNDOCUMENTED_FIELD", severity: "info", status: "acknowledged", brokerId: "plant-us", template: "plant/{p1}/temperature", channel: "plant/{lineId}/temperature", applicationId: sensorsId, summary: "Undocumented field /unit_100%" });
    await seed("consumer", { rule: "UNDECLARED_CONSUMER", severity: "warning", brokerId: "plant-us", template: "alarms/{p1}", applicationId: monitorId, clientId: "monitor-7", summary: "monitor-7 subscribes to alarms/{p1}" });
    await seed("resolved", { rule: "UNKNOWN_CLIENT", severity: "info", status: "resolved", brokerId: "plant-eu", clientId: "ghost", summary: "Unknown client ghost" });
  });

  it("lists open and acknowledged findings by default, most severe first, with their names", async () => {
    const { findings, total, hasNext } = await listFindings(viewer, {});
    expect(total).toBe(4);
    expect(hasNext).toBe(false);
    expect(findings[0]!.id).toBe(ids.violation);
    expect(findings.map((f) => f.severity)).toEqual(["error", "warning", "warning", "info"]);
    const violation = findings[0]!;
    expect(violation).toMatchObject({ application: { slug: "line-sensors", name: "Line sensors" }, team: { slug: "plant-ops", name: "Plant Ops" }, broker: { id: "plant-eu", name: "Plant EU" }, url: `/drift/${ids.violation}` });
    expect(findings.find((f) => f.id === ids.undocumented)).toMatchObject({ application: null, team: null });
    expect(findings.some((f) => f.id === ids.resolved)).toBe(false);
  });

  it("filters by status, rule, severity, team, application, broker, channel, template prefix and text", async () => {
    const only = async (filter: Record<string, unknown>) => (await listFindings(viewer, filter)).findings.map((f) => f.id).sort();
    expect(await only({ status: "resolved" })).toEqual([ids.resolved]);
    expect(await only({ status: "all" })).toHaveLength(5);
    expect(await only({ status: "acknowledged" })).toEqual([ids.field]);
    expect(await only({ rule: "UNDOCUMENTED_TOPIC" })).toEqual([ids.undocumented]);
    expect(await only({ severity: "error" })).toEqual([ids.violation]);
    expect(await only({ team: "maintenance" })).toEqual([ids.consumer]);
    expect(await only({ application: "line-sensors" })).toEqual([ids.violation, ids.field].sort());
    expect(await only({ broker: "plant-us" })).toEqual([ids.consumer, ids.field].sort());
    expect(await only({ channel: "plant/{lineId}/temperature" })).toEqual([ids.violation, ids.field].sort());
    expect(await only({ template: "plant/" })).toEqual([ids.undocumented, ids.violation, ids.field].sort());
    expect(await only({ template: "alarms" })).toEqual([ids.consumer]);
    expect(await only({ text: "MONITOR-7" })).toEqual([ids.consumer]);
    // % and _ are plain characters, not wildcards.
    expect(await only({ text: "100%" })).toEqual([ids.field]);
    expect(await only({ text: "%" })).toEqual([ids.field]);
    expect(await only({ text: "_" })).toEqual([ids.field]);
    expect(await only({ template: "%" })).toEqual([]);
    expect(escapeLike("a%b_c\\")).toBe("a\\%b\\_c\\\\");
  });

  it("pages on the server, and refuses unbounded input", async () => {
    const first = await listFindings(viewer, { limit: 3 });
    const second = await listFindings(viewer, { limit: 3, offset: 3 });
    expect(first.hasNext).toBe(true);
    expect(second.hasNext).toBe(false);
    expect([...first.findings, ...second.findings].map((f) => f.id).sort()).toEqual([ids.undocumented, ids.violation, ids.field, ids.consumer].sort());
    await expect(listFindings(viewer, { limit: 1000 })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(listFindings(viewer, { offset: 1_000_000 })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(listFindings(viewer, { text: "x".repeat(201) })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(listFindings(viewer, { rule: "NOT_A_RULE" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(listFindings(viewer, { text: "a\u0000b" })).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("counts by rule, severity, team and broker, and says whether any broker reports", async () => {
    const summary = await driftSummary(viewer, {});
    expect(summary.total).toBe(4);
    expect(summary.byRule).toMatchObject({ UNDOCUMENTED_TOPIC: 1, PAYLOAD_SCHEMA_VIOLATION: 1, UNDOCUMENTED_FIELD: 1, UNDECLARED_CONSUMER: 1, UNKNOWN_CLIENT: 0, SILENT_CHANNEL: 0 });
    expect(summary.bySeverity).toEqual({ error: 1, warning: 2, info: 1 });
    expect(summary.byTeam).toEqual(expect.arrayContaining([{ team: { slug: "plant-ops", name: "Plant Ops" }, count: 2 }, { team: { slug: "maintenance", name: "Maintenance" }, count: 1 }, { team: null, count: 1 }]));
    expect(summary.byBroker).toEqual(expect.arrayContaining([{ broker: { id: "plant-eu", name: "Plant EU" }, count: 2 }, { broker: { id: "plant-us", name: "Plant US" }, count: 2 }]));
    expect(summary.openAnywhere).toBe(3);
    expect(summary.acknowledgedAnywhere).toBe(1);
    expect(summary.brokers).toEqual({ declared: 2, reported: 0, reportingNow: 0, windowSeconds: 86_400, lastReportAt: null });
    // A broker that last reported longer ago than the stale window has reported, but does not report now.
    await db().update(broker).set({ lastReportAt: new Date(Date.now() - 2 * DAY) }).where(eq(broker.id, "plant-eu"));
    expect((await driftSummary(viewer, {})).brokers).toMatchObject({ declared: 2, reported: 1, reportingNow: 0 });
    const reportedAt = new Date(Date.now() - 60_000);
    await db().update(broker).set({ lastReportAt: reportedAt }).where(eq(broker.id, "plant-eu"));
    expect((await driftSummary(viewer, { broker: "plant-us" })).brokers).toMatchObject({ declared: 2, reported: 1, reportingNow: 1 });
    expect((await driftSummary(viewer, { broker: "plant-us" })).total).toBe(2);
    expect((await driftSummary(viewer, { application: "line-sensors", status: "all" })).byRule.PAYLOAD_SCHEMA_VIOLATION).toBe(1);
  });

  it("draws the trend per day from the state changes, with the unresolved count at the end of each day", async () => {
    const now = Date.now();
    const event = (findingId: string, kind: "opened" | "reopened" | "resolved" | "acknowledged", daysAgo: number) => ({ findingId, kind, rule: "UNDOCUMENTED_TOPIC" as const, actorLabel: "drift", at: new Date(now - daysAgo * DAY) });
    await db()
      .insert(driftFindingEvent)
      .values([
        event(ids.undocumented!, "opened", 2),
        event(ids.violation!, "opened", 2),
        event(ids.field!, "opened", 1),
        event(ids.field!, "acknowledged", 1),
        event(ids.consumer!, "opened", 0),
        event(ids.resolved!, "opened", 2),
        event(ids.resolved!, "resolved", 1),
        event(ids.resolved!, "opened", 200),
      ]);
    const { days } = await driftTrends(viewer, { days: 4 });
    expect(days).toHaveLength(4);
    const today = new Date(now).toISOString().slice(0, 10);
    expect(days[3]!.day).toBe(today);
    // Now: 4 unresolved. Today one opened; yesterday one opened and one resolved; two days ago three opened.
    expect(days.map((d) => [d.opened, d.resolved, d.open])).toEqual([
      [0, 0, 0],
      [3, 0, 3],
      [1, 1, 3],
      [1, 0, 4],
    ]);
    expect((await driftTrends(viewer, {})).days).toHaveLength(30);
    await expect(driftTrends(viewer, { days: 91 })).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("shows one finding with its evidence, names and history; a long or unknown id is a 404", async () => {
    const view = await getFinding(viewer, ids.field!);
    expect(view).toMatchObject({ rule: "UNDOCUMENTED_FIELD", status: "acknowledged", application: { id: sensorsId, slug: "line-sensors" }, team: { slug: "plant-ops" }, broker: { id: "plant-us", name: "Plant US" }, evidence: { messages: 12 } });
    expect(view.events.map((e) => e.kind)).toEqual(["opened", "acknowledged"]);
    await expect(getFinding(viewer, "drift_nope")).rejects.toMatchObject({ code: "not_found:drift_finding" });
    await expect(getFinding(viewer, "x".repeat(5000))).rejects.toMatchObject({ code: "not_found:drift_finding" });
    await expect(getFinding(viewer, "drift_\u0000")).rejects.toMatchObject({ code: "not_found:drift_finding" });
  });

  it("answers the findings routes with filters as query, JSON errors for bad input, 401 without a caller", async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each route types its own params
    const get = async (route: { GET: (r: Request, c: { params: Promise<any> }) => Promise<Response> }, path: string, params: Record<string, string> = {}, auth = true) => {
      const response = await route.GET(new Request(`http://localhost:3000/api/v1/${path}`, { headers: auth ? { authorization: `Bearer ${readToken}` } : {} }), { params: Promise.resolve(params) });
      return { status: response.status, body: await response.json() };
    };
    const list = await get(findingsRoute, "drift/findings?rule=UNDECLARED_CONSUMER&team=maintenance");
    expect(list.status).toBe(200);
    expect(list.body.findings.map((f: { id: string }) => f.id)).toEqual([ids.consumer]);
    const bad = await get(findingsRoute, "drift/findings?limit=5000");
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("invalid_input");
    expect((await get(findingsRoute, "drift/findings", {}, false)).status).toBe(401);
    const one = await get(findingRoute, `drift/findings/${ids.violation}`, { id: ids.violation! });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: ids.violation, rule: "PAYLOAD_SCHEMA_VIOLATION", application: { slug: "line-sensors" } });
    const missing = await get(findingRoute, "drift/findings/nope", { id: "nope" });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found:drift_finding");
  });

  it("acknowledges with a note and takes it back through the route, for the owning team only", async () => {
    const call = async (method: "POST" | "DELETE", token: string, body?: unknown) => {
      const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } };
      if (body !== undefined) init.body = JSON.stringify(body);
      const response = await acknowledgeRoute[method](new Request(`http://localhost:3000/api/v1/drift/findings/${ids.violation}/acknowledge`, init), { params: Promise.resolve({ id: ids.violation! }) });
      return { status: response.status, body: await response.json() };
    };
    expect((await call("POST", otherToken, { note: "not ours" })).status).toBe(403);
    const empty = await call("POST", plantToken, { note: "" });
    expect(empty.status).toBe(422);
    expect(empty.body.error.code).toBe("invalid_input");
    const acknowledged = await call("POST", plantToken, { note: "Firmware 2.3 rolls out next week" });
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body).toMatchObject({ status: "acknowledged", note: "Firmware 2.3 rolls out next week" });
    expect((await getFinding(viewer, ids.violation!)).status).toBe("acknowledged");
    const back = await call("DELETE", plantToken);
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ status: "open", note: null });
    expect((await getFinding(viewer, ids.violation!)).events.map((e) => e.kind)).toEqual(["opened", "acknowledged", "unacknowledged"]);
    const get = await acknowledgeRoute.GET(new Request(`http://localhost:3000/api/v1/drift/findings/${ids.violation}/acknowledge`));
    expect(get.status).toBe(405);
  });
});
