import { describe, expect, it } from "vitest";
import { AMQP_DIALECT, MQTT_DIALECT, NATS_DIALECT, parseTemplate, type TopicDialect } from "../topics/index.ts";
import { compileDriftCatalog, parseObserved } from "./catalog.ts";
import { evaluateObservedTopics } from "./evaluate.ts";
import type { DeclaredFlow, DriftApp, DriftCatalog, DriftFindingDraft, DriftRuleId, ObservedSample, ObservedTopic, OtherVersionFlow } from "./types.ts";
import { PayloadValidators, type StoredSchema } from "./validate.ts";

// Drift judged in each broker's own topic syntax: NATS subjects and AMQP routing keys split on `.`, and a
// channel parameter is one token (one word) there, where on MQTT it is one `/` level.

const app = (slug: string, name: string): DriftApp => ({ id: `id-${slug}`, slug, name, teamId: `team-${slug}` });
const orders = app("orders", "Order Service");
const audit = app("audit", "Order Audit");
const invoices = app("invoices", "Invoicing");
const ledger = app("ledger", "Ledger");

const JSON_FORMAT = "application/schema+json;version=draft-07";
const SCHEMAS: Record<number, StoredSchema> = {
  1: { format: JSON_FORMAT, schema: { type: "object", properties: { value: { type: "number" } }, required: ["value"] } },
  // Order Service 1.0.0: the value was a string
  2: { format: JSON_FORMAT, schema: { type: "object", properties: { value: { type: "string" } }, required: ["value"] } },
};
const PUBLISHED = "2026-11-01T00:00:00.000Z";
const flow = (application: DriftApp, channel: string, action: "send" | "receive"): DeclaredFlow => ({
  application,
  versionId: `${application.slug}@2.0.0`,
  version: "2.0.0",
  channel,
  action,
  messageKey: "event",
  payloadSchemaId: 1,
  payloadFormat: JSON_FORMAT,
  publishedAt: PUBLISHED,
});
const older: OtherVersionFlow = {
  applicationId: orders.id,
  versionId: "orders@1.0.0",
  version: "1.0.0",
  relation: "older",
  channel: "orders.{r}.created",
  action: "send",
  messageKey: "event",
  payloadSchemaId: 2,
  payloadFormat: JSON_FORMAT,
};

const catalog: DriftCatalog = {
  flows: [
    flow(orders, "orders.{region}.created", "send"),
    flow(audit, "orders.{region}.created", "receive"),
    flow(invoices, "invoices.{id}", "send"),
    flow(ledger, "billing.invoice.{id}", "receive"),
  ],
  otherVersions: [older],
  applications: [orders, audit, invoices, ledger],
  mapClient: (clientId) => (clientId.startsWith("orders-") ? [orders] : clientId.startsWith("audit-") ? [audit] : clientId.startsWith("ledger-") ? [ledger] : []),
};
const validators = () => new PayloadValidators((id) => SCHEMAS[id]);

function observed(dialect: TopicDialect, template: string, extra: Partial<ObservedTopic> = {}): ObservedTopic {
  const topics = extra.topics ?? [template.replace(/\{[^}]+\}/g, "eu")];
  return {
    brokerId: `broker-${dialect.protocol}`,
    dialect,
    template,
    topics,
    distinctTopics: topics.length,
    messages: 40,
    firstSeen: "2026-12-01T09:00:00.000Z",
    lastSeen: "2026-12-01T10:00:00.000Z",
    schema: null,
    samples: [],
    producers: [],
    consumers: [],
    knowsProducers: false,
    knowsConsumers: false,
    ...extra,
  };
}
const json = (value: unknown): ObservedSample => ({ at: "2026-12-01T10:00:00.000Z", encoding: "json", payload: JSON.stringify(value), truncated: false, redacted: false });

const met = (topic: ObservedTopic) => compileDriftCatalog(catalog).channelsMet(topic).map((c) => c.address);
const evaluate = (topics: ObservedTopic[]) => evaluateObservedTopics(compileDriftCatalog(catalog), topics, validators());
const rulesOf = (findings: DriftFindingDraft[]): DriftRuleId[] => findings.map((f) => f.subject.rule).sort();

describe("drift on a NATS broker", () => {
  it("meets a channel whose parameter is one token, by listed subjects and by template", () => {
    expect(met(observed(NATS_DIALECT, "orders.{p1}.created", { topics: ["orders.eu.created", "orders.us.created"] }))).toEqual(["orders.{region}.created"]);
    // No subjects listed (or fewer than seen): the template's overlap decides.
    expect(met(observed(NATS_DIALECT, "orders.{p1}.created", { topics: [], distinctTopics: 400 }))).toEqual(["orders.{region}.created"]);
    expect(met(observed(NATS_DIALECT, "invoices.{p1}", { topics: ["invoices.42"] }))).toEqual(["invoices.{id}"]);
  });

  it("never lets a parameter span two tokens", () => {
    expect(met(observed(NATS_DIALECT, "orders.{p1}.{p2}.created", { topics: ["orders.eu.west.created"] }))).toEqual([]);
    expect(met(observed(NATS_DIALECT, "orders.{p1}.{p2}.created", { topics: [], distinctTopics: 50 }))).toEqual([]);
    expect(met(observed(NATS_DIALECT, "invoices.{p1}.{p2}", { topics: ["invoices.42.void"] }))).toEqual([]);
    // The same name on MQTT is one level, and the parameter takes the dots.
    expect(met(observed(MQTT_DIALECT, "invoices.42.void", { topics: ["invoices.42.void"] }))).toEqual(["invoices.{id}"]);
  });

  it("keeps what it remembers apart per dialect", () => {
    const compiled = compileDriftCatalog(catalog);
    const mqtt = observed(MQTT_DIALECT, "invoices.42.void", { topics: ["invoices.42.void"] });
    const nats = observed(NATS_DIALECT, "invoices.42.void", { topics: ["invoices.42.void"] });
    const noDialect = { ...mqtt, dialect: undefined };
    for (let round = 0; round < 2; round++) {
      expect(compiled.channelsMet(mqtt).map((c) => c.address)).toEqual(["invoices.{id}"]);
      expect(compiled.channelsMet(nats)).toEqual([]);
      expect(compiled.channelsMet(noDialect).map((c) => c.address)).toEqual(["invoices.{id}"]);
    }
    // Templates too: an MQTT parse handed in for a NATS observation is not used.
    const template = observed(NATS_DIALECT, "invoices.{p1}.{p2}", { topics: [], distinctTopics: 9 });
    const asMqtt = parseTemplate("invoices.{p1}.{p2}");
    expect(asMqtt.ok).toBe(true);
    expect(compiled.meet(template, asMqtt.ok ? asMqtt.value : null).channels).toEqual([]);
    expect(parseObserved(template)?.dialect.protocol).toBe("nats");
    expect(compiled.channelsIn(NATS_DIALECT).size).toBe(3);
    expect(compiled.channels.dialect.protocol).toBe("mqtt");
  });

  it("draws an undocumented subject for tokens no channel has, and nothing for a documented one", () => {
    const { findings } = evaluate([observed(NATS_DIALECT, "orders.{p1}.created"), observed(NATS_DIALECT, "orders.{p1}.{p2}.created", { topics: ["orders.eu.west.created"] })]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ subject: { rule: "UNDOCUMENTED_TOPIC", brokerId: "broker-nats", template: "orders.{p1}.{p2}.created" }, evidence: { topics: ["orders.eu.west.created"] } });
  });

  it("judges consumers by the channels the subject meets, their filters in NATS syntax as evidence", () => {
    const { findings, judged } = evaluate([
      observed(NATS_DIALECT, "orders.{p1}.created", {
        knowsConsumers: true,
        consumers: [
          { clientId: "audit-1", filter: "orders.*.created" },
          { clientId: "ledger-1", filter: "orders.>" },
        ],
      }),
    ]);
    expect(rulesOf(findings)).toEqual(["UNDECLARED_CONSUMER"]);
    expect(findings[0]).toMatchObject({
      subject: { rule: "UNDECLARED_CONSUMER", brokerId: "broker-nats", template: "orders.{p1}.created", applicationId: ledger.id },
      evidence: { clients: [{ clientId: "ledger-1", filter: "orders.>", role: "consumer" }] },
    });
    expect(judged[0]!.rules).toContain("UNDECLARED_CONSUMER");
  });

  it("judges no producer when the broker does not tell them: neither undeclared nor unknown", () => {
    // NATS never names publishers (knowsProducers false); whatever is listed decides nothing.
    const { findings, judged, judgedClients } = evaluate([observed(NATS_DIALECT, "invoices.{p1}", { producers: [{ clientId: "stranger", messages: 5 }, { clientId: "audit-1", messages: 5 }] })]);
    expect(findings).toEqual([]);
    expect(judged[0]!.rules).not.toContain("UNDECLARED_PRODUCER");
    expect(judgedClients).toEqual([]);
  });

  it("validates payloads against the channel met in NATS syntax, and tells version skew", () => {
    const { findings } = evaluate([
      observed(NATS_DIALECT, "orders.{p1}.created", { samples: [json({ value: "high" }), json({ value: 3 })] }),
      observed(NATS_DIALECT, "invoices.{p1}", { samples: [json({ value: true })] }),
    ]);
    expect(rulesOf(findings)).toEqual(["PAYLOAD_SCHEMA_VIOLATION", "VERSION_SKEW"]);
    expect(findings.find((f) => f.subject.rule === "VERSION_SKEW")).toMatchObject({
      subject: { template: "orders.{p1}.created", channel: "orders.{region}.created", applicationId: orders.id },
      evidence: { validated: 2, failed: 1, matchingVersions: ["1.0.0"] },
    });
    expect(findings.find((f) => f.subject.rule === "PAYLOAD_SCHEMA_VIOLATION")).toMatchObject({
      subject: { template: "invoices.{p1}", channel: "invoices.{id}", applicationId: invoices.id },
      evidence: { validated: 1, failed: 1 },
    });
  });
});

describe("drift on a RabbitMQ broker", () => {
  it("meets channels word by word, never across words", () => {
    expect(met(observed(AMQP_DIALECT, "billing.invoice.{p1}", { topics: ["billing.invoice.42"] }))).toEqual(["billing.invoice.{id}"]);
    expect(met(observed(AMQP_DIALECT, "billing.{p1}.{p2}", { topics: [], distinctTopics: 30 }))).toEqual(["billing.invoice.{id}"]);
    expect(met(observed(AMQP_DIALECT, "billing.invoice.{p1}.{p2}", { topics: ["billing.invoice.42.void"] }))).toEqual([]);
  });

  it("judges consumers bound with # by the channels the routing key meets", () => {
    const { findings } = evaluate([
      observed(AMQP_DIALECT, "billing.invoice.{p1}", {
        knowsConsumers: true,
        knowsProducers: true,
        producers: [{ clientId: "invoices-app", messages: 3 }],
        consumers: [
          { clientId: "ledger-1", filter: "billing.#" },
          { clientId: "orders-1", filter: "#.invoice.#" },
        ],
      }),
    ]);
    expect(rulesOf(findings)).toEqual(["UNDECLARED_CONSUMER", "UNKNOWN_CLIENT"]);
    expect(findings.find((f) => f.subject.rule === "UNDECLARED_CONSUMER")).toMatchObject({
      subject: { brokerId: "broker-amqp", template: "billing.invoice.{p1}", applicationId: orders.id },
      evidence: { clients: [{ clientId: "orders-1", filter: "#.invoice.#", role: "consumer" }] },
    });
    // The firehose names publishers: an unmapped one is an unknown client.
    expect(findings.find((f) => f.subject.rule === "UNKNOWN_CLIENT")).toMatchObject({ subject: { brokerId: "broker-amqp", clientId: "invoices-app" } });
  });
});
