/**
 * The drift model: what the contracts declare, what the agents observed, and the findings
 * the rules draw from the two. Pure data; lib/drift stores it, registry/drift decides it.
 */
import type { TopicDialect } from "../topics/index.ts";

/** Ids of the drift rules (the catalogue is in ./rules.ts). */
export const DRIFT_RULE_IDS = [
  "UNDOCUMENTED_TOPIC",
  "SILENT_CHANNEL",
  "PAYLOAD_SCHEMA_VIOLATION",
  "UNDOCUMENTED_FIELD",
  "UNDECLARED_PRODUCER",
  "UNDECLARED_CONSUMER",
  "UNKNOWN_CLIENT",
  "VERSION_SKEW",
] as const;
/** One drift rule id. */
export type DriftRuleId = (typeof DRIFT_RULE_IDS)[number];

/** How much a finding matters, most first. */
export type DriftSeverity = "error" | "warning" | "info";

/** An application as the drift rules name it. */
export interface DriftApp {
  id: string;
  slug: string;
  name: string;
  teamId: string;
}

/** One flow of an application's current contract version (released or deprecated, the highest). */
export interface DeclaredFlow {
  application: DriftApp;
  versionId: string;
  version: string;
  /** channel address template, as in the contract */
  channel: string;
  action: "send" | "receive";
  messageKey: string;
  /** registry schema id of the payload schema; null when the message declares none */
  payloadSchemaId: number | null;
  /** schema format of the payload (only JSON Schema formats are validated) */
  payloadFormat: string | null;
  /** when the version was published (a channel is not silent before its contract had time to flow) */
  publishedAt: string;
}

/** A flow of another version of the same application's contract, for VERSION_SKEW. */
export interface OtherVersionFlow {
  applicationId: string;
  versionId: string;
  version: string;
  /** older: below the current version; newer: a draft or pre-release above it */
  relation: "older" | "newer";
  channel: string;
  action: "send" | "receive";
  messageKey: string;
  payloadSchemaId: number | null;
  payloadFormat: string | null;
}

/** Everything the rules know of the catalog. Built by lib/drift, compiled once per catalog generation. */
export interface DriftCatalog {
  flows: readonly DeclaredFlow[];
  otherVersions: readonly OtherVersionFlow[];
  /** applications with a current version, including those with no flows (a client of theirs that does anything is undeclared) */
  applications: readonly DriftApp[];
  /** client id → the applications whose client-id patterns match it (most specific first); empty: an unknown client */
  mapClient: (clientId: string) => readonly DriftApp[];
}

/** A sampled payload as the agent reported it (redacted, possibly truncated). */
export interface ObservedSample {
  at: string;
  encoding: "json" | "text" | "base64";
  payload: string;
  truncated: boolean;
  /** named fields were replaced by "[redacted]": the values are not what flowed, so they are not validated */
  redacted: boolean;
}

/** What one agent saw on one topic template in one report window (or the merged current picture). */
export interface ObservedTopic {
  brokerId: string;
  /** the broker's topic syntax: the template, its topics and consumers' filters are read in it (default MQTT) */
  dialect?: TopicDialect;
  /** topic template as the agent collapsed it, e.g. `plant/{p1}/temperature` */
  template: string;
  /** concrete topics listed (busiest first, possibly fewer than distinctTopics) */
  topics: readonly string[];
  distinctTopics: number;
  messages: number;
  firstSeen: string;
  lastSeen: string;
  /** JSON Schema inferred by the agent from the payloads; null when none parsed */
  schema: Record<string, unknown> | null;
  samples: readonly ObservedSample[];
  producers: readonly { clientId: string; messages: number }[];
  consumers: readonly { clientId: string; filter: string }[];
  /** whether the broker told the agent who publishes and who subscribes (else those rules are not judged) */
  knowsProducers: boolean;
  knowsConsumers: boolean;
  /** producers and consumers the agent knew of but did not list (its cap); when any, that side is not judged (default 0) */
  omittedProducers?: number;
  omittedConsumers?: number;
}

/** The identity of a finding: one finding per rule and subject, so a returning problem reopens its finding. */
export interface FindingSubject {
  rule: DriftRuleId;
  brokerId: string | null;
  /** observed topic template */
  template: string | null;
  /** contract channel address */
  channel: string | null;
  applicationId: string | null;
  clientId: string | null;
  messageKey: string | null;
}

/** One sampled payload kept as evidence, with why it failed when it did. */
export interface EvidenceSample {
  at: string;
  topic?: string;
  payload: string;
  truncated: boolean;
  /** JSON pointer of the failing value, e.g. `/temperature` */
  path?: string;
  /** what the schema required there */
  problem?: string;
}

/** What a finding shows as proof; bounded (a few samples, a few clients). */
export interface DriftEvidence {
  /** concrete topics seen (a few) */
  topics?: string[];
  messages?: number;
  /** payloads judged and payloads that failed, in this evaluation */
  validated?: number;
  failed?: number;
  /** failed / validated */
  rate?: number;
  samples?: EvidenceSample[];
  /** undocumented field paths (JSON pointers), e.g. `/humidity`, `/reading/unit` */
  fields?: string[];
  /** clients involved, with the filter a consumer used */
  clients?: Array<{ clientId: string; filter?: string; role?: "producer" | "consumer" }>;
  /** the inferred schema of an undocumented topic (for import into the catalog) */
  inferredSchema?: Record<string, unknown>;
  /** the contract version judged against */
  version?: string;
  /** for VERSION_SKEW: the versions the payloads do validate under */
  matchingVersions?: string[];
  /** for SILENT_CHANNEL: when anything was last seen on it (null: never) */
  lastObserved?: string | null;
  windowSeconds?: number;
}

/** A finding as one evaluation draws it; lib/drift merges it into the stored finding with the same subject. */
export interface DriftFindingDraft {
  subject: FindingSubject;
  severity: DriftSeverity;
  /** one sentence for lists and notifications */
  summary: string;
  evidence: DriftEvidence;
  /** how many times it was seen in this evaluation (messages, failed payloads, clients…) */
  occurrences: number;
  firstSeen: string;
  lastSeen: string;
}

/**
 * What an evaluation looked at and could judge: open findings within this scope that the
 * evaluation did not draw again have stopped and are resolved. A rule the evidence could not
 * decide (no samples, no producer information) is left out, so its findings stay as they are.
 */
export interface JudgedScope {
  brokerId: string;
  template: string;
  rules: DriftRuleId[];
}

/** The outcome of evaluating observed topics. */
export interface DriftEvaluation {
  findings: DriftFindingDraft[];
  /** (broker, template) scopes of the topic rules */
  judged: JudgedScope[];
  /** clients judged for UNKNOWN_CLIENT, per broker */
  judgedClients: Array<{ brokerId: string; clientIds: string[] }>;
}
