import { eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { application, broker, brokerTopic, type Application } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { evaluateChange, parseContract, type Contract } from "@/registry/index.ts";
import { clientMapper, consumersOf, loadImpact, MAX_APPLICATIONS_PER_CLIENT } from "./impact.ts";

/** An AsyncAPI 3.0 contract with one message per channel and the given actions on it. */
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
      `        payload: ${JSON.stringify(c.payload ?? { type: "object", properties: { value: { type: "number" } } })}`,
    );
    ops.push(`  op${i}:`, `    action: ${c.action}`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return [...lines, ...ops].join("\n") + "\n";
}

async function contractOf(text: string): Promise<Contract> {
  const parsed = await parseContract({ "asyncapi.yaml": text });
  expect(parsed.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return parsed.contract!;
}

describeEachBackend("change impact", ({ handle }) => {
  const actor = systemPrincipal("test");
  const db = () => handle().db;
  const appBySlug = async (slug: string): Promise<Application> => (await db().select().from(application).where(eq(application.slug, slug)))[0]!;
  let baseline: Contract;
  let breakingChange: () => Promise<{ proposed: Contract; evaluation: ReturnType<typeof evaluateChange> }>;

  beforeAll(async () => {
    await createTeam(actor, { slug: "plant-ops", name: "Plant Ops" });
    await createTeam(actor, { slug: "maintenance", name: "Maintenance" });
    await createTeam(actor, { slug: "insights", name: "Insights" });
    await createTeam(actor, { slug: "commerce", name: "Commerce" });
    await createApplication(actor, { slug: "line-sensors", name: "Line sensors", team: "plant-ops" });
    await createApplication(actor, { slug: "machine-monitor", name: "Machine monitor", team: "maintenance" });
    await createApplication(actor, { slug: "dashboard", name: "Dashboard", team: "insights" });
    await createApplication(actor, { slug: "order-service", name: "Order service", team: "commerce" });

    const owned = doc("Line sensors", "1.0.0", [{ address: "plant/{lineId}/temperature", action: "send" }]);
    await publishVersion(actor, "line-sensors", { files: { "asyncapi.yaml": owned } });
    baseline = await contractOf(owned);
    // Declared: receives the same topics through a template with another parameter name.
    await publishVersion(actor, "machine-monitor", { files: { "asyncapi.yaml": doc("Machine monitor", "1.0.0", [{ address: "plant/{line}/temperature", action: "receive" }]) } });
    // Unaffected: receives on another channel.
    await publishVersion(actor, "order-service", { files: { "asyncapi.yaml": doc("Order service", "1.0.0", [{ address: "orders/{id}", action: "receive" }]) } });
    // Observed only: the dashboard has no contract, but its clients are `dash-*`.
    await db().update(application).set({ clientIdPatterns: ["dash-*"] }).where(eq(application.slug, "dashboard"));
    // The owner's own clients are its own, not a counterpart.
    await db().update(application).set({ clientIdPatterns: ["sensor-*"] }).where(eq(application.slug, "line-sensors"));

    await db().insert(broker).values({ id: "plant-1", name: "Plant 1" });
    const now = new Date("2026-11-30T12:00:00.000Z");
    const topic = (template: string, consumers: Array<{ clientId: string; filter?: string }>, producers: string[]) => ({
      brokerId: "plant-1",
      template,
      firstSeen: now,
      lastSeen: now,
      totalMessages: 10,
      totalBytes: 100,
      lastRatePerSecond: 1,
      lastWindowEnd: now,
      contentKind: "json",
      distinctTopics: 3,
      topics: [],
      samples: [],
      producers: producers.map((clientId) => ({ clientId, lastSeen: now.toISOString() })),
      consumers: consumers.map((c) => ({ ...c, lastSeen: now.toISOString() })),
    });
    await db()
      .insert(brokerTopic)
      .values([
        topic("plant/{id}/temperature", [{ clientId: "dash-7", filter: "plant/+/temperature" }, { clientId: "mystery-1", filter: "#" }], ["sensor-1"]),
        topic("orders/{id}", [{ clientId: "dash-8", filter: "orders/+" }, { clientId: "mystery-2" }], []),
      ]);
  });

  it("finds the declared and observed consumers of a breaking change, the unclaimed clients, and leaves the others out", async () => {
    const app = await appBySlug("line-sensors");
    breakingChange = async () => {
      const proposed = await contractOf(
        doc("Line sensors", "2.0.0", [{ address: "plant/{lineId}/temperature", action: "send", payload: { type: "object", properties: { value: { type: "string" } } } }]),
      );
      return { proposed, evaluation: evaluateChange({ contract: proposed, diagnostics: [] }, [{ version: "1.0.0", state: "released", contract: baseline }], { mode: "BACKWARD" }) };
    };
    const { proposed, evaluation } = await breakingChange();
    expect(evaluation.report?.compatible).toBe(false);

    const impact = await loadImpact(db(), app, baseline, proposed, evaluation);
    expect(impact.channels.map((c) => [c.address, c.action, c.breaking])).toEqual([["plant/{lineId}/temperature", "send", true]]);
    expect(impact.applications.map((a) => [a.application.slug, a.application.teamSlug, a.role, a.breaking])).toEqual([
      ["dashboard", "insights", "consumer", true],
      ["machine-monitor", "maintenance", "consumer", true],
    ]);
    const monitor = impact.applications.find((a) => a.application.slug === "machine-monitor")!;
    expect(monitor.evidence).toEqual([{ kind: "contract", version: "1.0.0", channel: "plant/{line}/temperature", messageKey: "Message0", meets: "plant/{lineId}/temperature" }]);
    expect(monitor.findings.some((f) => f.verdict === "breaking" && f.breaking)).toBe(true);
    const dashboard = impact.applications.find((a) => a.application.slug === "dashboard")!;
    expect(dashboard.evidence).toEqual([
      { kind: "observed", brokerId: "plant-1", clientId: "dash-7", template: "plant/{id}/temperature", filter: "plant/+/temperature", lastSeen: "2026-11-30T12:00:00.000Z", meets: "plant/{lineId}/temperature" },
    ]);
    expect(impact.unknownClients.map((u) => [u.brokerId, u.clientId, u.role, u.template])).toEqual([["plant-1", "mystery-1", "consumer", "plant/{id}/temperature"]]);
    expect(impact.applications.map((a) => a.application.slug)).not.toContain("order-service");
    expect(impact.truncated).toBe(false);
  });

  it("names the consumers of what an application's current version sends", async () => {
    const consumers = await consumersOf(db(), await appBySlug("line-sensors"));
    expect(consumers.map((c) => c.slug)).toEqual(["dashboard", "machine-monitor"]);
    // The order service sends nothing; nobody consumes from it.
    expect(await consumersOf(db(), await appBySlug("order-service"))).toEqual([]);
  });

  it("counts an observed client for every application whose pattern matches it, so the owner cannot hide another team's consumer", async () => {
    // The owner claims the dashboard's client with a more specific pattern; a second team's wallboard matches it too.
    await db().update(application).set({ clientIdPatterns: ["sensor-*", "dash-7"] }).where(eq(application.slug, "line-sensors"));
    await createTeam(actor, { slug: "visuals", name: "Visuals" });
    await createApplication(actor, { slug: "wallboard", name: "Wallboard", team: "visuals", clientIdPatterns: ["*-7"] });
    // A consumer only the owner's patterns match stays the owner's own: neither affected nor unknown.
    const now = new Date("2026-11-30T12:00:00.000Z");
    await db()
      .insert(brokerTopic)
      .values({
        brokerId: "plant-1",
        template: "plant/line-9/temperature",
        firstSeen: now,
        lastSeen: now,
        totalMessages: 1,
        totalBytes: 10,
        lastRatePerSecond: 1,
        lastWindowEnd: now,
        contentKind: "json",
        distinctTopics: 1,
        topics: [],
        samples: [],
        producers: [],
        consumers: [{ clientId: "sensor-echo", lastSeen: now.toISOString() }],
      });
    const app = await appBySlug("line-sensors");
    const { proposed, evaluation } = await breakingChange();
    const impact = await loadImpact(db(), app, baseline, proposed, evaluation);
    expect(impact.applications.map((a) => [a.application.slug, a.application.teamSlug, a.role, a.breaking])).toEqual([
      ["dashboard", "insights", "consumer", true],
      ["machine-monitor", "maintenance", "consumer", true],
      ["wallboard", "visuals", "consumer", true],
    ]);
    for (const slug of ["dashboard", "wallboard"]) {
      const affected = impact.applications.find((a) => a.application.slug === slug)!;
      expect(affected.evidence.map((e) => (e.kind === "observed" ? e.clientId : e.kind))).toEqual(["dash-7"]);
    }
    expect(impact.unknownClients.map((u) => u.clientId)).toEqual(["mystery-1"]);
    expect(impact.truncated).toBe(false);
    expect((await consumersOf(db(), app)).map((c) => c.slug)).toEqual(["dashboard", "machine-monitor", "wallboard"]);
  });

  it("maps a client to at most a bounded number of applications, most specific pattern first, and says when it cut", () => {
    const ref = (slug: string) => ({ id: `app_${slug}`, slug, name: slug, teamId: "t", teamSlug: "t", teamName: "t" });
    const owners = Array.from({ length: MAX_APPLICATIONS_PER_CLIENT + 10 }, (_, i) => ({ ref: ref(`any-${String(i).padStart(3, "0")}`), patterns: ["*"] }));
    owners.push({ ref: ref("zz-exact"), patterns: ["other-*", "dash-7"] }, { ref: ref("nobody"), patterns: ["orders-*"] });
    const map = clientMapper(owners);
    const { applications, cut } = map("dash-7");
    expect(applications).toHaveLength(MAX_APPLICATIONS_PER_CLIENT);
    expect(cut).toBe(true);
    expect(applications.slice(0, 3).map((a) => a.slug)).toEqual(["zz-exact", "any-000", "any-001"]);
    expect(applications.map((a) => a.slug)).not.toContain("nobody");
    expect(clientMapper([{ ref: ref("dash"), patterns: ["dash-*"] }])("mystery-1")).toEqual({ applications: [], cut: false });
  });
});
