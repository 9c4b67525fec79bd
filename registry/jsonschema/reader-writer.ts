import { jsonEqual } from "../hash.ts";
import { MODE_POLICIES } from "../policies.ts";
import type { CompatibilityMode } from "../types.ts";
import { SchemaComplexityError, diffUnequal, isBackwardCompatible, type DiffOptions, type SchemaChange } from "./diff.ts";

/**
 * The one payload checker behind every verdict. Roles are named as Confluent's registry names them: a reader
 * schema reads data written under a writer schema. BACKWARD: reader = current, writer = previous. FORWARD:
 * reader = previous, writer = current (the reverse diff). FULL: both.
 */

/** Whether a reader with `reader` reads every document valid under `writer`, and the changes from writer to reader. */
export interface ReaderWriterResult {
  compatible: boolean;
  /** Confluent changes with the writer as `original` and the reader as `update`. */
  changes: SchemaChange[];
  /** The schemas were too intricate to compare within bounds: `compatible` is false, for a person to judge. */
  tooComplex?: true;
}

/**
 * Checks that a reader schema accepts every document a writer schema allows (e.g. an observed payload schema
 * as writer against the contract's as reader).
 * @example readerAccepts({ type: "number" }, { type: "integer" }).compatible // true
 */
export function readerAccepts(reader: unknown, writer: unknown, options: DiffOptions = {}): ReaderWriterResult {
  if (jsonEqual(reader, writer)) return { compatible: true, changes: [] };
  try {
    const changes = diffUnequal(writer, reader, options);
    return { compatible: changes.every((c) => isBackwardCompatible(c.type, options.lenient)), changes };
  } catch (error) {
    if (!(error instanceof SchemaComplexityError)) throw error;
    return { compatible: false, changes: [], tooComplex: true };
  }
}

/** One change between two versions of a payload, with its verdict in each direction. */
export interface EvolutionChange extends SchemaChange {
  /** A reader of the current schema still reads data written under the previous one. */
  backward: boolean;
  /** A reader of the previous schema still reads data written under the current one. */
  forward: boolean;
  /**
   * Which check found it: `backward` (reader = current, writer = previous; the path points into the previous
   * schema) or `forward` (reader = previous, writer = current; the path points into the current schema).
   */
  foundBy: "backward" | "forward";
}

/** Both checks between two versions of one payload. */
export interface EvolutionCheck {
  /** No difference in meaning: no change in either direction. */
  equivalent: boolean;
  backward: boolean;
  forward: boolean;
  /**
   * Every change once: those of the backward check, then those only the forward check sees (a schema relaxed
   * to `{}` shows nothing backward, but an old reader cannot read what the new writer may send).
   */
  changes: EvolutionChange[];
  /** The backward check's changes as Confluent lists them for (original = previous, update = current). */
  backwardDiff: SchemaChange[];
  /** The forward check's changes as Confluent lists them for (original = current, update = previous). */
  forwardDiff: SchemaChange[];
  tooComplex?: true;
}

/**
 * Checks one payload evolution both ways. Each change of the backward check carries the forward verdict of
 * the reverse diff at the same path; changes only the reverse diff finds incompatible are added, so that a
 * change found in one direction is judged in the other.
 */
export function checkEvolution(previous: unknown, current: unknown, options: DiffOptions = {}): EvolutionCheck {
  if (jsonEqual(previous, current)) return { equivalent: true, backward: true, forward: true, changes: [], backwardDiff: [], forwardDiff: [] };
  const backward = readerAccepts(current, previous, options);
  // Past the bound one way, the other way would spend the same again for the same answer.
  const forward = backward.tooComplex ? backward : readerAccepts(previous, current, options);
  if (backward.tooComplex || forward.tooComplex) return { equivalent: false, backward: false, forward: false, changes: [], backwardDiff: [], forwardDiff: [], tooComplex: true };
  const forwardBreaks = new Set<string>();
  for (const c of forward.changes) if (!isBackwardCompatible(c.type, options.lenient)) forwardBreaks.add(c.path);
  const backwardPaths = new Set<string>();
  const changes: EvolutionChange[] = [];
  for (const c of backward.changes) {
    backwardPaths.add(c.path);
    changes.push({ type: c.type, path: c.path, backward: isBackwardCompatible(c.type, options.lenient), forward: !forwardBreaks.has(c.path), foundBy: "backward" });
  }
  for (const c of forward.changes) {
    if (backwardPaths.has(c.path) || !forwardBreaks.has(c.path)) continue;
    changes.push({ type: c.type, path: c.path, backward: true, forward: false, foundBy: "forward" });
  }
  return { equivalent: changes.length === 0, backward: backward.compatible, forward: forward.compatible, changes, backwardDiff: backward.changes, forwardDiff: forward.changes };
}

/**
 * Whether the current schema may follow earlier ones under a mode: `earlier` newest first, the previous version
 * first; a plain mode checks that one only, a transitive mode all (or all given, with `transitive`, when the
 * previous version was judged already).
 */
export function modeAccepts(mode: CompatibilityMode, current: unknown, earlier: readonly unknown[], { transitive, ...options }: DiffOptions & { transitive?: boolean } = {}): { compatible: boolean; tooComplex?: true } {
  const policy = MODE_POLICIES[mode];
  const versions = policy.transitive || transitive ? earlier : earlier.slice(0, 1);
  let tooComplex = false;
  for (const version of versions) {
    for (const [reader, writer, required] of [[current, version, policy.backward], [version, current, policy.forward]] as const) {
      if (!required) continue;
      const result = readerAccepts(reader, writer, options);
      if (result.tooComplex) tooComplex = true;
      if (!result.compatible) return tooComplex ? { compatible: false, tooComplex: true } : { compatible: false };
    }
  }
  return { compatible: true };
}
