import { DRIFT_RULE_IDS, type DriftRuleId, type DriftSeverity } from "./types.ts";

/** One drift rule as data: renders the rules page and sets the default severity of its findings. */
export interface DriftRuleSpec {
  id: DriftRuleId;
  title: string;
  /** one line: what the rule flags */
  doc: string;
  /** default severity of its findings */
  severity: DriftSeverity;
  /** what a finding is about: an observed topic, a contract channel, or a broker client */
  subject: "topic" | "channel" | "client";
}

// [id, title, severity, subject, doc ("Flags …")]
type Row = readonly [DriftRuleId, string, DriftSeverity, DriftRuleSpec["subject"], string];

const ROWS = [
  ["UNDOCUMENTED_TOPIC", "Undocumented topic", "warning", "topic", "topics seen on a broker that are instances of no channel any current contract declares"],
  ["SILENT_CHANNEL", "Silent channel", "warning", "channel", "a channel an application's current contract sends on where nothing was observed on any broker for the silent window"],
  ["PAYLOAD_SCHEMA_VIOLATION", "Payload schema violation", "error", "topic", "sampled JSON payloads that match none of the payload schemas declared on the channels their topic meets (the senders' when any, else the receivers')"],
  ["UNDOCUMENTED_FIELD", "Undocumented field", "info", "topic", "fields of the observed payloads that none of the declared payload schemas of the channel documents"],
  ["UNDECLARED_PRODUCER", "Undeclared producer", "error", "topic", "a client that publishes on a topic although its application's current contract sends on no channel the topic meets"],
  ["UNDECLARED_CONSUMER", "Undeclared consumer", "warning", "topic", "a client that subscribes to a topic although its application's current contract receives on no channel the topic meets"],
  ["UNKNOWN_CLIENT", "Unknown client", "info", "client", "a client that publishes or subscribes on a broker and matches no application's client-id patterns"],
  ["VERSION_SKEW", "Version skew", "warning", "topic", "payloads that fail the current contract of a channel but match another version (older, or a newer draft) of the same application's contract"],
] as const satisfies readonly Row[];

/** The drift rules, in the order of {@link DRIFT_RULE_IDS}. */
export const DRIFT_RULES: readonly DriftRuleSpec[] = DRIFT_RULE_IDS.map((id) => {
  const [, title, severity, subject, doc] = ROWS.find((row) => row[0] === id)!;
  return { id, title, doc: `Flags ${doc}.`, severity, subject };
});

const byId = new Map<string, DriftRuleSpec>(DRIFT_RULES.map((r) => [r.id, r]));

/** Looks a drift rule up by id (stored findings carry plain strings); undefined for an unknown id. */
export function driftRuleById(id: string): DriftRuleSpec | undefined {
  return byId.get(id);
}
