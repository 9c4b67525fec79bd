/**
 * The drift rules over observed topics (topic and client rules) and over channel activity
 * (SILENT_CHANNEL). Pure: the caller gives the compiled catalog, the observations and a
 * validator cache it owns, and stores what comes back.
 */
import { observedDialect, type CompiledDriftCatalog, type DriftChannel, type OtherChannel } from "./catalog.ts";
import { undocumentedFields } from "./fields.ts";
import { driftRuleById } from "./rules.ts";
import type {
  DeclaredFlow,
  DriftApp,
  DriftEvaluation,
  DriftEvidence,
  DriftFindingDraft,
  DriftRuleId,
  EvidenceSample,
  FindingSubject,
  JudgedScope,
  ObservedSample,
  ObservedTopic,
} from "./types.ts";
import { isJsonSchemaFormat, type PayloadCheck, type PayloadValidators } from "./validate.ts";

/** Bounds of a finding's evidence. */
export const EVIDENCE_LIMITS = { samples: 3, topics: 20, clients: 20, fields: 50, payloadChars: 1_000 } as const;

/** Longest name quoted in a summary. */
const SUMMARY_NAME = 200;

/** Options of {@link evaluateObservedTopics}. */
export interface EvaluateOptions {
  /** samples kept as evidence per finding (0–3, default 3) */
  maxSamplesPerFinding?: number;
}

/** A stable canonical string of a finding's subject (the caller hashes it): its fields in a fixed order. */
export function subjectKey(subject: FindingSubject): string {
  return JSON.stringify([subject.rule, subject.brokerId, subject.template, subject.channel, subject.applicationId, subject.clientId, subject.messageKey]);
}

function subjectOf(rule: DriftRuleId, parts: Partial<Omit<FindingSubject, "rule">>): FindingSubject {
  return {
    rule,
    brokerId: parts.brokerId ?? null,
    template: parts.template ?? null,
    channel: parts.channel ?? null,
    applicationId: parts.applicationId ?? null,
    clientId: parts.clientId ?? null,
    messageKey: parts.messageKey ?? null,
  };
}

const clip = (text: string, max = SUMMARY_NAME): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Collects drafts by subject: a subject drawn twice (the same template reported twice) is one finding. */
class Drafts {
  readonly byKey = new Map<string, DriftFindingDraft>();

  add(subject: FindingSubject, summary: string, evidence: DriftEvidence, occurrences: number, firstSeen: string, lastSeen: string): void {
    const key = subjectKey(subject);
    const existing = this.byKey.get(key);
    if (existing) {
      existing.occurrences += occurrences;
      if (firstSeen < existing.firstSeen) existing.firstSeen = firstSeen;
      if (lastSeen > existing.lastSeen) existing.lastSeen = lastSeen;
      return;
    }
    this.byKey.set(key, { subject, severity: driftRuleById(subject.rule)!.severity, summary, evidence, occurrences, firstSeen, lastSeen });
  }
}

/** A sampled payload that can be validated: JSON, complete, not redacted, and parsing. */
interface Payload {
  sample: ObservedSample;
  value: unknown;
}

const usable = (sample: ObservedSample): boolean => sample.encoding === "json" && !sample.truncated && !sample.redacted;

function payloadsOf(topic: ObservedTopic): Payload[] {
  const out: Payload[] = [];
  for (const sample of topic.samples) {
    if (!usable(sample)) continue;
    try {
      out.push({ sample, value: JSON.parse(sample.payload) as unknown });
    } catch {
      // Not JSON after all: nothing to judge.
    }
  }
  return out;
}

function evidenceSample(sample: ObservedSample, failure?: PayloadCheck): EvidenceSample {
  const cut = sample.payload.length > EVIDENCE_LIMITS.payloadChars;
  const out: EvidenceSample = { at: sample.at, payload: cut ? sample.payload.slice(0, EVIDENCE_LIMITS.payloadChars) : sample.payload, truncated: sample.truncated || cut };
  if (failure && failure.valid === false) {
    out.path = failure.path;
    out.problem = failure.problem;
  }
  return out;
}

/** The distinct payload schema ids of the flows, in flow order. */
function schemaIdsOf(flows: readonly { payloadSchemaId: number | null }[]): number[] {
  const ids: number[] = [];
  for (const flow of flows) if (flow.payloadSchemaId !== null && !ids.includes(flow.payloadSchemaId)) ids.push(flow.payloadSchemaId);
  return ids;
}

/** The side whose schemas payloads are judged against: the senders when any, else the receivers. */
function sideOf(compiled: CompiledDriftCatalog, channels: readonly DriftChannel[]): { action: "send" | "receive"; flows: DeclaredFlow[] } {
  const send = compiled.flowsOn(channels, "send");
  return send.length > 0 ? { action: "send", flows: send } : { action: "receive", flows: compiled.flowsOn(channels, "receive") };
}

/** Whether the flow's message declares a JSON Schema payload (what payloads and fields are judged against). */
const hasJsonPayload = (flow: DeclaredFlow): boolean => flow.payloadSchemaId !== null && flow.payloadFormat !== null && isJsonSchemaFormat(flow.payloadFormat);

/** A (channel, application) of the side, with the flow named in its findings. */
interface Pair {
  channel: string;
  app: DriftApp;
  flow: DeclaredFlow;
}

/**
 * The flows of the side with a JSON Schema payload, grouped by (channel, application): one payload or field finding
 * each. An application whose message declares no such payload has nothing to be judged against, so it draws nothing.
 */
function pairsOf(flows: readonly DeclaredFlow[]): Pair[] {
  const out = new Map<string, Pair>();
  for (const flow of flows) {
    if (!hasJsonPayload(flow)) continue;
    const key = `${flow.channel}\u0000${flow.application.id}`;
    if (!out.has(key)) out.set(key, { channel: flow.channel, app: flow.application, flow });
  }
  return [...out.values()];
}

interface UnknownClient {
  brokerId: string;
  clientId: string;
  producer: boolean;
  consumer: boolean;
  filters: string[];
  templates: string[];
  seenOn: number;
  messages: number;
  firstSeen: string;
  lastSeen: string;
}

/** Evaluation state shared by the topics of one batch. */
class Run {
  readonly drafts = new Drafts();
  readonly judged: JudgedScope[] = [];
  readonly judgedClients = new Map<string, Set<string>>();
  readonly unknown = new Map<string, UnknownClient>();
  private readonly clients = new Map<string, readonly DriftApp[]>();

  constructor(
    readonly compiled: CompiledDriftCatalog,
    readonly validators: PayloadValidators,
    readonly maxSamples: number,
  ) {}

  mapClient(clientId: string): readonly DriftApp[] {
    let apps = this.clients.get(clientId);
    if (!apps) this.clients.set(clientId, (apps = this.compiled.mapClient(clientId)));
    return apps;
  }

  judgeClient(topic: ObservedTopic, clientId: string, role: "producer" | "consumer", messages: number, filter?: string): readonly DriftApp[] {
    let set = this.judgedClients.get(topic.brokerId);
    if (!set) this.judgedClients.set(topic.brokerId, (set = new Set()));
    set.add(clientId);
    const apps = this.mapClient(clientId);
    if (apps.length === 0) {
      const key = `${topic.brokerId}\u0000${clientId}`;
      let u = this.unknown.get(key);
      if (!u) {
        u = { brokerId: topic.brokerId, clientId, producer: false, consumer: false, filters: [], templates: [], seenOn: 0, messages: 0, firstSeen: topic.firstSeen, lastSeen: topic.lastSeen };
        this.unknown.set(key, u);
      }
      if (role === "producer") u.producer = true;
      else u.consumer = true;
      if (filter !== undefined && u.filters.length < EVIDENCE_LIMITS.clients && !u.filters.includes(filter)) u.filters.push(filter);
      if (!u.templates.includes(topic.template)) {
        u.seenOn++;
        if (u.templates.length < EVIDENCE_LIMITS.topics) u.templates.push(topic.template);
      }
      u.messages += messages;
      if (topic.firstSeen < u.firstSeen) u.firstSeen = topic.firstSeen;
      if (topic.lastSeen > u.lastSeen) u.lastSeen = topic.lastSeen;
    }
    return apps;
  }

  evaluate(topic: ObservedTopic): void {
    const meeting = this.compiled.meet(topic);
    const rules: DriftRuleId[] = ["UNDOCUMENTED_TOPIC"];
    this.undocumentedTopic(topic, meeting.channels, meeting.unmatched);
    const side = sideOf(this.compiled, meeting.channels);
    const schemaIds = schemaIdsOf(side.flows);
    if (this.payloadRules(topic, side, schemaIds)) rules.push("PAYLOAD_SCHEMA_VIOLATION", "VERSION_SKEW");
    if (this.fieldRule(topic, side, schemaIds)) rules.push("UNDOCUMENTED_FIELD");
    // Producers are judged only when listed in full: none listed while messages flowed, or some left out, decides nothing.
    if (topic.knowsProducers && topic.producers.length > 0 && !((topic.omittedProducers ?? 0) > 0)) {
      rules.push("UNDECLARED_PRODUCER");
      this.undeclared(topic, meeting.channels, "producer");
    }
    // Nobody may subscribe, so no consumers is an answer; consumers left out are not.
    if (topic.knowsConsumers && !((topic.omittedConsumers ?? 0) > 0)) {
      rules.push("UNDECLARED_CONSUMER");
      this.undeclared(topic, meeting.channels, "consumer");
    }
    this.judged.push({ brokerId: topic.brokerId, template: topic.template, rules });
  }

  private undocumentedTopic(topic: ObservedTopic, channels: readonly DriftChannel[], unmatched: readonly string[]): void {
    if (unmatched.length === 0 && !(topic.topics.length === 0 && channels.length === 0)) return;
    const evidence: DriftEvidence = {
      topics: unmatched.slice(0, EVIDENCE_LIMITS.topics),
      messages: topic.messages,
      clients: topic.producers.slice(0, EVIDENCE_LIMITS.clients).map((p) => ({ clientId: p.clientId, role: "producer" as const })),
    };
    if (topic.schema) evidence.inferredSchema = topic.schema;
    const example = unmatched[0] !== undefined && unmatched[0] !== topic.template ? ` (e.g. ${clip(unmatched[0])})` : "";
    const summary = `No contract declares topic ${clip(topic.template)}${example}, which carried ${plural(topic.messages, "message")}.`;
    this.drafts.add(subjectOf("UNDOCUMENTED_TOPIC", { brokerId: topic.brokerId, template: topic.template }), summary, evidence, Math.max(1, topic.messages), topic.firstSeen, topic.lastSeen);
  }

  /** PAYLOAD_SCHEMA_VIOLATION and VERSION_SKEW; true when judged. */
  private payloadRules(topic: ObservedTopic, side: ReturnType<typeof sideOf>, schemaIds: readonly number[]): boolean {
    // Nothing declared to validate against: judged when there are payloads to judge, and nothing can fail.
    if (schemaIds.length === 0) return topic.samples.some(usable);
    const payloads = payloadsOf(topic);
    if (payloads.length === 0) return false;
    let validated = 0;
    const failing: Array<{ payload: Payload; failure: PayloadCheck }> = [];
    for (const payload of payloads) {
      let failure: PayloadCheck | null = null;
      let passed = false;
      let undecided = false;
      for (const id of schemaIds) {
        const result = this.validators.check(id, payload.value);
        if (result.valid === true) {
          passed = true;
          break;
        }
        if (result.valid === null) undecided = true;
        else failure ??= result;
      }
      if (passed) validated++;
      else if (!undecided && failure) {
        validated++;
        failing.push({ payload, failure });
      }
    }
    if (validated === 0) return false;
    if (failing.length === 0) return true;
    const pairs = pairsOf(side.flows);
    if (pairs.length === 0) return true;
    // VERSION_SKEW first, over every pair: a payload that matches another version of one sender's contract on the
    // pair's channel is skew, and a violation of no pair.
    const others = new Set<OtherChannel>(this.compiled.otherChannelsMet(topic));
    const skewed = new Set<(typeof failing)[number]>();
    const skewOf = pairs.map((pair) => {
      const sameChannel = others.size === 0 ? [] : this.compiled.otherChannelsOverlapping(pair.channel, observedDialect(topic)).filter((c) => others.has(c));
      const otherFlows = sameChannel.length === 0 ? [] : this.compiled.otherFlowsOn(sameChannel, pair.app.id, side.action);
      const payloads: typeof failing = [];
      const versions = new Set<string>();
      if (otherFlows.length === 0) return { payloads, versions };
      for (const f of failing) {
        let skew = false;
        for (const other of otherFlows) {
          if (other.payloadSchemaId !== null && this.validators.check(other.payloadSchemaId, f.payload.value).valid === true) {
            versions.add(other.version);
            skew = true;
          }
        }
        if (skew) {
          payloads.push(f);
          skewed.add(f);
        }
      }
      return { payloads, versions };
    });
    const violating = skewed.size === 0 ? failing : failing.filter((f) => !skewed.has(f));
    const samples = (list: typeof failing) => list.slice(0, this.maxSamples).map((f) => evidenceSample(f.payload.sample, f.failure));
    const rate = (n: number) => Math.round((n / validated) * 10_000) / 10_000;
    pairs.forEach(({ channel, app, flow }, i) => {
      const base = { brokerId: topic.brokerId, template: topic.template, channel, applicationId: app.id };
      if (violating.length > 0) {
        const first = violating[0]!.failure as { path: string; problem: string };
        this.drafts.add(
          subjectOf("PAYLOAD_SCHEMA_VIOLATION", base),
          `${violating.length} of ${plural(validated, "payload")} on ${clip(topic.template)} match no payload schema of channel ${clip(channel)} in the contract of ${clip(app.name)} ${flow.version} (${clip(first.path || "/", 80)} ${clip(first.problem)}).`,
          { topics: topic.topics.slice(0, EVIDENCE_LIMITS.topics), validated, failed: violating.length, rate: rate(violating.length), samples: samples(violating), version: flow.version },
          violating.length,
          topic.firstSeen,
          topic.lastSeen,
        );
      }
      const skew = skewOf[i]!;
      if (skew.payloads.length > 0) {
        const matching = [...skew.versions].sort();
        this.drafts.add(
          subjectOf("VERSION_SKEW", base),
          `${skew.payloads.length} of ${plural(validated, "payload")} on ${clip(topic.template)} fail the contract of ${clip(app.name)} ${flow.version} for channel ${clip(channel)} but match version ${matching.map((v) => clip(v, 40)).join(", ")}.`,
          { topics: topic.topics.slice(0, EVIDENCE_LIMITS.topics), validated, failed: skew.payloads.length, rate: rate(skew.payloads.length), samples: samples(skew.payloads), version: flow.version, matchingVersions: matching },
          skew.payloads.length,
          topic.firstSeen,
          topic.lastSeen,
        );
      }
    });
    return true;
  }

  /** UNDOCUMENTED_FIELD; true when judged. */
  private fieldRule(topic: ObservedTopic, side: ReturnType<typeof sideOf>, schemaIds: readonly number[]): boolean {
    if (!topic.schema) return false;
    if (schemaIds.length === 0) return true;
    const documented: unknown[] = [];
    for (const id of schemaIds) {
      const schema = this.validators.jsonSchema(id);
      if (schema !== undefined) documented.push(schema);
    }
    // Only schemas in other formats: nothing to compare the fields with.
    if (documented.length === 0) return false;
    const fields = undocumentedFields(topic.schema, documented, { maxFields: EVIDENCE_LIMITS.fields });
    if (fields.length === 0) return true;
    for (const { channel, app, flow } of pairsOf(side.flows)) {
      const shown = fields.slice(0, 3).map((f) => clip(f, 80)).join(", ");
      this.drafts.add(
        subjectOf("UNDOCUMENTED_FIELD", { brokerId: topic.brokerId, template: topic.template, channel, applicationId: app.id }),
        `Payloads on ${clip(topic.template)} carry ${plural(fields.length, "field")} that the contract of ${clip(app.name)} ${flow.version} does not document for channel ${clip(channel)}: ${shown}${fields.length > 3 ? ", …" : ""}.`,
        { topics: topic.topics.slice(0, EVIDENCE_LIMITS.topics), fields, version: flow.version },
        fields.length,
        topic.firstSeen,
        topic.lastSeen,
      );
    }
    return true;
  }

  /** UNDECLARED_PRODUCER or UNDECLARED_CONSUMER, and unknown clients for UNKNOWN_CLIENT. */
  private undeclared(topic: ObservedTopic, channels: readonly DriftChannel[], role: "producer" | "consumer"): void {
    const action = role === "producer" ? "send" : "receive";
    let byApp: Map<string, { app: DriftApp; clients: NonNullable<DriftEvidence["clients"]>; count: number; messages: number }> | null = null;
    const listed = role === "producer" ? topic.producers.length : topic.consumers.length;
    for (let i = 0; i < listed; i++) {
      const producer = role === "producer" ? topic.producers[i]! : null;
      const consumer = role === "consumer" ? topic.consumers[i]! : null;
      const clientId = producer ? producer.clientId : consumer!.clientId;
      const messages = producer ? producer.messages : 0;
      const filter = consumer?.filter;
      const apps = this.judgeClient(topic, clientId, role, messages, filter);
      // A client mapped to several applications does what any of them declares; the finding names the most specific.
      if (apps.length === 0 || this.compiled.declares(channels, action, apps)) continue;
      const app = apps[0]!;
      byApp ??= new Map();
      let group = byApp.get(app.id);
      if (!group) byApp.set(app.id, (group = { app, clients: [], count: 0, messages: 0 }));
      group.count++;
      group.messages += messages;
      if (group.clients.length < EVIDENCE_LIMITS.clients) group.clients.push(filter === undefined ? { clientId, role } : { clientId, filter, role });
    }
    if (!byApp) return;
    for (const { app, clients, count, messages } of byApp.values()) {
      const who = `${count === 1 ? "Client" : "Clients"} ${clients.slice(0, 3).map((c) => clip(c.clientId, 80)).join(", ")}${count > 3 ? ", …" : ""} of ${clip(app.name)}`;
      const summary =
        role === "producer"
          ? `${who} ${count === 1 ? "publishes" : "publish"} on ${clip(topic.template)}, but the current contract of ${clip(app.name)} sends on no channel it meets.`
          : `${who} ${count === 1 ? "subscribes" : "subscribe"} to ${clip(topic.template)}${clients[0]?.filter ? ` (filter ${clip(clients[0].filter, 80)})` : ""}, but the current contract of ${clip(app.name)} receives on no channel it meets.`;
      const evidence: DriftEvidence = { topics: topic.topics.slice(0, EVIDENCE_LIMITS.topics), clients };
      if (role === "producer") evidence.messages = messages;
      this.drafts.add(
        subjectOf(role === "producer" ? "UNDECLARED_PRODUCER" : "UNDECLARED_CONSUMER", { brokerId: topic.brokerId, template: topic.template, applicationId: app.id }),
        summary,
        evidence,
        role === "producer" ? Math.max(1, messages) : count,
        topic.firstSeen,
        topic.lastSeen,
      );
    }
  }

  unknownClients(): void {
    for (const u of this.unknown.values()) {
      const does = u.producer && u.consumer ? "publishes and subscribes" : u.producer ? "publishes" : "subscribes";
      const clients: NonNullable<DriftEvidence["clients"]> = [];
      if (u.producer) clients.push({ clientId: u.clientId, role: "producer" });
      for (const filter of u.filters) clients.push({ clientId: u.clientId, filter, role: "consumer" });
      if (u.consumer && u.filters.length === 0) clients.push({ clientId: u.clientId, role: "consumer" });
      const evidence: DriftEvidence = { topics: u.templates, clients: clients.slice(0, EVIDENCE_LIMITS.clients) };
      if (u.producer) evidence.messages = u.messages;
      this.drafts.add(
        subjectOf("UNKNOWN_CLIENT", { brokerId: u.brokerId, clientId: u.clientId }),
        `Client ${clip(u.clientId)} ${does} on ${plural(u.seenOn, "topic")} (${clip(u.templates[0] ?? "")}) but matches no application's client-id patterns.`,
        evidence,
        u.seenOn,
        u.firstSeen,
        u.lastSeen,
      );
    }
  }
}

/**
 * Evaluates one batch of observed topics against the compiled catalog: every topic rule and
 * UNKNOWN_CLIENT. Returns the findings drawn and what was judged, so the caller resolves the open
 * findings of judged scopes that were not drawn again.
 */
export function evaluateObservedTopics(compiled: CompiledDriftCatalog, topics: readonly ObservedTopic[], validators: PayloadValidators, options: EvaluateOptions = {}): DriftEvaluation {
  const maxSamples = Math.max(0, Math.min(EVIDENCE_LIMITS.samples, Math.floor(options.maxSamplesPerFinding ?? EVIDENCE_LIMITS.samples)));
  const run = new Run(compiled, validators, Number.isFinite(maxSamples) ? maxSamples : EVIDENCE_LIMITS.samples);
  for (const topic of topics) run.evaluate(topic);
  run.unknownClients();
  return {
    findings: [...run.drafts.byKey.values()],
    judged: run.judged,
    judgedClients: [...run.judgedClients].map(([brokerId, ids]) => ({ brokerId, clientIds: [...ids].sort() })),
  };
}

/** Input of {@link silentChannels}. */
export interface SilentChannelsInput {
  flows: readonly DeclaredFlow[];
  /** last time anything was observed, by `${applicationId}\u0000${channel}` (ISO) */
  activity: ReadonlyMap<string, string>;
  now: Date;
  windowSeconds: number;
  /** first report of a broker still reporting; null when no broker reported within the window */
  observingSince: string | null;
}

/** A number of seconds in words for a summary (`1 day`, `6 hours`, `90 seconds`). */
function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, "day");
  if (seconds % 3_600 === 0) return plural(seconds / 3_600, "hour");
  if (seconds % 60 === 0) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}

/**
 * SILENT_CHANNEL: the channels an application's current version sends on with nothing observed
 * for the window. Judged only while a broker is reporting and has been for longer than the window,
 * and only for versions published longer ago than the window.
 */
export function silentChannels(input: SilentChannelsInput): { findings: DriftFindingDraft[]; judged: Array<{ applicationId: string; channel: string }> } {
  const findings: DriftFindingDraft[] = [];
  const judged: Array<{ applicationId: string; channel: string }> = [];
  const now = input.now.getTime();
  const windowMs = input.windowSeconds * 1000;
  if (input.observingSince === null || !(windowMs > 0)) return { findings, judged };
  const since = Date.parse(input.observingSince);
  if (!(now - since > windowMs)) return { findings, judged };
  const at = input.now.toISOString();
  const done = new Set<string>();
  for (const flow of input.flows) {
    if (flow.action !== "send") continue;
    const key = `${flow.application.id}\u0000${flow.channel}`;
    if (done.has(key)) continue;
    done.add(key);
    if (!(now - Date.parse(flow.publishedAt) > windowMs)) continue;
    judged.push({ applicationId: flow.application.id, channel: flow.channel });
    const last = input.activity.get(key) ?? null;
    if (last !== null && !(now - Date.parse(last) > windowMs)) continue;
    findings.push({
      subject: subjectOf("SILENT_CHANNEL", { channel: flow.channel, applicationId: flow.application.id }),
      severity: driftRuleById("SILENT_CHANNEL")!.severity,
      summary: `Nothing was observed on channel ${clip(flow.channel)}, which ${clip(flow.application.name)} sends on, for ${last === null ? "as long as it has been watched" : `over ${duration(input.windowSeconds)}`}.`,
      evidence: { lastObserved: last, windowSeconds: input.windowSeconds, version: flow.version },
      occurrences: 1,
      firstSeen: at,
      lastSeen: at,
    });
  }
  return { findings, judged };
}
