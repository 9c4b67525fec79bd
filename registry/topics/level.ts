/**
 * One level of a channel address with parameters (`{lineId}`, `line-{lineId}`,
 * `{region}-{zone}`, `{a}{b}{c}`), compiled once and matched in linear time.
 *
 * A level is literal chunks separated by runs of adjacent parameters:
 * `line-{a}{b}.x` → chunks `["line-", ".x"]`, runs `[2]`. A parameter takes at
 * least one character and never `/`, so a run of k parameters is just "at least
 * k characters": any split of those characters among the k names works.
 * Matching places the first chunk at the start, the last at the end, and every
 * middle chunk at its earliest position (KMP) after the required gap. Earliest is
 * always safe: a later placement only leaves less room for what follows. The text
 * is scanned once from left to right, whatever the number of parameters.
 */

/** Counts character comparisons, so tests can prove the matcher linear without timing it. */
export interface StepCounter {
  steps: number;
}

/** A compiled level that holds at least one parameter. */
export interface LevelPattern {
  /** the level as written */
  readonly source: string;
  /** literal text around the parameter runs; always runs.length + 1 entries, first and last may be empty */
  readonly chunks: readonly string[];
  /** number of adjacent parameters in each gap, each at least 1 */
  readonly runs: readonly number[];
  /** parameter names in order of appearance */
  readonly names: readonly string[];
  /** equal for levels that match the same values (`line-{a}` and `line-{b}`) */
  readonly key: string;
  /** KMP failure tables of the middle chunks (index i for chunks[i]; ends unused) */
  readonly failures: readonly (Int32Array | null)[];
}

export type LevelParse = { ok: true; literal: string } | { ok: true; pattern: LevelPattern } | { ok: false; reason: string };

/** Parses one level (no `/` inside) into a literal or a parameter pattern. */
export function parseLevel(level: string): LevelParse {
  const chunks: string[] = [""];
  const runs: number[] = [];
  const names: string[] = [];
  let lastWasParameter = false;
  let literalStart = 0;
  let i = 0;
  const flushLiteral = (end: number) => {
    if (end <= literalStart) return;
    if (lastWasParameter) chunks.push(level.slice(literalStart, end));
    else chunks[chunks.length - 1] += level.slice(literalStart, end);
    lastWasParameter = false;
  };
  while (i < level.length) {
    const c = level.charCodeAt(i);
    if (c === 0x7d /* } */) return { ok: false, reason: `"}" without "{" in level "${level}".` };
    if (c !== 0x7b /* { */) {
      i++;
      continue;
    }
    flushLiteral(i);
    let close = i + 1;
    while (close < level.length && level.charCodeAt(close) !== 0x7d) {
      if (level.charCodeAt(close) === 0x7b) return { ok: false, reason: `"{" inside a parameter name in level "${level}".` };
      close++;
    }
    if (close >= level.length) return { ok: false, reason: `Unclosed "{" in level "${level}".` };
    if (close === i + 1) return { ok: false, reason: `Empty parameter name "{}" in level "${level}".` };
    names.push(level.slice(i + 1, close));
    if (lastWasParameter) runs[runs.length - 1]!++;
    else runs.push(1);
    lastWasParameter = true;
    i = close + 1;
    literalStart = i;
  }
  flushLiteral(level.length);
  if (runs.length === 0) return { ok: true, literal: level };
  if (lastWasParameter) chunks.push("");
  const key = chunks.map((chunk, j) => (j === 0 ? chunk : `\u0000${runs[j - 1]}\u0000${chunk}`)).join("");
  const failures = chunks.map((chunk, j) => (j > 0 && j < chunks.length - 1 ? failureTable(chunk) : null));
  return { ok: true, pattern: { source: level, chunks, runs, names, key, failures } };
}

/** True when the pattern is a lone parameter (`{lineId}`): any non-empty value. */
export function isWholeParameter(pattern: LevelPattern): boolean {
  return pattern.runs.length === 1 && pattern.runs[0] === 1 && pattern.chunks[0] === "" && pattern.chunks[1] === "";
}

/** Literal characters a pattern requires: more is more specific. */
export function literalLength(pattern: LevelPattern): number {
  return pattern.chunks.reduce((n, chunk) => n + chunk.length, 0);
}

/** True when some value of the pattern is the given topic level. Linear in value and pattern length. */
export function matchLevel(pattern: LevelPattern, value: string, counter?: StepCounter): boolean {
  const { chunks, runs } = pattern;
  const head = chunks[0]!;
  const tail = chunks[chunks.length - 1]!;
  const end = value.length - tail.length;
  if (end < head.length || !value.startsWith(head) || !value.endsWith(tail)) return false;
  if (counter) counter.steps += head.length + tail.length;
  let position = head.length;
  for (let i = 1; i < chunks.length - 1; i++) {
    position += runs[i - 1]!;
    const found = indexOfWithin(value, chunks[i]!, pattern.failures[i]!, position, end, counter);
    if (found < 0) return false;
    position = found + chunks[i]!.length;
  }
  return position + runs[runs.length - 1]! <= end;
}

function failureTable(needle: string): Int32Array {
  const table = new Int32Array(needle.length);
  let k = 0;
  for (let i = 1; i < needle.length; i++) {
    while (k > 0 && needle.charCodeAt(i) !== needle.charCodeAt(k)) k = table[k - 1]!;
    if (needle.charCodeAt(i) === needle.charCodeAt(k)) k++;
    table[i] = k;
  }
  return table;
}

/** First index ≥ from where needle occurs wholly before end, or -1 (Knuth–Morris–Pratt). */
function indexOfWithin(text: string, needle: string, failure: Int32Array, from: number, end: number, counter?: StepCounter): number {
  let k = 0;
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    while (k > 0 && c !== needle.charCodeAt(k)) {
      k = failure[k - 1]!;
      if (counter) counter.steps++;
    }
    if (counter) counter.steps++;
    if (c === needle.charCodeAt(k)) k++;
    if (k === needle.length) return i - needle.length + 1;
  }
  return -1;
}
