/**
 * Request bodies of the registry API, checked for shape only (the service judges the schema itself): JSON
 * parsing with Confluent's 400, then types and bounds with its 422 codes. Keys a newer client adds (`metadata`,
 * `ruleSet`, ...) are ignored, as Confluent ignores what it does not use. Pure.
 */
import { findUnstorableText, jsonNestingExceeds, MAX_JSON_DEPTH } from "@/lib/http/input.ts";
import type { SchemaRequest } from "@/lib/schema-registry/api.ts";
import { RegistryError, registryErrors } from "@/lib/schema-registry/errors.ts";
import { MAX_REFERENCES, MAX_SCHEMA_BYTES, SCHEMA_TYPES, type SchemaType } from "@/registry/schematypes/index.ts";
import { ConfluentHttpError, httpErrors } from "./confluent.ts";

/** Largest body read: the largest schema, JSON-escaped (quotes double at worst), and room for the envelope. */
export const REGISTRY_BODY_LIMIT = 2 * MAX_SCHEMA_BYTES + 64 * 1024;

/** Longest reference name, subject or level a body may carry. */
export const MAX_NAME_LENGTH = 1000;

const INT4_MAX = 2 ** 31 - 1;

type SchemaReference = NonNullable<SchemaRequest["references"]>[number];

/** Parses a body's text as JSON; empty is `{}` (Confluent then reports the missing field). Malformed → 400. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return {};
  if (jsonNestingExceeds(text, MAX_JSON_DEPTH)) throw httpErrors.malformedJson(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw httpErrors.malformedJson(error instanceof Error ? error.message : "not JSON");
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalidSchema(message: string): RegistryError {
  return registryErrors.invalidSchema(`Invalid schema: ${message}`);
}

/** A string the database can hold: no NUL, no lone surrogate. */
function storable(value: string): boolean {
  return findUnstorableText(value) === null;
}

function isInt4(value: unknown, min: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= INT4_MAX;
}

function referencesOf(value: unknown): SchemaReference[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidSchema("references must be a list of {name, subject, version}.");
  if (value.length > MAX_REFERENCES) throw invalidSchema(`a schema may carry at most ${MAX_REFERENCES} references.`);
  return value.map((reference: unknown, index): SchemaReference => {
    if (!isObject(reference)) throw invalidSchema(`reference ${index} must be an object {name, subject, version}.`);
    const { name, subject, version } = reference;
    for (const [field, text] of [
      ["name", name],
      ["subject", subject],
    ] as const) {
      if (typeof text !== "string" || text.length === 0) throw invalidSchema(`reference ${index} needs a ${field}.`);
      if (text.length > MAX_NAME_LENGTH) throw invalidSchema(`the ${field} of reference ${index} is longer than ${MAX_NAME_LENGTH} characters.`);
      if (!storable(text)) throw invalidSchema(`the ${field} of reference ${index} contains a NUL or an unpaired surrogate.`);
    }
    if (!isInt4(version, 1)) throw registryErrors.invalidVersion(String(JSON.stringify(version) ?? "").slice(0, 100));
    return { name: name as string, subject: subject as string, version };
  });
}

function schemaTypeOf(value: unknown): SchemaType | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalidSchema("schemaType must be AVRO, JSON or PROTOBUF.");
  const upper = value.toUpperCase();
  const known = SCHEMA_TYPES.find((type) => type === upper);
  if (!known) throw invalidSchema(`unknown schema type '${value.slice(0, 100)}'; use AVRO, JSON or PROTOBUF.`);
  return known;
}

/** The body of a registration, look-up or compatibility test: `{schema, schemaType?, references?, id?, version?}`. */
export function schemaRequestFromBody(body: unknown): SchemaRequest {
  if (!isObject(body)) throw invalidSchema("the body must be a JSON object with a schema.");
  const { schema, schemaType, references, id, version } = body;
  if (typeof schema !== "string" || schema.trim() === "") throw invalidSchema("the body needs a non-empty schema string.");
  if (Buffer.byteLength(schema, "utf8") > MAX_SCHEMA_BYTES) {
    throw new ConfluentHttpError(413, `The schema is larger than ${MAX_SCHEMA_BYTES} bytes.`);
  }
  if (!storable(schema)) throw invalidSchema("the schema contains a NUL character or an unpaired surrogate, which cannot be stored.");
  const request: SchemaRequest = { schema, references: referencesOf(references) };
  const type = schemaTypeOf(schemaType);
  if (type) request.schemaType = type;
  // Confluent's clients send their defaults when they mean "not set": id -1 (any id below 1) and version 0.
  if (id !== undefined && id !== null && !(typeof id === "number" && Number.isInteger(id) && id <= 0)) {
    if (!isInt4(id, 1)) throw invalidSchema(`id must be an integer between 1 and ${INT4_MAX}.`);
    request.id = id;
  }
  if (version !== undefined && version !== null && version !== 0) {
    if (!isInt4(version, 1)) throw registryErrors.invalidVersion(String(JSON.stringify(version) ?? "").slice(0, 100));
    request.version = version;
  }
  return request;
}

function boundedText(value: unknown): string | null {
  if (typeof value !== "string" || value.length > MAX_NAME_LENGTH || !storable(value)) return null;
  return value;
}

/** The level of `PUT /config`: `{"compatibility": "FULL"}` (`compatibilityLevel` read too, as Confluent does). */
export function compatibilityFromBody(body: unknown): string {
  const level = isObject(body) ? boundedText(body.compatibility ?? body.compatibilityLevel) : null;
  if (level === null) {
    const shown = isObject(body) ? String(body.compatibility ?? body.compatibilityLevel ?? "").slice(0, 100) : "";
    throw registryErrors.invalidCompatibilityLevel(shown);
  }
  return level;
}

/** The mode of `PUT /mode`: `{"mode": "READONLY"}`. */
export function modeFromBody(body: unknown): string {
  const mode = isObject(body) ? boundedText(body.mode) : null;
  if (mode === null) throw registryErrors.invalidMode(isObject(body) ? String(body.mode ?? "").slice(0, 100) : "");
  return mode;
}
