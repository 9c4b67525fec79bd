/**
 * Flows and schemas of a contract as rows: the relational picture that the catalog, impact,
 * topology and drift query. Pure: derived from the normalised {@link Contract} alone.
 *
 * - A flow is one message the application sends or receives on one channel:
 *   channel address template × action (relative to the application) × message key, with the
 *   payload and headers schemas of that message.
 * - Flows come from operations only. A channel that no operation uses has no flow: the
 *   contract declares the channel but does not say that the application sends or receives on it.
 *   An operation restricted to some of its channel's messages has flows for those messages only;
 *   an operation on a channel without messages has no flow (there is nothing that flows).
 * - Two operations with the same action on the same channel and message make one flow.
 * - A schema is identified by a content hash over its format and its canonical JSON, so the
 *   same JSON in two formats (JSON Schema and Avro, say) is two schemas, and the same schema in
 *   two contracts, versions or messages is one. JSON Schema (whatever dialect or OpenAPI the
 *   message declared) and Avro (whatever version or encoding) are recorded in the registry's own
 *   format for their type, so a contract's schema and the same schema registered over the
 *   registry API are one schema with one id.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../hash.ts";
import { schemaFormatKind } from "../normalise/index.ts";
import { SCHEMA_TYPE_FORMATS } from "../schematypes/types.ts";
import type { Action, Contract, JsonSchema, Message } from "../types.ts";

/** The format recorded for JSON Schema content (what the normaliser converts every JSON Schema dialect to). */
export const JSON_SCHEMA_FORMAT = "application/schema+json;version=draft-07";

/** One payload or headers schema, ready to store in the schema registry. */
export interface SchemaRecord {
  /** `sha256:` + hex SHA-256 over the format and the canonical JSON: the registry identity. */
  hash: string;
  /** Schema format, e.g. `application/schema+json;version=draft-07` or `application/vnd.apache.avro;version=1.9.0`. */
  format: string;
  /** Canonical JSON of the schema (keys sorted, no whitespace): exactly the bytes the hash covers, after the format. */
  canonical: string;
  /** The schema itself. */
  schema: JsonSchema;
}

/** One flow of a contract: the application sends or receives one message on one channel. */
export interface FlowRecord {
  /** Channel address template, e.g. `plant/{lineId}/temperature`. */
  channel: string;
  action: Action;
  messageKey: string;
  /** Payload schema; null when the message has none. */
  payload: SchemaRecord | null;
  /** Headers schema; null when the message has none. */
  headers: SchemaRecord | null;
  /** Ids of the operations that declare this flow, sorted. */
  operations: string[];
}

/** Normalises a format string for identity: lower case, no spaces around its parameters. */
export function normaliseSchemaFormat(format: string): string {
  return format
    .trim()
    .toLowerCase()
    .split(";")
    .map((part) => part.trim())
    .filter(Boolean)
    .join(";");
}

/**
 * The registry hash of a schema in a format: sha256 over the normalised format, a NUL, and the canonical JSON.
 * @example registrySchemaHash("application/schema+json;version=draft-07", { type: "string" })
 */
export function registrySchemaHash(format: string, schema: unknown): string {
  return hashOf(normaliseSchemaFormat(format), canonicalJson(schema));
}

function hashOf(format: string, canonical: string): string {
  return "sha256:" + createHash("sha256").update(format).update("\u0000").update(canonical).digest("hex");
}

/** The format a schema is recorded with: the registry's format for JSON Schema and Avro, else the declared one. */
export function recordedSchemaFormat(declared: string, comparable: boolean): string {
  if (comparable) return JSON_SCHEMA_FORMAT;
  if (declared !== "" && schemaFormatKind(declared) === "avro") return SCHEMA_TYPE_FORMATS.AVRO;
  return declared || JSON_SCHEMA_FORMAT;
}

function record(format: string, schema: JsonSchema): SchemaRecord {
  const f = normaliseSchemaFormat(format);
  const canonical = canonicalJson(schema);
  return { hash: hashOf(f, canonical), format: f, canonical, schema };
}

/** The payload schema of a message as a registry record, or null when it has no payload. */
export function payloadSchemaOf(message: Message): SchemaRecord | null {
  if (message.payload === undefined) return null;
  return record(recordedSchemaFormat(message.schemaFormat, message.payloadComparable), message.payload);
}

/**
 * The headers schema of a message as a registry record, or null when it has none. Headers that are JSON Schema
 * (always in 2.x, and converted OpenAPI) are recorded as JSON Schema; other headers carry the message's format
 * (the only one the contract model keeps), Avro in the registry's Avro format.
 */
export function headersSchemaOf(message: Message): SchemaRecord | null {
  if (message.headers === undefined) return null;
  return record(recordedSchemaFormat(message.schemaFormat, message.headersComparable), message.headers);
}

/** Every flow of a contract, sorted by channel, action and message key. */
export function flowsOf(contract: Contract): FlowRecord[] {
  const flows = new Map<string, FlowRecord>();
  for (const op of Object.values(contract.operations)) {
    const channel = contract.channels[op.channel];
    if (!channel) continue;
    for (const messageKey of op.messages) {
      const message = channel.messages[messageKey];
      if (!message) continue;
      const key = `${channel.address}\u0000${op.action}\u0000${message.key}`;
      const existing = flows.get(key);
      if (existing) {
        if (!existing.operations.includes(op.id)) existing.operations.push(op.id);
        continue;
      }
      flows.set(key, {
        channel: channel.address,
        action: op.action,
        messageKey: message.key,
        payload: payloadSchemaOf(message),
        headers: headersSchemaOf(message),
        operations: [op.id],
      });
    }
  }
  const rows = [...flows.values()];
  for (const row of rows) row.operations.sort();
  return rows.sort((a, b) => cmp(a.channel, b.channel) || cmp(a.action, b.action) || cmp(a.messageKey, b.messageKey));
}

/**
 * Every distinct payload and headers schema of a contract, sorted by hash: those of every message of every
 * channel, whether or not an operation uses it (the registry holds everything a version publishes).
 */
export function schemasOf(contract: Contract): SchemaRecord[] {
  const schemas = new Map<string, SchemaRecord>();
  for (const channel of Object.values(contract.channels)) {
    for (const message of Object.values(channel.messages)) {
      for (const s of [payloadSchemaOf(message), headersSchemaOf(message)]) {
        if (s && !schemas.has(s.hash)) schemas.set(s.hash, s);
      }
    }
  }
  return [...schemas.values()].sort((a, b) => cmp(a.hash, b.hash));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
