/**
 * The data model of the contract engine: parsed contracts, diagnostics, changes, rules and reports.
 * Everything here is plain JSON-serialisable data so that the portal can store and render it.
 */

import type { RuleId } from "./rules/index.ts";

/** Rule ids of the catalogue, re-exported with the model. */
export type { RuleId } from "./rules/index.ts";

/** A JSON value, as read from YAML or JSON. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON Schema document (draft-07 style object or boolean schema). */
export type JsonSchema = boolean | { [key: string]: Json };

/** How serious a diagnostic or lint finding is. */
export type Severity = "error" | "warning" | "info" | "hint";

/** A problem found while reading or validating a document; parse errors are data, never exceptions. */
export interface Diagnostic {
  /** Stable machine code, e.g. `yaml-syntax`, `ref-remote`, `asyncapi-schema`. */
  code: string;
  severity: Severity;
  message: string;
  /** Upload file name the diagnostic is about. */
  file: string;
  /** Path of the offending node inside that file, as keys. */
  path: (string | number)[];
  /** 1-based line and column of the node, when known. */
  line?: number;
  column?: number;
}

/** Confluent Schema Registry compatibility modes (https://docs.confluent.io/platform/current/schema-registry/fundamentals/schema-evolution.html). */
export const COMPATIBILITY_MODES = [
  "NONE",
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
] as const;

/** One of the Confluent compatibility modes. */
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];

/** Direction of an operation relative to the application that owns the contract. */
export type Action = "send" | "receive";

/** A server (broker) of the contract. */
export interface Server {
  name: string;
  /** `host[/pathname]` with variables left as `{name}` templates. */
  url: string;
  protocol: string;
  protocolVersion?: string;
  description?: string;
  variables: Record<string, ServerVariable>;
  /** Names of the security schemes required, each alternative sorted. */
  security: string[][];
  bindings: Record<string, Json>;
  tags: string[];
}

/** A server URL variable. */
export interface ServerVariable {
  default?: string;
  enum?: string[];
  description?: string;
}

/** A channel parameter (the `{name}` parts of an address). */
export interface Parameter {
  name: string;
  description?: string;
  /** JSON Schema of the value (2.x `schema`, or 3.0 `enum`/`default` rewritten as a schema). */
  schema?: JsonSchema;
  location?: string;
}

/** A message that can flow on a channel. */
export interface Message {
  /** Stable key: message `name`, else `messageId`, else the component/channel key. */
  key: string;
  /**
   * Set when the message has neither `name` nor `messageId` (2.x `oneOf` alternatives, inline 3.0 messages): its key
   * is only where it sits in this document, so versions are matched by channel, payload and position instead.
   */
  anonymous?: true;
  name?: string;
  title?: string;
  summary?: string;
  description?: string;
  contentType?: string;
  /** Schema format of payload and headers, e.g. `application/schema+json;version=draft-07`. */
  schemaFormat: string;
  /** JSON Schema of the payload (converted where exact), or the original schema when not convertible. */
  payload?: JsonSchema;
  /** `false` when `payload` is not JSON Schema (e.g. Avro): compare by content hash only. */
  payloadComparable: boolean;
  /** Content hash of the payload schema (`sha256:…` of its canonical JSON), the registry's schema identity. */
  payloadHash?: string;
  headers?: JsonSchema;
  /** `false` when `headers` is not JSON Schema: compare by content hash only. */
  headersComparable: boolean;
  /** Content hash of the headers schema. */
  headersHash?: string;
  correlationId?: string;
  bindings: Record<string, Json>;
  examples: Json[];
  tags: string[];
  deprecated?: boolean;
  /** JSON path of the message in its source document. */
  sourcePath: (string | number)[];
}

/** A channel: an address (topic) template and the messages that flow on it. */
export interface Channel {
  /** Address template as written, e.g. `plant/{plantId}/temperature`; the channel key. */
  address: string;
  /** 3.0 channel id (or the 2.x address). */
  id: string;
  description?: string;
  parameters: Record<string, Parameter>;
  /** Messages keyed by {@link Message.key}. */
  messages: Record<string, Message>;
  /** Server names the channel is available on; empty = all servers. */
  servers: string[];
  bindings: Record<string, Json>;
  tags: string[];
  sourcePath: (string | number)[];
}

/** An operation of the application on a channel. */
export interface Operation {
  /** Operation id (3.0 key or 2.x `operationId`), else `<action> <address>`. */
  id: string;
  action: Action;
  /** Address of the channel the operation is on. */
  channel: string;
  /** Keys of the messages of the operation (all of the channel's when not restricted). */
  messages: string[];
  summary?: string;
  description?: string;
  security: string[][];
  bindings: Record<string, Json>;
  tags: string[];
  /** Reply channel address of a request/reply operation. */
  reply?: string;
  sourcePath: (string | number)[];
}

/** The canonical, version-independent model of one AsyncAPI document. */
export interface Contract {
  /** AsyncAPI version the document was written in. */
  asyncapi: string;
  id?: string;
  title: string;
  version: string;
  description?: string;
  /** Owners from `x-owner`/`x-owners`, `info.contact`, or tags named `owner:<team>`. */
  owners: string[];
  /** Lifecycle state from `x-lifecycle` when given. */
  lifecycle?: string;
  /**
   * The mesh extensions on `info`, as written (`x-meshport-kind`, `x-meshport-systems`): what the application is
   * and which systems it connects. Present only when the document carries one; the portal validates them.
   */
  mesh?: { kind?: Json; systems?: Json };
  defaultContentType?: string;
  tags: string[];
  /** Servers keyed by name. */
  servers: Record<string, Server>;
  /** Channels keyed by address. */
  channels: Record<string, Channel>;
  /** Operations keyed by id. */
  operations: Record<string, Operation>;
  /** Security schemes keyed by name, as written. */
  securitySchemes: Record<string, Json>;
}

/** The result of parsing one upload; `contract` is absent when a diagnostic of severity error was found. */
export interface ParseResult {
  contract?: Contract;
  diagnostics: Diagnostic[];
  /** Name of the upload file that is the AsyncAPI root. */
  root?: string;
  /**
   * Which validation ran: `full` (the parser's AsyncAPI JSON Schema, compiled once, then its other rules), at
   * every size; `schema-only` when asked for the JSON Schema alone.
   */
  validation: "full" | "schema-only";
}

/** Verdict of one change under a mode. */
export type Verdict = "breaking" | "non-breaking" | "unclassified";

/** Who is broken by a change: consumers of what the application sends, producers of what it receives. */
export type Breaks = "consumers" | "producers" | "both" | "none";

/** Rule categories; a user picks a strictness by category. */
export type RuleCategory =
  | "info"
  | "server"
  | "channel"
  | "operation"
  | "message"
  | "payload"
  | "headers"
  | "parameter"
  | "security"
  | "binding"
  | "documentation";

/**
 * Whom a rule breaks when it fires: `counterpart` = the other teams of the flow (consumers of what the application
 * sends, producers of what it receives), `everyone` = every client of a server, `none`.
 */
export type BreakSide = "counterpart" | "everyone" | "none";

/** One rule of the catalogue. */
export interface RuleSpec {
  /** UPPER_SNAKE identifier, e.g. `CHANNEL_REMOVED`. */
  id: RuleId;
  category: RuleCategory;
  /** "Checks that …" one-liner rendered on the rules page. */
  doc: string;
  /** Verdict under every mode except NONE (structural) — payload rules depend on the mode, see `backward`/`forward`. */
  defaultVerdict: Verdict;
  /** Whom the change breaks when it is breaking. */
  breaks: BreakSide;
  /** Semver bump when the change is not breaking: additions are minor, documentation patch. */
  bump: "minor" | "patch";
  /** For JSON Schema change types: compatible when a new reader reads old data (BACKWARD). */
  backward?: boolean;
  /** For JSON Schema change types: compatible when an old reader reads new data (FORWARD). */
  forward?: boolean;
  /** Id of the rule that replaced a retired one. */
  replacedBy?: string;
}

/** A typed change emitted by the neutral differ, before a policy classifies it. */
export interface Change {
  /** Rule id from the one catalogue (structural rule or Confluent JSON Schema change type): an unknown id is a type error. */
  rule: RuleId;
  /** JSON path of the element in the previous document (absent for additions). */
  previousPath?: string;
  /** JSON path of the element in the current document (absent for removals). */
  currentPath?: string;
  /** Flow direction of the affected element relative to the application, when it matters. */
  direction?: Action | "both";
  /** Past-tense sentence quoting both values. */
  message: string;
  /** For payload/header changes: the JSON Pointer inside the schema (Confluent style, `#/properties/foo`). */
  schemaPath?: string;
  previous?: Json;
  current?: Json;
  /** Index into `against` for transitive checks (absent = the previous version). */
  baseline?: number;
  /** Category override (a JSON Schema change type on headers rather than payload). */
  category?: RuleCategory;
  /** For JSON Schema changes: a reader of the current schema still reads previous data. */
  backward?: boolean;
  /** For JSON Schema changes: a reader of the previous schema still reads current data. */
  forward?: boolean;
}

/** A change classified by a policy. */
export interface Finding extends Change {
  category: RuleCategory;
  verdict: Verdict;
  breaks: Breaks;
}

/** Semver bump suggested for a new version. */
export type SemverBump = "major" | "minor" | "patch" | "none";

/** Result of comparing two contracts under a mode. */
export interface CompareReport {
  compatible: boolean;
  mode: CompatibilityMode;
  semver: SemverBump;
  findings: Finding[];
  /** Order in which the sides must upgrade for the change set to be safe. */
  upgradeOrder: "consumers-first" | "producers-first" | "any" | "coordinated";
}
