/** The drift pages as their readers see them: the dashboard's honest empty states, a finding's evidence and forms, the panel. */
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { beforeAll, expect, it, vi } from "vitest";
import { broker, driftFinding } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { declareBroker } from "@/lib/brokers/brokers.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { driftSummary, driftTrends, getFinding, listFindings } from "@/lib/drift/queries.ts";
import { newId } from "@/lib/ids.ts";
import type { DriftEvidence, DriftRuleId, DriftSeverity } from "@/registry/drift/types.ts";
import { FindingContent } from "./[id]/finding-view.tsx";
import { DriftDashboard } from "./dashboard-view.tsx";
import { DriftPanel } from "./drift-panel.tsx";
import { readDriftFilters } from "./format.ts";

const session = vi.hoisted(() => ({ principal: null as unknown }));
vi.mock("@/app/_lib/session.ts", () => ({ requireUser: async () => session.principal, requireActor: async () => session.principal }));

const user = (u: { id: string; email: string; name: string }, role: "admin" | "reviewer" | "editor" | "viewer"): Principal => ({ kind: "user", id: u.id, email: u.email, name: u.name, role });
const testIds = (html: string) => [...html.matchAll(/data-testid="([^"]+)"/g)].map((m) => m[1]!);

describeEachBackend("drift pages", ({ handle }) => {
  let admin: Principal;
  let viewer: Principal;
  let sensorsId = "";
  const db = () => handle().db;

  async function seed(f: { rule: DriftRuleId; severity: DriftSeverity; status?: "open" | "acknowledged" | "resolved"; template?: string; channel?: string; applicationId?: string; evidence?: DriftEvidence; summary: string }) {
    const id = newId("drift");
    await db()
      .insert(driftFinding)
      .values({
        id,
        subjectKey: randomBytes(16).toString("hex"),
        rule: f.rule,
        severity: f.severity,
        status: f.status ?? "open",
        brokerId: "plant-eu",
        template: f.template ?? null,
        channel: f.channel ?? null,
        applicationId: f.applicationId ?? null,
        summary: f.summary,
        evidence: f.evidence ?? {},
        firstSeen: new Date(Date.now() - 60_000),
        lastSeen: new Date(),
        occurrences: 3,
      });
    return id;
  }

  async function dashboard(query: Record<string, string> = {}) {
    const filters = readDriftFilters(query);
    const [list, summary, trends] = await Promise.all([listFindings(viewer, { ...filters, limit: 50 }), driftSummary(viewer, filters), driftTrends(viewer, { days: 30 })]);
    return renderToStaticMarkup(
      createElement(DriftDashboard, { filters, page: 1, pageSize: 50, maxPage: 10, list, summary, trend: trends.days, teams: [], brokers: [{ id: "plant-eu", name: "Plant EU" }], applications: [] }),
    );
  }

  beforeAll(async () => {
    admin = user(await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" }), "admin");
    viewer = user(await createUser(admin, { name: "Vic", email: "vic@example.com", password: "correct horse battery", role: "viewer" }), "viewer");
    await createTeam(admin, { slug: "plant-ops", name: "Plant Ops" });
    sensorsId = (await createApplication(admin, { slug: "line-sensors", name: "Line sensors", team: "plant-ops" })).id;
    await declareBroker(admin, { id: "plant-eu", name: "Plant EU" });
  });

  it("says that nothing was judged while no broker reports, and 'No drift' only once one does and nothing is open", async () => {
    let html = await dashboard();
    expect(testIds(html)).toContain("drift-empty");
    expect(html).toContain("No broker reports yet");
    expect(html).not.toContain(">No drift<");
    await db().update(broker).set({ lastReportAt: new Date() }).where(eq(broker.id, "plant-eu"));
    html = await dashboard();
    expect(html).toContain(">No drift<");
    expect(html).toContain("1 of 1 brokers report");
    // The broker stopped reporting longer ago than the stale window: nothing open, but nothing is being compared either.
    await db().update(broker).set({ lastReportAt: new Date(Date.now() - 2 * 86_400_000) }).where(eq(broker.id, "plant-eu"));
    html = await dashboard();
    expect(testIds(html)).toContain("drift-empty");
    expect(html).toContain("No broker reported in the last day; nothing is being compared");
    expect(html).not.toContain(">No drift<");
    expect(html).not.toContain("matches the contracts");
    await db().update(broker).set({ lastReportAt: new Date() }).where(eq(broker.id, "plant-eu"));
    await seed({ rule: "UNDOCUMENTED_FIELD", severity: "info", status: "acknowledged", summary: "Known field" });
    html = await dashboard();
    expect(html).toContain(">No drift<");
    expect(html).toContain("1 acknowledged finding remains");
    // An open finding anywhere: no empty state, even when the filters show none.
    await seed({ rule: "UNDOCUMENTED_TOPIC", severity: "warning", template: "plant/{p1}/humidity", summary: "Undocumented plant/{p1}/humidity" });
    html = await dashboard({ rule: "SILENT_CHANNEL" });
    expect(testIds(html)).not.toContain("drift-empty");
    expect(testIds(html)).toContain("drift-findings-none");
    // Open findings while no broker reports now: the standing warns that nothing is being compared.
    await db().update(broker).set({ lastReportAt: new Date(Date.now() - 2 * 86_400_000) }).where(eq(broker.id, "plant-eu"));
    html = await dashboard();
    expect(html).toMatch(/class="alert alert-warn" data-testid="drift-standing">[^<]*No broker reported in the last day; nothing is being compared/);
    await db().update(broker).set({ lastReportAt: new Date() }).where(eq(broker.id, "plant-eu"));
  });

  it("shows a tile per rule with its count, the trend, and the findings linking to their pages", async () => {
    const html = await dashboard();
    const ids = testIds(html);
    for (const id of ["drift-summary", "drift-summary-UNDOCUMENTED_TOPIC", "drift-summary-VERSION_SKEW", "drift-trend", "drift-findings", "drift-finding-row"]) expect(ids).toContain(id);
    expect(ids.filter((i) => i === "drift-finding-row")).toHaveLength(2);
    expect(html).toMatch(/data-testid="drift-summary-UNDOCUMENTED_TOPIC"[\s\S]*?data-testid="drift-summary-count">1</);
    expect(html).toMatch(/data-testid="drift-summary-SILENT_CHANNEL"[\s\S]*?data-testid="drift-summary-count">0</);
    expect(html).toContain("<svg");
    expect(html).toMatch(/href="\/drift\/drift_[^"]+"/);
  });

  it("shows a finding's evidence with the failing path highlighted, its history, and the forms its reader may use", async () => {
    const id = await seed({
      rule: "PAYLOAD_SCHEMA_VIOLATION",
      severity: "error",
      template: "plant/{p1}/temperature",
      channel: "plant/{lineId}/temperature",
      applicationId: sensorsId,
      summary: "1 of 4 payloads fail",
      evidence: { validated: 4, failed: 1, rate: 0.25, version: "1.0.0", samples: [{ at: new Date().toISOString(), topic: "plant/l1/temperature", payload: '{"value":"hot","unit":"C"}', truncated: false, path: "/value", problem: "must be number" }] },
    });
    const finding = await getFinding(viewer, id);
    const asViewer = renderToStaticMarkup(createElement(FindingContent, { finding, writes: false, importTo: null }));
    const ids = testIds(asViewer);
    for (const t of ["drift-finding", "drift-evidence", "drift-history", "drift-sample-hit"]) expect(ids).toContain(t);
    expect(ids).not.toContain("drift-acknowledge");
    expect(asViewer).toMatch(/data-testid="drift-sample-hit"[^>]*>\s*&quot;value&quot;: &quot;hot&quot;,</);
    expect(asViewer.match(/data-testid="drift-sample-hit"/g)).toHaveLength(1);
    expect(asViewer).toContain("must be number");
    expect(asViewer).toContain("1 of 4 failed (25 %)");
    const asWriter = renderToStaticMarkup(createElement(FindingContent, { finding, writes: true, importTo: null }));
    expect(testIds(asWriter)).toContain("drift-acknowledge");
    expect(testIds(asWriter)).not.toContain("drift-import");

    const topic = await getFinding(viewer, (await listFindings(viewer, { rule: "UNDOCUMENTED_TOPIC" })).findings[0]!.id);
    const importing = renderToStaticMarkup(createElement(FindingContent, { finding: topic, writes: true, importTo: { applications: [{ slug: "line-sensors", name: "Line sensors" }], channel: "plant/{plantId}/humidity" } }));
    expect(testIds(importing)).toContain("drift-import");
    expect(importing).toContain('value="plant/{plantId}/humidity"');
  });

  it("renders the panel of an application with its counts by rule and a link to the filtered dashboard", async () => {
    session.principal = viewer;
    const html = renderToStaticMarkup(await DriftPanel({ scope: { application: "line-sensors" } }));
    const ids = testIds(html);
    expect(ids).toContain("drift-panel");
    expect(ids).toContain("drift-summary-PAYLOAD_SCHEMA_VIOLATION");
    expect(ids.filter((i) => i === "drift-finding-row")).toHaveLength(1);
    expect(html).toContain('href="/drift?application=line-sensors"');
    const none = renderToStaticMarkup(await DriftPanel({ scope: { channel: "nowhere/{x}" } }));
    expect(testIds(none)).toContain("drift-panel-none");
    expect(testIds(renderToStaticMarkup(await DriftPanel({ scope: { broker: "plant-eu" } }))).filter((i) => i === "drift-finding-row")).toHaveLength(3);
  });
});
