import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { amqpConfig, bridgesFrom, clientIdOf, createAmqpSource, inventoryFrom, managementSchemas, parseList, parseTrace, subscriptionsFrom, withoutCredentials } from "./amqp-source.ts";
import { MAX_INVENTORY_ITEMS } from "./protocol.ts";
import type { SourceSink, SubscriptionSnapshot } from "./source.ts";
import { freePort } from "./testing/mosquitto.ts";

// Shapes captured from RabbitMQ 3.10.8's management API.
const exchanges = [
  { name: "", type: "direct", durable: true, internal: false, arguments: {}, auto_delete: false, vhost: "/" },
  { name: "amq.rabbitmq.trace", type: "topic", durable: true, internal: true },
  { name: "amq.topic", type: "topic", durable: true, internal: false },
  { name: "orders", type: "topic", durable: true, internal: false },
  { name: "broadcast", type: "fanout", durable: false, internal: false },
];
const bindings = [
  { source: "", vhost: "/", destination: "billing", destination_type: "queue", routing_key: "billing", arguments: {}, properties_key: "billing" },
  { source: "orders", destination: "billing", destination_type: "queue", routing_key: "orders.*.created" },
  { source: "orders", destination: "audit", destination_type: "queue", routing_key: "orders.#" },
  { source: "orders", destination: "audit", destination_type: "queue", routing_key: "#.refunded" },
  { source: "broadcast", destination: "audit", destination_type: "queue", routing_key: "" },
  { source: "orders", destination: "amq.gen-own", destination_type: "queue", routing_key: "#" },
  { source: "orders", destination: "mirror", destination_type: "exchange", routing_key: "#" },
];
const consumers = [
  { queue: { name: "billing", vhost: "/" }, ack_required: true, consumer_tag: "c1", channel_details: { connection_name: "127.0.0.1:5001 -> 127.0.0.1:5672", peer_port: "undefined" } },
  { queue: { name: "audit" }, ack_required: false, channel_details: { connection_name: "127.0.0.1:5002 -> 127.0.0.1:5672" } },
  { queue: { name: "audit" }, ack_required: true, channel_details: { connection_name: "127.0.0.1:5002 -> 127.0.0.1:5672" } },
  { queue: { name: "amq.gen-own" }, ack_required: false, channel_details: { connection_name: "127.0.0.1:5003 -> 127.0.0.1:5672" } },
];
const connections = [
  { name: "127.0.0.1:5001 -> 127.0.0.1:5672", user_provided_name: "billing-service", client_properties: { connection_name: "billing-service" } },
  { name: "127.0.0.1:5002 -> 127.0.0.1:5672", client_properties: { product: "amqplib" } },
  { name: "127.0.0.1:5003 -> 127.0.0.1:5672", user_provided_name: "meshport-agent-test" },
];

const parse = <T>(body: unknown[], schema: Parameters<typeof parseList<T>>[1]) => parseList(body, schema)!.items;

describe("management answers", () => {
  it("validates lists entry by entry, counting invalid entries and bounding the list", () => {
    expect(parseList({ not: "a list" }, managementSchemas.exchange)).toBeNull();
    const r = parseList([...exchanges, { name: 42 }, { name: "x".repeat(300), type: "topic", durable: true }], managementSchemas.exchange)!;
    expect(r.items.map((e) => e.name)).toEqual(["", "amq.rabbitmq.trace", "amq.topic", "orders", "broadcast"]);
    expect(r.invalid).toBe(2);
    expect(parseList([1, 2, 3], managementSchemas.exchange, 2)).toMatchObject({ invalid: 2, omitted: 1 });
  });

  it("names a client by the name it gave its connection, else by the broker's connection name", () => {
    const [a, b] = parse(connections, managementSchemas.connection);
    expect(clientIdOf(a!)).toBe("billing-service");
    expect(clientIdOf(b!)).toBe("127.0.0.1:5002 -> 127.0.0.1:5672");
    expect(clientIdOf({ name: "n", client_properties: { connection_name: "given" } })).toBe("given");
    expect(clientIdOf({ name: "n", user_provided_name: "x".repeat(300) })).toBe("n");
  });

  it("gives each consumer of a queue bound to a topic exchange one subscription per binding key", () => {
    const clients = new Map(parse(connections, managementSchemas.connection).map((c) => [c.name, clientIdOf(c)]));
    const { subscriptions, omitted } = subscriptionsFrom({
      exchanges: parse(exchanges, managementSchemas.exchange),
      bindings: parse(bindings, managementSchemas.binding),
      consumers: parse(consumers, managementSchemas.consumer),
      clients,
      ownClientId: "meshport-agent-test",
      ownQueues: new Set(["amq.gen-own"]),
    });
    const key = (s: SubscriptionSnapshot) => `${s.clientId} ${s.filter} ${s.qos}`;
    // The fanout binding, the default exchange's, exchange-to-exchange bindings and the agent's own queue are left out;
    // two consumers of one client on one queue count once, with the higher qos.
    expect(subscriptions.map(key).sort()).toEqual([
      "127.0.0.1:5002 -> 127.0.0.1:5672 #.refunded 1",
      "127.0.0.1:5002 -> 127.0.0.1:5672 orders.# 1",
      "billing-service orders.*.created 1",
    ]);
    expect(omitted).toBe(0);
    const capped = subscriptionsFrom(
      { exchanges: parse(exchanges, managementSchemas.exchange), bindings: parse(bindings, managementSchemas.binding), consumers: parse(consumers, managementSchemas.consumer), clients, ownClientId: "x", ownQueues: new Set() },
      2,
    );
    expect(capped.subscriptions).toHaveLength(2);
    expect(capped.omitted).toBeGreaterThan(0);
  });

  it("lists the inventory without the agent's queues, the default exchange's bindings, and bounded", () => {
    const inv = inventoryFrom(
      parse(exchanges, managementSchemas.exchange),
      parse([{ name: "billing", durable: true, messages: 3, consumers: 1 }, { name: "amq.gen-own", durable: false, messages: 0, consumers: 1 }], managementSchemas.queue),
      parse(bindings, managementSchemas.binding),
      new Set(["amq.gen-own"]),
    );
    expect(inv.queues).toEqual([{ name: "billing", messages: 3, consumers: 1, durable: true }]);
    expect(inv.bindings).toContainEqual({ exchange: "orders", queue: "billing", routingKey: "orders.*.created" });
    expect(inv.bindings!.some((b) => b.exchange === "" || b.queue === "amq.gen-own" || b.queue === "mirror")).toBe(false);
    expect(inv.exchanges).toContainEqual({ name: "broadcast", type: "fanout", durable: false });
    expect(inv.omitted).toBeUndefined();
    const many = Array.from({ length: MAX_INVENTORY_ITEMS + 5 }, (_, i) => ({ name: `q${i}`, durable: true }));
    expect(inventoryFrom([], many, [], new Set()).omitted).toBe(5);
  });

  it("reports shovels and federation links as links, without credentials", () => {
    const shovels = parse(
      [
        // as 3.10 reports a running dynamic shovel
        { name: "to-dc2", vhost: "/", type: "dynamic", state: "running", src_uri: "amqp://", src_exchange: "orders", src_exchange_key: "orders.#", dest_uri: "amqp://ops:secret@dc2.example:5672/%2F", dest_queue: "x" },
        { name: "from-edge", state: "running", src_uri: "amqps://edge.example/plant?cacertfile=/etc/ca.pem", src_queue: "telemetry", dest_uri: "amqp://", dest_exchange: "amq.topic" },
        { name: "starting", state: "starting", type: "dynamic" },
        { name: "between-vhosts", state: "running", src_uri: "amqp:///a", dest_uri: "amqp:///b", src_queue: "q" },
      ],
      managementSchemas.shovel,
    );
    const links = parse(
      [
        { upstream: "dc1", type: "exchange", exchange: "orders", uri: "amqp://u:p@dc1.example", status: "running" },
        { upstream: "dc3", type: "queue", queue: "billing", uri: "amqp://dc3.example", status: "running" },
      ],
      managementSchemas.federationLink,
    );
    const bridges = bridgesFrom(shovels, links);
    expect(bridges).toEqual([
      { kind: "rabbitmq-shovel", name: "to-dc2", remote: "amqp://dc2.example:5672/%2F", direction: "out", topics: ["orders.#"], state: "running" },
      { kind: "rabbitmq-shovel", name: "from-edge", remote: "amqps://edge.example/plant", direction: "in", topics: [], state: "running" },
      { kind: "rabbitmq-shovel", name: "starting", remote: "", direction: "both", topics: [], state: "starting" },
      { kind: "rabbitmq-federation", name: "dc1", remote: "amqp://dc1.example", direction: "in", topics: ["#"], state: "running" },
      { kind: "rabbitmq-federation", name: "dc3", remote: "amqp://dc3.example", direction: "in", topics: [], state: "running" },
    ]);
    expect(JSON.stringify(bridges)).not.toContain("secret");
    expect(withoutCredentials("not a url //user:pw@host")).toBe("not a url //host");
  });
});

describe("firehose trace messages", () => {
  it("reads the exchange, routing key and publishing connection of a publish", () => {
    const headers = { exchange_name: "orders", routing_keys: [Buffer.from("orders.eu.1.created")], connection: "127.0.0.1:5001 -> 127.0.0.1:5672", user: "guest", channel: 1 };
    expect(parseTrace("publish.orders", headers, 7)).toEqual({ connection: "127.0.0.1:5001 -> 127.0.0.1:5672", exchange: "orders", routingKey: "orders.eu.1.created", bytes: 7 });
    expect(parseTrace("publish.orders", { ...headers, routing_keys: ["a.b"] }, 1)).toMatchObject({ routingKey: "a.b" });
    expect(parseTrace("deliver.billing", headers, 7)).toBeNull();
    expect(parseTrace("publish.orders", { exchange_name: "orders" }, 7)).toBe("malformed");
    expect(parseTrace("publish.orders", { ...headers, routing_keys: [] }, 7)).toBe("malformed");
    expect(parseTrace("publish.orders", { ...headers, routing_keys: [42] }, 7)).toBe("malformed");
    expect(parseTrace("publish.orders", undefined, 7)).toBe("malformed");
  });
});

describe("configuration", () => {
  it("takes credentials and vhost from the URL or the options, and reports the URL without them", () => {
    const c = amqpConfig({ url: "amqp://ops:s%40cret@rabbit.example:5673/plant", managementUrl: "http://rabbit.example:15672/", brokerId: "b", name: "agent-1" });
    expect(c.connect).toMatchObject({ protocol: "amqp", hostname: "rabbit.example", port: 5673, username: "ops", password: "s@cret", vhost: "plant" });
    expect(c.url).toBe("amqp://rabbit.example:5673/plant");
    expect(c.managementBase).toBe("http://rabbit.example:15672");
    expect(Buffer.from(c.managementAuth.slice(6), "base64").toString()).toBe("ops:s@cret");
    expect(c.clientId).toBe("agent-1");
    const d = amqpConfig({ url: "amqps://h", managementUrl: "https://m:p@h/rabbit", brokerId: "plant-eu", vhost: "/", user: "u", password: "p" });
    expect(d.connect).toMatchObject({ port: 5671, vhost: "/", username: "u" });
    expect(d.url).toBe("amqps://h/%2F");
    expect(d.managementBase).toBe("https://h/rabbit");
    expect(Buffer.from(d.managementAuth.slice(6), "base64").toString()).toBe("m:p");
    expect(d.clientId).toMatch(/^meshport-agent-plant-eu-[0-9a-f]{6}$/);
  });

  it("refuses bad options before connecting", () => {
    const base = { url: "amqp://h", managementUrl: "http://h:15672", brokerId: "b" };
    expect(() => amqpConfig({ ...base, url: "mqtt://h" })).toThrow(/amqp:\/\//);
    expect(() => amqpConfig({ ...base, url: "nonsense" })).toThrow(/invalid broker URL/);
    expect(() => amqpConfig({ ...base, managementUrl: "ftp://h" })).toThrow(/http/);
    expect(() => amqpConfig({ ...base, vhost: "" })).toThrow(/vhost/);
    expect(() => amqpConfig({ ...base, exchanges: ["amq.rabbitmq.trace"] })).toThrow(/exchanges/);
    expect(() => amqpConfig({ ...base, exchanges: Array.from({ length: 201 }, (_, i) => `e${i}`) })).toThrow(/exchanges/);
    expect(() => amqpConfig({ ...base, pollSeconds: 0 })).toThrow(/pollSeconds/);
    expect(() => amqpConfig({ ...base, queueMaxLength: 0.5 })).toThrow(/queueMaxLength/);
  });
});

describe("polling the management API", () => {
  let server: Server | null = null;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  });

  /** A management API that answers from `answers` (a function may change them between polls). */
  async function management(answers: Record<string, unknown>): Promise<string> {
    server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0]!;
      if (!(path in answers)) return res.writeHead(404, { "content-type": "application/json" }).end('{"error":"Object Not Found","reason":"Not Found"}');
      const a = answers[path];
      if (a === "down") return res.writeHead(503).end();
      res.writeHead(200, { "content-type": "application/json" }).end(typeof a === "string" ? a : JSON.stringify(a));
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", () => resolve()));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  }

  function recordingSink() {
    const seen = { subscriptions: [] as SubscriptionSnapshot[][], malformed: 0 };
    const sink: SourceSink = {
      message: () => {},
      event: () => {},
      subscriptions: (all) => seen.subscriptions.push([...all]),
      malformed: (n = 1) => (seen.malformed += n),
      ready: () => {},
    };
    return { seen, sink };
  }

  it("feeds subscriptions, inventory and links, counts a malformed answer, and keeps the last state when the API is down", async () => {
    const answers: Record<string, unknown> = {
      "/api/overview": { rabbitmq_version: "3.10.8", object_totals: { connections: 3 } },
      "/api/vhosts/%2F": { name: "/", tracing: false },
      "/api/exchanges/%2F": exchanges,
      "/api/queues/%2F": [{ name: "billing", durable: true, messages: 0, consumers: 1 }],
      "/api/bindings/%2F": bindings,
      "/api/consumers/%2F": consumers,
      "/api/connections": connections,
      "/api/shovels/%2F": [{ name: "to-dc2", state: "running", src_uri: "amqp://", src_queue: "billing", dest_uri: "amqp://dc2.example" }],
    };
    const url = await management(answers);
    // No broker listens there: polling does not depend on the AMQP connection.
    const source = createAmqpSource({ url: `amqp://127.0.0.1:${await freePort()}`, managementUrl: url, brokerId: "b", name: "meshport-agent-test", pollSeconds: 3_600, reconnectMs: 60_000 });
    const { seen, sink } = recordingSink();
    try {
      await source.start(sink, pino({ level: "silent" }));
      // start() polls once; this poll runs after it.
      await source.pollNow();
      const polls = seen.subscriptions.length;
      expect(polls).toBe(2);
      expect(seen.subscriptions[1]!.map((s) => s.clientId)).toContain("billing-service");
      let status = source.status();
      expect(status).toMatchObject({ connected: false, subscribed: false, brokerVersion: "3.10.8", clientsConnected: 3, protocolVersion: null, logLinesRead: 0 });
      // Federation answers 404: the plugin is off, which is no error.
      expect(status.bridges).toEqual([{ kind: "rabbitmq-shovel", name: "to-dc2", remote: "amqp://dc2.example", direction: "out", topics: [], state: "running" }]);
      expect(status.inventory?.queues).toEqual([{ name: "billing", messages: 0, consumers: 1, durable: true }]);
      expect(status.capabilities).toEqual({
        producers: false,
        consumers: true,
        producerSource: "none",
        consumerSource: "management",
        sys: false,
        retainFlag: "none",
        bridges: true,
        inventory: true,
      });
      expect(seen.malformed).toBe(0);

      // A malformed consumers answer is counted; subscriptions are not replaced by a partial picture.
      answers["/api/consumers/%2F"] = { unexpected: true };
      answers["/api/queues/%2F"] = "{not json";
      await source.pollNow();
      expect(seen.malformed).toBe(2);
      expect(seen.subscriptions).toHaveLength(polls);
      expect(source.status().inventory?.queues).toEqual([{ name: "billing", messages: 0, consumers: 1, durable: true }]);

      // Everything down: the last answers stay.
      for (const k of Object.keys(answers)) answers[k] = "down";
      await source.pollNow();
      status = source.status();
      expect(status.brokerVersion).toBe("3.10.8");
      expect(status.bridges).toHaveLength(1);
      expect(status.capabilities.consumers).toBe(true);
      expect(seen.subscriptions).toHaveLength(polls);
    } finally {
      await source.stop();
    }
  });

  it("times out a management API that never answers", async () => {
    server = createServer(() => {});
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const source = createAmqpSource({ url: `amqp://127.0.0.1:${await freePort()}`, managementUrl: url, brokerId: "b", pollSeconds: 3_600, httpTimeoutMs: 100, reconnectMs: 60_000 });
    const { seen, sink } = recordingSink();
    try {
      await source.start(sink, pino({ level: "silent" }));
      await source.pollNow();
      expect(source.status()).toMatchObject({ brokerVersion: null, capabilities: { consumers: false, inventory: false, bridges: false } });
      expect(seen.subscriptions).toHaveLength(0);
    } finally {
      await source.stop();
      server.closeAllConnections();
    }
  });
});
