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

/** Product states {@link patternsOverlap} explores at most before answering conservatively. */
export const MAX_OVERLAP_STATES = 1 << 22;

// Tokens of a pattern: a character code (>= 0), ANY (exactly one character) or STAR (any run, none included).
const ANY = -1;
const STAR = -2;

function tokensOf(pattern: LevelPattern): Int32Array {
  let n = 0;
  for (const chunk of pattern.chunks) n += chunk.length;
  for (const run of pattern.runs) n += run + 1;
  const tokens = new Int32Array(n);
  let k = 0;
  for (let i = 0; i < pattern.chunks.length; i++) {
    const chunk = pattern.chunks[i]!;
    for (let c = 0; c < chunk.length; c++) tokens[k++] = chunk.charCodeAt(c);
    if (i < pattern.runs.length) {
      // A run of r parameters is "at least r characters".
      for (let r = 0; r < pattern.runs[i]!; r++) tokens[k++] = ANY;
      tokens[k++] = STAR;
    }
  }
  return tokens;
}

/**
 * True when some level value is an instance of both patterns (`line-{a}` and `{b}-7` share `line-7`). The two
 * patterns are walked together as automata over (position in one, position in the other), each state visited
 * once: at most (length + 1)² states. Past {@link MAX_OVERLAP_STATES} it answers true, the safe side for impact.
 */
export function patternsOverlap(a: LevelPattern, b: LevelPattern, counter?: StepCounter): boolean {
  if (isWholeParameter(a) || isWholeParameter(b)) return true;
  // A common value starts with both heads and ends with both tails.
  const [ha, hb] = [a.chunks[0]!, b.chunks[0]!];
  const [ta, tb] = [a.chunks[a.chunks.length - 1]!, b.chunks[b.chunks.length - 1]!];
  if (!(ha.startsWith(hb) || hb.startsWith(ha)) || !(ta.endsWith(tb) || tb.endsWith(ta))) return false;
  const x = tokensOf(a);
  const y = tokensOf(b);
  const width = y.length + 1;
  const states = (x.length + 1) * width;
  if (states > MAX_OVERLAP_STATES) return true;
  const seen = new Uint8Array(states);
  const stack: number[] = [0];
  seen[0] = 1;
  const visit = (i: number, j: number) => {
    const s = i * width + j;
    if (seen[s] === 0) {
      seen[s] = 1;
      stack.push(s);
    }
  };
  while (stack.length > 0) {
    const s = stack.pop()!;
    const i = Math.floor(s / width);
    const j = s - i * width;
    if (counter) counter.steps++;
    if (i === x.length && j === y.length) return true;
    const p = i < x.length ? x[i]! : null;
    const q = j < y.length ? y[j]! : null;
    if (p === STAR) visit(i + 1, j);
    if (q === STAR) visit(i, j + 1);
    if (p === null || q === null) continue;
    // One character both accept: two literals must agree; a wildcard takes any character.
    if (p >= 0 && q >= 0 && p !== q) continue;
    if (p === STAR && q === STAR) continue;
    visit(p === STAR ? i : i + 1, q === STAR ? j : j + 1);
  }
  return false;
}
