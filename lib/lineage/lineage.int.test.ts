import { eq, and } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { application, contractVersion } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { declareBridge, declareBroker } from "@/lib/brokers/brokers.ts";
import { forgetDriftCatalog } from "@/lib/drift/catalog.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { report, topic } from "@/lib/ingest/report-fixtures.ts";
import { ingestReport } from "@/lib/ingest/reports.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import * as lineageRoute from "@/app/api/v1/lineage/route.ts";
import * as versionsRoute from "@/app/api/v1/lineage/versions.csv/route.ts";
import { channelLineage } from "./lineage.ts";

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
      `      reading:`,
      `        name: Reading`,
      `        payload: ${JSON.stringify(c.payload ?? { type: "object", properties: { value: { type: "number" } } })}`,
    );
    ops.push(`  op${i}:`, `    action: ${c.action}`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return [...lines, ...ops].join("\n") + "\n";
}

const CHANNEL = "plant/{lineId}/temperature";
const DAY = 86_400_000;

describeEachBackend("lineage", ({ handle }) => {
  const actor = systemPrincipal("test");
  const viewer: Principal = { kind: "user", id: "usr_viewer", email: "vic@example.com", name: "Vic", role: "viewer" };
  const now = Date.now();
  const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString();
  let readToken: string;
  let adminToken: string;

  beforeAll(async () => {
    // Each backend's database starts its catalog generations afresh: the process must not keep the other's.
    forgetDriftCatalog();
    await createTeam(actor, { slug: "plant-ops", name: "Plant Ops" });
    await createTeam(actor, { slug: "insights", name: "Insights" });
    await createApplication(actor, { slug: "line-sensors", name: "Line sensors", team: "plant-ops", clientIdPatterns: ["sensor-*"] });
    await createApplication(actor, { slug: "dashboard", name: "Dashboard", team: "insights", clientIdPatterns: ["dash-*"] });
    // No contract: whatever its clients do is observed only.
    await createApplication(actor, { slug: "historian", name: "Historian", team: "insights", clientIdPatterns: ["hist-*"] });

    const publish = (version: string, payload?: object) =>
      publishVersion(actor, "line-sensors", { files: { "asyncapi.yaml": doc("Line sensors", version, [{ address: CHANNEL, action: "send", payload }]) } });
    await publish("1.0.0");
    await publish("1.0.1");
    // A compatible change: another payload schema.
    await publish("1.1.0", { type: "object", description: "A reading in degrees Celsius.", properties: { value: { type: "number" } } });
    await publishVersion(actor, "dashboard", { files: { "asyncapi.yaml": doc("Dashboard", "1.0.0", [{ address: "plant/{line}/temperature", action: "receive" }]) } });
    // The history: 1.0.0 ten days ago, 1.0.1 five, 1.1.0 one.
    const sensors = (await handle().db.select({ id: application.id }).from(application).where(eq(application.slug, "line-sensors")))[0]!;
    for (const [version, days] of [["1.0.0", 10], ["1.0.1", 5], ["1.1.0", 1]] as const) {
      await handle()
        .db.update(contractVersion)
        .set({ publishedAt: new Date(now - days * DAY) })
        .where(and(eq(contractVersion.applicationId, sensors.id), eq(contractVersion.version, version)));
    }
    const dashboard = (await handle().db.select({ id: application.id }).from(application).where(eq(application.slug, "dashboard")))[0]!;
    await handle().db.update(contractVersion).set({ publishedAt: new Date(now - 20 * DAY) }).where(eq(contractVersion.applicationId, dashboard.id));

    for (const [id, name] of [["edge", "Edge"], ["core", "Core"], ["cloud", "Cloud"], ["offices", "Offices"]]) await declareBroker(actor, { id: id!, name: name! });
    await declareBridge(actor, { fromBrokerId: "edge", toBrokerId: "core", topicFilter: "plant/#" });
    await declareBridge(actor, { fromBrokerId: "core", toBrokerId: "cloud", topicFilter: "plant/+/temperature" });
    // Back to the start: the walk stops there.
    await declareBridge(actor, { fromBrokerId: "cloud", toBrokerId: "edge", topicFilter: "#" });
    // Carries other topics only.
    await declareBridge(actor, { fromBrokerId: "edge", toBrokerId: "offices", topicFilter: "orders/#" });

    await ingestReport(
      actor,
      report(1, [topic("plant/{p1}/temperature", 10, { consumers: [{ clientId: "dash-1", filter: "plant/+/temperature", qos: 1 }], producers: [{ clientId: "sensor-1", messages: 10, bytes: 1000 }] })], iso(-20_000), iso(-10_000), "edge"),
    );
    await ingestReport(
      actor,
      report(
        1,
        [
          topic("plant/{p1}/temperature", 10, {
            producers: [{ clientId: "edge-bridge", messages: 10, bytes: 1000 }],
            consumers: [
              { clientId: "dash-2", filter: "plant/#", qos: 0 },
              { clientId: "hist-1", filter: "plant/+/temperature", qos: 1 },
            ],
          }),
          // Another channel on the same broker: not part of this lineage.
          topic("plant/{p1}/pressure", 4, { producers: [{ clientId: "sensor-9", messages: 4, bytes: 400 }], consumers: [] }),
        ],
        iso(-20_000),
        iso(-10_000),
        "core",
      ),
    );
    // Three days ago, on the edge broker only.
    await ingestReport(
      actor,
      report(2, [topic("plant/{p1}/temperature", 6, { producers: [{ clientId: "sensor-1", messages: 6, bytes: 600 }], consumers: [] })], iso(-3 * DAY - 60_000), iso(-3 * DAY - 50_000), "edge"),
    );

    const created = await createFirstAdmin(actor, { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    const admin: Principal = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    readToken = (await createToken(admin, { name: "reader", scopes: ["read"] })).secret;
    adminToken = (await createToken(admin, { name: "auditor", scopes: ["admin"] })).secret;
  });

  it("marks producers and consumers declared, observed or both, and names unknown clients", async () => {
    const lineage = await channelLineage(actor, { channel: CHANNEL });
    expect(lineage.declaredChannels).toEqual([CHANNEL, "plant/{line}/temperature"]);
    expect(lineage.producers.map((p) => [p.application.slug, p.mark, p.declared.map((d) => d.version), p.observed.map((o) => `${o.brokerId}/${o.clientId}`)])).toEqual([
      ["line-sensors", "both", ["1.1.0"], ["edge/sensor-1"]],
    ]);
    expect(lineage.consumers.map((c) => [c.application.slug, c.mark, c.observed.map((o) => `${o.brokerId}/${o.clientId}/${o.filter}`)])).toEqual([
      ["dashboard", "both", ["core/dash-2/plant/#", "edge/dash-1/plant/+/temperature"]],
      ["historian", "observed", ["core/hist-1/plant/+/temperature"]],
    ]);
    expect(lineage.unknownClients.map((u) => [u.brokerId, u.clientId, u.role])).toEqual([["core", "edge-bridge", "producer"]]);
    expect(lineage.truncated).toBe(false);
  });

  it("follows the bridges that carry the channel to the brokers it reaches, once each", async () => {
    const lineage = await channelLineage(actor, { channel: CHANNEL });
    expect(lineage.brokers.map((b) => [b.brokerId, b.observed, b.hop, b.messages])).toEqual([
      ["core", true, null, 10],
      // Both reports of the edge broker: now, and three days ago.
      ["edge", true, null, 16],
      ["cloud", false, 1, 0],
    ]);
    expect(lineage.brokers[0]!.topics.map((t) => [t.template, t.topics])).toEqual([["plant/{p1}/temperature", ["plant/line-1/temperature"]]]);
    expect(lineage.bridges.map((b) => [b.fromBrokerId, b.toBrokerId, b.topicFilter, b.hop])).toEqual([
      ["core", "cloud", "plant/+/temperature", 1],
      ["edge", "core", "plant/#", 1],
      ["cloud", "edge", "#", 2],
    ]);
  });

  it("lists the producer's versions with their payload schemas and where the schema changed", async () => {
    const lineage = await channelLineage(actor, { channel: CHANNEL });
    const versions = lineage.versions.map((v) => [v.application.slug, v.version, v.state, v.change, v.schemaChanged]);
    expect(versions).toEqual([
      ["line-sensors", "1.0.0", "released", "added", false],
      ["line-sensors", "1.0.1", "released", "unchanged", false],
      ["line-sensors", "1.1.0", "released", "changed", true],
    ]);
    const ids = lineage.versions.map((v) => v.schemas.map((s) => s.payloadSchemaId));
    expect(ids[0]).toEqual(ids[1]);
    expect(ids[2]![0]).not.toEqual(ids[1]![0]);
    expect(lineage.versions[2]).toMatchObject({ publishedByLabel: "test", changeRequest: null, action: "send", schemas: [{ channel: CHANNEL, messageKey: "Reading" }] });
  });

  it("shows who changed the producers' contracts to those who read the audit log only", async () => {
    const lineage = await channelLineage(actor, { channel: CHANNEL });
    expect(lineage.changes.visible).toBe(true);
    expect(lineage.changes.entries.map((e) => [e.action, e.application, e.version])).toEqual([
      ["contract.publish", "line-sensors", "1.1.0"],
      ["contract.publish", "line-sensors", "1.0.1"],
      ["contract.publish", "line-sensors", "1.0.0"],
    ]);
    const seen = await channelLineage(viewer, { channel: CHANNEL });
    expect(seen.changes).toEqual({ visible: false, entries: [], truncated: false });
    expect(seen.producers).toEqual(lineage.producers);
  });

  it("reads the lineage as it stood at a past instant: the version current then, what the agents saw in the window before", async () => {
    const lineage = await channelLineage(actor, { channel: CHANNEL, at: new Date(now - 3 * DAY) });
    expect(lineage.producers.map((p) => [p.application.slug, p.mark, p.declared.map((d) => d.version), p.observed.map((o) => o.clientId)])).toEqual([
      ["line-sensors", "both", ["1.0.1"], ["sensor-1"]],
    ]);
    expect(lineage.brokers.map((b) => [b.brokerId, b.observed, b.messages])).toEqual([
      ["edge", true, 6],
      ["core", false, 0],
      ["cloud", false, 0],
    ]);
    expect(lineage.versions.map((v) => v.version)).toEqual(["1.0.0", "1.0.1"]);
    expect(lineage.changes.entries.map((e) => e.version)).toEqual([]);
    expect(lineage.window).toEqual({ from: new Date(now - 4 * DAY).toISOString(), to: new Date(now - 3 * DAY).toISOString() });
  });

  it("narrows to one message, and takes an application's side", async () => {
    const one = await channelLineage(actor, { channel: CHANNEL, message: "Reading", application: "dashboard" });
    expect(one.application).toBe("dashboard");
    expect(one.versions.map((v) => [v.application.slug, v.version, v.action])).toEqual([
      ["line-sensors", "1.0.0", "send"],
      ["line-sensors", "1.0.1", "send"],
      ["line-sensors", "1.1.0", "send"],
      ["dashboard", "1.0.0", "receive"],
    ]);
    await expect(channelLineage(actor, { channel: CHANNEL, message: "nope" })).rejects.toMatchObject({ code: "not_found:message" });
    await expect(channelLineage(actor, { channel: CHANNEL, application: "historian" })).rejects.toMatchObject({ code: "not_found:channel" });
    await expect(channelLineage(actor, { channel: CHANNEL, application: "ghost" })).rejects.toMatchObject({ code: "not_found:application" });
  });

  it("refuses unknown channels, bad addresses and overlong input", async () => {
    await expect(channelLineage(actor, { channel: "orders/{id}" })).rejects.toMatchObject({ code: "not_found:channel" });
    await expect(channelLineage(actor, { channel: "plant/+/temperature" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(channelLineage(actor, { channel: "é".repeat(1025) })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(channelLineage(actor, { channel: CHANNEL, at: "yesterday" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(channelLineage(actor, { channel: CHANNEL, application: "line\u0000sensors" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(channelLineage(actor, { channel: "plant/\u0000/temperature" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(channelLineage({ kind: "token", id: "t", name: "agent", scopes: [], teamId: null, createdBy: null }, { channel: CHANNEL })).rejects.toMatchObject({ code: "forbidden" });
  });

  const get = (route: typeof lineageRoute | typeof versionsRoute, query: string, token: string) =>
    route.GET(new Request(`http://localhost:3000/api/v1/lineage?${query}`, { headers: { authorization: `Bearer ${token}` } }), { params: Promise.resolve({}) });

  it("answers the API in JSON and as CSV edges and versions", async () => {
    const channel = encodeURIComponent(CHANNEL);
    const asJson = await get(lineageRoute, `channel=${channel}`, adminToken);
    expect(asJson.status).toBe(200);
    const body = (await asJson.json()) as { producers: unknown[]; changes: { visible: boolean } };
    expect(body.producers).toHaveLength(1);
    expect(body.changes.visible).toBe(true);

    const asCsv = await get(lineageRoute, `channel=${channel}&format=csv`, readToken);
    expect(asCsv.status).toBe(200);
    expect(asCsv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(asCsv.headers.get("content-disposition")).toMatch(/^attachment; filename="meshport-lineage-plant_lineId_temperature-\d{8}T\d{6}Z\.csv"$/);
    const lines = (await asCsv.text()).split("\r\n");
    expect(lines[0]).toBe("from,to,kind,broker,declared_observed,last_seen");
    const rows = lines.slice(1, -1).map((l) => l.split(",").slice(0, 5).join(","));
    expect(rows).toEqual([
      "line-sensors,edge:plant/{p1}/temperature,produces,edge,both",
      "edge-bridge,core:plant/{p1}/temperature,produces,core,observed",
      "core,cloud,bridge,core,declared",
      "edge,core,bridge,edge,declared",
      "cloud,edge,bridge,cloud,declared",
      "core:plant/{p1}/temperature,dashboard,consumes,core,both",
      "edge:plant/{p1}/temperature,dashboard,consumes,edge,both",
      "core:plant/{p1}/temperature,historian,consumes,core,observed",
    ]);

    const versions = await get(versionsRoute, `channel=${channel}`, readToken);
    expect(versions.status).toBe(200);
    const versionLines = (await versions.text()).split("\r\n");
    expect(versionLines[0]).toBe("application,version,state,published_at,published_by,change_request,action,channel,message,payload_schema_id,change,schema_changed");
    expect(versionLines.slice(1, -1).map((l) => { const c = l.split(","); return [c[1], c[10], c[11]].join(" "); })).toEqual(["1.0.0 added no", "1.0.1 unchanged no", "1.1.0 changed yes"]);
  });

  it("answers errors in the API's shape", async () => {
    const missing = await get(lineageRoute, `channel=${encodeURIComponent("orders/{id}")}`, readToken);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found:channel" } });
    const bad = await get(lineageRoute, `channel=${encodeURIComponent(CHANNEL)}&format=xml`, readToken);
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_input", details: { fieldErrors: { format: [expect.any(String)] } } } });
    const none = await get(lineageRoute, "", readToken);
    expect(none.status).toBe(422);
    const refused = lineageRoute.POST(new Request("http://localhost:3000/api/v1/lineage", { method: "POST" }));
    expect(refused.status).toBe(405);
  });
});

describeEachBackend("lineage across NATS and RabbitMQ brokers", () => {
  const actor = systemPrincipal("test");
  const reader: Principal = { kind: "token", id: "t", name: "t", scopes: ["read"], teamId: null, createdBy: null };
  const at = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString();

  beforeAll(async () => {
    await createTeam(actor, { slug: "orders", name: "Orders" });
    await createApplication(actor, { slug: "order-service", name: "Order service", team: "orders", clientIdPatterns: [] });
    await createApplication(actor, { slug: "order-audit", name: "Order audit", team: "orders", clientIdPatterns: ["order-audit*"] });
    await publishVersion(actor, "order-service", { files: { "asyncapi.yaml": doc("Order service", "1.0.0", [{ address: "orders.{region}.created", action: "send" }]) } });
    await publishVersion(actor, "order-audit", { files: { "asyncapi.yaml": doc("Order audit", "1.0.0", [{ address: "orders.{region}.created", action: "receive" }]) } });
    await declareBroker(actor, { id: "billing-rabbit", name: "Billing", url: "amqp://127.0.0.1:5672", protocol: "amqp" });
    await declareBroker(actor, { id: "archive", name: "Archive", url: "mqtt://127.0.0.1:1883" });
    // Subjects on NATS; a shovel-like link carries them on to RabbitMQ; nothing tells what reaches the archive.
    const subject = (template: string, listed: string) => ({ ...topic(template, 6), topics: [{ topic: listed, messages: 6 }], producers: [], consumers: [{ clientId: "order-audit-1", filter: "orders.*.created", qos: 0 }] });
    const nats = report(1, [subject("orders.{p1}.created", "orders.eu.created"), subject("orders.{p1}.{p2}.created", "orders.eu.west.created")], at(-20), at(-10), "orders-nats");
    await ingestReport(actor, {
      ...nats,
      broker: { ...nats.broker, url: "nats://127.0.0.1:4222", protocol: "nats", protocolVersion: null },
      capabilities: { producers: false, consumers: true, producerSource: "none", consumerSource: "monitoring", sys: false, retainFlag: "none", bridges: true },
      bridges: [
        { kind: "rabbitmq-shovel", name: "to-billing", remote: "amqp://127.0.0.1:5672", direction: "out", topics: ["orders.>"], state: "running" },
        { kind: "nats-leafnode", name: "archive", remote: "archive", direction: "out", topics: [], state: null },
      ],
    });
  });

  it("meets a NATS subject template token by token, and follows resolved discovered links that carry it", async () => {
    const lineage = await channelLineage(reader, { channel: "orders.{region}.created" });
    expect(lineage.brokers.map((b) => [b.brokerId, b.observed, b.hop, b.topics.map((t) => t.template)])).toEqual([
      ["orders-nats", true, null, ["orders.{p1}.created"]],
      ["billing-rabbit", false, 1, []],
    ]);
    expect(lineage.bridges).toEqual([
      {
        id: "link:orders-nats/rabbitmq-shovel/to-billing",
        fromBrokerId: "orders-nats",
        toBrokerId: "billing-rabbit",
        topicFilter: "orders.>",
        direction: "out",
        reverse: false,
        hop: 1,
        discovered: { kind: "rabbitmq-shovel", reportedBy: "orders-nats" },
      },
    ]);
    expect(lineage.consumers.map((c) => [c.application.slug, c.mark])).toEqual([["order-audit", "both"]]);
  });

  it("reads the history of a NATS broker in its syntax too", async () => {
    const lineage = await channelLineage(reader, { channel: "orders.{region}.created", at: at(0) });
    expect(lineage.brokers.filter((b) => b.observed).map((b) => [b.brokerId, b.topics.map((t) => t.template)])).toEqual([["orders-nats", ["orders.{p1}.created"]]]);
  });
});
