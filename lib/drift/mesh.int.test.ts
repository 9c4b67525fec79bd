/** Drift on the brokers of a mesh: a NATS broker's report is judged in NATS subject syntax, with what its agent can tell. */
import { and, asc, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import type { TopicObservation } from "@/agents/protocol.ts";
import { channelActivity, driftFinding, type DriftFinding } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { ingestReport } from "@/lib/ingest/reports.ts";
import { dottedTopic, natsReport } from "@/lib/ingest/report-fixtures.ts";

/** An AsyncAPI 3.0 contract with one message per channel, its payload a number `value`. */
function doc(title: string, version: string, channels: Array<{ address: string; action: "send" | "receive" }>): string {
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
      `        payload: { type: object, properties: { value: { type: number } }, required: [value] }`,
    );
    ops.push(`  op${i}:`, `    action: ${c.action}`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return [...lines, ...ops].join("\n") + "\n";
}

const CREATED = "orders.{p1}.created";
const REGIONAL = "orders.{p1}.{p2}.created";

describeEachBackend("drift on a NATS broker", ({ handle }) => {
  const agent = systemPrincipal("agent");
  const db = () => handle().db;
  let admin: Principal;
  const appIds: Record<string, string> = {};
  const at = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString();
  let sequence = 0;

  function observed(template: string, concrete: string, extra: Partial<TopicObservation> = {}): TopicObservation {
    return dottedTopic(template, 10, { topics: [{ topic: concrete, messages: 10 }], firstSeen: at(-10), lastSeen: at(-1), ...extra });
  }
  const sample = (payload: unknown) => ({ at: at(-5), size: 20, encoding: "json" as const, payload: JSON.stringify(payload), truncated: false, redacted: false });
  const findings = async (): Promise<DriftFinding[]> => db().select().from(driftFinding).orderBy(asc(driftFinding.rule), asc(driftFinding.id));

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    await createTeam(admin, { slug: "commerce", name: "Commerce" });
    const apps: Array<[string, string, string[]]> = [
      ["order-service", "Order service", ["order-service-*"]],
      ["order-audit", "Order audit", ["order-audit"]],
      ["billing", "Billing", ["billing-*"]],
    ];
    for (const [slug, name, clientIdPatterns] of apps) appIds[slug] = (await createApplication(admin, { slug, name, team: "commerce", clientIdPatterns })).id;
    await publishVersion(admin, "order-service", { files: { "asyncapi.yaml": doc("Order service", "1.0.0", [{ address: "orders.{region}.created", action: "send" }]) } });
    await publishVersion(admin, "order-audit", { files: { "asyncapi.yaml": doc("Order audit", "1.0.0", [{ address: "orders.{region}.created", action: "receive" }]) } });
    await publishVersion(admin, "billing", { files: { "asyncapi.yaml": doc("Billing", "1.0.0", [{ address: "invoices.{id}", action: "receive" }]) } });
  });

  it("judges a NATS report in subject syntax: the right findings on the right channel, no producer judged", async () => {
    sequence++;
    const outcome = await ingestReport(
      agent,
      natsReport(
        sequence,
        [
          observed(CREATED, "orders.eu.created", {
            samples: [sample({ value: "hot" })],
            // NATS never names publishers: a producer listed anyway decides nothing.
            producers: [{ clientId: "stranger-1", messages: 10, bytes: 1000 }],
            consumers: [
              { clientId: "order-audit", filter: "orders.*.created", qos: 0 },
              { clientId: "billing-7", filter: "orders.>", qos: 0 },
            ],
          }),
          // Two tokens between orders and created: {region} is one token, so no channel declares it.
          observed(REGIONAL, "orders.eu.west.created", { samples: [], consumers: [] }),
        ],
        at(-15),
        at(0),
      ),
    );
    expect(outcome.duplicate).toBe(false);

    const all = await findings();
    expect(all.map((f) => f.rule)).toEqual(["PAYLOAD_SCHEMA_VIOLATION", "UNDECLARED_CONSUMER", "UNDOCUMENTED_TOPIC"]);
    expect(all.every((f) => f.brokerId === "orders-nats" && f.status === "open")).toBe(true);
    const [violation, consumer, undocumented] = all;
    expect(violation).toMatchObject({ template: CREATED, channel: "orders.{region}.created", applicationId: appIds["order-service"] });
    expect(violation!.evidence).toMatchObject({ validated: 1, failed: 1, version: "1.0.0" });
    expect(consumer).toMatchObject({ template: CREATED, applicationId: appIds.billing });
    expect(consumer!.evidence.clients).toEqual([{ clientId: "billing-7", filter: "orders.>", role: "consumer" }]);
    expect(undocumented).toMatchObject({ template: REGIONAL, channel: null });
    expect(undocumented!.evidence.topics).toEqual(["orders.eu.west.created"]);
    expect(all.some((f) => f.rule === "UNDECLARED_PRODUCER" || f.rule === "UNKNOWN_CLIENT")).toBe(false);

    // The silent-channel record: the NATS subject met the sender's channel on this broker.
    const activity = await db()
      .select()
      .from(channelActivity)
      .where(and(eq(channelActivity.applicationId, appIds["order-service"]!), eq(channelActivity.channel, "orders.{region}.created")));
    expect(activity).toHaveLength(1);
    expect(activity[0]!.brokerIds).toEqual(["orders-nats"]);
  });

  it("judges the stored subjects again in subject syntax when a contract changes", async () => {
    // Billing now receives order events: its consumer is declared. Read as MQTT, orders.eu.west.created would now
    // meet orders.{region}.created (one level, dots and all); read as NATS it still meets no channel.
    await publishVersion(admin, "billing", {
      files: { "asyncapi.yaml": doc("Billing", "1.1.0", [{ address: "invoices.{id}", action: "receive" }, { address: "orders.{region}.created", action: "receive" }]) },
    });
    const all = await findings();
    const byRule = new Map(all.map((f) => [f.rule, f]));
    expect(byRule.get("UNDECLARED_CONSUMER")).toMatchObject({ status: "resolved" });
    expect(byRule.get("UNDOCUMENTED_TOPIC")).toMatchObject({ template: REGIONAL, status: "open" });
    expect(byRule.get("PAYLOAD_SCHEMA_VIOLATION")).toMatchObject({ status: "open" });
  });
});
