/**
 * The JSON Schema checks of `@asyncapi/parser`, without Spectral around them: the same schemas, the same ajv
 * instances (Spectral's own factory: ajv 8 with its formats, `allErrors`, `allowUnionTypes`, `strict: false`) and the
 * same error preparation and wording (`@stoplight/better-ajv-errors`), so diagnostics keep their codes and messages.
 *
 * Spectral compiles its schemas once per document inventory, that is once per call (about 0.3 s for the AsyncAPI
 * schema); here the two document validators of a version are compiled once per process.
 */
import { getSchema } from "@asyncapi/parser/cjs/ruleset/functions/documentStructure.js";
import { AsyncAPIFormats } from "@asyncapi/parser/cjs/ruleset/formats.js";
import betterAjvErrors from "@stoplight/better-ajv-errors";
import { detectDialect } from "@stoplight/spectral-formats";
import { createAjvInstances } from "@stoplight/spectral-functions/dist/schema/ajv.js";
import type { ErrorObject, SchemaObject, ValidateFunction } from "ajv";
import MissingRefError from "ajv/dist/compile/ref_error.js";

/** One result of a check: a message and the path it concerns (in the document the check ran on). */
export interface CheckResult {
  message: string;
  path: (string | number)[];
}

/** Spectral's ajv instances, by dialect and `allErrors`. */
export type AjvInstances = ReturnType<typeof createAjvInstances>;

/** New ajv instances as Spectral makes them (lazily: an instance is only built when first used). */
export const newAjvInstances: () => AjvInstances = createAjvInstances;

// --- Port of @stoplight/spectral-functions `schema` (dist/schema/index.js) ---------------------------------------

function describeArrayItem(message: string, errorPath: string): string {
  const index = errorPath.split("/").pop();
  if (index === undefined || !/^\d+$/.test(index)) return message;
  const typePrefix = `"${index}" property type`;
  if (message.startsWith(typePrefix)) return `Item at index ${index}${message.slice(typePrefix.length)}`;
  const prefix = `"${index}" property`;
  return message.startsWith(prefix) ? `Item at index ${index}${message.slice(prefix.length)}` : message;
}

function findUnmatchedCombinators(errors: readonly ErrorObject[]): Map<string, string> {
  const unmatched = new Map<string, string>();
  for (const { keyword, instancePath, params } of errors) {
    if ((keyword === "oneOf" || keyword === "anyOf") && !Array.isArray((params as { passingSchemas?: unknown }).passingSchemas)) unmatched.set(instancePath, keyword);
  }
  return unmatched;
}

function describeCombinator(message: string, keyword: string | undefined): string {
  return keyword !== undefined && message.endsWith(` in ${keyword}`) ? `${message}. None of the schemas matched, see the other errors reported for this value` : message;
}

/** Options of {@link schemaCheck}. */
export interface SchemaCheckOptions {
  /** A validator compiled beforehand (the document schemas); otherwise compiled through `instances`. */
  validate?: ValidateFunction;
  instances?: AjvInstances;
  allErrors?: boolean;
  prepareResults?: (errors: ErrorObject[]) => void;
  /** The rule runs on the resolved document: a schema with an unresolvable `$ref` is then ignored, as Spectral does. */
  resolved?: boolean;
}

/** Spectral's `schema` function: validates `value` (at `path`) against `schema`, results worded as Spectral words them. */
export function schemaCheck(value: unknown, schema: SchemaObject, path: (string | number)[], options: SchemaCheckOptions): CheckResult[] {
  if (value === undefined) return [{ path, message: '#{{print("property")}}must exist' }];
  const results: CheckResult[] = [];
  try {
    let validate = options.validate;
    if (!validate) {
      const dialect = detectDialect(schema) ?? "draft7";
      validate = options.instances!(schema, dialect, options.allErrors ?? false);
    }
    if (validate(value) === false && Array.isArray(validate.errors)) {
      const errors = validate.errors;
      options.prepareResults?.(errors);
      const unmatched = findUnmatchedCombinators(errors);
      for (const { suggestion, error, path: errorPath } of betterAjvErrors(schema, errors, { propertyPath: path, targetValue: value })) {
        results.push({
          message: describeCombinator(describeArrayItem(suggestion !== undefined ? `${error}. ${suggestion}` : error, errorPath), unmatched.get(errorPath)),
          path: [...path, ...(errorPath !== "" ? errorPath.replace(/^\//, "").split("/") : [])],
        });
      }
    }
  } catch (error) {
    if (!(error instanceof Error)) throw new Error("Unexpected error");
    if (!(options.resolved && error instanceof MissingRefError)) results.push({ message: error.message, path });
  }
  return results;
}

// --- Port of @asyncapi/parser `documentStructure` (cjs/ruleset/functions/documentStructure.js) --------------------

function shouldIgnoreError(error: ErrorObject): boolean {
  return error.keyword === "oneOf" || (error.keyword === "required" && (error.params as { missingProperty?: unknown }).missingProperty === "$ref");
}

/** The parser's `prepareResults` for the resolved document: drops oneOf noise and `$ref`-required errors. */
function prepareResolved(errors: ErrorObject[]): void {
  for (let i = 0; i < errors.length; i++) {
    const error = errors[i]!;
    if (error.keyword === "additionalProperties") {
      error.instancePath = `${error.instancePath}/${String((error.params as { additionalProperty?: unknown }).additionalProperty)}`;
    } else if (error.keyword === "required" && (error.params as { missingProperty?: unknown }).missingProperty === "$ref") {
      errors.splice(i, 1);
      i--;
    }
  }
  for (let i = 0; i < errors.length; i++) {
    const error = errors[i]!;
    if (i + 1 < errors.length && errors[i + 1]!.instancePath === error.instancePath) {
      errors.splice(i + 1, 1);
      i--;
    } else if (i > 0 && shouldIgnoreError(error) && errors[i - 1]!.instancePath.startsWith(error.instancePath)) {
      errors.splice(i, 1);
      i--;
    }
  }
}

const REF_ERROR = 'Property "$ref" is not expected to be here';

function filterRefErrors(results: CheckResult[], resolved: boolean): CheckResult[] {
  if (resolved) return results.filter((r) => r.message !== REF_ERROR);
  return results.filter((r) => r.message === REF_ERROR).map((r) => ({ ...r, message: "Referencing in this place is not allowed" }));
}

/** The two document validators of one AsyncAPI version: the parser's "resolved" and "unresolved" schemas. */
export interface DocumentValidators {
  version: string;
  resolved: { schema: SchemaObject; validate: ValidateFunction };
  unresolved: { schema: SchemaObject; validate: ValidateFunction };
}

const documentAjv = createAjvInstances();
const compiledDocuments = new Map<string, DocumentValidators>();
let compilations = 0;

/** How many times document validators were compiled in this process (once per version used). */
export function documentValidatorCompilations(): number {
  return compilations;
}

/**
 * The document validators of a version, compiled once per process: the schemas the parser's rules
 * `asyncapi-document-resolved` and `asyncapi-document-unresolved` use (`getSchema(formats, resolved)`).
 */
export function documentValidators(version: string): DocumentValidators | undefined {
  const known = compiledDocuments.get(version);
  if (known) return known;
  const format = AsyncAPIFormats.find(version);
  if (!format) return undefined;
  const compile = (resolved: boolean) => {
    const schema = getSchema(new Set([format]), resolved) as SchemaObject | undefined;
    if (!schema) return undefined;
    return { schema, validate: documentAjv(schema, detectDialect(schema) ?? "draft7", true) };
  };
  const resolved = compile(true);
  const unresolved = compile(false);
  if (!resolved || !unresolved) return undefined;
  compilations++;
  const validators = { version, resolved, unresolved };
  compiledDocuments.set(version, validators);
  return validators;
}

/** Rule `asyncapi-document-resolved`: the dereferenced document (acyclic: see `acyclicView`) against the resolved schema. */
export function checkResolvedDocument(document: unknown, validators: DocumentValidators): CheckResult[] {
  const { schema, validate } = validators.resolved;
  return filterRefErrors(schemaCheck(document, schema, [], { validate, allErrors: true, prepareResults: prepareResolved, resolved: true }), true);
}

/** Rule `asyncapi-document-unresolved`: the root file as written, keeping only `$ref`s where none is allowed. */
export function checkUnresolvedDocument(document: unknown, validators: DocumentValidators): CheckResult[] {
  const { schema, validate } = validators.unresolved;
  return filterRefErrors(schemaCheck(document, schema, [], { validate, allErrors: true }), false);
}

/** Values of Spectral's message templates. */
export interface MessageVars {
  property: string | number;
  error: string;
  path: string;
  description: string | null;
  value: unknown;
}

/**
 * Spectral's message templating (spectral-core `runner/utils/message.js`) for what the parser's rules use:
 * `{{name}}` and `#{{print("property" | "value" | name)}}`.
 */
export function formatMessage(text: string, vars: MessageVars): string {
  if (!text.includes("{{")) return text;
  return text.replace(/#?\{\{([^}\n]+)\}\}/g, (whole: string, identifier: string) => {
    if (whole.startsWith("#")) {
      const printed = /^\s*print\(\s*["']([^"']*)["']\s*\)\s*$/.exec(identifier)?.[1];
      if (printed === undefined) return "";
      if (printed === "property") return vars.property !== "" ? `"${String(vars.property)}" property ` : "The document ";
      if (printed === "value") return printValue(vars.value);
      const named = (vars as unknown as Record<string, unknown>)[printed];
      return named !== undefined && named !== null ? String(named) : "";
    }
    return identifier in vars ? String((vars as unknown as Record<string, unknown>)[identifier]) : "";
  });
}

/** spectral-runtime `printValue`. */
function printValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value !== null && typeof value === "object") {
    if (Array.isArray(value)) return "Array[]";
    if (value instanceof RegExp) return String(value.source);
    const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
    const name = proto?.constructor?.name;
    return name && name !== "Object" ? name : "Object{}";
  }
  return JSON.stringify(value);
}
