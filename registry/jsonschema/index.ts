import { MODE_POLICIES } from "../policies.ts";
import type { CompatibilityMode } from "../types.ts";
import type { DiffOptions, SchemaChange } from "./diff.ts";
import { checkEvolution, modeAccepts, type EvolutionChange } from "./reader-writer.ts";

/** The Confluent-style differ, its verdict helpers, and its complexity bound. */
export { diffSchemas, isUpdateCompatible, isBackwardCompatible, SchemaComplexityError, COMPARISON_BUDGET, type SchemaChange, type DiffOptions } from "./diff.ts";
/** The one reader/writer payload checker. */
export { readerAccepts, checkEvolution, modeAccepts, type ReaderWriterResult, type EvolutionChange, type EvolutionCheck } from "./reader-writer.ts";
/** The change-type table and the lenient policy's extra compatible types. */
export { SCHEMA_CHANGE_TYPES, LENIENT_COMPATIBLE, type SchemaChangeType } from "./changes.ts";

/** Result of {@link checkSchemaCompatibility}. */
export interface SchemaCompatibility {
  compatible: boolean;
  mode: CompatibilityMode;
  /** Changes of the backward check (original = previous, update = current), Confluent style: `"MAX_LENGTH_INCREASED #/maxLength"`. */
  changes: string[];
  /** Changes of the forward check (original = current, update = previous), as Confluent lists them under FORWARD. */
  forwardChanges: string[];
  /** The same changes as data, each with its verdict in both directions. */
  details: EvolutionChange[];
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
  const evolution = checkEvolution(previous, current, options);
  if (evolution.tooComplex) return { compatible: mode === "NONE", mode, changes: [], forwardChanges: [], details: [], tooComplex: true };
  const policy = MODE_POLICIES[mode];
  const previousOk = (!policy.backward || evolution.backward) && (!policy.forward || evolution.forward);
  // The previous version is judged by the evolution check already; transitive modes add the earlier ones.
  const verdict = !previousOk ? { compatible: false } : policy.transitive ? modeAccepts(mode, current, options.against ?? [], { ...options, transitive: true }) : { compatible: true };
  const format = (c: SchemaChange) => `${c.type} ${c.path}`;
  const result: SchemaCompatibility = { compatible: verdict.compatible, mode, changes: evolution.backwardDiff.map(format), forwardChanges: evolution.forwardDiff.map(format), details: evolution.changes };
  if (verdict.tooComplex) result.tooComplex = true;
  return result;
}
