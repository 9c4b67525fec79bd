/**
 * Confluent's JSON Schema type: the text is a JSON Schema (object or boolean) that compiles with ajv (draft-07,
 * or 2019-09 / 2020-12 when `$schema` says so) with its references added under their names. Remote schemas are
 * never fetched. Compatibility is the engine's one verdict path (jsonschema/reader-writer.ts), run on the schema
 * with its references bundled in, so a `$ref` to a reference name is judged by what it points at.
 */
import Ajv, { type Options, type ValidateFunction } from "ajv";
import Ajv2019 from "ajv/dist/2019.js";
import Ajv2020 from "ajv/dist/2020.js";
import { canonicalJson } from "../hash.ts";
import { readerAccepts } from "../jsonschema/reader-writer.ts";
import { isBackwardCompatible } from "../jsonschema/diff.ts";
import { errorText, identityHash, parseJsonText, quote, referenceClosure, referenceInputs, referenceKey, type Result } from "./shared.ts";
import { SCHEMA_TYPE_FORMATS, type ParsedSchema, type ParseOutcome, type ResolvedReference } from "./types.ts";

/** What the JSON engine keeps of a parsed schema. */
export interface JsonHandle {
  /** The schema as sent, parsed. */
  value: unknown;
  /** The schema with its references bundled in (the value itself when it has none): what the checker judges. */
  bundled: unknown;
}

type Dialect = "draft7" | "2019" | "2020";

function dialectOf(schema: unknown): Dialect {
  const id = isObj(schema) ? schema.$schema : undefined;
  if (typeof id !== "string") return "draft7";
  if (id.includes("2020-12")) return "2020";
  if (id.includes("2019-09")) return "2019";
  return "draft7";
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

const OPTIONS: Options = {
  strict: false,
  allErrors: false,
  allowUnionTypes: true,
  // The dialect's meta-schema is checked separately, whatever `$schema` names (draft-04 and -06 included).
  validateSchema: false,
  addUsedSchema: false,
  logger: false,
};

const newAjv = (dialect: Dialect): Ajv => (dialect === "2020" ? new Ajv2020(OPTIONS) : dialect === "2019" ? new Ajv2019(OPTIONS) : new Ajv(OPTIONS));

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

  const compiled = compile(value, closure.value, values);
  if (!compiled.ok) return compiled;

  const refs = referenceInputs(references);
  const format = SCHEMA_TYPE_FORMATS.JSON;
  const handle: JsonHandle = { value, bundled: closure.value.length === 0 ? value : bundle(value, references, closure.value, values) };
  return { ok: true, schema: { schemaType: "JSON", format, canonical: canonicalJson(value), hash: identityHash(format, value, refs), references: refs, handle } };
}

/** Compiles with a fresh ajv holding the references under their names, so nothing leaks between schemas. */
function compile(value: unknown, closure: readonly ResolvedReference[], values: ReadonlyMap<string, unknown>): Result<null> {
  const ajv = newAjv(dialectOf(value));
  const names = new Set<string>();
  try {
    for (const ref of closure) {
      if (names.has(ref.name)) continue;
      names.add(ref.name);
      ajv.addSchema(values.get(referenceKey(ref)) as object, ref.name);
    }
    ajv.compile(value as object);
    return { ok: true, value: null };
  } catch (error) {
    const missing = (error as { missingRef?: unknown }).missingRef;
    if (typeof missing === "string") {
      return { ok: false, message: `Unresolved reference ${quote(missing)}: a $ref must point inside the schema or at the name of one of its references (remote schemas are never fetched).` };
    }
    return { ok: false, message: `The schema does not compile: ${errorText(error)}` };
  }
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
