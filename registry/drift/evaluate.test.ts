import { describe, expect, it } from "vitest";
import { compileDriftCatalog } from "./catalog.ts";
import { evaluateObservedTopics, silentChannels, subjectKey } from "./evaluate.ts";
import type { DeclaredFlow, DriftApp, DriftCatalog, DriftFindingDraft, DriftRuleId, ObservedSample, ObservedTopic, OtherVersionFlow } from "./types.ts";
import { PayloadValidators, type StoredSchema } from "./validate.ts";

// --- Fixture: four applications, one older and one newer version -------------------------------------------------

const app = (slug: string, name: string): DriftApp => ({ id: `id-${slug}`, slug, name, teamId: `team-${slug}` });
const sensors = app("line-sensors", "Line Sensors");
const dashboard = app("dashboard", "Plant Dashboard");
const alarms = app("alarms", "Alarm Hub");
const idle = app("idle", "Idle Service");

const JSON_FORMAT = "application/schema+json;version=draft-07";
const SCHEMAS: Record<number, StoredSchema> = {
  1: { format: JSON_FORMAT, schema: { type: "object", properties: { value: { type: "number" }, unit: { type: "string" } }, required: ["value"] } },
  2: { format: JSON_FORMAT, schema: { type: "object", properties: { level: { type: "string", enum: ["low", "high"] } }, required: ["level"] } },
  // Line Sensors 1.0.0: the value was a string
  3: { format: JSON_FORMAT, schema: { type: "object", properties: { value: { type: "string" } }, required: ["value"] } },
  // Line Sensors 2.0.0-rc.1: the value is an object
  4: { format: JSON_FORMAT, schema: { type: "object", properties: { value: { type: "object" } }, required: ["value"] } },
  5: { format: "application/vnd.apache.avro;version=1.9.0", schema: { type: "record", name: "S", fields: [] } },
  6: { format: JSON_FORMAT, schema: { type: "object", properties: { state: { type: "string" } } } },
};

const PUBLISHED = "2026-11-01T00:00:00.000Z";
function flow(application: DriftApp, channel: string, action: "send" | "receive", payloadSchemaId: number | null, version = "1.2.0"): DeclaredFlow {
  return { application, versionId: `${application.slug}@${version}`, version, channel, action, messageKey: "reading", payloadSchemaId, payloadFormat: payloadSchemaId === null ? null : SCHEMAS[payloadSchemaId]!.format, publishedAt: PUBLISHED };
}
function other(application: DriftApp, channel: string, version: string, relation: "older" | "newer", payloadSchemaId: number): OtherVersionFlow {
  return { applicationId: application.id, versionId: `${application.slug}@${version}`, version, relation, channel, action: "send", messageKey: "reading", payloadSchemaId, payloadFormat: JSON_FORMAT };
}

const FLOWS: DeclaredFlow[] = [
  flow(sensors, "plant/{lineId}/temperature", "send", 1),
  flow(dashboard, "plant/{lineId}/temperature", "receive", 1, "3.0.0"),
  flow(alarms, "alarms/{severity}", "receive", 2, "0.9.0"),
  flow(sensors, "plant/line-{n}/status", "send", 6),
  flow(dashboard, "legacy/{id}", "send", 5, "3.0.0"),
];

/** Client-id patterns as lib/reviews/impact.ts maps them, most specific first. */
function mapClient(clientId: string): readonly DriftApp[] {
  if (clientId.startsWith("dash-alarm-")) return [alarms, dashboard];
  if (clientId.startsWith("dash-")) return [dashboard];
  if (clientId.startsWith("sensor-")) return [sensors];
  if (clientId.startsWith("idle-")) return [idle];
  return [];
}

const catalog: DriftCatalog = {
  flows: FLOWS,
  otherVersions: [other(sensors, "plant/{line}/temperature", "1.0.0", "older", 3), other(sensors, "plant/{lineId}/temperature", "2.0.0-rc.1", "newer", 4)],
  applications: [sensors, dashboard, alarms, idle],
  mapClient,
};
const compiled = compileDriftCatalog(catalog);

const json = (value: unknown, extra: Partial<ObservedSample> = {}): ObservedSample => ({ at: "2026-12-01T10:00:00.000Z", encoding: "json", payload: JSON.stringify(value), truncated: false, redacted: false, ...extra });

function observed(template: string, extra: Partial<ObservedTopic> = {}): ObservedTopic {
  const topics = extra.topics ?? [template.replace(/\{[^}]+\}/g, "7")];
  return {
    brokerId: "broker-1",
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

function evaluate(topics: ObservedTopic[], options?: { maxSamplesPerFinding?: number }) {
  return evaluateObservedTopics(compiled, topics, new PayloadValidators((id) => SCHEMAS[id]), options);
}
const ofRule = (findings: DriftFindingDraft[], rule: DriftRuleId) => findings.filter((f) => f.subject.rule === rule);
const rulesJudged = (result: ReturnType<typeof evaluate>) => result.judged[0]!.rules;

// --- Topic rules ----------------------------------------------------------------------------------------------------

describe("UNDOCUMENTED_TOPIC", () => {
  it("draws listed topics that meet no declared channel, with messages, producers and the inferred schema", () => {
    const schema = { type: "object", properties: { rpm: { type: "number" } } };
    const { findings, judged } = evaluate([observed("factory/{p1}/speed", { topics: ["factory/a/speed", "factory/b/speed"], producers: [{ clientId: "stranger", messages: 40 }], schema })]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      subject: { rule: "UNDOCUMENTED_TOPIC", brokerId: "broker-1", template: "factory/{p1}/speed", channel: null, applicationId: null, clientId: null, messageKey: null },
      severity: "warning",
      evidence: { topics: ["factory/a/speed", "factory/b/speed"], messages: 40, clients: [{ clientId: "stranger", role: "producer" }], inferredSchema: schema },
      occurrences: 40,
    });
    expect(findings[0]!.summary).toContain("factory/{p1}/speed");
    // nothing declares the topic, so no field of it is undocumented by a contract: judged, not drawn
    expect(judged).toEqual([{ brokerId: "broker-1", template: "factory/{p1}/speed", rules: ["UNDOCUMENTED_TOPIC", "UNDOCUMENTED_FIELD"] }]);
  });

  it("draws nothing for a topic that is an instance of a declared channel", () => {
    const result = evaluate([observed("plant/{p1}/temperature", { topics: ["plant/7/temperature"] })]);
    expect(result.findings).toEqual([]);
    expect(rulesJudged(result)).toContain("UNDOCUMENTED_TOPIC");
  });

  it("names only the listed topics that meet nothing", () => {
    const { findings } = evaluate([observed("plant/{p1}/{p2}", { topics: ["plant/7/temperature", "plant/7/humidity"] })]);
    expect(ofRule(findings, "UNDOCUMENTED_TOPIC").map((f) => f.evidence.topics)).toEqual([["plant/7/humidity"]]);
  });

  it("matches concrete topics against templates with partial-level parameters", () => {
    expect(evaluate([observed("plant/{p1}/status", { topics: ["plant/line-3/status"] })]).findings).toEqual([]);
    expect(ofRule(evaluate([observed("plant/{p1}/status", { topics: ["plant/3/status"] })]).findings, "UNDOCUMENTED_TOPIC")).toHaveLength(1);
  });

  it("meets channels by template overlap when no topics are listed", () => {
    expect(evaluate([observed("plant/{p1}/temperature", { topics: [], distinctTopics: 500 })]).findings).toEqual([]);
    const { findings } = evaluate([observed("warehouse/{p1}", { topics: [], distinctTopics: 500 })]);
    expect(ofRule(findings, "UNDOCUMENTED_TOPIC").map((f) => f.evidence.topics)).toEqual([[]]);
  });

  it("keeps at most 20 topics as evidence", () => {
    const topics = Array.from({ length: 30 }, (_, i) => `factory/${i}/speed`);
    const [finding] = evaluate([observed("factory/{p1}/speed", { topics })]).findings;
    expect(finding!.evidence.topics).toHaveLength(20);
  });
});

describe("PAYLOAD_SCHEMA_VIOLATION and VERSION_SKEW", () => {
  const temperature = (samples: ObservedSample[]) => observed("plant/{p1}/temperature", { topics: ["plant/7/temperature"], samples });

  it("draws payloads failing every sender schema against the sender, with rate and the failing pointer", () => {
    const { findings } = evaluate([temperature([json({ value: 21.5 }), json({ value: true }), json({ value: 20, unit: "C" }), json({ unit: "C" })])]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      subject: { rule: "PAYLOAD_SCHEMA_VIOLATION", brokerId: "broker-1", template: "plant/{p1}/temperature", channel: "plant/{lineId}/temperature", applicationId: sensors.id, clientId: null },
      severity: "error",
      occurrences: 2,
      evidence: { validated: 4, failed: 2, rate: 0.5, version: "1.2.0" },
    });
    expect(findings[0]!.evidence.samples).toEqual([
      { at: "2026-12-01T10:00:00.000Z", payload: '{"value":true}', truncated: false, path: "/value", problem: "must be number" },
      { at: "2026-12-01T10:00:00.000Z", payload: '{"unit":"C"}', truncated: false, path: "/value", problem: "must have required property 'value'" },
    ]);
    // the receivers' copy is not judged while there is a sender
    expect(findings.some((f) => f.subject.applicationId === dashboard.id)).toBe(false);
  });

  it("draws nothing when every payload conforms, and still judges the scope", () => {
    const result = evaluate([temperature([json({ value: 21.5 }), json({ value: 3, unit: "C" })])]);
    expect(result.findings).toEqual([]);
    expect(rulesJudged(result)).toEqual(expect.arrayContaining(["PAYLOAD_SCHEMA_VIOLATION", "VERSION_SKEW", "UNDOCUMENTED_TOPIC"]));
  });

  it("judges against the receivers when nobody declares sending", () => {
    const { findings } = evaluate([observed("alarms/{p1}", { topics: ["alarms/critical"], samples: [json({ level: "extreme" })] })]);
    expect(ofRule(findings, "PAYLOAD_SCHEMA_VIOLATION").map((f) => [f.subject.applicationId, f.subject.channel, f.evidence.samples?.[0]?.path])).toEqual([[alarms.id, "alarms/{severity}", "/level"]]);
  });

  it("does not judge payload rules without usable samples: none, truncated, redacted, text", () => {
    const unusable = [json({ value: true }, { truncated: true }), json({ value: true }, { redacted: true }), { ...json({ value: true }), encoding: "text" as const }, { ...json(null), payload: "{not json" }];
    for (const samples of [[], unusable]) {
      const result = evaluate([temperature(samples)]);
      expect(result.findings).toEqual([]);
      expect(rulesJudged(result)).not.toContain("PAYLOAD_SCHEMA_VIOLATION");
      expect(rulesJudged(result)).not.toContain("VERSION_SKEW");
    }
  });

  it("does not judge payloads against schemas it cannot validate", () => {
    const result = evaluate([observed("legacy/{p1}", { topics: ["legacy/1"], samples: [json({ anything: 1 })] })]);
    expect(result.findings).toEqual([]);
    expect(rulesJudged(result)).not.toContain("PAYLOAD_SCHEMA_VIOLATION");
  });

  it("counts a payload that matches another version of the sender as VERSION_SKEW, not as a violation", () => {
    const { findings } = evaluate([temperature([json({ value: "21.5" }), json({ value: { c: 21 } }), json({ value: "20" }), json({ value: 1 }), json({ value: null })])]);
    const skew = ofRule(findings, "VERSION_SKEW");
    expect(skew).toHaveLength(1);
    expect(skew[0]).toMatchObject({
      subject: { rule: "VERSION_SKEW", brokerId: "broker-1", template: "plant/{p1}/temperature", channel: "plant/{lineId}/temperature", applicationId: sensors.id },
      severity: "warning",
      occurrences: 3,
      evidence: { validated: 5, failed: 3, rate: 0.6, version: "1.2.0", matchingVersions: ["1.0.0", "2.0.0-rc.1"] },
    });
    const violation = ofRule(findings, "PAYLOAD_SCHEMA_VIOLATION");
    expect(violation.map((f) => [f.occurrences, f.evidence.samples?.map((s) => s.payload)])).toEqual([[1, ['{"value":null}']]]);
  });

  /** Evaluates against a catalog of the given flows (the fixture's schemas and client mapping). */
  const evaluateIn = (flows: DeclaredFlow[], otherVersions: OtherVersionFlow[], topics: ObservedTopic[]) =>
    evaluateObservedTopics(compileDriftCatalog({ flows, otherVersions, applications: [sensors, dashboard, alarms, idle], mapClient }), topics, new PayloadValidators((id) => SCHEMAS[id]));

  it("draws payload findings only for applications whose message declares a JSON Schema payload", () => {
    const flows = [flow(sensors, "plant/{lineId}/temperature", "send", 1), flow(idle, "plant/{lineId}/temperature", "send", null, "0.1.0")];
    const { findings } = evaluateIn(flows, [], [temperature([json({ value: true })])]);
    expect(findings.map((f) => [f.subject.rule, f.subject.applicationId])).toEqual([["PAYLOAD_SCHEMA_VIOLATION", sensors.id]]);
    // and no UNDOCUMENTED_FIELD for it either
    const fields = evaluateIn(flows, [], [observed("plant/{p1}/temperature", { schema: { type: "object", properties: { value: {}, humidity: {} } } })]).findings;
    expect(fields.map((f) => [f.subject.rule, f.subject.applicationId])).toEqual([["UNDOCUMENTED_FIELD", sensors.id]]);
  });

  it("counts a payload matching another version of one sender for VERSION_SKEW only, for every sender", () => {
    const flows = [flow(sensors, "plant/{lineId}/temperature", "send", 1), flow(dashboard, "plant/{lineId}/temperature", "send", 1, "3.0.0")];
    const { findings } = evaluateIn(flows, [other(sensors, "plant/{lineId}/temperature", "1.0.0", "older", 3)], [temperature([json({ value: "21" }), json({ value: null })])]);
    expect(findings.map((f) => [f.subject.rule, f.subject.applicationId, f.occurrences, f.evidence.samples?.map((x) => x.payload)]).sort()).toEqual([
      ["PAYLOAD_SCHEMA_VIOLATION", dashboard.id, 1, ['{"value":null}']],
      ["PAYLOAD_SCHEMA_VIOLATION", sensors.id, 1, ['{"value":null}']],
      ["VERSION_SKEW", sensors.id, 1, ['{"value":"21"}']],
    ]);
  });

  it("compares with other versions on the same channel only", () => {
    const flows = [flow(sensors, "plant/{lineId}/temperature", "send", 1), flow(sensors, "plant/{lineId}/pressure", "send", 1)];
    const topic = observed("plant/{p1}/{p2}", { topics: ["plant/7/temperature", "plant/7/pressure"], samples: [json({ value: "21" })] });
    const { findings } = evaluateIn(flows, [other(sensors, "plant/{line}/pressure", "1.0.0", "older", 3)], [topic]);
    expect(findings.map((f) => [f.subject.rule, f.subject.channel, f.evidence.matchingVersions])).toEqual([["VERSION_SKEW", "plant/{lineId}/pressure", ["1.0.0"]]]);
  });

  it("keeps at most three samples (or as asked), each payload clipped to 1,000 characters", () => {
    const long = json({ value: "x".repeat(2_000) });
    const samples = [long, ...Array.from({ length: 5 }, () => json({ value: false }))];
    const topic = observed("alarms/{p1}", { topics: ["alarms/x"], samples: samples.map((s) => ({ ...s, payload: s.payload.replace('"value"', '"level"') })) });
    const [finding] = evaluate([topic]).findings;
    expect(finding!.evidence.samples).toHaveLength(3);
    expect(finding!.evidence.samples![0]!.payload).toHaveLength(1_000);
    expect(finding!.evidence.samples![0]!.truncated).toBe(true);
    expect(evaluate([topic], { maxSamplesPerFinding: 1 }).findings[0]!.evidence.samples).toHaveLength(1);
  });
});

describe("UNDOCUMENTED_FIELD", () => {
  const schema = (properties: Record<string, unknown>) => ({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties });

  it("draws fields the candidate schemas do not document", () => {
    const topic = observed("plant/{p1}/temperature", { schema: schema({ value: { type: "number" }, humidity: { type: "number" }, meta: { type: "object", properties: { site: { type: "string" } } } }) });
    const fields = ofRule(evaluate([topic]).findings, "UNDOCUMENTED_FIELD");
    expect(fields).toHaveLength(1);
    expect(fields[0]).toMatchObject({
      subject: { rule: "UNDOCUMENTED_FIELD", brokerId: "broker-1", template: "plant/{p1}/temperature", channel: "plant/{lineId}/temperature", applicationId: sensors.id },
      severity: "info",
      evidence: { fields: ["/humidity", "/meta"], version: "1.2.0" },
      occurrences: 2,
    });
  });

  it("draws nothing when every field is documented, and judges nothing without an inferred schema", () => {
    const ok = evaluate([observed("plant/{p1}/temperature", { schema: schema({ value: { type: "number" }, unit: { type: "string" } }) })]);
    expect(ok.findings).toEqual([]);
    expect(rulesJudged(ok)).toContain("UNDOCUMENTED_FIELD");
    const none = evaluate([observed("plant/{p1}/temperature")]);
    expect(rulesJudged(none)).not.toContain("UNDOCUMENTED_FIELD");
  });
});

describe("UNDECLARED_PRODUCER, UNDECLARED_CONSUMER and UNKNOWN_CLIENT", () => {
  const temperature = (extra: Partial<ObservedTopic>) => observed("plant/{p1}/temperature", { knowsProducers: true, knowsConsumers: true, ...extra });

  it("draws a producer whose application sends on no channel the topic meets", () => {
    const { findings } = evaluate([temperature({ producers: [{ clientId: "dash-1", messages: 12 }, { clientId: "dash-2", messages: 3 }, { clientId: "sensor-1", messages: 25 }] })]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      subject: { rule: "UNDECLARED_PRODUCER", brokerId: "broker-1", template: "plant/{p1}/temperature", applicationId: dashboard.id, channel: null, clientId: null },
      severity: "error",
      occurrences: 15,
      evidence: { clients: [{ clientId: "dash-1", role: "producer" }, { clientId: "dash-2", role: "producer" }], messages: 15 },
    });
    expect(findings[0]!.summary).toContain("dash-1");
    expect(findings[0]!.summary).toContain("Plant Dashboard");
  });

  it("draws a consumer whose application receives on no channel the topic meets, with its filter", () => {
    const { findings } = evaluate([temperature({ consumers: [{ clientId: "sensor-9", filter: "plant/+/temperature" }, { clientId: "dash-1", filter: "plant/#" }] })]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      subject: { rule: "UNDECLARED_CONSUMER", applicationId: sensors.id },
      severity: "warning",
      occurrences: 1,
      evidence: { clients: [{ clientId: "sensor-9", filter: "plant/+/temperature", role: "consumer" }] },
    });
  });

  it("lets a client of several applications do what any of them declares, and names the most specific one", () => {
    const consuming = evaluate([temperature({ consumers: [{ clientId: "dash-alarm-1", filter: "plant/+/temperature" }] })]);
    expect(consuming.findings).toEqual([]);
    const producing = evaluate([temperature({ producers: [{ clientId: "dash-alarm-1", messages: 2 }] })]);
    expect(producing.findings.map((f) => [f.subject.rule, f.subject.applicationId])).toEqual([["UNDECLARED_PRODUCER", alarms.id]]);
  });

  it("draws an application without flows and a topic no contract declares", () => {
    const { findings } = evaluate([observed("factory/{p1}", { topics: ["factory/1"], knowsProducers: true, producers: [{ clientId: "idle-1", messages: 1 }] })]);
    expect(findings.map((f) => [f.subject.rule, f.subject.applicationId]).sort()).toEqual([
      ["UNDECLARED_PRODUCER", idle.id],
      ["UNDOCUMENTED_TOPIC", null],
    ]);
  });

  it("does not judge producers or consumers the broker did not tell", () => {
    const result = evaluate([temperature({ knowsProducers: false, knowsConsumers: false, producers: [{ clientId: "dash-1", messages: 1 }, { clientId: "stranger", messages: 1 }] })]);
    expect(result.findings).toEqual([]);
    expect(rulesJudged(result)).not.toContain("UNDECLARED_PRODUCER");
    expect(rulesJudged(result)).not.toContain("UNDECLARED_CONSUMER");
    expect(result.judgedClients).toEqual([]);
  });

  it("does not judge producers when none are listed although messages flowed, or some were left out", () => {
    for (const extra of [{ producers: [] }, { producers: [{ clientId: "dash-1", messages: 3 }, { clientId: "stranger", messages: 1 }], omittedProducers: 4 }]) {
      const result = evaluate([temperature(extra)]);
      expect(result.findings).toEqual([]);
      expect(rulesJudged(result)).not.toContain("UNDECLARED_PRODUCER");
      expect(result.judgedClients).toEqual([]);
    }
  });

  it("judges consumers when nobody subscribes, but not when some were left out", () => {
    expect(rulesJudged(evaluate([temperature({ consumers: [] })]))).toContain("UNDECLARED_CONSUMER");
    const result = evaluate([temperature({ consumers: [{ clientId: "sensor-9", filter: "plant/#" }, { clientId: "stranger", filter: "#" }], omittedConsumers: 1 })]);
    expect(result.findings).toEqual([]);
    expect(rulesJudged(result)).not.toContain("UNDECLARED_CONSUMER");
    expect(result.judgedClients).toEqual([]);
  });

  it("draws one UNKNOWN_CLIENT per broker and client, over every topic it was seen on", () => {
    const result = evaluate([
      temperature({ producers: [{ clientId: "stranger", messages: 5 }, { clientId: "sensor-1", messages: 1 }] }),
      observed("alarms/{p1}", { topics: ["alarms/low"], knowsConsumers: true, consumers: [{ clientId: "stranger", filter: "alarms/#" }] }),
      observed("alarms/{p1}", { brokerId: "broker-2", topics: ["alarms/low"], knowsConsumers: true, consumers: [{ clientId: "dash-alarm-2", filter: "alarms/+" }] }),
    ]);
    const unknown = ofRule(result.findings, "UNKNOWN_CLIENT");
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({
      subject: { rule: "UNKNOWN_CLIENT", brokerId: "broker-1", clientId: "stranger", template: null, applicationId: null },
      severity: "info",
      occurrences: 2,
      evidence: { topics: ["plant/{p1}/temperature", "alarms/{p1}"], messages: 5, clients: [{ clientId: "stranger", role: "producer" }, { clientId: "stranger", filter: "alarms/#", role: "consumer" }] },
    });
    expect(result.judgedClients).toEqual([
      { brokerId: "broker-1", clientIds: ["sensor-1", "stranger"] },
      { brokerId: "broker-2", clientIds: ["dash-alarm-2"] },
    ]);
    expect(result.findings.filter((f) => f.subject.rule !== "UNKNOWN_CLIENT")).toEqual([]);
  });
});

describe("subjectKey", () => {
  it("is stable over field order and tells subjects apart", () => {
    const a = { rule: "UNKNOWN_CLIENT" as const, brokerId: "b", template: null, channel: null, applicationId: null, clientId: "c", messageKey: null };
    const reordered = { clientId: "c", messageKey: null, rule: "UNKNOWN_CLIENT" as const, template: null, brokerId: "b", channel: null, applicationId: null };
    expect(subjectKey(a)).toBe(subjectKey(reordered));
    expect(subjectKey(a)).not.toBe(subjectKey({ ...a, clientId: "d" }));
    expect(subjectKey(a)).not.toBe(subjectKey({ ...a, brokerId: null, template: "b" }));
  });

  it("merges a subject drawn twice in one batch", () => {
    const topic = observed("factory/{p1}", { topics: ["factory/1"], messages: 3 });
    const { findings } = evaluate([topic, { ...topic, messages: 4, lastSeen: "2026-12-01T11:00:00.000Z" }]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ occurrences: 7, lastSeen: "2026-12-01T11:00:00.000Z" });
  });
});

// --- SILENT_CHANNEL --------------------------------------------------------------------------------------------------

describe("silentChannels", () => {
  const now = new Date("2026-12-01T12:00:00.000Z");
  const DAY = 86_400;
  const key = (a: DriftApp, channel: string) => `${a.id}\u0000${channel}`;
  const base = { flows: FLOWS, now, windowSeconds: DAY, observingSince: "2026-11-20T00:00:00.000Z", activity: new Map<string, string>() };

  it("draws every send channel with nothing observed, judging send flows only", () => {
    const { findings, judged } = silentChannels(base);
    expect(judged).toEqual([
      { applicationId: sensors.id, channel: "plant/{lineId}/temperature" },
      { applicationId: sensors.id, channel: "plant/line-{n}/status" },
      { applicationId: dashboard.id, channel: "legacy/{id}" },
    ]);
    expect(findings[0]).toMatchObject({
      subject: { rule: "SILENT_CHANNEL", brokerId: null, template: null, channel: "plant/{lineId}/temperature", applicationId: sensors.id, clientId: null, messageKey: null },
      severity: "warning",
      evidence: { lastObserved: null, windowSeconds: DAY, version: "1.2.0" },
    });
    expect(findings[0]!.summary).toContain("Line Sensors");
  });

  it("draws a channel last seen before the window, not one seen within it", () => {
    const activity = new Map([
      [key(sensors, "plant/{lineId}/temperature"), "2026-12-01T08:00:00.000Z"],
      [key(sensors, "plant/line-{n}/status"), "2026-11-29T08:00:00.000Z"],
      [key(dashboard, "legacy/{id}"), "2026-11-30T12:30:00.000Z"],
    ]);
    const { findings, judged } = silentChannels({ ...base, activity });
    expect(judged).toHaveLength(3);
    expect(findings.map((f) => [f.subject.channel, f.evidence.lastObserved])).toEqual([["plant/line-{n}/status", "2026-11-29T08:00:00.000Z"]]);
  });

  it("judges nothing while no broker reports, or before brokers reported for a whole window", () => {
    expect(silentChannels({ ...base, observingSince: null })).toEqual({ findings: [], judged: [] });
    expect(silentChannels({ ...base, observingSince: "2026-12-01T00:00:00.000Z" })).toEqual({ findings: [], judged: [] });
  });

  it("judges no version published within the window", () => {
    const fresh = FLOWS.map((f) => (f.application.id === sensors.id ? { ...f, publishedAt: "2026-12-01T06:00:00.000Z" } : f));
    const { findings, judged } = silentChannels({ ...base, flows: fresh });
    expect(judged).toEqual([{ applicationId: dashboard.id, channel: "legacy/{id}" }]);
    expect(findings.map((f) => f.subject.applicationId)).toEqual([dashboard.id]);
  });
});
