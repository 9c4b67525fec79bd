import { jsonEqual } from "../hash.ts";
import { isModernDialect } from "./diff.ts";

/**
 * Keywords that change what a schema accepts but that Confluent's checker does not judge (it has no change type
 * for them). The contract compare reports their changes apart, unclassified, so that a difference in meaning is
 * never "no changes".
 */
const UNJUDGED = ["format", "contains", "propertyNames", "patternProperties", "if", "then", "else", "contentEncoding", "contentMediaType", "contentSchema"] as const;
/** Draft 2019-09/2020-12 keywords that a draft-07 schema may carry but Confluent's draft-07 loader ignores. */
const MODERN_ONLY = ["unevaluatedProperties", "unevaluatedItems", "prefixItems", "minContains", "maxContains", "dependentRequired", "dependentSchemas"] as const;
/** Values that are data, not subschemas: never walked into. */
const DATA_KEYWORDS = new Set(["enum", "const", "default", "examples", "example", "required"]);

/** One unjudged keyword whose value differs: where, and the values when they are scalars. */
export interface UnjudgedChange {
  keyword: string;
  /** JSON Pointer inside the schema, Confluent style (`#/properties/email/format`). */
  path: string;
  previous?: unknown;
  current?: unknown;
}

/** Most nodes walked and changes reported: far above real payloads, and a bound for hostile ones. */
const MAX_NODES = 20_000;
const MAX_CHANGES = 25;

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const escape = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * Lists the unjudged keywords whose values differ between two versions of a schema, walking both side by side
 * (subschemas under the same keys), at most {@link MAX_CHANGES}.
 */
export function unjudgedChanges(previous: unknown, current: unknown): UnjudgedChange[] {
  const out: UnjudgedChange[] = [];
  const keywords: readonly string[] = isModernDialect(previous) && isModernDialect(current) ? UNJUDGED : [...UNJUDGED, ...MODERN_ONLY];
  let nodes = 0;
  const walk = (a: unknown, b: unknown, path: string[]): void => {
    if (out.length >= MAX_CHANGES || ++nodes > MAX_NODES) return;
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.min(a.length, b.length); i++) walk(a[i], b[i], [...path, String(i)]);
      return;
    }
    if (!isObj(a) || !isObj(b)) return;
    for (const keyword of keywords) {
      if (!(keyword in a) && !(keyword in b)) continue;
      if (jsonEqual(a[keyword], b[keyword])) continue;
      const change: UnjudgedChange = { keyword, path: "#/" + [...path, keyword].map(escape).join("/") };
      if (a[keyword] !== undefined && !isObj(a[keyword])) change.previous = a[keyword];
      if (b[keyword] !== undefined && !isObj(b[keyword])) change.current = b[keyword];
      out.push(change);
      if (out.length >= MAX_CHANGES) return;
    }
    for (const key of Object.keys(a)) {
      if (DATA_KEYWORDS.has(key) || keywords.includes(key) || !(key in b)) continue;
      const x = a[key];
      const y = b[key];
      if ((isObj(x) || Array.isArray(x)) && (isObj(y) || Array.isArray(y)) && !jsonEqual(x, y)) walk(x, y, [...path, key]);
    }
  };
  walk(previous, current, []);
  return out;
}
