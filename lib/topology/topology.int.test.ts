import { eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { application, broker, brokerBridge, brokerLink, brokerTopic, contractVersion, observation } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { buildTopology, type TopologyGraph } from "./graph.ts";
import { getTopology, loadNeighbourhoodInput, loadTopologyInput, MAX_NEIGHBOURHOOD_CHANNELS } from "./topology.ts";

/** An AsyncAPI 3.0 contract with one operation per channel. */
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
      `        payload: { type: object, properties: { value: { type: number } } }`,
    );
    ops.push(`  op${i}:`, `    action: ${c.action}`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return [...lines, ...ops].join("\n") + "\n";
}

describeEachBackend("topology of an empty portal", () => {
  it("says nothing exists before anything does", async () => {
    const reader: Principal = { kind: "token", id: "t", name: "t", scopes: ["read"], teamId: null, createdBy: null };
    const view = await getTopology(reader, {});
    expect(view.totals).toEqual({ applications: 0, brokers: 0, channels: 0, observedTopics: 0 });
    expect(view.nodes).toEqual([]);
  });
});

describeEachBackend("topology", ({ handle }) => {
  const actor = systemPrincipal("test");
  const reader: Principal = { kind: "token", id: "t", name: "t", scopes: ["read"], teamId: null, createdBy: null };
  const nobody: Principal = { kind: "token", id: "a", name: "a", scopes: ["agent:report"], teamId: null, createdBy: null };
  const db = () => handle().db;
  const now = new Date();
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);

  beforeAll(async () => {
    await createTeam(actor, { slug: "plant-ops", name: "Plant Ops" });
    await createTeam(actor, { slug: "insights", name: "Insights" });
    await createApplication(actor, { slug: "line-sensors", name: "Line sensors", team: "plant-ops", domain: "manufacturing", clientIdPatterns: ["sensor-*"] });
    await createApplication(actor, { slug: "dashboard", name: "Dashboard", team: "insights", domain: "analytics", clientIdPatterns: ["dash-*"] });
    await publishVersion(actor, "line-sensors", { files: { "asyncapi.yaml": doc("Line sensors", "1.0.0", [{ address: "plant/{lineId}/temperature", action: "send" }]) } });
    // The first version was current long ago; 1.1.0 adds humidity now.
    await db().update(contractVersion).set({ publishedAt: hoursAgo(24 * 30) }).where(eq(contractVersion.version, "1.0.0"));
    await publishVersion(actor, "line-sensors", {
      files: {
        "asyncapi.yaml": doc("Line sensors", "1.1.0", [
          { address: "plant/{lineId}/temperature", action: "send" },
          { address: "plant/{lineId}/humidity", action: "send" },
        ]),
      },
    });
    await publishVersion(actor, "dashboard", { files: { "asyncapi.yaml": doc("Dashboard", "1.0.0", [{ address: "plant/{line}/temperature", action: "receive" }]) } });

    await db().insert(broker).values([{ id: "plant-1", name: "Plant 1" }, { id: "cloud", name: "Cloud" }]);
    await db().insert(brokerBridge).values({ id: "br1", fromBrokerId: "plant-1", toBrokerId: "cloud", topicFilter: "plant/#", direction: "out" });
    const topic = (template: string, topics: string[], lastSeen: Date, producers: string[], consumers: Array<{ clientId: string; filter: string }>) => ({
      brokerId: "plant-1",
      template,
      firstSeen: lastSeen,
      lastSeen,
      totalMessages: 10,
      totalBytes: 100,
      lastRatePerSecond: 1,
      lastWindowEnd: lastSeen,
      contentKind: "json",
      distinctTopics: topics.length,
      topics: topics.map((t) => ({ topic: t, messages: 5 })),
      samples: [],
      producers: producers.map((clientId) => ({ clientId, lastSeen: lastSeen.toISOString() })),
      consumers: consumers.map((c) => ({ ...c, lastSeen: lastSeen.toISOString() })),
    });
    await db()
      .insert(brokerTopic)
      .values([
        topic("plant/{p1}/temperature", ["plant/line-1/temperature"], hoursAgo(0.1), ["sensor-1"], [{ clientId: "dash-7", filter: "plant/+/temperature" }, { clientId: "mystery-1", filter: "#" }]),
        topic("debug/{p1}", ["debug/x"], hoursAgo(48), ["mystery-2"], []),
      ]);
    // A report window of ten days ago: the dashboard's client on the temperature template.
    await db().insert(observation).values({
      brokerId: "plant-1",
      batchId: "00000000-0000-4000-8000-000000000001",
      template: "plant/{p1}/temperature",
      windowStart: hoursAgo(24 * 10 + 1),
      windowEnd: hoursAgo(24 * 10),
      messages: 3,
      bytes: 30,
      minSize: 10,
      maxSize: 10,
      ratePerSecond: 0.1,
      qos: { q0: 3, q1: 0, q2: 0 },
      retained: 0,
      contentKind: "json",
      producers: [{ clientId: "sensor-1", messages: 3, bytes: 30 }],
      consumers: [{ clientId: "old-client", filter: "plant/#", qos: 0 }],
    });
    await db().update(application).set({ clientIdPatterns: ["dash-*"] }).where(eq(application.slug, "dashboard"));
  });

  it("draws declared and observed flows, undocumented topics, unknown clients, brokers and bridges, laid out", async () => {
    const view = await getTopology(reader, { group: "none" });
    const ids = view.nodes.map((n) => n.id).sort();
    expect(ids).toEqual([
      "application:dashboard",
      "application:line-sensors",
      "broker:cloud",
      "broker:plant-1",
      "channel:debug/{p1}",
      "channel:plant/{lineId}/humidity",
      "channel:plant/{lineId}/temperature",
      "channel:plant/{line}/temperature",
      "client:mystery-1",
      "client:mystery-2",
    ]);
    const edge = (kind: string, source: string, target: string) => view.edges.find((e) => e.kind === kind && e.source === source && e.target === target)?.state;
    expect(edge("send", "application:line-sensors", "channel:plant/{lineId}/temperature")).toBe("both");
    expect(edge("send", "application:line-sensors", "channel:plant/{lineId}/humidity")).toBe("declared");
    expect(edge("receive", "channel:plant/{line}/temperature", "application:dashboard")).toBe("both");
    expect(edge("receive", "channel:plant/{lineId}/temperature", "client:mystery-1")).toBe("observed");
    expect(edge("send", "client:mystery-2", "channel:debug/{p1}")).toBe("observed");
    expect(edge("carried", "channel:plant/{lineId}/temperature", "broker:plant-1")).toBe("observed");
    expect(edge("bridge", "broker:plant-1", "broker:cloud")).toBe("observed");
    expect(view.nodes.find((n) => n.id === "channel:debug/{p1}")).toMatchObject({ undocumented: true });
    expect(view.nodes.every((n) => Number.isFinite(n.x) && Number.isFinite(n.y) && n.width > 0)).toBe(true);
    expect(view.width).toBeGreaterThan(0);
    expect(view.choices.teams.map((t) => t.slug)).toEqual(["insights", "plant-ops"]);
    expect(view.choices.domains).toEqual(["analytics", "manufacturing"]);
    expect(view.truncated).toBe(false);
  });

  it("filters by window, team, broker and prefix", async () => {
    const recent = await getTopology(reader, { window: "24h", group: "none" });
    expect(recent.nodes.map((n) => n.id)).not.toContain("channel:debug/{p1}");
    expect(recent.nodes.map((n) => n.id)).toContain("client:mystery-1");
    const team = await getTopology(reader, { team: "insights", group: "none" });
    expect(team.nodes.map((n) => n.id)).toContain("application:dashboard");
    expect(team.nodes.map((n) => n.id)).not.toContain("channel:plant/{lineId}/humidity");
    const prefix = await getTopology(reader, { prefix: "debug/", group: "none" });
    expect(prefix.nodes.map((n) => n.id).sort()).toEqual(["broker:plant-1", "channel:debug/{p1}", "client:mystery-2"]);
    const cloud = await getTopology(reader, { broker: "cloud", group: "none" });
    expect(cloud.nodes.map((n) => n.id).sort()).toEqual(["broker:cloud", "broker:plant-1"]);
    const focus = await getTopology(reader, { focus: { kind: "application", slug: "dashboard" } });
    expect(focus.nodes.map((n) => n.id)).toContain("channel:plant/{line}/temperature");
    expect(focus.nodes.map((n) => n.id)).not.toContain("channel:plant/{lineId}/humidity");
  });

  it("draws a past date from the versions current then and the report windows of its window", async () => {
    const past = await getTopology(reader, { at: hoursAgo(24 * 9).toISOString().slice(0, 19) + "Z", window: "7d", group: "none" });
    const ids = past.nodes.map((n) => n.id);
    expect(ids).toContain("channel:plant/{lineId}/temperature");
    // 1.1.0 (with humidity) and the dashboard's contract were published after that date.
    expect(ids).not.toContain("channel:plant/{lineId}/humidity");
    expect(ids).not.toContain("channel:plant/{line}/temperature");
    expect(ids).toContain("client:old-client");
    expect(ids).not.toContain("client:mystery-1");
    expect(past.edges.find((e) => e.source === "application:line-sensors")?.state).toBe("both");
    expect(past.filters.at).toBeDefined();
  });

  it("refuses bad input with field errors, and callers without catalog:read", async () => {
    await expect(getTopology(reader, { window: "forever" })).rejects.toMatchObject({ status: 422, code: "invalid_input" });
    await expect(getTopology(reader, { at: "yesterday" })).rejects.toMatchObject({ status: 422, details: { fieldErrors: { at: [expect.any(String)] } } });
    await expect(getTopology(reader, { prefix: "x".repeat(501) })).rejects.toMatchObject({ status: 422 });
    await expect(getTopology(reader, { expand: Array.from({ length: 101 }, (_, i) => `team:${i}`).join(",") })).rejects.toMatchObject({ status: 422 });
    await expect(getTopology(nobody, {})).resolves.toBeDefined();
    const none: Principal = { kind: "token", id: "n", name: "n", scopes: [], teamId: null, createdBy: null };
    await expect(getTopology(none, {})).rejects.toMatchObject({ status: 403 });
  });
});

describeEachBackend("topology of a mesh of NATS, RabbitMQ and MQTT brokers", ({ handle }) => {
  const actor = systemPrincipal("test");
  const reader: Principal = { kind: "token", id: "t", name: "t", scopes: ["read"], teamId: null, createdBy: null };
  const db = () => handle().db;
  const now = new Date();

  beforeAll(async () => {
    await createTeam(actor, { slug: "orders", name: "Orders" });
    await createApplication(actor, { slug: "order-service", name: "Order service", team: "orders", clientIdPatterns: [] });
    await createApplication(actor, { slug: "billing", name: "Billing", team: "orders", clientIdPatterns: ["billing-*"] });
    await publishVersion(actor, "order-service", { files: { "asyncapi.yaml": doc("Order service", "1.0.0", [{ address: "orders.{region}.created", action: "send" }]) } });
    await publishVersion(actor, "billing", { files: { "asyncapi.yaml": doc("Billing", "1.0.0", [{ address: "invoice.{region}.paid", action: "send" }]) } });
    await db().insert(broker).values([
      { id: "orders-nats", name: "Orders NATS", protocol: "nats" },
      { id: "billing-rabbit", name: "Billing RabbitMQ", protocol: "amqp" },
      { id: "plant-eu", name: "Plant EU", protocol: "mqtt" },
    ]);
    const topic = (brokerId: string, template: string, topics: string[], producers: string[] = []) => ({
      brokerId,
      template,
      firstSeen: now,
      lastSeen: now,
      totalMessages: 10,
      totalBytes: 100,
      lastRatePerSecond: 1,
      lastWindowEnd: now,
      contentKind: "json",
      distinctTopics: topics.length,
      topics: topics.map((t) => ({ topic: t, messages: 5 })),
      samples: [],
      producers: producers.map((clientId) => ({ clientId, lastSeen: now.toISOString() })),
      consumers: [],
    });
    await db()
      .insert(brokerTopic)
      .values([
        topic("orders-nats", "orders.{p1}.created", ["orders.eu.created"]),
        // Two tokens where the channel has one: another subject, undocumented.
        topic("orders-nats", "orders.{p1}.{p2}.created", ["orders.eu.west.created"]),
        topic("billing-rabbit", "invoice.{p1}.paid", ["invoice.eu.paid"], ["billing-1"]),
      ]);
    await db().insert(brokerLink).values([
      { brokerId: "orders-nats", kind: "rabbitmq-shovel", name: "s1", remote: "amqp://rabbit:5672", remoteBrokerId: "billing-rabbit", direction: "in", topics: ["invoice.>"] },
      { brokerId: "orders-nats", kind: "nats-route", name: "r1", remote: "nats-route://10.9.9.9:6222", remoteBrokerId: null, direction: "both", topics: [] },
    ]);
  });

  it("matches each broker's templates in its own syntax and draws resolved discovered links as bridges", async () => {
    const view = await getTopology(reader, { group: "none" });
    const edge = (kind: string, source: string, target: string) => view.edges.find((e) => e.kind === kind && e.source === source && e.target === target);
    expect(edge("carried", "channel:orders.{region}.created", "broker:orders-nats")?.state).toBe("observed");
    expect(edge("carried", "channel:orders.{p1}.{p2}.created", "broker:orders-nats")).toBeDefined();
    expect(view.nodes.find((n) => n.key === "orders.{p1}.{p2}.created")).toMatchObject({ undocumented: true });
    expect(edge("carried", "channel:invoice.{region}.paid", "broker:billing-rabbit")).toBeDefined();
    expect(edge("send", "application:billing", "channel:invoice.{region}.paid")?.state).toBe("both");
    expect(view.edges.filter((e) => e.kind === "bridge").map((e) => [e.source, e.target, e.label])).toEqual([["broker:billing-rabbit", "broker:orders-nats", "invoice.>"]]);
    expect(view.nodes.find((n) => n.key === "billing-rabbit")).toMatchObject({ detail: "RabbitMQ · billing-rabbit" });
  });
});

describeEachBackend("topology neighbourhoods read alone", ({ handle }) => {
  const actor = systemPrincipal("test");
  const reader: Principal = { kind: "token", id: "t", name: "t", scopes: ["read"], teamId: null, createdBy: null };
  const db = () => handle().db;
  const now = new Date();

  beforeAll(async () => {
    await createTeam(actor, { slug: "plant", name: "Plant" });
    const apps: Array<[string, string[], Array<{ address: string; action: "send" | "receive" }>]> = [
      ["sensors", ["sensor-*"], [{ address: "plant/{line}/temperature", action: "send" }, { address: "plant/{line}/status", action: "receive" }]],
      ["dashboard", ["dash-*"], [{ address: "plant/{site}/temperature", action: "receive" }, { address: "reports/daily", action: "send" }]],
      ["orders", ["orders-*"], [{ address: "orders.{region}.created", action: "send" }]],
      ["unrelated", ["other-*"], [{ address: "fleet/{truck}/position", action: "send" }, { address: "fleet/{truck}/fuel", action: "receive" }]],
      ["wide", [], [{ address: "{tenant}/audit", action: "receive" }]],
    ];
    for (const [slug, patterns, channels] of apps) {
      await createApplication(actor, { slug, name: slug, team: "plant", clientIdPatterns: patterns });
      await publishVersion(actor, slug, { files: { "asyncapi.yaml": doc(slug, "1.0.0", channels) } });
    }
    await db().insert(broker).values([
      { id: "edge", name: "Edge" },
      { id: "cloud", name: "Cloud" },
      { id: "fleet", name: "Fleet" },
      { id: "bus", name: "Bus", protocol: "nats" },
    ]);
    await db().insert(brokerBridge).values([
      { id: "b1", fromBrokerId: "edge", toBrokerId: "cloud", topicFilter: "plant/#", direction: "out" },
      { id: "b2", fromBrokerId: "fleet", toBrokerId: "cloud", topicFilter: "fleet/#", direction: "out" },
    ]);
    const topic = (brokerId: string, template: string, topics: string[], producers: string[], consumers: string[]) => ({
      brokerId,
      template,
      firstSeen: now,
      lastSeen: now,
      totalMessages: 10,
      totalBytes: 100,
      lastRatePerSecond: 1,
      lastWindowEnd: now,
      contentKind: "json",
      distinctTopics: topics.length,
      topics: topics.map((t) => ({ topic: t, messages: 5 })),
      samples: [],
      producers: producers.map((clientId) => ({ clientId, lastSeen: now.toISOString() })),
      consumers: consumers.map((clientId) => ({ clientId, filter: "#", lastSeen: now.toISOString() })),
    });
    await db()
      .insert(brokerTopic)
      .values([
        topic("edge", "plant/{p1}/temperature", ["plant/l1/temperature"], ["sensor-1"], ["dash-1", "stranger-1"]),
        topic("cloud", "plant/{p1}/temperature", ["plant/l2/temperature"], ["sensor-2"], ["dash-2"]),
        // The sensors' client on a topic no contract declares, and on another's channel.
        topic("edge", "plant/{p1}/debug", ["plant/l1/debug"], ["sensor-1"], []),
        topic("cloud", "reports/daily", ["reports/daily"], ["sensor-3"], []),
        topic("edge", "{p1}/audit", ["acme/audit"], ["stranger-2"], []),
        topic("fleet", "fleet/{p1}/position", ["fleet/t1/position"], ["other-1"], ["stranger-1"]),
        topic("fleet", "fleet/{p1}/fuel", ["fleet/t1/fuel"], [], ["other-2"]),
        topic("cloud", "misc/{p1}", ["misc/a"], ["stranger-3"], []),
        topic("bus", "orders.{p1}.created", ["orders.eu.created"], ["orders-1"], ["dash-3"]),
      ]);
  });

  const drawn = (g: TopologyGraph) => ({
    nodes: g.nodes.map((n) => ({ ...n })).sort((a, b) => (a.id < b.id ? -1 : 1)),
    edges: g.edges.map((e) => [e.id, e.state, e.count]).sort(),
  });

  it.each([
    { kind: "application", slug: "sensors" },
    { kind: "application", slug: "dashboard" },
    { kind: "application", slug: "orders" },
    { kind: "application", slug: "missing" },
    { kind: "channel", address: "plant/{line}/temperature" },
    { kind: "channel", address: "plant/{p1}/debug" },
    { kind: "channel", address: "{tenant}/audit" },
    { kind: "channel", address: "orders.{region}.created" },
    { kind: "broker", id: "edge" },
    { kind: "broker", id: "cloud" },
    { kind: "broker", id: "fleet" },
    { kind: "broker", id: "bus" },
  ] as const)("draws the neighbourhood of %j as the whole mesh narrowed to it does", async (focus) => {
    const options = { focus, group: "none" } as const;
    const whole = buildTopology(await loadTopologyInput(db(), { window: "all" }), options);
    const alone = buildTopology(await loadNeighbourhoodInput(db(), { window: "all" }, focus), options);
    expect(drawn(alone)).toEqual(drawn(whole));
    if (focus.kind !== "application" || focus.slug !== "missing") expect(whole.nodes.length).toBeGreaterThan(1);
  });

  it("reads less than the whole mesh for a neighbourhood", async () => {
    const whole = await loadTopologyInput(db(), { window: "all" });
    const alone = await loadNeighbourhoodInput(db(), { window: "all" }, { kind: "broker", id: "fleet" });
    // A topic whose first level is a parameter may meet any channel: it is read, and decided in code.
    // `{p1}/audit` starts with a parameter, so the database hands it over too; it has two levels and meets none of them.
    expect(alone.observations.map((o) => o.template).sort()).toEqual(["fleet/{p1}/fuel", "fleet/{p1}/position"]);
    expect(alone.observations.length).toBeLessThan(whole.observations.length);
    const view = await getTopology(reader, { focus: { kind: "broker", id: "fleet" }, group: "none" });
    expect(view.nodes.map((n) => n.id)).toContain("application:unrelated");
    expect(view.nodes.map((n) => n.id)).not.toContain("application:sensors");
  });

  it("draws a broker carrying more channels than a neighbourhood holds around its busiest topics, and says it is partial", async () => {
    const count = MAX_NEIGHBOURHOOD_CHANNELS + 30;
    await db().insert(broker).values({ id: "bulk", name: "Bulk" });
    await db()
      .insert(brokerTopic)
      .values(
        Array.from({ length: count }, (_, i) => ({
          brokerId: "bulk",
          template: `bulk/${String(i).padStart(4, "0")}/level`,
          firstSeen: now,
          lastSeen: now,
          // The lower the number, the busier.
          totalMessages: 10_000 - i,
          totalBytes: 100,
          lastRatePerSecond: 1,
          lastWindowEnd: now,
          contentKind: "json",
          distinctTopics: 1,
          topics: [{ topic: `bulk/${String(i).padStart(4, "0")}/level`, messages: 5 }],
          samples: [],
          producers: [{ clientId: `bulk-${i}`, lastSeen: now.toISOString() }],
          consumers: [],
        })),
      );
    const view = await getTopology(reader, { focus: { kind: "broker", id: "bulk" }, group: "none" });
    expect(view.truncated).toBe(true);
    const channels = view.nodes.filter((n) => n.kind === "channel").map((n) => n.key);
    expect(channels).toHaveLength(MAX_NEIGHBOURHOOD_CHANNELS);
    expect(channels).toContain("bulk/0000/level");
    expect(channels).toContain(`bulk/${String(MAX_NEIGHBOURHOOD_CHANNELS - 1).padStart(4, "0")}/level`);
    expect(channels).not.toContain(`bulk/${String(count - 1).padStart(4, "0")}/level`);
    // Each channel drawn keeps its whole neighbourhood: its producer's client.
    expect(view.edges.filter((e) => e.kind === "send")).toHaveLength(MAX_NEIGHBOURHOOD_CHANNELS);
    await db().delete(brokerTopic).where(eq(brokerTopic.brokerId, "bulk"));
    await db().delete(broker).where(eq(broker.id, "bulk"));
  });
});
