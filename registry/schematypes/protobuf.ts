import type { ParsedSchema, ParseOutcome, ResolvedReference } from "./types.ts";

/** Parses `.proto` text (proto2 / proto3) with its imports resolved from `references` (name = import path). */
export function parseProtobufSchema(text: string, references: readonly ResolvedReference[]): ParseOutcome {
  void text;
  void references;
  return { ok: false, message: "Protobuf schemas are not supported yet" };
}

/** Messages for every change that stops `reader` reading data written with `writer` (empty: compatible). */
export function protobufIncompatibilities(writer: ParsedSchema, reader: ParsedSchema): string[] {
  void writer;
  void reader;
  return [];
}
