import { describe, expect, it } from "vitest";
import { buildTopology, type TopologyInput, type TopologyObservation } from "./graph.ts";
import { layoutNeighbourhood, layoutTopology } from "./layout.ts";
import { escapeXml, renderTopologySvg } from "./svg.ts";

const app = (slug: string, teamSlug = "plant", domain = "manufacturing") => ({ id: `id-${slug}`, slug, name: slug.replace(/-/g, " "), teamSlug, teamName: `Team ${teamSlug}`, domain });

function input(over: Partial<TopologyInput> = {}): TopologyInput {
  return {
    applications: [app("machine-monitor"), app("dashboard", "ops", "operations")],
    flows: [
      { applicationId: "id-machine-monitor", channel: "plant/{lineId}/temperature", action: "send" },
      { applicationId: "id-dashboard", channel: "plant/{lineId}/temperature", action: "receive" },
    ],
    brokers: [],
    bridges: [],
    observations: [],
    mapClient: () => [],
    ...over,
  };
}

const seen = (over: Partial<TopologyObservation> = {}): TopologyObservation => ({
  brokerId: "plant-eu",
  template: "plant/{p1}/temperature",
  topics: ["plant/line-1/temperature"],
  distinctTopics: 1,
  messages: 10,
  lastSeen: "2026-11-30T10:00:00.000Z",
  producers: [],
  consumers: [],
  ...over,
});

const edge = (g: ReturnType<typeof buildTopology>, kind: string, source: string, target: string) => g.edges.find((e) => e.kind === kind && e.source === source && e.target === target);

describe("buildTopology", () => {
  it("draws declared flows only: producer → channel → consumer, marked declared", () => {
    const g = buildTopology(input());
    expect(g.nodes.map((n) => n.id).sort()).toEqual(["application:dashboard", "application:machine-monitor", "channel:plant/{lineId}/temperature"]);
    expect(edge(g, "send", "application:machine-monitor", "channel:plant/{lineId}/temperature")?.state).toBe("declared");
    expect(edge(g, "receive", "channel:plant/{lineId}/temperature", "application:dashboard")?.state).toBe("declared");
    expect(g.nodes.find((n) => n.key === "machine-monitor")).toMatchObject({ role: "producer", team: "plant", href: "/catalog/machine-monitor", driftHref: "/drift?application=machine-monitor" });
    expect(g.nodes.find((n) => n.key === "dashboard")).toMatchObject({ role: "consumer", column: 2 });
    expect(g.nodes.find((n) => n.kind === "channel")).toMatchObject({ href: "/catalog/machine-monitor/channel/plant%2F%7BlineId%7D%2Ftemperature" });
    expect(g.truncated).toBe(false);
  });

  it("draws what flows when there are brokers and no contracts: undocumented channels, unknown clients, carried-on brokers", () => {
    const g = buildTopology({
      applications: [],
      flows: [],
      brokers: [{ id: "plant-eu", name: "Plant EU" }],
      bridges: [],
      observations: [seen({ producers: [{ clientId: "sensor-7", messages: 10 }], consumers: [{ clientId: "grafana", filter: "plant/#" }] })],
      mapClient: () => [],
    });
    const channel = g.nodes.find((n) => n.kind === "channel")!;
    expect(channel).toMatchObject({ key: "plant/{p1}/temperature", undocumented: true, href: "/discover?q=plant%2F%7Bp1%7D%2Ftemperature" });
    expect(edge(g, "send", "client:sensor-7", "channel:plant/{p1}/temperature")?.state).toBe("observed");
    expect(edge(g, "receive", "channel:plant/{p1}/temperature", "client:grafana")?.state).toBe("observed");
    expect(edge(g, "carried", "channel:plant/{p1}/temperature", "broker:plant-eu")?.state).toBe("observed");
    expect(g.nodes.find((n) => n.key === "sensor-7")).toMatchObject({ kind: "client", role: "producer" });
    expect(g.totals).toMatchObject({ applications: 0, brokers: 1, observedTopics: 1 });
  });

  it("marks a flow both declared and observed when a mapped client does what the contract says, and observed-only otherwise", () => {
    const g = buildTopology(
      input({
        brokers: [{ id: "plant-eu", name: "Plant EU" }],
        observations: [seen({ producers: [{ clientId: "machine-monitor-1" }], consumers: [{ clientId: "dash-1", filter: "plant/+/temperature" }, { clientId: "historian-1", filter: "plant/#" }] })],
        applications: [app("machine-monitor"), app("dashboard", "ops", "operations"), app("historian", "data", "analytics")],
        mapClient: (c) => (c.startsWith("machine-monitor") ? ["id-machine-monitor"] : c.startsWith("dash") ? ["id-dashboard"] : c.startsWith("historian") ? ["id-historian"] : []),
      }),
    );
    const ch = "channel:plant/{lineId}/temperature";
    expect(g.nodes.filter((n) => n.kind === "channel").map((n) => n.key)).toEqual(["plant/{lineId}/temperature"]);
    expect(edge(g, "send", "application:machine-monitor", ch)?.state).toBe("both");
    expect(edge(g, "receive", ch, "application:dashboard")?.state).toBe("both");
    expect(edge(g, "receive", ch, "application:historian")?.state).toBe("observed");
    expect(g.nodes.some((n) => n.kind === "client")).toBe(false);
  });

  it("meets by overlap when the template lists no topics, and a client of several applications counts for the one that declares", () => {
    const g = buildTopology(
      input({
        observations: [seen({ topics: [], distinctTopics: 0, consumers: [{ clientId: "shared-1" }] })],
        mapClient: () => ["id-machine-monitor", "id-dashboard"],
      }),
    );
    expect(edge(g, "receive", "channel:plant/{lineId}/temperature", "application:dashboard")?.state).toBe("both");
    expect(edge(g, "receive", "channel:plant/{lineId}/temperature", "application:machine-monitor")).toBeUndefined();
  });

  it("a listed topic that is no instance of a declared channel stays undocumented", () => {
    const g = buildTopology(input({ observations: [seen({ template: "plant/{p1}/humidity", topics: ["plant/line-1/humidity"] })] }));
    expect(g.nodes.find((n) => n.key === "plant/{p1}/humidity")).toMatchObject({ undocumented: true });
  });

  it("draws bridges between brokers with their filter, both ways when declared so", () => {
    const g = buildTopology(
      input({
        brokers: [{ id: "plant-eu", name: "Plant EU" }, { id: "cloud", name: "Cloud" }],
        bridges: [
          { id: "b1", fromBrokerId: "plant-eu", toBrokerId: "cloud", topicFilter: "plant/#", direction: "both" },
          { id: "b2", fromBrokerId: "plant-eu", toBrokerId: "gone", topicFilter: "x/#", direction: "out" },
        ],
      }),
    );
    const bridges = g.edges.filter((e) => e.kind === "bridge");
    expect(bridges).toHaveLength(1);
    expect(bridges[0]).toMatchObject({ source: "broker:plant-eu", target: "broker:cloud", label: "plant/#", bidirectional: true });
    expect(g.nodes.find((n) => n.key === "cloud")).toMatchObject({ href: "/brokers/cloud", driftHref: "/drift?broker=cloud" });
  });

  it("filters by team (with the parties across its channels), domain, prefix and broker", () => {
    const base = input({
      applications: [app("machine-monitor"), app("dashboard", "ops", "operations"), app("billing", "finance", "money")],
      flows: [
        { applicationId: "id-machine-monitor", channel: "plant/{lineId}/temperature", action: "send" },
        { applicationId: "id-dashboard", channel: "plant/{lineId}/temperature", action: "receive" },
        { applicationId: "id-billing", channel: "invoices/created", action: "send" },
      ],
      brokers: [{ id: "plant-eu", name: "Plant EU" }],
      observations: [seen()],
    });
    const byTeam = buildTopology(base, { team: "ops" });
    expect(byTeam.nodes.map((n) => n.id).sort()).toEqual(["application:dashboard", "application:machine-monitor", "broker:plant-eu", "channel:plant/{lineId}/temperature"]);
    expect(buildTopology(base, { domain: "money" }).nodes.map((n) => n.id).sort()).toEqual(["application:billing", "channel:invoices/created"]);
    expect(buildTopology(base, { prefix: "invoices/" }).nodes.map((n) => n.id).sort()).toEqual(["application:billing", "channel:invoices/created"]);
    expect(buildTopology(base, { broker: "plant-eu" }).nodes.map((n) => n.id)).not.toContain("application:billing");
    expect(buildTopology(base, { team: "nobody" }).nodes).toEqual([]);
    expect(buildTopology(base, { focus: { kind: "application", slug: "billing" } }).nodes.map((n) => n.id).sort()).toEqual(["application:billing", "channel:invoices/created"]);
  });

  it("groups by team into one node each with aggregated edges, expands a group on request, and groups by itself past the threshold", () => {
    const applications = Array.from({ length: 400 }, (_, i) => app(`svc-${i}`, `team-${i % 4}`, `domain-${i % 2}`));
    const flows = applications.flatMap((a, i) => [
      { applicationId: a.id, channel: `area${i % 5}/{id}/c${i}`, action: "send" as const },
      { applicationId: a.id, channel: `area${(i + 1) % 5}/{id}/c${(i + 1) % 400}`, action: "receive" as const },
    ]);
    const big = input({ applications, flows });
    const auto = buildTopology(big);
    expect(auto.autoGrouped).toBe(true);
    expect(auto.grouping).toBe("team");
    expect(auto.nodes.filter((n) => n.kind === "group" && n.group?.by === "team")).toHaveLength(4);
    expect(auto.nodes.filter((n) => n.kind === "group" && n.group?.by === "channels")).toHaveLength(5);
    expect(auto.nodes.some((n) => n.kind === "application" || n.kind === "channel")).toBe(false);
    const send = auto.edges.find((e) => e.kind === "send" && e.source === "group:team:team-0" && e.target === "group:channels:area0");
    expect(send).toMatchObject({ state: "declared" });
    expect(send!.count).toBeGreaterThan(1);
    const team0 = auto.nodes.find((n) => n.id === "group:team:team-0")!;
    expect(team0).toMatchObject({ detail: "100 applications", role: "both" });
    expect(team0.href).toContain("expand=team%3Ateam-0");

    expect(buildTopology(big, { linkParams: { window: "24h" } }).nodes[0]!.href).toContain("window=24h");

    const open = buildTopology(big, { group: "team", expand: ["team:team-0"] });
    expect(open.nodes.filter((n) => n.kind === "application")).toHaveLength(100);
    expect(open.nodes.some((n) => n.id === "group:team:team-0")).toBe(false);
    expect(open.nodes.some((n) => n.id === "channel:area0/{id}/c0")).toBe(true);

    const byDomain = buildTopology(big, { group: "domain" });
    expect(byDomain.nodes.filter((n) => n.group?.by === "domain").map((n) => n.key).sort()).toEqual(["domain:domain-0", "domain:domain-1"]);
    expect(buildTopology(big, { group: "none" }).nodes.length).toBeGreaterThan(400);
  });

  it("caps nodes and edges and says so", () => {
    const applications = Array.from({ length: 50 }, (_, i) => app(`svc-${i}`));
    const flows = applications.map((a, i) => ({ applicationId: a.id, channel: `c/${i}`, action: "send" as const }));
    const g = buildTopology(input({ applications, flows }), { group: "none", maxNodes: 30, maxEdges: 10 });
    expect(g.nodes).toHaveLength(30);
    // Whole neighbourhoods are kept: the cut still draws flows.
    expect(g.edges).toHaveLength(10);
    expect(g.nodes.filter((n) => n.kind === "channel").length).toBeGreaterThan(10);
    expect(g.truncated).toBe(true);
    expect(buildTopology(input({ truncated: true })).truncated).toBe(true);
  });
});

describe("layout and SVG", () => {
  it("lays out producers left of channels left of consumers, and renders every node and edge with its state", async () => {
    const g = buildTopology(
      input({
        brokers: [{ id: "plant-eu", name: "Plant <EU> & co" }],
        observations: [seen({ producers: [{ clientId: "machine-monitor-1" }], consumers: [{ clientId: "stranger" }] })],
        mapClient: (c) => (c.startsWith("machine-monitor") ? ["id-machine-monitor"] : []),
      }),
    );
    const laid = await layoutTopology(g);
    const x = (id: string) => laid.nodes.find((n) => n.id === id)!.x;
    expect(x("application:machine-monitor")).toBeLessThan(x("channel:plant/{lineId}/temperature"));
    expect(x("channel:plant/{lineId}/temperature")).toBeLessThan(x("application:dashboard"));
    expect(laid.edges.every((e) => e.points.length >= 2)).toBe(true);
    expect(laid.width).toBeGreaterThan(0);

    const svg = renderTopologySvg(laid, { linkBase: "https://portal.example" });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('data-testid="topology-node-application-machine-monitor"');
    expect(svg).toContain('data-testid="topology-node-channel-plant/{lineId}/temperature"');
    expect(svg).toContain('data-testid="topology-node-client-stranger"');
    expect(svg).toContain('data-testid="topology-legend"');
    expect(svg).toContain('href="https://portal.example/catalog/machine-monitor"');
    expect(svg).toContain("Plant &lt;EU&gt; &amp; co");
    expect(svg).not.toContain("Plant <EU>");
    const states = [...svg.matchAll(/<path d="[^"]*"[^>]*data-state="(\w+)" data-kind="(\w+)"/g)].map((m) => `${m[2]}:${m[1]}`).sort();
    expect(states).toEqual(["carried:observed", "receive:declared", "receive:observed", "send:both"]);
    expect(renderTopologySvg(laid, { linkBase: null })).not.toContain("<a ");
  });

  it("lays a neighbourhood out in columns at once: producers, channels, brokers, consumers, none overlapping", () => {
    const g = buildTopology(
      input({
        brokers: [{ id: "plant-eu", name: "Plant EU" }],
        observations: [seen({ producers: [{ clientId: "machine-monitor-1" }], consumers: [{ clientId: "stranger" }] })],
        mapClient: (c) => (c.startsWith("machine-monitor") ? ["id-machine-monitor"] : []),
      }),
      { focus: { kind: "channel", address: "plant/{lineId}/temperature" }, group: "none" },
    );
    const laid = layoutNeighbourhood(g);
    expect(laid.nodes.map((n) => n.id).sort()).toEqual(g.nodes.map((n) => n.id).sort());
    const node = (id: string) => laid.nodes.find((n) => n.id === id)!;
    const producer = node("application:machine-monitor");
    const channel = node("channel:plant/{lineId}/temperature");
    const broker = node("broker:plant-eu");
    const consumer = node("application:dashboard");
    expect(producer.x + producer.width).toBeLessThan(channel.x);
    expect(channel.x + channel.width).toBeLessThan(broker.x);
    expect(broker.x + broker.width).toBeLessThan(consumer.x);
    for (const a of laid.nodes)
      for (const b of laid.nodes)
        if (a !== b) expect(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y).toBe(true);
    // Every edge leaves its source's side and reaches its target's, inside the drawing.
    for (const e of laid.edges) {
      expect(e.points.length).toBeGreaterThanOrEqual(2);
      for (const p of e.points) expect(p.x >= 0 && p.x <= laid.width + 40 && p.y >= 0 && p.y <= laid.height).toBe(true);
    }
    expect(laid.width).toBe(Math.max(...laid.nodes.map((n) => Math.ceil(n.x + n.width))));
    expect(renderTopologySvg(laid)).toContain('data-testid="topology-node-client-stranger"');
    expect(layoutNeighbourhood(buildTopology(input({ applications: [], flows: [] })))).toMatchObject({ nodes: [], edges: [], width: 0, height: 0 });
  });

  it("renders an empty drawing and a truncation note", async () => {
    const empty = renderTopologySvg(await layoutTopology({ ...buildTopology(input({ applications: [], flows: [] })), truncated: true }));
    expect(empty).toContain("Nothing to draw");
    expect(empty).toContain('data-testid="topology-truncated"');
    expect(escapeXml(`a"b'<c>&`)).toBe("a&quot;b&apos;&lt;c&gt;&amp;");
  });
});

describe("buildTopology on a mesh of several kinds", () => {
  const mesh = (over: Partial<TopologyInput> = {}) =>
    input({
      applications: [app("order-service", "orders", "sales"), app("order-audit", "audit", "sales"), app("billing", "finance", "money")],
      flows: [
        { applicationId: "id-order-service", channel: "orders.{region}.created", action: "send" },
        { applicationId: "id-order-audit", channel: "orders.{region}.created", action: "receive" },
        { applicationId: "id-billing", channel: "invoice.{region}.paid", action: "receive" },
      ],
      brokers: [
        { id: "orders-nats", name: "Orders", protocol: "nats" },
        { id: "billing-rabbit", name: "Billing", protocol: "amqp" },
        { id: "plant-eu", name: "Plant EU", protocol: "mqtt" },
      ],
      ...over,
    });
  const carried = (g: ReturnType<typeof buildTopology>, broker: string) =>
    g.edges.filter((e) => e.kind === "carried" && e.target === `broker:${broker}`).map((e) => e.source).sort();

  it("matches a NATS broker's subjects token by token: a parameter never spans two tokens", () => {
    const g = buildTopology(
      mesh({
        observations: [
          seen({ brokerId: "orders-nats", template: "orders.{p1}.created", topics: ["orders.eu.created"], producers: [{ clientId: "x" }] }),
          seen({ brokerId: "orders-nats", template: "orders.{p1}.{p2}.created", topics: ["orders.eu.west.created"] }),
        ],
      }),
    );
    expect(carried(g, "orders-nats")).toEqual(["channel:orders.{p1}.{p2}.created", "channel:orders.{region}.created"]);
    expect(g.nodes.find((n) => n.key === "orders.{p1}.{p2}.created")).toMatchObject({ undocumented: true });
    expect(g.nodes.find((n) => n.key === "orders-nats")).toMatchObject({ detail: "NATS · orders-nats" });
  });

  it("matches an AMQP broker's routing-key templates in words, also by template overlap when topics are not all listed", () => {
    const g = buildTopology(mesh({ observations: [seen({ brokerId: "billing-rabbit", template: "invoice.{p1}.paid", topics: [], distinctTopics: 40 })] }));
    expect(carried(g, "billing-rabbit")).toEqual(["channel:invoice.{region}.paid"]);
  });

  it("reads an MQTT broker's topics in MQTT syntax, where a dot is no separator", () => {
    const g = buildTopology(mesh({ observations: [seen({ brokerId: "plant-eu", template: "orders.eu.west.created", topics: ["orders.eu.west.created"] })] }));
    // One MQTT level: `{region}` matches `eu.west` there, as the algebra says for MQTT.
    expect(carried(g, "plant-eu")).toEqual(["channel:orders.{region}.created"]);
  });

  it("draws resolved discovered links as bridges, once per pair, and not beside a declared bridge of the same brokers", () => {
    const g = buildTopology(
      mesh({
        bridges: [{ id: "b1", fromBrokerId: "plant-eu", toBrokerId: "orders-nats", topicFilter: "orders/#", direction: "out" }],
        links: [
          { brokerId: "orders-nats", kind: "mqtt-bridge", remoteBrokerId: "plant-eu", direction: "in", topics: [] },
          { brokerId: "orders-nats", kind: "rabbitmq-shovel", remoteBrokerId: "billing-rabbit", direction: "out", topics: ["invoice.>"] },
          { brokerId: "billing-rabbit", kind: "rabbitmq-shovel", remoteBrokerId: "orders-nats", direction: "in", topics: ["invoice.#"] },
          { brokerId: "billing-rabbit", kind: "rabbitmq-federation", remoteBrokerId: "gone", direction: "both", topics: [] },
        ],
      }),
    );
    const bridges = g.edges.filter((e) => e.kind === "bridge").map((e) => [e.source, e.target, e.label, e.bidirectional]);
    expect(bridges).toEqual([
      ["broker:orders-nats", "broker:billing-rabbit", "invoice.#, invoice.>", false],
      ["broker:plant-eu", "broker:orders-nats", "orders/#", false],
    ]);
  });

  it("draws a discovered link both ways when its ends say it runs both ways", () => {
    const g = buildTopology(
      mesh({
        links: [
          { brokerId: "orders-nats", kind: "nats-leafnode", remoteBrokerId: "billing-rabbit", direction: "out", topics: [] },
          { brokerId: "billing-rabbit", kind: "nats-leafnode", remoteBrokerId: "orders-nats", direction: "out", topics: [] },
        ],
      }),
    );
    expect(g.edges.filter((e) => e.kind === "bridge").map((e) => [e.source, e.target, e.label, e.bidirectional])).toEqual([
      ["broker:billing-rabbit", "broker:orders-nats", "nats-leafnode", true],
    ]);
  });
});
