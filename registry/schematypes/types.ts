import type { CompatibilityMode } from "../types.ts";

/** The schema types a Confluent-compatible registry serves. */
export const SCHEMA_TYPES = ["AVRO", "JSON", "PROTOBUF"] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

/** The registry format recorded for each type (the `schema` table's `format`, part of the hash). */
export const SCHEMA_TYPE_FORMATS: Record<SchemaType, string> = {
  JSON: "application/schema+json;version=draft-07",
  AVRO: "application/vnd.apache.avro;version=1.9.0",
  PROTOBUF: "application/vnd.google.protobuf",
};

/** A reference as a client sends it: the name the schema uses, and the subject version it means. */
export interface SchemaReferenceInput {
  name: string;
  subject: string;
  version: number;
}

/**
 * A reference with the schema it points at, loaded by the caller (lib/), with that schema's own references
 * resolved in turn: the engine never fetches anything.
 */
export interface ResolvedReference extends SchemaReferenceInput {
  schemaType: SchemaType;
  /** The referenced schema's canonical text. */
  schema: string;
  references: readonly ResolvedReference[];
}

/** What a client registers, or asks to be checked. */
export interface SchemaInput {
  schemaType: SchemaType;
  /** The schema text as sent (`schema` of Confluent's request body). */
  schema: string;
  references: readonly ResolvedReference[];
}

/** A schema the engine accepted: its identity and what the checkers need. */
export interface ParsedSchema {
  schemaType: SchemaType;
  /** The registry format (SCHEMA_TYPE_FORMATS). */
  format: string;
  /**
   * The canonical text the registry stores and serves: canonical JSON (sorted keys, no whitespace) for JSON
   * Schema and Avro, the normalised `.proto` text for Protobuf.
   */
  canonical: string;
  /**
   * `sha256:` + hex over format, NUL, canonical text (and, when there are references, NUL and the canonical JSON
   * of `[{name, subject, version}]`). For JSON Schema and Avro without references this equals
   * `registrySchemaHash(format, JSON.parse(canonical))`, so a contract's payload and the same schema registered
   * over the API get one global id.
   */
  hash: string;
  references: SchemaReferenceInput[];
  /** The engine's own parsed form (avsc Type, protobufjs Root, JSON value); opaque to callers. */
  readonly handle: unknown;
  /** The subject version this schema is, when the caller knows it: compatibility messages name it. */
  version?: number;
}

/** The outcome of parsing: Confluent answers a failure with 42201 and this message. */
export type ParseOutcome = { ok: true; schema: ParsedSchema } | { ok: false; message: string };

/** A compatibility verdict with Confluent-style messages (what `verbose=true` lists). */
export interface CompatibilityVerdict {
  compatible: boolean;
  messages: string[];
}

/** The modes a registry subject can carry (Confluent's levels). */
export type RegistryCompatibility = CompatibilityMode;
