/**
 * `*` patterns (`machine-monitor-*`, `plant-*-eu`): only `*` is special, standing for any run of characters,
 * none included. Matched by a two-pointer walk, never a regular expression built from the pattern, in at most
 * length(pattern) × length(text) steps.
 */
export function matchesGlob(pattern: string, text: string): boolean {
  let p = 0;
  let s = 0;
  let star = -1;
  let resume = 0;
  while (s < text.length) {
    if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = s;
    } else if (p < pattern.length && pattern[p] === text[s]) {
      p++;
      s++;
    } else if (star >= 0) {
      p = star + 1;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/** Characters of a pattern other than `*`: more is more specific. */
export function globSpecificity(pattern: string): number {
  let n = 0;
  for (const c of pattern) if (c !== "*") n++;
  return n;
}
