import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { parseContract, type Contract, type JsonSchema } from "@/registry/index.ts";
import type { BridgeTopic } from "@/agents/embedded-bridge.ts";
import { filterMatchesTopic } from "@/registry/topics/index.ts";
import { DEMO_APPLICATIONS, latestReleased, readDemoContract } from "./contracts/index.ts";
import { DEMO_BRIDGE, declaredDemoBridges } from "./mesh.ts";
import {
  DEMO_CLIENTS,
  DEMO_SUBSCRIPTIONS,
  demoBrokerOf,
  DemoWorld,
  legacyMeterReading,
  meterReading,
  temperatureReading,
  temperatureReadingAsText,
  type DemoMessage,
} from "./traffic.ts";

/** A deterministic random source (mulberry32), so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `plant/{lineId}/temperature` → a RegExp matching concrete topics of that template. */
const templateRegExp = (address: string) => new RegExp(`^${address.split("/").map((l) => (/^\{[^}]+\}$/.test(l) ? "[^/]+" : l.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))).join("/")}$`);
/** `plant/{lineId}/temperature` → the subscription filter `plant/+/temperature`. */
const filterOf = (address: string) => address.replace(/\{[^}]+\}/g, "+");

const latest = new Map<string, Contract>();
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<JsonSchema, ValidateFunction>();
const validate = (schema: JsonSchema, payload: unknown) => {
  let fn = validators.get(schema);
  if (!fn) validators.set(schema, (fn = ajv.compile(schema)));
  return fn(payload);
};

function payloadSchema(app: string, channel: string, message: string): JsonSchema {
  const schema = latest.get(app)?.channels[channel]?.messages[message]?.payload;
  if (schema === undefined) throw new Error(`no payload for ${app} ${channel} ${message}`);
  return schema;
}

/** Every (contract, payload schema) that receives a channel, by address. */
function readersOf(address: string): Array<{ app: string; schema: JsonSchema }> {
  const out: Array<{ app: string; schema: JsonSchema }> = [];
  for (const [app, contract] of latest) {
    for (const op of Object.values(contract.operations)) {
      if (op.action !== "receive" || op.channel !== address) continue;
      for (const key of op.messages) {
        const schema = contract.channels[address]?.messages[key]?.payload;
        if (schema !== undefined) out.push({ app, schema });
      }
    }
  }
  return out;
}

const messages: DemoMessage[] = [];
const perTick: number[] = [];
const TICKS = 1200;

beforeAll(async () => {
  for (const app of DEMO_APPLICATIONS) {
    const file = latestReleased(app).file;
    const result = await parseContract({ [file]: readDemoContract(file) });
    if (!result.contract) throw new Error(`${file} does not parse`);
    latest.set(app.slug, result.contract);
  }
  const world = new DemoWorld(seeded(42), 500);
  const start = Date.parse("2026-03-02T06:00:00Z");
  for (let i = 0; i < TICKS; i++) {
    const tick = world.tick(new Date(start + i * 500));
    perTick.push(tick.length);
    messages.push(...tick);
  }
}, 120_000);

describe("demo payload builders", () => {
  it("build payloads that follow the latest released contracts", () => {
    const at = new Date("2026-03-02T08:00:00Z");
    const reading = temperatureReading({ lineId: "line-2", sensorId: "tc-oven-z2", value: 182.44, at });
    expect(validate(payloadSchema("line-sensors", "plant/{lineId}/temperature", "temperatureReading"), reading)).toBe(true);
    const meter = meterReading({ siteId: "lyon", meterId: "em-compressor-1", energyWh: 1_284_533_700.4, powerKw: 74.2, powerFactor: 0.87, at });
    expect(validate(payloadSchema("energy-meter", "energy/{siteId}/{meterId}/reading", "meterReading"), meter)).toBe(true);
  });

  it("build drift payloads that do not", () => {
    const at = new Date("2026-03-02T08:00:00Z");
    const reading = temperatureReading({ lineId: "line-4", sensorId: "tc-weld-4", value: 71.3, at });
    expect(validate(payloadSchema("line-sensors", "plant/{lineId}/temperature", "temperatureReading"), temperatureReadingAsText(reading))).toBe(false);
    const legacy = legacyMeterReading({ siteId: "lyon", meterId: "em-oven-2", energyWh: 1_284_533_700, powerKw: 210, at });
    expect(validate(payloadSchema("energy-meter", "energy/{siteId}/{meterId}/reading", "meterReading"), legacy)).toBe(false);
  });
});

describe("demo world", () => {
  it("exercises every contract stream and every kind of drift", () => {
    const streams = new Set(messages.filter((m) => m.contract && !m.drift).map((m) => `${m.contract!.app} ${m.contract!.channel}`));
    const declared = new Set(
      [...latest].flatMap(([app, c]) => Object.values(c.operations).filter((o) => o.action === "send").map((o) => `${app} ${o.channel}`)),
    );
    expect(streams).toEqual(declared);
    expect(new Set(messages.map((m) => m.drift).filter(Boolean))).toEqual(new Set(["undocumented-topic", "schema-violation"]));
  });

  it("publishes conforming messages on their channel, readable by the producer's and every consumer's schema", () => {
    const failures: string[] = [];
    for (const m of messages.filter((x) => x.contract && !x.drift)) {
      const { app, channel, message } = m.contract!;
      if (!templateRegExp(channel).test(m.topic)) failures.push(`${m.topic} is not on ${channel}`);
      const payload: unknown = JSON.parse(m.payload);
      if (!validate(payloadSchema(app, channel, message), payload)) failures.push(`${app} ${m.topic}: ${ajv.errorsText(validators.get(payloadSchema(app, channel, message))!.errors)}`);
      for (const reader of readersOf(channel)) {
        if (!validate(reader.schema, payload)) failures.push(`${reader.app} cannot read ${m.topic}: ${m.payload}`);
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it("publishes schema violations that fail their schema", () => {
    const violations = messages.filter((m) => m.drift === "schema-violation");
    expect(violations.length).toBeGreaterThan(10);
    for (const m of violations) {
      const { app, channel, message } = m.contract!;
      expect(templateRegExp(channel).test(m.topic)).toBe(true);
      expect(validate(payloadSchema(app, channel, message), JSON.parse(m.payload)), m.payload).toBe(false);
    }
  });

  it("publishes undocumented topics that no contract declares", () => {
    const addresses = [...latest.values()].flatMap((c) => Object.keys(c.channels));
    const undocumented = messages.filter((m) => m.drift === "undocumented-topic");
    expect(undocumented.length).toBeGreaterThan(0);
    for (const m of undocumented) {
      expect(addresses.some((a) => templateRegExp(a).test(m.topic)), m.topic).toBe(false);
      expect(() => JSON.parse(m.payload)).toThrow();
    }
  });

  it("stays well under 100 messages a second at the default 500 ms tick", () => {
    expect(messages.length / (TICKS * 0.5)).toBeLessThan(40);
    // Per-second ceiling: no two consecutive ticks burst past the budget either.
    for (let i = 1; i < perTick.length; i++) expect(perTick[i - 1]! + perTick[i]!).toBeLessThan(100);
  });

  it("raises and acknowledges alarms, and releases batches", () => {
    const alarms = messages.filter((m) => m.contract?.channel === "plant/{lineId}/alarms").map((m) => JSON.parse(m.payload) as { state: string });
    expect(alarms.some((a) => a.state === "raised")).toBe(true);
    expect(alarms.some((a) => a.state === "cleared")).toBe(true);
    expect(messages.some((m) => m.contract?.channel === "plant/{lineId}/alarms/ack")).toBe(true);
    expect(messages.some((m) => m.contract?.channel === "batches/{batchId}/release")).toBe(true);
  });
});

describe("demo subscriptions", () => {
  it("subscribe each declared consumer with the filters of its contract's receive operations", () => {
    const byClient: Record<string, string> = {
      [DEMO_CLIENTS.machineMonitor]: "machine-monitor",
      [DEMO_CLIENTS.alarmDispatcher]: "alarm-dispatcher",
      [DEMO_CLIENTS.warehouse]: "warehouse-service",
      [DEMO_CLIENTS.shipmentTracker]: "shipment-tracker",
      [DEMO_CLIENTS.batchRelease]: "batch-release",
      [DEMO_CLIENTS.opsDashboard]: "ops-dashboard",
      [DEMO_CLIENTS.crmOrderSync]: "crm-order-sync",
      [DEMO_CLIENTS.analyticsIngest]: "analytics-ingest",
      [DEMO_CLIENTS.documentArchive]: "document-archive",
    };
    for (const [client, app] of Object.entries(byClient)) {
      const contract = latest.get(app)!;
      const filters = Object.values(contract.operations).filter((o) => o.action === "receive").map((o) => filterOf(o.channel));
      expect([...(DEMO_SUBSCRIPTIONS[client] ?? [])].sort(), client).toEqual(filters.sort());
    }
  });

  it("includes the undeclared excel-export consumer on a filter no contract receives", () => {
    const declared = [...latest.values()].flatMap((c) => Object.values(c.operations).filter((o) => o.action === "receive").map((o) => filterOf(o.channel)));
    expect(DEMO_SUBSCRIPTIONS[DEMO_CLIENTS.excelExport]).toEqual(["orders/#"]);
    expect(declared).not.toContain("orders/#");
  });
});

describe("demo mesh", () => {
  /** True when a bridge line forwards the topic away from the broker it was published on. */
  const crosses = (topic: string, from: string) =>
    DEMO_BRIDGE.topics.some((t: BridgeTopic) => filterMatchesTopic(t.filter, topic) && (t.direction === "both" || t.direction === (from === DEMO_BRIDGE.local ? "out" : "in")));

  it("names every client after an application whose client-id patterns match it", () => {
    const patterns = DEMO_APPLICATIONS.flatMap((a) => a.clientIdPatterns.map((p) => ({ app: a.slug, p })));
    const matches = (id: string, p: string) => (p.endsWith("*") ? id.startsWith(p.slice(0, -1)) : id === p);
    for (const id of Object.values(DEMO_CLIENTS)) {
      if (id === DEMO_CLIENTS.excelExport) continue;
      expect(patterns.filter((x) => matches(id, x.p)).map((x) => x.app), id).toHaveLength(1);
    }
  });

  it("delivers every integration event to each subscriber on either broker, crossing the bridge where it must", () => {
    const integrationTopics = messages.filter((m) => m.topic.startsWith("erp/") || m.topic.startsWith("scm/"));
    expect(new Set(integrationTopics.map((m) => m.contract?.message))).toEqual(new Set(["salesOrderConfirmed", "invoicePosted", "advanceShippingNotice"]));
    let crossed = 0;
    for (const m of integrationTopics) {
      const from = demoBrokerOf(m.client);
      for (const [client, filters] of Object.entries(DEMO_SUBSCRIPTIONS)) {
        if (!filters.some((f) => filterMatchesTopic(f, m.topic))) continue;
        const to = demoBrokerOf(client);
        if (to === from) continue;
        expect(crosses(m.topic, from), `${m.topic} from ${from} to ${client} on ${to}`).toBe(true);
        crossed++;
      }
    }
    expect(crossed).toBeGreaterThan(integrationTopics.length);
    // Both ways: the ERP's events go out to the cloud, the suppliers' notices come in to the plant.
    expect(new Set(integrationTopics.map((m) => demoBrokerOf(m.client)))).toEqual(new Set(["plant-eu", "cloud-core"]));
  });

  it("keeps the shop floor on plant-eu, where the broker pages and their tests look for it", () => {
    const shopFloor = new Set(messages.filter((x) => !x.topic.startsWith("erp/") && !x.topic.startsWith("scm/")).map((m) => m.client));
    expect([...shopFloor].filter((client) => demoBrokerOf(client) !== "plant-eu")).toEqual([]);
    expect(demoBrokerOf(DEMO_CLIENTS.lineSensors)).toBe("plant-eu");
  });

  it("declares the bridge as the portal declares bridges, one per filter from the broker messages leave", () => {
    expect(declaredDemoBridges().map((b) => [b.fromBrokerId, b.toBrokerId, b.topicFilter, b.direction])).toEqual([
      ["plant-eu", "cloud-core", "erp/#", "out"],
      ["cloud-core", "plant-eu", "scm/#", "out"],
    ]);
  });
});
