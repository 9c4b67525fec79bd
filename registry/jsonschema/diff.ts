import { RE2JS } from "re2js";
import { jsonEqual } from "../hash.ts";
import { LENIENT_COMPATIBLE, SCHEMA_CHANGE_TYPES, type SchemaChangeTypeId } from "./changes.ts";

/** One JSON Schema change, Confluent style: a change type and a JSON Pointer into the original schema. */
export interface SchemaChange {
  type: SchemaChangeTypeId;
  /** `#/`, `#/properties/foo`, `#/items/2`… */
  path: string;
}

type Obj = Record<string, unknown>;
type Path = readonly string[];

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** Formats path segments as Confluent does: `#/` for the root, `#/properties/foo` below it. */
function pointer(path: Path): string {
  return "#/" + path.map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

/** Whether a change type keeps a reader of the update able to read data of the original. */
export function isBackwardCompatible(type: string, lenient = false): boolean {
  return (SCHEMA_CHANGE_TYPES.get(type)?.backward ?? false) || (lenient && LENIENT_COMPATIBLE.has(type));
}

// ---- A view of a schema node in the shape Everit (Confluent's loader) gives it ----

type Kind = "empty" | "false" | "string" | "number" | "boolean" | "null" | "object" | "array" | "enum" | "const" | "not" | "combined";
type Criterion = "allOf" | "anyOf" | "oneOf";

interface View {
  kind: Kind;
  raw: Obj;
  integer?: boolean;
  criterion?: Criterion;
  /** Subschemas of a combination, each with its path (synthetic combinations share the parent's path). */
  subs?: { schema: unknown; path: Path; view?: View }[];
  /** An allOf that Everit synthesises for several keywords on one node (`type` + `enum`), not one the author wrote. */
  synthetic?: boolean;
  /** `enum` values, or the `const` value as a one-element list. */
  values?: unknown[];
}

const STRING_KEYS = ["minLength", "maxLength", "pattern", "format"];
// Draft 2019-09/2020-12 loading (Confluent's json-sKema translator) ignores `format`.
const MODERN_STRING_KEYS = ["minLength", "maxLength", "pattern"];
const NUMBER_KEYS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];
const OBJECT_KEYS = ["properties", "required", "additionalProperties", "patternProperties", "dependencies", "dependentRequired", "dependentSchemas", "minProperties", "maxProperties", "propertyNames"];
const MODERN_OBJECT_KEYS = [...OBJECT_KEYS, "unevaluatedProperties"];
const ARRAY_KEYS = ["items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains"];
const MODERN_ARRAY_KEYS = [...ARRAY_KEYS, "unevaluatedItems", "minContains", "maxContains"];

/** Whether a schema document declares draft 2019-09 or 2020-12, which Confluent loads with its modern translator. */
export function isModernDialect(root: unknown): boolean {
  const dialect = isObj(root) && typeof root.$schema === "string" ? root.$schema : "";
  return dialect.includes("2020-12") || dialect.includes("2019-09");
}

/** Keywords that imply an object schema; in the modern dialects an empty `properties` contributes nothing. */
function impliesObject(raw: Obj, modern: boolean): boolean {
  if (!modern) return OBJECT_KEYS.some((k) => k in raw);
  return MODERN_OBJECT_KEYS.some((k) => k in raw && !(k === "properties" && isObj(raw.properties) && Object.keys(raw.properties).length === 0));
}
const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);

function typedView(type: string, raw: Obj): View {
  if (type === "integer") return { kind: "number", raw, integer: true };
  return { kind: type as Kind, raw };
}

/** Builds the view of a (resolved) schema node. */
function view(schema: unknown, path: Path, modern: boolean): View {
  if (schema === false) return { kind: "false", raw: {} };
  if (!isObj(schema)) return { kind: "empty", raw: {} };
  const raw = schema;
  const parts: View[] = [];
  const types = Array.isArray(raw.type) ? raw.type.filter((t): t is string => typeof t === "string" && TYPES.has(t)) : typeof raw.type === "string" && TYPES.has(raw.type) ? [raw.type] : [];
  if (types.length === 1) parts.push(typedView(types[0]!, raw));
  else if (types.length > 1) {
    // `type: [a, b]` is a sum of the typed schemas, as Everit loads it.
    const sum: View = { kind: "combined", raw, criterion: "anyOf", subs: types.map((t) => ({ schema: raw, path, view: typedView(t, raw) })) };
    parts.push(sum);
  } else {
    // Without `type`, type-specific keywords imply the type (without requiring it).
    if ((modern ? MODERN_STRING_KEYS : STRING_KEYS).some((k) => k in raw)) parts.push({ kind: "string", raw });
    if (NUMBER_KEYS.some((k) => k in raw)) parts.push({ kind: "number", raw });
    if (impliesObject(raw, modern)) parts.push({ kind: "object", raw });
    if ((modern ? MODERN_ARRAY_KEYS : ARRAY_KEYS).some((k) => k in raw)) parts.push({ kind: "array", raw });
  }
  // Confluent loads `const` as a schema class of its own: const ↔ enum is a type change, not a widening.
  if (Array.isArray(raw.enum)) parts.push({ kind: "enum", raw, values: raw.enum });
  if ("const" in raw) parts.push({ kind: "const", raw, values: [raw.const] });
  if ("not" in raw) parts.push({ kind: "not", raw });
  for (const criterion of ["allOf", "anyOf", "oneOf"] as const) {
    const list = raw[criterion];
    if (!Array.isArray(list)) continue;
    parts.push({
      kind: "combined",
      raw,
      criterion,
      subs: list.map((s, i) => ({ schema: s, path: [...path, criterion, String(i)] })),
    });
  }
  if (parts.length === 0) return { kind: "empty", raw };
  if (parts.length === 1) return parts[0]!;
  // Several facets on one node are an implicit allOf whose members share the node's path.
  return { kind: "combined", raw, criterion: "allOf", synthetic: true, subs: parts.map((p) => ({ schema: raw, path, view: p })) };
}

// ---- The comparison ----

interface Context {
  originalRoot: unknown;
  updateRoot: unknown;
  /** Each side's dialect, from its root `$schema`. */
  originalModern: boolean;
  updateModern: boolean;
  /** Pairs of nodes being compared, to stop on circular references. */
  visiting: Set<string>;
  ids: Map<object, number>;
  lenient: boolean;
  /** Set when only a verdict is wanted: the first incompatible change ends the comparison. */
  stopAtIncompatible: boolean;
  /** Comparisons left before giving up (nested oneOf/anyOf matching grows exponentially with depth). */
  budget: { remaining: number };
  changes: SchemaChange[];
}

/** Thrown to end a verdict-only comparison early; never escapes this module. */
class Incompatible extends Error {}

/** Most node comparisons one schema comparison may make: far above real payloads, far below a denial of service. */
export const COMPARISON_BUDGET = 100_000;

/** Thrown when two schemas are too intricate to compare within {@link COMPARISON_BUDGET}; callers report it as data. */
export class SchemaComplexityError extends Error {
  constructor() {
    super(`Schemas too intricate to compare within ${COMPARISON_BUDGET} steps (deeply nested oneOf/anyOf/allOf).`);
  }
}

function idOf(ctx: Context, value: unknown): number {
  if (!isObj(value)) return value === false ? -2 : -1;
  let id = ctx.ids.get(value);
  if (id === undefined) ctx.ids.set(value, (id = ctx.ids.size));
  return id;
}

function resolve(root: unknown, schema: unknown): unknown {
  let current = schema;
  for (let hops = 0; hops < 64 && isObj(current) && typeof current.$ref === "string"; hops++) {
    const ref = current.$ref;
    if (!ref.startsWith("#")) return {};
    let node: unknown = root;
    for (const token of ref.slice(1).split("/").filter((t) => t !== "")) {
      const key = decodeURIComponent(token).replace(/~1/g, "/").replace(/~0/g, "~");
      node = isObj(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined;
    }
    // An unresolvable reference accepts anything: nothing can be said about it.
    current = node === undefined ? {} : node;
  }
  return current;
}

function add(ctx: Context, type: SchemaChangeTypeId, path: Path): void {
  if (ctx.stopAtIncompatible && !isBackwardCompatible(type, ctx.lenient)) throw new Incompatible();
  ctx.changes.push({ type, path: pointer(path) });
}

/** A context for a trial comparison: its changes are judged by the caller, so it never stops early. */
function sub(ctx: Context): Context {
  return { originalRoot: ctx.originalRoot, updateRoot: ctx.updateRoot, originalModern: ctx.originalModern, updateModern: ctx.updateModern, visiting: ctx.visiting, ids: ctx.ids, lenient: ctx.lenient, stopAtIncompatible: false, budget: ctx.budget, changes: [] };
}

/** A trial context with the roles swapped: the update becomes the original (Confluent's `not` check reads backwards). */
function swapped(ctx: Context): Context {
  return { originalRoot: ctx.updateRoot, updateRoot: ctx.originalRoot, originalModern: ctx.updateModern, updateModern: ctx.originalModern, visiting: new Set(), ids: ctx.ids, lenient: ctx.lenient, stopAtIncompatible: false, budget: ctx.budget, changes: [] };
}

function compatible(ctx: Context, changes: readonly SchemaChange[]): boolean {
  return changes.every((c) => isBackwardCompatible(c.type, ctx.lenient));
}

/** Compares two schema nodes (resolving references) and records the changes from original to update. */
function compare(ctx: Context, original: unknown, update: unknown, path: Path): void {
  if (--ctx.budget.remaining < 0) throw new SchemaComplexityError();
  const o = resolve(ctx.originalRoot, original);
  const u = resolve(ctx.updateRoot, update);
  const key = `${idOf(ctx, o)}:${idOf(ctx, u)}`;
  if (isObj(o) && isObj(u)) {
    if (ctx.visiting.has(key)) return;
    ctx.visiting.add(key);
  }
  try {
    if (isObj(o) && isObj(u)) {
      for (const [keyword, type] of [["$id", "ID_CHANGED"], ["id", "ID_CHANGED"], ["title", "TITLE_CHANGED"], ["description", "DESCRIPTION_CHANGED"], ["default", "DEFAULT_CHANGED"]] as const) {
        if (keyword === "id" && (typeof o.id !== "string" || typeof u.id !== "string")) continue;
        // Confluent's 2019-09/2020-12 loader resolves `$id` as a base URI and keeps no identifier to compare.
        if (keyword !== "title" && keyword !== "description" && keyword !== "default" && ctx.originalModern && ctx.updateModern) continue;
        if (!jsonEqual(o[keyword], u[keyword])) add(ctx, type, path);
      }
    }
    compareViews(ctx, view(o, path, ctx.originalModern), view(u, path, ctx.updateModern), path);
  } finally {
    ctx.visiting.delete(key);
  }
}

/** Compares one subschema entry of each side (views are prebuilt for synthetic entries). */
function compareSub(ctx: Context, o: NonNullable<View["subs"]>[number], u: NonNullable<View["subs"]>[number], path: Path): void {
  if (o.view || u.view) {
    const ov = o.view ?? view(resolve(ctx.originalRoot, o.schema), o.path, ctx.originalModern);
    const uv = u.view ?? view(resolve(ctx.updateRoot, u.schema), u.path, ctx.updateModern);
    compareViews(ctx, ov, uv, path);
  } else compare(ctx, o.schema, u.schema, path);
}

function trial(ctx: Context, run: (c: Context) => void): { ok: boolean; changes: SchemaChange[] } {
  const c = sub(ctx);
  run(c);
  return { ok: compatible(ctx, c.changes), changes: c.changes };
}

/**
 * Drops duplicate subschemas (Confluent treats `allOf: [A, A]` as `allOf: [A]`). Pairwise structural equality,
 * not canonical strings: subschemas shared through YAML anchors compare by identity instead of being expanded.
 */
function dedupe(subs: NonNullable<View["subs"]>, root: unknown): NonNullable<View["subs"]> {
  const kept: { sub: NonNullable<View["subs"]>[number]; value: unknown }[] = [];
  for (const sub of subs) {
    // Synthetic members share their node; they differ by facet, which their views tell apart.
    if (sub.view) {
      kept.push({ sub, value: undefined });
      continue;
    }
    const value = resolve(root, sub.schema);
    if (!kept.some((k) => !k.sub.view && jsonEqual(k.value, value))) kept.push({ sub, value });
  }
  return kept.map((k) => k.sub);
}

function compareViews(ctx: Context, o: View, u: View, path: Path): void {
  // Anything may become the empty schema, and nothing is lost when the original accepted nothing.
  if (u.kind === "empty" || o.kind === "false") return;
  if (u.kind === "false" || o.kind === "empty") {
    add(ctx, "TYPE_CHANGED", path);
    return;
  }
  if (o.kind === "combined" && u.kind === "combined") return compareCombined(ctx, o, u, path);
  if (u.kind === "combined" && u.synthetic) {
    // A keyword added next to the type (`enum`, `not`…): compare the same-kind facet, and flag the extra constraint.
    const facet = u.subs!.find((f) => f.view!.kind === o.kind);
    if (!facet) return add(ctx, "TYPE_CHANGED", path);
    compareViews(ctx, o, facet.view!, path);
    add(ctx, "PRODUCT_TYPE_EXTENDED", path);
    return;
  }
  if (o.kind === "combined" && o.synthetic) {
    // Confluent: dropping `enum` next to `type` is PRODUCT_TYPE_NARROWED ("Detect removed enum").
    const facet = o.subs!.find((f) => f.view!.kind === u.kind);
    if (!facet) return add(ctx, "TYPE_CHANGED", path);
    compareViews(ctx, facet.view!, u, path);
    add(ctx, "PRODUCT_TYPE_NARROWED", path);
    return;
  }
  if (u.kind === "combined") {
    const subs = dedupe(u.subs!, ctx.updateRoot);
    const single = { schema: undefined, path, view: o };
    if (subs.length === 1) return compareSub(ctx, single, subs[0]!, path);
    if (u.criterion === "allOf") {
      // Every member of the update's allOf must accept what the original accepted.
      const trials = subs.map((s) => trial(ctx, (c) => compareSub(c, single, s, path)));
      if (trials.every((t) => t.ok)) trials.forEach((t) => ctx.changes.push(...t.changes));
      else add(ctx, "TYPE_CHANGED", path);
      return;
    }
    // A sum in the update accepts the original if one alternative does (Confluent SUM_TYPE_EXTENDED).
    for (const s of subs) {
      const t = trial(ctx, (c) => compareSub(c, single, s, path));
      if (t.ok) {
        ctx.changes.push(...t.changes);
        add(ctx, "SUM_TYPE_EXTENDED", path);
        return;
      }
    }
    add(ctx, "TYPE_CHANGED", path);
    return;
  }
  if (o.kind === "combined") {
    const subs = dedupe(o.subs!, ctx.originalRoot);
    const single = { schema: undefined, path, view: u };
    if (subs.length === 1) return compareSub(ctx, subs[0]!, single, path);
    const trials = subs.map((s) => trial(ctx, (c) => compareSub(c, s, single, path)));
    if (o.criterion === "allOf") {
      // Dropping allOf members relaxes the schema if what remains is implied by one member.
      const t = trials.find((x) => x.ok);
      if (t) {
        ctx.changes.push(...t.changes);
        add(ctx, "PRODUCT_TYPE_NARROWED", path);
      } else add(ctx, "TYPE_CHANGED", path);
      return;
    }
    if (trials.every((t) => t.ok)) trials.forEach((t) => ctx.changes.push(...t.changes));
    else if (trials.some((t) => t.ok)) add(ctx, "SUM_TYPE_NARROWED", path);
    else add(ctx, "TYPE_CHANGED", path);
    return;
  }
  if (o.kind !== u.kind) {
    add(ctx, "TYPE_CHANGED", path);
    return;
  }
  switch (o.kind) {
    case "string":
      return compareString(ctx, o.raw, u.raw, path);
    case "number":
      if (o.integer && !u.integer) add(ctx, "TYPE_EXTENDED", path);
      else if (!o.integer && u.integer) add(ctx, "TYPE_NARROWED", path);
      return compareBounds(ctx, NUMBER_ROWS, o.raw, u.raw, path);
    case "object":
      return compareObject(ctx, o.raw, u.raw, path);
    case "array":
      return compareArray(ctx, o.raw, u.raw, path);
    case "enum":
      return compareEnum(ctx, o, u, path);
    case "const":
      if (!jsonEqual(o.values![0], u.values![0])) add(ctx, "ENUM_ARRAY_CHANGED", [...path, "const"]);
      return;
    case "not":
      return compareNot(ctx, o.raw, u.raw, path);
    default:
      return;
  }
}

function compareCombined(ctx: Context, o: View, u: View, path: Path): void {
  if (o.synthetic && u.synthetic) return compareFacets(ctx, o, u, path);
  const os = dedupe(o.subs!, ctx.originalRoot);
  const us = dedupe(u.subs!, ctx.updateRoot);
  if (o.criterion !== u.criterion) {
    // Relaxing the criterion is safe when the update is anyOf, the original was allOf, or a singleton becomes a sum.
    const extended = u.criterion === "anyOf" || o.criterion === "allOf" || (os.length === 1 && (u.criterion === "oneOf" || us.length === 1));
    if (!extended) {
      add(ctx, "COMBINED_TYPE_CHANGED", path);
      return;
    }
    add(ctx, "COMBINED_TYPE_EXTENDED", path);
  }
  if (os.length < us.length) add(ctx, u.criterion === "allOf" ? "PRODUCT_TYPE_EXTENDED" : "SUM_TYPE_EXTENDED", path);
  else if (os.length > us.length) add(ctx, o.criterion === "allOf" ? "PRODUCT_TYPE_NARROWED" : "SUM_TYPE_NARROWED", path);
  // Match original members to compatible update members (maximum bipartite matching), as Confluent does.
  const results = os.map((a) => us.map((b) => trial(ctx, (c) => compareSub(c, a, b, a.path))));
  const matchOfUpdate = new Array<number>(us.length).fill(-1);
  const tryAssign = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < us.length; j++) {
      if (!results[i]![j]!.ok || seen[j]) continue;
      seen[j] = true;
      if (matchOfUpdate[j] === -1 || tryAssign(matchOfUpdate[j]!, seen)) {
        matchOfUpdate[j] = i;
        return true;
      }
    }
    return false;
  };
  let matched = 0;
  for (let i = 0; i < os.length; i++) if (tryAssign(i, new Array<boolean>(us.length).fill(false))) matched++;
  if (matched < Math.min(os.length, us.length)) {
    add(ctx, "COMBINED_TYPE_SUBSCHEMAS_CHANGED", path);
    return;
  }
  const pairs = matchOfUpdate.map((i, j) => [i, j] as const).filter(([i]) => i >= 0).sort((a, b) => a[0] - b[0]);
  for (const [i, j] of pairs) ctx.changes.push(...results[i]![j]!.changes);
}

/** Two nodes with several keywords each (`type` + `enum`…): compare facet by facet, as if written separately. */
function compareFacets(ctx: Context, o: View, u: View, path: Path): void {
  const key = (v: View) => `${v.kind}:${v.criterion ?? ""}`;
  const remaining = [...u.subs!];
  let dropped = false;
  for (const a of o.subs!) {
    const i = remaining.findIndex((b) => key(b.view!) === key(a.view!));
    if (i < 0) {
      dropped = true;
      continue;
    }
    compareViews(ctx, a.view!, remaining[i]!.view!, path);
    remaining.splice(i, 1);
  }
  // A facet dropped relaxes the node; a facet added constrains it (allOf semantics).
  if (dropped) add(ctx, "PRODUCT_TYPE_NARROWED", path);
  if (remaining.length > 0) add(ctx, "PRODUCT_TYPE_EXTENDED", path);
}

// Bounds as table rows: keyword, change-type stem, and whether increasing it relaxes the schema.
type BoundStem = "MAXIMUM" | "MINIMUM" | "EXCLUSIVE_MAXIMUM" | "EXCLUSIVE_MINIMUM" | "MAX_LENGTH" | "MIN_LENGTH" | "MAX_PROPERTIES" | "MIN_PROPERTIES" | "MAX_ITEMS" | "MIN_ITEMS" | "MAX_CONTAINS" | "MIN_CONTAINS";
type BoundRow = readonly [keyword: string, stem: BoundStem, increaseRelaxes: boolean];
const NUMBER_ROWS: BoundRow[] = [
  ["maximum", "MAXIMUM", true],
  ["minimum", "MINIMUM", false],
  ["exclusiveMaximum", "EXCLUSIVE_MAXIMUM", true],
  ["exclusiveMinimum", "EXCLUSIVE_MINIMUM", false],
];
const STRING_ROWS: BoundRow[] = [
  ["maxLength", "MAX_LENGTH", true],
  ["minLength", "MIN_LENGTH", false],
];
const OBJECT_ROWS: BoundRow[] = [
  ["maxProperties", "MAX_PROPERTIES", true],
  ["minProperties", "MIN_PROPERTIES", false],
];
const ARRAY_ROWS: BoundRow[] = [
  ["maxItems", "MAX_ITEMS", true],
  ["minItems", "MIN_ITEMS", false],
];

function compareBounds(ctx: Context, rows: readonly BoundRow[], o: Obj, u: Obj, path: Path): void {
  for (const [keyword, stem] of rows) {
    const a = o[keyword];
    const b = u[keyword];
    const at = [...path, keyword];
    if (typeof a !== "number" && typeof b === "number") add(ctx, `${stem}_ADDED`, at);
    else if (typeof a === "number" && typeof b !== "number") add(ctx, `${stem}_REMOVED`, at);
    else if (typeof a === "number" && typeof b === "number" && a !== b) add(ctx, `${stem}_${b > a ? "INCREASED" : "DECREASED"}`, at);
  }
  if (rows === NUMBER_ROWS) {
    const a = o.multipleOf;
    const b = u.multipleOf;
    const at = [...path, "multipleOf"];
    if (typeof a !== "number" && typeof b === "number") add(ctx, "MULTIPLE_OF_ADDED", at);
    else if (typeof a === "number" && typeof b !== "number") add(ctx, "MULTIPLE_OF_REMOVED", at);
    else if (typeof a === "number" && typeof b === "number" && a !== b) {
      // Every multiple of `a` is a multiple of `b` exactly when `b` divides `a`.
      add(ctx, isMultiple(a, b) ? "MULTIPLE_OF_REDUCED" : isMultiple(b, a) ? "MULTIPLE_OF_EXPANDED" : "MULTIPLE_OF_CHANGED", at);
    }
  }
}

function isMultiple(a: number, b: number): boolean {
  const q = a / b;
  return Math.abs(q - Math.round(q)) < 1e-9;
}

function compareString(ctx: Context, o: Obj, u: Obj, path: Path): void {
  compareBounds(ctx, STRING_ROWS, o, u, path);
  // `format` is not judged: Confluent's checker has no change type for it (the contract compare reports it apart).
  const a = o.pattern;
  const b = u.pattern;
  const at = [...path, "pattern"];
  if (a === undefined && b !== undefined) add(ctx, "PATTERN_ADDED", at);
  else if (a !== undefined && b === undefined) add(ctx, "PATTERN_REMOVED", at);
  else if (a !== b) add(ctx, "PATTERN_CHANGED", at);
}

function compareEnum(ctx: Context, o: View, u: View, path: Path): void {
  const a = o.values!;
  const b = u.values!;
  const at = [...path, "enum"];
  const aInB = a.every((v) => b.some((w) => jsonEqual(v, w)));
  const bInA = b.every((v) => a.some((w) => jsonEqual(v, w)));
  if (aInB && bInA) return;
  add(ctx, aInB ? "ENUM_ARRAY_EXTENDED" : bInA ? "ENUM_ARRAY_NARROWED" : "ENUM_ARRAY_CHANGED", at);
}

function compareNot(ctx: Context, o: Obj, u: Obj, path: Path): void {
  const at = [...path, "not"];
  if (trial(ctx, (c) => compare(c, o.not, u.not, at)).changes.length === 0) return;
  // As Confluent: the update excludes less exactly when the original's `not` accepts what the update's does.
  const reversed = swapped(ctx);
  compare(reversed, u.not, o.not, at);
  add(ctx, compatible(ctx, reversed.changes) ? "NOT_TYPE_NARROWED" : "NOT_TYPE_EXTENDED", at);
}

const isEmptySchema = (s: unknown): boolean => s === true || (isObj(s) && Object.keys(s).length === 0);

/** `unevaluatedProperties` / `unevaluatedItems` as Confluent's modern translator keeps them (ignored in draft-07). */
function unevaluated(model: Obj, keyword: "unevaluatedProperties" | "unevaluatedItems", modern: boolean): unknown {
  return modern ? model[keyword] : undefined;
}

/** A schema that accepts something and constrains it: not absent, `true`, `{}` or `false`. */
const isConstraining = (s: unknown): boolean => s !== undefined && s !== false && !isEmptySchema(s);

/**
 * What a partially open content model uses for a name: the first pattern property that matches (a search, as
 * Confluent's `find()`), else a schema `additionalProperties`, else (additionalProperties open) a schema
 * `unevaluatedProperties`.
 */
function partialSchemaFor(model: Obj, name: string, modern: boolean): unknown {
  for (const [pattern, schema] of Object.entries(isObj(model.patternProperties) ? model.patternProperties : {})) {
    if (patternFinds(pattern, name)) return schema;
  }
  if (isConstraining(model.additionalProperties)) return model.additionalProperties;
  const u = unevaluated(model, "unevaluatedProperties", modern);
  return model.additionalProperties !== false && isConstraining(u) ? u : undefined;
}

// Patterns come from uploaded schemas: run them on RE2 (linear time), never on the backtracking engine.
const patternCache = new Map<string, RE2JS | null>();
function patternFinds(pattern: string, name: string): boolean {
  let compiled = patternCache.get(pattern);
  if (compiled === undefined) {
    try {
      compiled = pattern.length <= 1_000 ? RE2JS.compile(pattern) : null;
    } catch {
      // An invalid pattern (or one RE2 cannot run, such as a back-reference) matches nothing.
      compiled = null;
    }
    if (patternCache.size > 1_000) patternCache.clear();
    patternCache.set(pattern, compiled);
  }
  return compiled !== null && compiled.matcher(name).find();
}

/** Open: additional properties allowed with no schema, no pattern properties, and unevaluatedProperties open too. */
function isOpenObject(model: Obj, modern: boolean): boolean {
  const ap = model.additionalProperties;
  const patterns = isObj(model.patternProperties) ? Object.keys(model.patternProperties).length : 0;
  const u = unevaluated(model, "unevaluatedProperties", modern);
  return (ap === undefined || ap === true || isEmptySchema(ap)) && patterns === 0 && (u === undefined || u === true || isEmptySchema(u));
}

function compareObject(ctx: Context, o: Obj, u: Obj, path: Path): void {
  compareBounds(ctx, OBJECT_ROWS, o, u, path);
  const op = isObj(o.properties) ? o.properties : {};
  const up = isObj(u.properties) ? u.properties : {};
  const oRequired = new Set(Array.isArray(o.required) ? o.required.map(String) : []);
  const uRequired = new Set(Array.isArray(u.required) ? u.required.map(String) : []);
  const names = [...new Set([...Object.keys(op), ...Object.keys(up)])].sort();
  for (const name of names) {
    const at = [...path, "properties", name];
    const inO = Object.prototype.hasOwnProperty.call(op, name);
    const inU = Object.prototype.hasOwnProperty.call(up, name);
    if (inO && inU) {
      compare(ctx, op[name], up[name], at);
      continue;
    }
    if (inU) {
      const schema = resolve(ctx.updateRoot, up[name]);
      if (isOpenObject(o, ctx.originalModern)) {
        // Open model: old data may already carry this name with any value (Confluent's strict reading).
        const hasDefault = isObj(schema) && "default" in schema;
        // Required first: a newly required property breaks old data that lacks it, whatever its schema accepts.
        add(
          ctx,
          uRequired.has(name)
            ? hasDefault
              ? "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
              : "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            : isEmptySchema(schema)
              ? "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
              : "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
          at,
        );
        continue;
      }
      const covering = partialSchemaFor(o, name, ctx.originalModern);
      if (covering !== undefined) {
        const t = trial(ctx, (c) => compare(c, covering, up[name], at));
        ctx.changes.push(...t.changes);
        add(ctx, t.ok ? "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" : "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", at);
      }
      const hasDefault = isObj(schema) && "default" in schema;
      add(ctx, uRequired.has(name) ? (hasDefault ? "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL" : "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL") : "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", at);
      continue;
    }
    // Removed from the update.
    if (isOpenObject(u, ctx.updateModern)) {
      add(ctx, "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", at);
      continue;
    }
    const covering = partialSchemaFor(u, name, ctx.updateModern);
    if (covering !== undefined) {
      const t = trial(ctx, (c) => compare(c, op[name], covering, at));
      ctx.changes.push(...t.changes);
      add(ctx, t.ok ? "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" : "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", at);
    } else {
      add(ctx, resolve(ctx.originalRoot, op[name]) === false ? "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL" : "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", at);
    }
  }
  compareAdditional(ctx, o.additionalProperties, u.additionalProperties, [...path, "additionalProperties"], "ADDITIONAL_PROPERTIES");
  compareUnevaluated(ctx, unevaluated(o, "unevaluatedProperties", ctx.originalModern), unevaluated(u, "unevaluatedProperties", ctx.updateModern), [...path, "unevaluatedProperties"], "UNEVALUATED_PROPERTIES");
  compareDependencies(ctx, o, u, path);
  for (const name of [...oRequired].sort()) if (!uRequired.has(name)) add(ctx, "REQUIRED_ATTRIBUTE_REMOVED", [...path, "required", name]);
  for (const name of [...uRequired].sort()) {
    // Confluent reports a newly required attribute only for properties declared on both sides.
    if (oRequired.has(name) || !(name in op) || !(name in up)) continue;
    const schema = resolve(ctx.updateRoot, up[name]);
    add(ctx, isObj(schema) && "default" in schema ? "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED" : "REQUIRED_ATTRIBUTE_ADDED", [...path, "required", name]);
  }
}

/** additionalProperties / additionalItems: absent or `true` is open, `false` closed, a schema partially open. */
function compareAdditional(ctx: Context, a: unknown, b: unknown, at: Path, stem: "ADDITIONAL_PROPERTIES" | "ADDITIONAL_ITEMS"): void {
  const state = (v: unknown) => (v === undefined || v === true || isEmptySchema(v) ? "open" : v === false ? "closed" : "schema");
  const sa = state(a);
  const sb = state(b);
  if (sa === sb && sa !== "schema") return;
  if (sa === "closed") add(ctx, `${stem}_ADDED`, at);
  else if (sb === "closed") add(ctx, `${stem}_REMOVED`, at);
  else if (sa === "schema" && sb === "open") add(ctx, `${stem}_EXTENDED`, at);
  else if (sa === "open" && sb === "schema") add(ctx, `${stem}_NARROWED`, at);
  else compare(ctx, a, b, at);
}

/** unevaluatedProperties / unevaluatedItems, as Confluent judges them: absent counts as `true`. */
function compareUnevaluated(ctx: Context, a: unknown, b: unknown, at: Path, stem: "UNEVALUATED_PROPERTIES" | "UNEVALUATED_ITEMS"): void {
  if (a === undefined && b === undefined) return;
  const open = (v: unknown) => v === undefined || v === true || isEmptySchema(v);
  if (a === false && b !== false) return add(ctx, `${stem}_ADDED`, at);
  if (a !== false && b === false) return add(ctx, `${stem}_REMOVED`, at);
  if (a === false && b === false) return;
  if (open(a) && !open(b)) return add(ctx, `${stem}_NARROWED`, at);
  if (!open(a) && open(b)) return add(ctx, `${stem}_EXTENDED`, at);
  if (!open(a) && !open(b)) compare(ctx, a, b, at);
}

function compareDependencies(ctx: Context, o: Obj, u: Obj, path: Path): void {
  const deps = (m: Obj): Obj => ({
    ...(isObj(m.dependencies) ? m.dependencies : {}),
    ...(isObj(m.dependentRequired) ? m.dependentRequired : {}),
    ...(isObj(m.dependentSchemas) ? m.dependentSchemas : {}),
  });
  const od = deps(o);
  const ud = deps(u);
  for (const name of [...new Set([...Object.keys(od), ...Object.keys(ud)])].sort()) {
    const a = od[name];
    const b = ud[name];
    const at = [...path, "dependencies", name];
    if (a === undefined) add(ctx, Array.isArray(b) ? "DEPENDENCY_ARRAY_ADDED" : "DEPENDENCY_SCHEMA_ADDED", at);
    else if (b === undefined) add(ctx, Array.isArray(a) ? "DEPENDENCY_ARRAY_REMOVED" : "DEPENDENCY_SCHEMA_REMOVED", at);
    else if (Array.isArray(a) && Array.isArray(b)) {
      const sa = new Set(a.map(String));
      const sb = new Set(b.map(String));
      const aInB = [...sa].every((x) => sb.has(x));
      const bInA = [...sb].every((x) => sa.has(x));
      if (aInB && bInA) continue;
      add(ctx, aInB ? "DEPENDENCY_ARRAY_EXTENDED" : bInA ? "DEPENDENCY_ARRAY_NARROWED" : "DEPENDENCY_ARRAY_CHANGED", at);
    } else if (!Array.isArray(a) && !Array.isArray(b)) compare(ctx, a, b, at);
    else add(ctx, "DEPENDENCY_ARRAY_CHANGED", at);
  }
}

/** An array schema in the shape Confluent's loader gives it, whatever the draft spelled. */
interface ArrayShape {
  /** `items` as one schema for every element. */
  all: unknown;
  /** Tuple entries: draft-07 `items: [...]`, 2020-12 `prefixItems`. */
  tuple: unknown[];
  /** Elements past the tuple: draft-07 `additionalItems`, 2020-12 `items` beside `prefixItems` (or `items: false`). */
  additional: unknown;
  unevaluated: unknown;
  minContains: unknown;
  maxContains: unknown;
}

function arrayShape(m: Obj, modern: boolean): ArrayShape {
  if (modern) {
    const tuple = Array.isArray(m.prefixItems) ? (m.prefixItems as unknown[]) : [];
    const items = m.items;
    const shape: ArrayShape = { all: undefined, tuple, additional: undefined, unevaluated: m.unevaluatedItems, minContains: m.minContains, maxContains: m.maxContains };
    if (items === false) shape.additional = false;
    else if (items !== undefined && items !== true) {
      if (tuple.length > 0) shape.additional = items;
      else shape.all = items;
    }
    // With `contains`, at least one match is required unless minContains says otherwise.
    if (m.contains !== undefined && shape.minContains === undefined) shape.minContains = 1;
    return shape;
  }
  const tuple = Array.isArray(m.items) ? (m.items as unknown[]) : [];
  return { all: Array.isArray(m.items) ? undefined : m.items, tuple, additional: m.additionalItems, unevaluated: undefined, minContains: m.minContains, maxContains: m.maxContains };
}

const CONTAINS_ROWS: BoundRow[] = [
  ["maxContains", "MAX_CONTAINS", true],
  ["minContains", "MIN_CONTAINS", false],
];

function isOpenArray(a: ArrayShape): boolean {
  const open = (v: unknown) => v === undefined || v === true || isEmptySchema(v);
  return open(a.additional) && open(a.unevaluated);
}

function partialItems(a: ArrayShape): unknown {
  if (isConstraining(a.additional)) return a.additional;
  return a.additional !== false && isConstraining(a.unevaluated) ? a.unevaluated : undefined;
}

function compareArray(ctx: Context, o: Obj, u: Obj, path: Path): void {
  const a = arrayShape(o, ctx.originalModern);
  const b = arrayShape(u, ctx.updateModern);
  // One schema for every item.
  const itemsAt = [...path, "items"];
  if (a.all === undefined && b.all !== undefined) add(ctx, "SCHEMA_ADDED", itemsAt);
  else if (a.all !== undefined && b.all === undefined) add(ctx, "SCHEMA_REMOVED", itemsAt);
  else if (a.all !== undefined) compare(ctx, a.all, b.all, itemsAt);
  // Tuple items: a removed entry is judged by the update's content model, an added one by the original's.
  for (let i = 0; i < Math.max(a.tuple.length, b.tuple.length); i++) {
    const at = [...path, "items", String(i)];
    if (i < a.tuple.length && i < b.tuple.length) compare(ctx, a.tuple[i], b.tuple[i], at);
    else if (i < b.tuple.length) {
      const covering = partialItems(a);
      if (isOpenArray(a)) add(ctx, isEmptySchema(resolve(ctx.updateRoot, b.tuple[i])) ? "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL" : "ITEM_ADDED_TO_OPEN_CONTENT_MODEL", at);
      else if (covering !== undefined) {
        const t = trial(ctx, (c) => compare(c, covering, b.tuple[i], at));
        ctx.changes.push(...t.changes);
        add(ctx, t.ok ? "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" : "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", at);
      } else add(ctx, "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL", at);
    } else {
      const covering = partialItems(b);
      if (isOpenArray(b)) add(ctx, "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL", at);
      else if (covering !== undefined) {
        const t = trial(ctx, (c) => compare(c, a.tuple[i], covering, at));
        ctx.changes.push(...t.changes);
        add(ctx, t.ok ? "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" : "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", at);
      } else add(ctx, resolve(ctx.originalRoot, a.tuple[i]) === false ? "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL" : "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", at);
    }
  }
  compareAdditional(ctx, a.additional, b.additional, [...path, "additionalItems"], "ADDITIONAL_ITEMS");
  compareUnevaluated(ctx, a.unevaluated, b.unevaluated, [...path, "unevaluatedItems"], "UNEVALUATED_ITEMS");
  compareBounds(ctx, ARRAY_ROWS, o, u, path);
  if (o.uniqueItems === true && u.uniqueItems !== true) add(ctx, "UNIQUE_ITEMS_REMOVED", [...path, "uniqueItems"]);
  else if (o.uniqueItems !== true && u.uniqueItems === true) add(ctx, "UNIQUE_ITEMS_ADDED", [...path, "uniqueItems"]);
  compareBounds(ctx, CONTAINS_ROWS, { minContains: a.minContains, maxContains: a.maxContains }, { minContains: b.minContains, maxContains: b.maxContains }, path);
}

/** Options of {@link diffSchemas}. */
export interface DiffOptions {
  /** Confluent's lenient policy: adding optional properties to open models is accepted. */
  lenient?: boolean;
}

/**
 * Lists the changes from `original` to `update` with Confluent's change types and JSON Pointer paths.
 * @example diffSchemas({ type: "string", maxLength: 10 }, { type: "string", maxLength: 12 }) // [{ type: "MAX_LENGTH_INCREASED", path: "#/maxLength" }]
 */
export function diffSchemas(original: unknown, update: unknown, options: DiffOptions = {}): SchemaChange[] {
  return jsonEqual(original, update) ? [] : diffUnequal(original, update, options);
}

/** {@link diffSchemas} for callers that already know the two schemas differ (skips one deep comparison). */
export function diffUnequal(original: unknown, update: unknown, options: DiffOptions = {}): SchemaChange[] {
  const ctx = context(original, update, options, false);
  compare(ctx, original, update, []);
  return ctx.changes;
}

function context(original: unknown, update: unknown, options: DiffOptions, stopAtIncompatible: boolean): Context {
  return {
    originalRoot: original,
    updateRoot: update,
    originalModern: isModernDialect(original),
    updateModern: isModernDialect(update),
    visiting: new Set(),
    ids: new Map(),
    lenient: options.lenient ?? false,
    stopAtIncompatible,
    budget: { remaining: COMPARISON_BUDGET },
    changes: [],
  };
}

/** Whether a reader with `update` reads every document valid under `original` (Confluent's `compatible`). */
export function isUpdateCompatible(original: unknown, update: unknown, options: DiffOptions = {}): boolean {
  return jsonEqual(original, update) || isUnequalUpdateCompatible(original, update, options);
}

/** {@link isUpdateCompatible} for callers that already know the two schemas differ. */
export function isUnequalUpdateCompatible(original: unknown, update: unknown, options: DiffOptions = {}): boolean {
  try {
    compare(context(original, update, options, true), original, update, []);
    return true;
  } catch (error) {
    if (error instanceof Incompatible) return false;
    throw error;
  }
}
