/**
 * Confluent's JSON Schema type: the text is a JSON Schema (object or boolean), valid against its dialect's
 * meta-schema (draft-07, or 2019-09 / 2020-12 when `$schema` says so; ajv's meta-schema validators), whose every
 * `$ref` resolves inside it or at the name of one of its references. Remote schemas are never fetched and no
 * validator is generated for a client's schema (code generation grows with the schema and its `pattern`s would
 * run on a backtracking engine). Compatibility is the engine's one verdict path (jsonschema/reader-writer.ts),
 * run on the schema with its references bundled in, so a `$ref` to a reference name is judged by what it
 * points at.
 */
import type { ValidateFunction } from "ajv";
import { ajvFor, dialectOf, type Dialect } from "../jsonschema/ajv.ts";
import { canonicalJson } from "../hash.ts";
import { readerAccepts } from "../jsonschema/reader-writer.ts";
import { isBackwardCompatible } from "../jsonschema/diff.ts";
import { identityHash, parseJsonText, quote, referenceClosure, referenceInputs, referenceKey, type Result } from "./shared.ts";
import { SCHEMA_TYPE_FORMATS, type ParsedSchema, type ParseOutcome, type ResolvedReference } from "./types.ts";

/** What the JSON engine keeps of a parsed schema. */
export interface JsonHandle {
  /** The schema as sent, parsed. */
  value: unknown;
  /** The schema with its references bundled in (the value itself when it has none): what the checker judges. */
  bundled: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

// Only the meta-schema validators are compiled: a client's `$schema` (draft-04, -06 …) must not stop them.
const newAjv = (dialect: Dialect) => ajvFor(dialect);

/** One meta-schema validator per dialect for the process: compiled once, holds no schema of a client. */
const metaValidators: Partial<Record<Dialect, ValidateFunction>> = {};

function metaValidator(dialect: Dialect): ValidateFunction {
  let validate = metaValidators[dialect];
  if (!validate) {
    const ajv = newAjv(dialect);
    validate = ajv.getSchema(ajv.defaultMeta() as string)!;
    metaValidators[dialect] = validate;
  }
  return validate;
}

/** Checks a value against its dialect's meta-schema; the message names the first problem. */
function metaProblem(value: unknown, what: string): string | null {
  if (typeof value === "boolean") return null;
  if (!isObj(value)) return `${what} is not a JSON Schema: it must be an object or a boolean.`;
  // Draft-04 (boolean `exclusiveMinimum`, `id`) has no meta-schema in ajv 8; draft-06 is a subset of draft-07's.
  if (typeof value.$schema === "string" && value.$schema.includes("draft-04")) return null;
  const validate = metaValidator(dialectOf(value));
  if (validate(value) === true) return null;
  const error = validate.errors?.[0];
  return `${what} is not a valid JSON Schema: ${error ? `${error.instancePath || "/"} ${error.message ?? "is invalid"}` : "it does not match the meta-schema"}.`;
}

/** Parses a JSON Schema with its references (each resolved, name = the URL its `$ref`s use). */
export function parseJsonSchema(text: string, references: readonly ResolvedReference[]): ParseOutcome {
  const parsed = parseJsonText(text, "The schema");
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  const invalid = metaProblem(value, "The schema");
  if (invalid) return { ok: false, message: invalid };

  const closure = referenceClosure(references);
  if (!closure.ok) return closure;
  const values = new Map<string, unknown>();
  for (const ref of closure.value) {
    const what = `The referenced schema ${quote(ref.name)} (subject ${quote(ref.subject)} version ${ref.version})`;
    if (ref.schemaType !== "JSON") return { ok: false, message: `${what} is a ${ref.schemaType} schema: a JSON schema can only reference JSON schemas.` };
    const refValue = parseJsonText(ref.schema, what);
    if (!refValue.ok) return refValue;
    const refInvalid = metaProblem(refValue.value, what);
    if (refInvalid) return { ok: false, message: refInvalid };
    values.set(referenceKey(ref), refValue.value);
  }

  const resolved = resolveAll(value, references, closure.value, values);
  if (!resolved.ok) return resolved;

  const refs = referenceInputs(references);
  const format = SCHEMA_TYPE_FORMATS.JSON;
  const handle: JsonHandle = { value, bundled: closure.value.length === 0 ? value : bundle(value, references, closure.value, values) };
  return { ok: true, schema: { schemaType: "JSON", format, canonical: canonicalJson(value), hash: identityHash(format, value, refs), references: refs, handle } };
}

/** Meta-schemas a `$ref` may name without being a reference (Confluent's loader knows them too). */
const META_HOSTS = ["http://json-schema.org/", "https://json-schema.org/"];

/** Decodes a JSON pointer fragment (`/a/b~1c`) into tokens; null when it is not one. */
function pointerTokens(fragment: string): string[] | null {
  if (!fragment.startsWith("/")) return null;
  try {
    return fragment.slice(1).split("/").map((t) => decodeURIComponent(t).replace(/~1/g, "/").replace(/~0/g, "~"));
  } catch {
    return null;
  }
}

function follow(root: unknown, tokens: readonly string[]): boolean {
  let node = root;
  for (const token of tokens) {
    if (Array.isArray(node)) node = /^(0|[1-9][0-9]*)$/.test(token) ? node[Number(token)] : undefined;
    else node = isObj(node) && Object.hasOwn(node, token) ? node[token] : undefined;
    if (node === undefined) return false;
  }
  return true;
}

const resolveUrl = (url: string, base: string | undefined): string | undefined => {
  try {
    return new URL(url, base).href;
  } catch {
    return undefined;
  }
};

/** Every `$ref` string of a schema (not inside `enum`, `const`, `default`, `examples`, which are data). */
function refsOf(schema: unknown): { refs: string[]; ids: Set<string>; anchors: Set<string> } {
  const refs: string[] = [];
  const ids = new Set<string>();
  const anchors = new Set<string>();
  const base = isObj(schema) && typeof schema.$id === "string" ? schema.$id : undefined;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isObj(node)) return;
    for (const [key, child] of Object.entries(node)) {
      if (key === "$ref" && typeof child === "string") refs.push(child);
      else if (key === "$id" && typeof child === "string") {
        if (child.startsWith("#")) anchors.add(child.slice(1));
        else ids.add(resolveUrl(child, base) ?? child);
      } else if ((key === "$anchor" || key === "$dynamicAnchor") && typeof child === "string") anchors.add(child);
      else if (!SKIP.has(key)) walk(child);
    }
  };
  walk(schema);
  return { refs, ids, anchors };
}

/**
 * The first `$ref` of a schema that points nowhere: not inside the schema, not at one of its references' names
 * (with a pointer that exists there), not at an embedded `$id`, not at a meta-schema. Nothing is fetched and no
 * validator is generated: the walk is linear in the schema, whatever its size.
 */
function unresolvedRef(schema: unknown, names: ReadonlyMap<string, unknown>): string | null {
  const { refs, ids, anchors } = refsOf(schema);
  const base = isObj(schema) && typeof schema.$id === "string" ? schema.$id : undefined;
  const rootId = base === undefined ? undefined : resolveUrl(base, undefined)?.replace(/#$/, "");
  for (const ref of refs) {
    const hash = ref.indexOf("#");
    const url = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? "" : ref.slice(hash + 1);
    const tokens = pointerTokens(fragment);
    const resolved = url === "" ? undefined : resolveUrl(url, base);
    if (url === "" || (rootId !== undefined && resolved === rootId)) {
      if (fragment === "" || (tokens ? follow(schema, tokens) : anchors.has(fragment))) continue;
      return ref;
    }
    const target = names.has(url) ? names.get(url) : resolved !== undefined && names.has(resolved) ? names.get(resolved) : undefined;
    if (target !== undefined) {
      if (fragment === "" || !tokens || follow(target, tokens)) continue;
      return ref;
    }
    if (ids.has(url) || (resolved !== undefined && ids.has(resolved))) continue;
    if (META_HOSTS.some((host) => ref.startsWith(host))) continue;
    return ref;
  }
  return null;
}

/** Checks that the schema and each referenced schema resolve every `$ref` they make. */
function resolveAll(value: unknown, direct: readonly ResolvedReference[], closure: readonly ResolvedReference[], values: ReadonlyMap<string, unknown>): Result<null> {
  const namesOf = (refs: readonly ResolvedReference[]): Map<string, unknown> => new Map(refs.map((r) => [r.name, values.get(referenceKey(r))]));
  const message = (ref: string, where: string) => `Unresolved reference ${quote(ref)}${where}: a $ref must point inside the schema or at the name of one of its references (remote schemas are never fetched).`;
  for (const ref of closure) {
    const missing = unresolvedRef(values.get(referenceKey(ref)), namesOf(ref.references));
    if (missing !== null) return { ok: false, message: message(missing, ` in the referenced schema ${quote(ref.name)}`) };
  }
  const missing = unresolvedRef(value, namesOf(direct));
  return missing === null ? { ok: true, value: null } : { ok: false, message: message(missing, "") };
}

/** The container the bundled references sit in, at the root of the judged copy. */
const CONTAINER = "$references";
const SKIP = new Set(["enum", "const", "default", "examples"]);

const pointerToken = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * The schema with every referenced schema copied under `#/$references/<n>` and each `$ref` to a reference name
 * (exact, or resolved against the root `$id`) rewritten to point there; local `$ref`s inside a referenced schema
 * are moved with it. Only the copy the checker reads is rewritten; the stored text is the schema as sent.
 */
function bundle(value: unknown, direct: readonly ResolvedReference[], closure: readonly ResolvedReference[], values: ReadonlyMap<string, unknown>): unknown {
  const slots = new Map<string, string>();
  closure.forEach((ref, i) => slots.set(referenceKey(ref), String(i)));
  const namesOf = (refs: readonly ResolvedReference[]): Map<string, string> => {
    const names = new Map<string, string>();
    for (const ref of refs) if (!names.has(ref.name)) names.set(ref.name, slots.get(referenceKey(ref))!);
    return names;
  };
  const container: Obj = {};
  closure.forEach((ref, i) => {
    container[String(i)] = rewrite(values.get(referenceKey(ref)), namesOf(ref.references), `#/${CONTAINER}/${i}`);
  });
  const root = rewrite(value, namesOf(direct), "");
  return isObj(root) ? { ...root, [CONTAINER]: container } : root;
}

function rewrite(schema: unknown, names: ReadonlyMap<string, string>, prefix: string): unknown {
  const base = isObj(schema) && typeof schema.$id === "string" ? schema.$id : undefined;
  const target = (ref: string): string => {
    const hash = ref.indexOf("#");
    const url = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? "" : ref.slice(hash + 1);
    if (url === "") return prefix === "" ? ref : prefix + (fragment.startsWith("/") ? fragment : "");
    let slot = names.get(url);
    if (slot === undefined && base !== undefined) {
      try {
        slot = names.get(new URL(url, base).href);
      } catch {
        // A base that is not a URL resolves nothing.
      }
    }
    if (slot === undefined) return ref;
    return `#/${CONTAINER}/${pointerToken(slot)}` + (fragment.startsWith("/") ? fragment : "");
  };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObj(node)) return node;
    const out: Obj = {};
    for (const [key, child] of Object.entries(node)) {
      out[key] = key === "$ref" && typeof child === "string" ? target(child) : SKIP.has(key) ? child : walk(child);
    }
    return out;
  };
  return walk(schema);
}

/** Messages, Confluent style, for every change that stops `reader` reading what `writer` allows. */
export function jsonIncompatibilities(writer: ParsedSchema, reader: ParsedSchema): string[] {
  const result = readerAccepts((reader.handle as JsonHandle).bundled, (writer.handle as JsonHandle).bundled);
  if (result.tooComplex) return ["The schemas are too intricate to compare within bounds (deeply nested oneOf/anyOf/allOf): the change is refused, a person must judge it."];
  return result.changes.filter((c) => !isBackwardCompatible(c.type)).map((c) => `Found incompatible change: Difference{jsonPath='${c.path}', type=${c.type}}`);
}
