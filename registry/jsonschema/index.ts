import { MODE_POLICIES } from "../policies.ts";
import type { CompatibilityMode } from "../types.ts";
import { SchemaComplexityError, diffSchemas, isUpdateCompatible, type DiffOptions, type SchemaChange } from "./diff.ts";

/** The Confluent-style differ, its verdict helpers, and its complexity bound. */
export { diffSchemas, isUpdateCompatible, isBackwardCompatible, SchemaComplexityError, COMPARISON_BUDGET, type SchemaChange, type DiffOptions } from "./diff.ts";
/** The change-type table and the lenient policy's extra compatible types. */
export { SCHEMA_CHANGE_TYPES, LENIENT_COMPATIBLE, type SchemaChangeType } from "./changes.ts";

/** Result of {@link checkSchemaCompatibility}. */
export interface SchemaCompatibility {
  compatible: boolean;
  mode: CompatibilityMode;
  /** Changes from previous to current, Confluent style: `"MAX_LENGTH_INCREASED #/maxLength"`. */
  changes: string[];
  /** The same changes as data. */
  details: SchemaChange[];
  /** Set when the schemas were too intricate to compare within bounds: `compatible` is then false, to be reviewed by hand. */
  tooComplex?: true;
}

/** Options of {@link checkSchemaCompatibility}. */
export interface SchemaCompatibilityOptions extends DiffOptions {
  /** Earlier versions (newest first) also checked under a transitive mode. */
  against?: readonly unknown[];
}

/**
 * Checks a new version of a JSON Schema against the previous one under a Confluent mode. BACKWARD: a reader
 * with `current` reads data written with `previous`; FORWARD: a reader with `previous` reads data written with
 * `current`; FULL: both; `*_TRANSITIVE`: against `options.against` too.
 * @example checkSchemaCompatibility({ type: "string" }, { type: "string", maxLength: 3 }, "BACKWARD").compatible // false
 */
export function checkSchemaCompatibility(previous: unknown, current: unknown, mode: CompatibilityMode = "BACKWARD", options: SchemaCompatibilityOptions = {}): SchemaCompatibility {
  const policy = MODE_POLICIES[mode];
  let details: SchemaChange[];
  try {
    details = diffSchemas(previous, current, options);
  } catch (error) {
    if (!(error instanceof SchemaComplexityError)) throw error;
    return { compatible: mode === "NONE", mode, changes: [], details: [], tooComplex: true };
  }
  const versions = [previous, ...(policy.transitive ? (options.against ?? []) : [])];
  // Reader/writer roles per Confluent: BACKWARD reads old data with the new schema, FORWARD the reverse.
  let compatible: boolean;
  try {
    compatible = versions.every(
      (earlier) => (!policy.backward || isUpdateCompatible(earlier, current, options)) && (!policy.forward || isUpdateCompatible(current, earlier, options)),
    );
  } catch (error) {
    if (!(error instanceof SchemaComplexityError)) throw error;
    return { compatible: false, mode, changes: [], details: [], tooComplex: true };
  }
  return { compatible, mode, changes: details.map((c) => `${c.type} ${c.path}`), details };
}

/**
 * Checks whether a reader with schema `reader` accepts every document valid under schema `writer` (e.g. an
 * observed payload schema against the contract's), with the changes from writer to reader.
 */
export function checkReaderWriter(writer: unknown, reader: unknown, options: DiffOptions = {}): { compatible: boolean; changes: string[]; tooComplex?: true } {
  try {
    return { compatible: isUpdateCompatible(writer, reader, options), changes: diffSchemas(writer, reader, options).map((c) => `${c.type} ${c.path}`) };
  } catch (error) {
    if (!(error instanceof SchemaComplexityError)) throw error;
    return { compatible: false, changes: [], tooComplex: true };
  }
}
