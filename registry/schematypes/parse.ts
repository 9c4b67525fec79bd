import { MODE_POLICIES } from "../policies.ts";
import { byteLength } from "../parse/limits.ts";
import type { CompatibilityMode } from "../types.ts";
import { avroIncompatibilities, parseAvroSchema } from "./avro.ts";
import { jsonIncompatibilities, parseJsonSchema } from "./json.ts";
import { parseProtobufSchema, protobufIncompatibilities } from "./protobuf.ts";
import { MAX_REFERENCES, MAX_SCHEMA_BYTES, quote, referenceClosure } from "./shared.ts";
import { SCHEMA_TYPES, type CompatibilityVerdict, type ParsedSchema, type ParseOutcome, type SchemaInput, type SchemaType } from "./types.ts";

export { MAX_SCHEMA_BYTES, MAX_REFERENCES };

/** Longest reference name and subject accepted (Confluent stores them as text; this keeps messages and keys bounded). */
const MAX_NAME_LENGTH = 1000;
const MAX_VERSION = 2_147_483_647;

/** Parses and canonicalises a schema; never throws for bad input. */
export function parseSchema(input: SchemaInput): ParseOutcome {
  if (!(SCHEMA_TYPES as readonly string[]).includes(input.schemaType)) return { ok: false, message: `Unknown schema type ${quote(String(input.schemaType))}: use one of ${SCHEMA_TYPES.join(", ")}.` };
  if (typeof input.schema !== "string") return { ok: false, message: "The schema must be a string." };
  if (input.schema.length > MAX_SCHEMA_BYTES || byteLength(input.schema) > MAX_SCHEMA_BYTES) return { ok: false, message: `The schema is larger than ${MAX_SCHEMA_BYTES} bytes.` };
  if (input.references.length > MAX_REFERENCES) return { ok: false, message: `A schema may have at most ${MAX_REFERENCES} references.` };
  const names = new Set<string>();
  for (const ref of input.references) {
    if (typeof ref.name !== "string" || ref.name === "" || ref.name.length > MAX_NAME_LENGTH) return { ok: false, message: `A reference name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters.` };
    if (typeof ref.subject !== "string" || ref.subject === "" || ref.subject.length > MAX_NAME_LENGTH) return { ok: false, message: `The subject of reference ${quote(ref.name)} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters.` };
    if (!Number.isInteger(ref.version) || ref.version < 1 || ref.version > MAX_VERSION) return { ok: false, message: `The version of reference ${quote(ref.name)} must be a positive integer.` };
    if (names.has(ref.name)) return { ok: false, message: `The reference name ${quote(ref.name)} is used twice.` };
    names.add(ref.name);
  }
  const closure = referenceClosure(input.references);
  if (!closure.ok) return closure;
  try {
    return parserOf(input.schemaType)(input.schema, input.references);
  } catch (error) {
    // A parser bug must not become a 500 for a client: the schema is refused with what went wrong.
    return { ok: false, message: `The schema cannot be parsed: ${error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500)}` };
  }
}

function parserOf(type: SchemaType): (text: string, references: SchemaInput["references"]) => ParseOutcome {
  return type === "JSON" ? parseJsonSchema : type === "AVRO" ? parseAvroSchema : parseProtobufSchema;
}

/** Messages for the changes that stop `reader` reading data written with `writer` (both of one type). */
function incompatibilities(writer: ParsedSchema, reader: ParsedSchema, direction: "backward" | "forward"): string[] {
  switch (reader.schemaType) {
    case "JSON":
      return jsonIncompatibilities(writer, reader);
    case "AVRO":
      return avroIncompatibilities(writer, reader, direction);
    case "PROTOBUF":
      return protobufIncompatibilities(writer, reader);
  }
}

/** Largest old schema quoted in a message; longer ones are named by version only. */
const MAX_QUOTED_SCHEMA = 2000;

/**
 * Judges a candidate under a level against earlier versions of the subject (oldest first, not deleted). The
 * non-transitive levels look at the latest only; NONE accepts everything. Types must match: a candidate of
 * another type than the latest version is incompatible. Versions are judged newest first and the first one
 * that refuses ends the check, as Confluent's registry does; its messages end with where and under what level.
 */
export function checkCompatibility(mode: CompatibilityMode, candidate: ParsedSchema, earlier: readonly ParsedSchema[]): CompatibilityVerdict {
  const policy = Object.hasOwn(MODE_POLICIES, mode) ? MODE_POLICIES[mode] : undefined;
  if (!policy) return { compatible: false, messages: [`Unknown compatibility level ${quote(String(mode))}.`] };
  if ((!policy.backward && !policy.forward) || earlier.length === 0) return { compatible: true, messages: [] };
  const versions = policy.transitive ? [...earlier].reverse() : [earlier.at(-1)!];
  for (const old of versions) {
    const messages: string[] = [];
    if (old.schemaType !== candidate.schemaType) {
      messages.push(`Incompatible schema type: the new schema is ${candidate.schemaType}, ${old.version === undefined ? "the old schema" : `version ${old.version}`} is ${old.schemaType}.`);
    } else {
      if (policy.backward) messages.push(...incompatibilities(old, candidate, "backward"));
      if (policy.forward) messages.push(...incompatibilities(candidate, old, "forward"));
    }
    if (messages.length === 0) continue;
    if (old.version !== undefined) messages.push(`{oldSchemaVersion: ${old.version}}`);
    if (old.canonical.length <= MAX_QUOTED_SCHEMA) messages.push(`{oldSchema: '${old.canonical}'}`);
    messages.push(`{validateFields: 'false', compatibility: '${mode}'}`);
    return { compatible: false, messages };
  }
  return { compatible: true, messages: [] };
}
