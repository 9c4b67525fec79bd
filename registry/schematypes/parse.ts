import type { CompatibilityMode } from "../types.ts";
import type { CompatibilityVerdict, ParsedSchema, ParseOutcome, SchemaInput } from "./types.ts";

/** Largest schema text the registry accepts (UTF-8 bytes). */
export const MAX_SCHEMA_BYTES = 1024 * 1024;
/** Most references one schema may carry (transitively resolved references count once each). */
export const MAX_REFERENCES = 100;

/** Parses and canonicalises a schema; never throws for bad input. */
export function parseSchema(input: SchemaInput): ParseOutcome {
  void input;
  throw new Error("not implemented");
}

/**
 * Judges a candidate under a level against earlier versions of the subject (oldest first, not deleted). The
 * non-transitive levels look at the latest only; NONE accepts everything. Types must match: a candidate of
 * another type than the latest version is incompatible.
 */
export function checkCompatibility(mode: CompatibilityMode, candidate: ParsedSchema, earlier: readonly ParsedSchema[]): CompatibilityVerdict {
  void mode;
  void candidate;
  void earlier;
  throw new Error("not implemented");
}
