/**
 * The JSON Schema checks of `@asyncapi/parser`, without Spectral around them: the same schemas, the same ajv
 * instances (Spectral's own factory: ajv 8 with its formats, `allErrors`, `allowUnionTypes`, `strict: false`) and the
 * same error preparation and wording (`@stoplight/better-ajv-errors`), so diagnostics keep their codes and messages.
 *
 * Spectral compiles its schemas once per document inventory, that is once per call (about 0.3 s for the AsyncAPI
 * schema); here the two document validators of a version are compiled once per process — or not at all in a process
 * given precompiled ones ({@link registerPrecompiledValidators}: the built CLI registers the ajv standalone code that
 * scripts/build-cli.mjs generates with {@link standaloneDocumentValidators}, from the same schemas and ajv setup).
 * The parser modules the schemas come from (which load much of the parser and Spectral) are imported only to compile.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import betterAjvErrors from "@stoplight/better-ajv-errors";
import { createAjvInstances } from "@stoplight/spectral-functions/dist/schema/ajv.js";
import type { ErrorObject, SchemaObject, ValidateFunction } from "ajv";
import refError from "ajv/dist/compile/ref_error.js";

/**
 * ajv's MissingRefError. The module is CommonJS with an `exports.default`: Node's (and tsx's, vitest's, the bundle's)
 * default import of it is the exports object, not the class.
 */
const MissingRefError = ((refError as unknown as { default?: typeof refError }).default ?? refError) as typeof refError;

/** One result of a check: a message and the path it concerns (in the document the check ran on). */
export interface CheckResult {
  message: string;
  path: (string | number)[];
}

/** Spectral's ajv instances, by dialect and `allErrors`. */
export type AjvInstances = ReturnType<typeof createAjvInstances>;

/** New ajv instances as Spectral makes them (lazily: an instance is only built when first used). */
export const newAjvInstances: () => AjvInstances = createAjvInstances;

// --- Port of @stoplight/spectral-formats `detectDialect` (dist/jsonSchema.js) -------------------------------------
// (Its module loads @stoplight/json and lodash with it, for these few lines.)

/** @stoplight/json `isPlainObject`. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === null || proto === Object.prototype || (typeof value.constructor === "function" && Function.toString.call(Object) === Function.toString.call(value.constructor));
}

const SCHEMA_DRAFT_REGEX = /^https?:\/\/json-schema.org\/(?:draft-0([467])|draft\/(20(?:19-09|20-12)))\/(?:hyper-)?schema#?$/;

/** The JSON Schema dialect a schema declares in `$schema` (`draft4`…`draft2020-12`), or null. */
export function detectDialect(document: unknown): string | null {
  if (!isPlainObject(document) || typeof document.$schema !== "string" || !document.$schema.includes("//json-schema.org/")) return null;
  const match = SCHEMA_DRAFT_REGEX.exec(document.$schema);
  return match !== null ? `draft${match[1] ?? match[2]}` : null;
}

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
  /** `schema` is absent for precompiled validators (only the runtime compilation and its dialect need it). */
  resolved: { schema?: SchemaObject; validate: ValidateFunction };
  unresolved: { schema?: SchemaObject; validate: ValidateFunction };
}

/** A version's document validators compiled ahead of time (ajv standalone code), or undefined when there are none. */
export type PrecompiledValidators = (version: string) => Promise<{ resolved: ValidateFunction; unresolved: ValidateFunction } | undefined>;

let precompiled: PrecompiledValidators | undefined;

/**
 * Makes {@link loadDocumentValidators} take a version's validators from `load` (the built CLI's standalone modules)
 * rather than compile them; versions it has none for are still compiled. `undefined` goes back to compiling.
 */
export function registerPrecompiledValidators(load: PrecompiledValidators | undefined): void {
  precompiled = load;
}

/** What compiling needs from the parser: its schema preparation (`getSchema`) and its version → format map. */
interface SchemaSource {
  getSchema: (formats: Set<unknown>, resolved: boolean) => unknown;
  AsyncAPIFormats: { find(version: string): unknown };
}

let schemaSource: SchemaSource | undefined;

async function loadSchemaSource(): Promise<SchemaSource> {
  if (schemaSource) return schemaSource;
  // CommonJS modules: the bundle gives their exports as the default export only, Node as named exports too.
  const exportsOf = <T extends object>(module: T): T => ({ ...(module as { default?: object }).default, ...module }) as T;
  const [structure, formats] = await Promise.all([
    import("@asyncapi/parser/cjs/ruleset/functions/documentStructure.js").then(exportsOf),
    import("@asyncapi/parser/cjs/ruleset/formats.js").then(exportsOf),
  ]);
  schemaSource = { getSchema: structure.getSchema as SchemaSource["getSchema"], AsyncAPIFormats: formats.AsyncAPIFormats };
  return schemaSource;
}

/** The parser's two document schemas of a version (`getSchema(formats, resolved)`), or undefined for an unknown version. */
function documentSchemas(source: SchemaSource, version: string): { resolved: SchemaObject; unresolved: SchemaObject } | undefined {
  const format = source.AsyncAPIFormats.find(version);
  if (!format) return undefined;
  const resolved = source.getSchema(new Set([format]), true) as SchemaObject | undefined;
  const unresolved = source.getSchema(new Set([format]), false) as SchemaObject | undefined;
  return resolved && unresolved ? { resolved, unresolved } : undefined;
}

const documentAjv = createAjvInstances();
const compiledDocuments = new Map<string, DocumentValidators>();
let compilations = 0;

/** How many times document validators were compiled in this process (once per version used; never when precompiled). */
export function documentValidatorCompilations(): number {
  return compilations;
}

/**
 * The document validators of a version, once per process: precompiled ones when registered, else compiled from the
 * schemas the parser's rules `asyncapi-document-resolved` and `asyncapi-document-unresolved` use.
 */
export async function loadDocumentValidators(version: string): Promise<DocumentValidators | undefined> {
  const known = compiledDocuments.get(version);
  if (known) return known;
  const ahead = precompiled ? await precompiled(version) : undefined;
  if (ahead) {
    const validators = compiledDocuments.get(version) ?? { version, resolved: { validate: ahead.resolved }, unresolved: { validate: ahead.unresolved } };
    compiledDocuments.set(version, validators);
    return validators;
  }
  await loadSchemaSource();
  return documentValidators(version);
}

/**
 * The document validators of a version already loaded by {@link loadDocumentValidators} (or compiled now, once the
 * parser's schema modules are loaded); throws when neither is the case.
 */
export function documentValidators(version: string): DocumentValidators | undefined {
  const known = compiledDocuments.get(version);
  if (known) return known;
  if (!schemaSource) throw new Error(`The document validators of AsyncAPI ${version} are not loaded: await loadDocumentValidators first.`);
  const schemas = documentSchemas(schemaSource, version);
  if (!schemas) return undefined;
  const compile = (schema: SchemaObject) => ({ schema, validate: documentAjv(schema, detectDialect(schema) ?? "draft7", true) });
  const resolved = compile(schemas.resolved);
  const unresolved = compile(schemas.unresolved);
  compilations++;
  const validators = { version, resolved, unresolved };
  compiledDocuments.set(version, validators);
  return validators;
}

/**
 * ajv standalone code (a CommonJS module exporting `resolved` and `unresolved`) of a version's document validators,
 * or undefined for an unknown version. The ajv instance is made as Spectral's factory makes the `allErrors` one for
 * the schema's dialect (spectral-functions dist/schema/ajv.js: same options, ajv-formats, ajv-errors, the draft-04 and
 * draft-06 meta-schemas), from Spectral's own copies of those packages, with `code: { source: true }` added (ajv-formats
 * names its formats module in the code); both schemas are compiled into it in the order the runtime compiles them.
 * The code `require`s ajv's runtime helpers and ajv-formats' formats: resolve them from {@link standaloneResolveDir}.
 */
export async function standaloneDocumentValidators(version: string): Promise<string | undefined> {
  const schemas = documentSchemas(await loadSchemaSource(), version);
  if (!schemas) return undefined;
  const require = createRequire(spectralAjv());
  const interop = <T>(module: T | { default: T }): T => ((module as { default?: T }).default ?? module) as T;
  const dialect = detectDialect(schemas.resolved) ?? "draft7";
  if ((detectDialect(schemas.unresolved) ?? "draft7") !== dialect) throw new Error(`AsyncAPI ${version}: the document schemas have different dialects`);
  const classes: Record<string, string> = { draft4: "ajv-draft-04", "draft2019-09": "ajv/dist/2019", "draft2020-12": "ajv/dist/2020" };
  const DefaultAjv = interop(require("ajv") as typeof import("ajv"));
  const AjvClass = classes[dialect] ? interop(require(classes[dialect]!) as typeof import("ajv")) : DefaultAjv;
  const ajv = new AjvClass({
    allErrors: true,
    meta: true,
    messages: true,
    strict: false,
    allowUnionTypes: true,
    logger: { warn: (...args: unknown[]) => (typeof args[0] === "string" && !args[0].startsWith("unknown format") ? console.warn(...args) : undefined), log: console.log, error: console.error },
    unicodeRegExp: false,
    code: { source: true },
  });
  interop(require("ajv-formats") as typeof import("ajv-formats"))(ajv);
  (interop(require("ajv-errors")) as (ajv: unknown) => void)(ajv);
  if (AjvClass === DefaultAjv) {
    ajv.addSchema(require("./draft4.json") as SchemaObject);
    ajv.addSchema(require("ajv/dist/refs/json-schema-draft-06.json") as SchemaObject);
  }
  const ids = { resolved: schemas.resolved.$id as string | undefined, unresolved: schemas.unresolved.$id as string | undefined };
  if (typeof ids.resolved !== "string" || typeof ids.unresolved !== "string") throw new Error(`AsyncAPI ${version}: document schemas without $id`);
  ajv.compile(schemas.resolved);
  ajv.compile(schemas.unresolved);
  const standaloneCode = interop(require("ajv/dist/standalone") as typeof import("ajv/dist/standalone"));
  return standaloneCode(ajv, { resolved: ids.resolved, unresolved: ids.unresolved });
}

/** Spectral's ajv module (a path): the packages its ajv factory uses are resolved from beside it. */
const spectralAjv = (): string => createRequire(import.meta.url).resolve("@stoplight/spectral-functions/dist/schema/ajv.js");

/** Folder to resolve the `require`s of {@link standaloneDocumentValidators}' code from (Spectral's ajv packages). */
export const standaloneResolveDir = (): string => dirname(spectralAjv());

/** Rule `asyncapi-document-resolved`: the dereferenced document (acyclic: see `acyclicView`) against the resolved schema. */
export function checkResolvedDocument(document: unknown, validators: DocumentValidators): CheckResult[] {
  const { schema = {}, validate } = validators.resolved;
  return filterRefErrors(schemaCheck(document, schema, [], { validate, allErrors: true, prepareResults: prepareResolved, resolved: true }), true);
}

/** Rule `asyncapi-document-unresolved`: the root file as written, keeping only `$ref`s where none is allowed. */
export function checkUnresolvedDocument(document: unknown, validators: DocumentValidators): CheckResult[] {
  const { schema = {}, validate } = validators.unresolved;
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
