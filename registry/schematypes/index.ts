/**
 * Schema types of the Confluent-compatible registry: parse and canonicalise a schema with its references, and
 * judge a candidate against earlier versions under a compatibility level. Pure: the caller loads references.
 *
 * - JSON: Confluent's JSON Schema rules, through the engine's one verdict path (jsonschema/reader-writer.ts).
 * - AVRO: Avro schema resolution (avsc `createResolver`): a reader resolves a writer.
 * - PROTOBUF: the changes Confluent's Protobuf checker names (message removed, field renumbered or its type
 *   changed, required label changes, ...).
 */
export * from "./types.ts";
export { parseSchema, checkCompatibility, MAX_SCHEMA_BYTES, MAX_REFERENCES } from "./parse.ts";
