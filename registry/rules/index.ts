import { SCHEMA_CHANGE_TYPES, type SchemaChangeTypeId } from "../jsonschema/changes.ts";
import type { RuleCategory, RuleSpec, Verdict, BreakSide } from "../types.ts";

// [id, category, verdict, breaks, bump, doc ("Checks that …")]
type Row = readonly [string, RuleCategory, Verdict, BreakSide, "minor" | "patch", string];

/**
 * Structural rules. The verdict is the one under every mode except NONE: a structural break cannot be made safe
 * by upgrading one side first (issue 3: "A structural breaking change is incompatible in every mode but NONE").
 */
const STRUCTURAL = [
  ["INFO_TITLE_CHANGED", "info", "non-breaking", "none", "patch", "the contract title is unchanged"],
  ["INFO_VERSION_CHANGED", "info", "non-breaking", "none", "patch", "the contract's own version number is unchanged (informational: Meshport numbers versions itself)"],
  ["INFO_DESCRIPTION_CHANGED", "documentation", "non-breaking", "none", "patch", "the contract description is unchanged"],
  ["CONTRACT_OWNERS_CHANGED", "info", "non-breaking", "none", "patch", "the owners of the contract are unchanged"],
  ["CONTRACT_LIFECYCLE_CHANGED", "info", "non-breaking", "none", "patch", "the lifecycle state of the contract is unchanged"],
  ["TAGS_CHANGED", "documentation", "non-breaking", "none", "patch", "tags are unchanged"],
  ["SERVER_ADDED", "server", "non-breaking", "none", "minor", "no server was added"],
  ["SERVER_REMOVED", "server", "breaking", "everyone", "minor", "no server is removed"],
  ["SERVER_URL_CHANGED", "server", "breaking", "everyone", "minor", "a server's host and path are unchanged"],
  ["SERVER_PROTOCOL_CHANGED", "server", "breaking", "everyone", "minor", "a server's protocol is unchanged"],
  ["SERVER_PROTOCOL_VERSION_CHANGED", "server", "breaking", "everyone", "minor", "a server's protocol version is unchanged"],
  ["SERVER_VARIABLE_DEFAULT_CHANGED", "server", "breaking", "everyone", "minor", "the default of a server URL variable is unchanged"],
  ["SERVER_VARIABLE_ENUM_NARROWED", "server", "breaking", "everyone", "minor", "no allowed value of a server URL variable is removed"],
  ["SERVER_VARIABLE_ENUM_EXTENDED", "server", "non-breaking", "none", "minor", "no allowed value of a server URL variable is added"],
  ["SERVER_SECURITY_TIGHTENED", "security", "breaking", "everyone", "minor", "a server accepts every security alternative it accepted"],
  ["SERVER_SECURITY_RELAXED", "security", "non-breaking", "none", "minor", "a server accepts no new security alternative"],
  ["SERVER_BINDING_CHANGED", "binding", "breaking", "everyone", "minor", "a server's protocol bindings are unchanged"],
  ["SERVER_DOCUMENTATION_CHANGED", "documentation", "non-breaking", "none", "patch", "a server's description and tags are unchanged"],
  ["SECURITY_SCHEME_CHANGED", "security", "breaking", "everyone", "minor", "the definition of a security scheme is unchanged"],
  ["CHANNEL_ADDED", "channel", "non-breaking", "none", "minor", "no channel was added"],
  ["CHANNEL_REMOVED", "channel", "breaking", "counterpart", "minor", "no channel is removed"],
  ["CHANNEL_ADDRESS_CHANGED", "channel", "breaking", "counterpart", "minor", "a channel (matched by id) keeps its address"],
  ["CHANNEL_PARAMETER_ADDED", "parameter", "breaking", "counterpart", "minor", "no parameter is added to a channel address"],
  ["CHANNEL_PARAMETER_REMOVED", "parameter", "breaking", "counterpart", "minor", "no parameter is removed from a channel address"],
  ["CHANNEL_PARAMETER_ENUM_NARROWED", "parameter", "breaking", "counterpart", "minor", "no allowed value of a channel parameter is removed"],
  ["CHANNEL_PARAMETER_ENUM_EXTENDED", "parameter", "non-breaking", "none", "minor", "no allowed value of a channel parameter is added"],
  ["CHANNEL_PARAMETER_LOCATION_CHANGED", "parameter", "breaking", "counterpart", "minor", "a parameter's runtime location is unchanged"],
  ["CHANNEL_SERVER_REMOVED", "channel", "breaking", "counterpart", "minor", "a channel stays available on every server it was on"],
  ["CHANNEL_SERVER_ADDED", "channel", "non-breaking", "none", "minor", "a channel is available on no new server"],
  ["CHANNEL_BINDING_CHANGED", "binding", "breaking", "counterpart", "minor", "a channel's protocol bindings are unchanged"],
  ["CHANNEL_DOCUMENTATION_CHANGED", "documentation", "non-breaking", "none", "patch", "a channel's description, parameter descriptions and tags are unchanged"],
  ["OPERATION_ADDED", "operation", "non-breaking", "none", "minor", "no operation was added"],
  ["OPERATION_REMOVED", "operation", "breaking", "counterpart", "minor", "no operation (send or receive on a channel) is removed"],
  ["OPERATION_ACTION_FLIPPED", "operation", "breaking", "counterpart", "minor", "an operation keeps its direction (send stays send, receive stays receive)"],
  ["OPERATION_MESSAGE_ADDED", "operation", "non-breaking", "counterpart", "minor", "an operation carries no new message (breaking under FORWARD and FULL: old readers meet an unknown message)"],
  ["OPERATION_MESSAGE_REMOVED", "operation", "breaking", "counterpart", "minor", "an operation carries every message it carried"],
  ["OPERATION_REPLY_CHANGED", "operation", "breaking", "counterpart", "minor", "the reply channel of a request/reply operation is unchanged"],
  ["OPERATION_SECURITY_TIGHTENED", "security", "breaking", "counterpart", "minor", "an operation accepts every security alternative it accepted"],
  ["OPERATION_SECURITY_RELAXED", "security", "non-breaking", "none", "minor", "an operation accepts no new security alternative"],
  ["OPERATION_BINDING_CHANGED", "binding", "breaking", "counterpart", "minor", "an operation's protocol bindings are unchanged"],
  ["OPERATION_DOCUMENTATION_CHANGED", "documentation", "non-breaking", "none", "patch", "an operation's summary, description and tags are unchanged"],
  ["MESSAGE_ADDED", "message", "non-breaking", "counterpart", "minor", "no message was added to a channel (breaking under FORWARD and FULL: old readers meet an unknown message)"],
  ["MESSAGE_REMOVED", "message", "breaking", "counterpart", "minor", "no message is removed from a channel"],
  ["MESSAGE_CONTENT_TYPE_CHANGED", "message", "breaking", "counterpart", "minor", "a message keeps its content type"],
  ["MESSAGE_SCHEMA_FORMAT_CHANGED", "message", "breaking", "counterpart", "minor", "a message keeps its payload schema format"],
  ["MESSAGE_CORRELATION_ID_CHANGED", "message", "breaking", "counterpart", "minor", "a message keeps its correlation id location"],
  ["MESSAGE_BINDING_CHANGED", "binding", "breaking", "counterpart", "minor", "a message's protocol bindings are unchanged"],
  ["MESSAGE_DEPRECATED", "message", "non-breaking", "none", "minor", "no message becomes deprecated"],
  ["MESSAGE_DOCUMENTATION_CHANGED", "documentation", "non-breaking", "none", "patch", "a message's title, summary, description, examples and tags are unchanged"],
  ["PAYLOAD_CHANGED_UNCLASSIFIED", "payload", "unclassified", "counterpart", "minor", "a payload in a schema format that cannot be converted exactly to JSON Schema (e.g. Avro) is unchanged, by content hash"],
  ["HEADERS_CHANGED_UNCLASSIFIED", "headers", "unclassified", "counterpart", "minor", "headers in a schema format that cannot be converted exactly to JSON Schema are unchanged, by content hash"],
  ["PAYLOAD_KEYWORD_CHANGED", "payload", "unclassified", "counterpart", "minor", "payload keywords that Confluent's checker does not judge (format, contains, propertyNames, patternProperties, if/then/else, content*) are unchanged; a reviewer judges such a change"],
  ["HEADERS_KEYWORD_CHANGED", "headers", "unclassified", "counterpart", "minor", "header keywords that Confluent's checker does not judge (format, contains, propertyNames, patternProperties, if/then/else, content*) are unchanged; a reviewer judges such a change"],
] as const satisfies readonly Row[];

/** Ids of the structural rules. */
export type StructuralRuleId = (typeof STRUCTURAL)[number][0];

/**
 * Structural additions that widen what a flow may carry: like Confluent's SUM_TYPE_EXTENDED, a new reader reads old
 * data (BACKWARD holds) but an old reader may meet a message type it does not know (FORWARD fails).
 */
const SUM_LIKE: Readonly<Partial<Record<string, { backward: boolean; forward: boolean }>>> = {
  MESSAGE_ADDED: { backward: true, forward: false },
  OPERATION_MESSAGE_ADDED: { backward: true, forward: false },
};

const PATCH_SCHEMA_TYPES = new Set(["ID_CHANGED", "TITLE_CHANGED", "DESCRIPTION_CHANGED", "DEFAULT_CHANGED"]);

function schemaRule(id: RuleId, doc: string, backward: boolean, forward: boolean): RuleSpec {
  return {
    id,
    category: "payload",
    doc: `${doc} (Confluent JSON Schema change type; applies to payloads and headers)`,
    defaultVerdict: backward ? "non-breaking" : "breaking",
    breaks: "counterpart",
    bump: PATCH_SCHEMA_TYPES.has(id) ? "patch" : "minor",
    backward,
    forward,
  };
}

/** Retired rule ids and the ids that replaced them (kept so stored reports still resolve). */
export const RETIRED_RULES = {
  // An alias: Confluent's checker reports an optional addition to an open model as OPTIONAL_… (its own test cases).
  PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
  // Confluent's checker has no change type for `format`; format changes are reported unclassified instead.
  FORMAT_ADDED: "PAYLOAD_KEYWORD_CHANGED",
  FORMAT_REMOVED: "PAYLOAD_KEYWORD_CHANGED",
  FORMAT_CHANGED: "PAYLOAD_KEYWORD_CHANGED",
} as const satisfies Readonly<Record<string, string>>;

/** Every rule id of the engine, from the one catalogue: structural rules, Confluent change types, retired ids. */
export type RuleId = StructuralRuleId | SchemaChangeTypeId | keyof typeof RETIRED_RULES;

/** Every rule of the engine, as data: structural rules first, then the JSON Schema change types, then retired ids. Renders the portal's rules page. */
export const rulesCatalogue: readonly RuleSpec[] = [
  ...STRUCTURAL.map(([id, category, defaultVerdict, breaks, bump, doc]): RuleSpec => ({ id, category, doc: `Checks that ${doc}.`, defaultVerdict, breaks, bump, ...SUM_LIKE[id] })),
  ...[...SCHEMA_CHANGE_TYPES.values()].map((t) => schemaRule(t.id, `Flags when ${t.doc}`, t.backward, t.forward)),
  ...(Object.entries(RETIRED_RULES) as [keyof typeof RETIRED_RULES, string][]).map(([id, replacedBy]): RuleSpec => ({ ...schemaRule(id, `Retired: see ${replacedBy}`, false, true), replacedBy })),
];

const byId = new Map<string, RuleSpec>(rulesCatalogue.map((r) => [r.id, r]));

/** Looks a rule up by id (stored reports carry plain strings); undefined for an unknown id. */
export function ruleById(id: string): RuleSpec | undefined {
  return byId.get(id);
}
