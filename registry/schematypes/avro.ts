import type { ParsedSchema, ParseOutcome, ResolvedReference } from "./types.ts";

/** Parses an Avro schema with the named types of its references. */
export function parseAvroSchema(text: string, references: readonly ResolvedReference[]): ParseOutcome {
  void text;
  void references;
  return { ok: false, message: "Avro schemas are not supported yet" };
}

/** Messages for every change that stops `reader` reading data written with `writer` (empty: compatible). */
export function avroIncompatibilities(writer: ParsedSchema, reader: ParsedSchema, direction: "backward" | "forward"): string[] {
  void writer;
  void reader;
  void direction;
  return [];
}
