/**
 * Validation of an AsyncAPI upload as `@asyncapi/parser` validates it, without running Spectral: one path for every
 * size of document.
 *
 * - `asyncapi-document-resolved`: the dereferenced document against the parser's "resolved" AsyncAPI JSON Schema,
 *   and `asyncapi-document-unresolved`: the root file as written against the "unresolved" one, keeping only the
 *   `$ref`s placed where none is allowed. Same schemas (`getSchema` of the parser), same ajv setup (Spectral's), same
 *   error preparation and wording; compiled once per version and process (schema-check.ts).
 * - The parser's rules that say more than the JSON Schema, ported (rules.ts): 2.x server and operation security,
 *   server variables, channel parameters and servers, channel names without query or fragment, unique operationId,
 *   messageId and tag names, message examples, schema defaults and examples, payloads valid in their schema format
 *   (Avro and OpenAPI through the official schema parsers); 3.x channel parameters and servers, channel names,
 *   operation messages from the operation's channel, root operations and channels referring to root channels and
 *   servers; `asyncapi-latest-version` (info).
 * - The recommended rules of 2.x (warnings and infos: "should have an id", unused components and security schemes…).
 *
 * Nothing here reads or fetches anything: references were resolved inside the upload (refs.ts) before this runs.
 * The schema parsers load when a 2.x document needs them (the Avro and OpenAPI ones only for a payload in another
 * format than AsyncAPI's), the validators' modules when a version is first validated: a process that validates one
 * small 3.0 document loads neither @asyncapi/parser's index nor Spectral.
 */
import type { Parser } from "@asyncapi/parser";
import type { Diagnostic } from "../types.ts";
import { encodePointer, type RefEdges } from "./refs.ts";
import { recommendedRules, resolvedRules, unresolvedRules, unusedComponents, unusedSecuritySchemes, type RuleResult } from "./rules.ts";
import { checkResolvedDocument, checkUnresolvedDocument, formatMessage, loadDocumentValidators, newAjvInstances, type CheckResult } from "./schema-check.ts";

export { documentValidatorCompilations, documentValidators, loadDocumentValidators } from "./schema-check.ts";

/** AsyncAPI versions the engine reads. */
export const SUPPORTED_VERSIONS = ["2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0", "2.5.0", "2.6.0", "3.0.0", "3.1.0"] as const;

/**
 * What the 2.x schema-format rules use of `@asyncapi/parser`'s Parser: its schema-parser registry (`validateSchema`
 * and `parseSchema` read nothing else), filled as the Parser fills it: the AsyncAPI schema parser, then Avro and
 * OpenAPI. Made without the Parser (whose module loads the whole parser and whose constructor builds Spectral).
 */
interface SchemaParsers {
  parserRegistry: Map<string, unknown>;
}

let asyncapiOnly: Promise<SchemaParsers> | undefined;
let allFormats: Promise<SchemaParsers> | undefined;

/**
 * The exports of a module imported dynamically: the bundle gives a CommonJS module's exports as its default
 * export only, Node and vitest as named exports too (and an ES module may have a default export of its own).
 */
const exportsOf = <T extends object>(module: T): T => ({ ...(module as { default?: object }).default, ...module }) as T;

async function registryOf(extra: boolean): Promise<SchemaParsers> {
  const [{ registerSchemaParser }, { AsyncAPISchemaParser }] = await Promise.all([
    import("@asyncapi/parser/cjs/schema-parser/index.js").then(exportsOf),
    import("@asyncapi/parser/cjs/schema-parser/asyncapi-schema-parser.js").then(exportsOf),
  ]);
  const registry: SchemaParsers = { parserRegistry: new Map() };
  const register = (schemaParser: unknown) => registerSchemaParser(registry as never, schemaParser as never);
  register(AsyncAPISchemaParser());
  if (extra) {
    const [{ AvroSchemaParser }, { OpenAPISchemaParser }] = await Promise.all([
      import("@asyncapi/avro-schema-parser").then(exportsOf),
      import("@asyncapi/openapi-schema-parser").then(exportsOf),
    ]);
    register(AvroSchemaParser());
    register(OpenAPISchemaParser());
  }
  return registry;
}

/**
 * The schema parsers (AsyncAPI, Avro, OpenAPI) the 2.x schema-format rules use; the parser's Spectral never runs.
 * Avro and OpenAPI are loaded only when some `schemaFormat` of the document is not one the AsyncAPI schema parser
 * reads: otherwise no lookup could reach them, so the results are the same.
 */
async function schemaParsers(document: unknown): Promise<Parser> {
  asyncapiOnly ??= registryOf(false);
  const base = await asyncapiOnly;
  const foreign = schemaFormats(document).some((format) => !base.parserRegistry.has(format));
  if (!foreign) return base as unknown as Parser;
  allFormats ??= registryOf(true);
  return (await allFormats) as unknown as Parser;
}

/** Every string value of a `schemaFormat` key anywhere in the document (a superset of the places the rules read). */
function schemaFormats(document: unknown): string[] {
  const found = new Set<string>();
  const seen = new Set<object>();
  const stack: unknown[] = [document];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== "object" || seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === "schemaFormat" && typeof value === "string") found.add(value);
      stack.push(value);
    }
  }
  return [...found];
}

/** Loads the validators of the given versions now (a worker can do it before its first upload). */
export async function warmValidators(versions: readonly string[] = SUPPORTED_VERSIONS): Promise<void> {
  for (const version of versions) await loadDocumentValidators(version);
}

/** What {@link validateUnresolved} found, to finish with {@link validateResolved} once the upload is dereferenced. */
export interface UnresolvedFindings {
  diagnostics: Diagnostic[];
}

/** The checks on the root file as written; run before dereferencing (which replaces `$ref`s in place). */
export async function validateUnresolved(raw: Record<string, unknown>, version: string, rootName: string, options: { schemaOnly?: boolean } = {}): Promise<Diagnostic[]> {
  const validators = await loadDocumentValidators(version);
  if (!validators) return [];
  const results: RuleResult[] = checkUnresolvedDocument(raw, validators).map((r) => rule("asyncapi-document-unresolved", r, false));
  if (!options.schemaOnly) {
    results.push(...unresolvedRules(raw, major(version)));
    if (major(version) === 2) results.push(...unusedSecuritySchemes(raw));
  }
  return dedupe(results.map((r) => toDiagnostic(r, { file: rootName, path: r.path.map(String) }, raw)));
}

/** Options of {@link validateResolved}. */
export interface ResolvedOptions {
  /** JSON Schema only: skip the parser's other rules (the corpus has documents compared after the schema alone). */
  schemaOnly?: boolean;
  /** The root text and name, recorded in the input the schema parsers see. */
  text: string;
  /** Where the upload's references point (`file#/pointer`), for `asyncapi-unused-component`. */
  targets: ReadonlySet<string>;
}

/** The checks on the dereferenced document; paths are mapped back to the file and place each value is written. */
export async function validateResolved(document: Record<string, unknown>, edges: RefEdges, version: string, rootName: string, options: ResolvedOptions): Promise<Diagnostic[]> {
  const validators = await loadDocumentValidators(version);
  if (!validators) return [];
  const view = acyclicView(document, edges) as Record<string, unknown>;
  // The 3.x rules use no schema parser.
  const parser = !options.schemaOnly && major(version) === 2 ? await schemaParsers(document) : (undefined as unknown as Parser);
  let results: RuleResult[];
  try {
    results = checkResolvedDocument(view, validators).map((r) => rule("asyncapi-document-resolved", r, true));
    if (!options.schemaOnly) {
      results.push(...(await resolvedRules(document, view, major(version), { parser, input: options.text, source: rootName, instances: newAjvInstances() })));
      if (major(version) === 2) {
        results.push(...recommendedRules(document, version));
        const prefix = rootName + "#";
        const referenced = new Set([...options.targets].filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length)));
        results.push(...unusedComponents(document, referenced));
      }
    }
  } catch (error) {
    // A chain of references deeper than the validator's stack: refused, never a crash.
    if (!(error instanceof RangeError)) throw error;
    return [{ code: "too-deep", severity: "error", file: rootName, path: [], message: "Document nests too deeply once its references are resolved to be validated." }];
  }
  return dedupe(results.map((r) => toDiagnostic(r, r.resolved ? sourceOf(document, edges, rootName, r.path) : { file: rootName, path: r.path.map(String) }, document)));
}

const major = (version: string) => Number(version.split(".")[0]);

function rule(code: string, result: CheckResult, resolved: boolean): RuleResult {
  return { ...result, code, severity: "error", resolved, description: null };
}

/** Spectral's `processTargetResults`: message templates filled from the located path, rule message or description. */
function toDiagnostic(r: RuleResult, at: { file: string; path: string[] }, document: unknown): Diagnostic {
  const resultMessage = formatMessage(r.message, {
    property: at.path.length > 0 ? at.path[at.path.length - 1]! : "",
    error: r.message,
    path: encodePointer(at.path),
    description: r.description,
    value: valueAt(document, r.path),
  });
  return { code: r.code, severity: r.severity, message: (r.description ?? resultMessage).trim(), file: at.file, path: at.path };
}

function valueAt(document: unknown, path: readonly (string | number)[]): unknown {
  let node = document;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Spectral's deduplication: one result per code, path, file and message. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}${JSON.stringify(d.path)}${d.file}${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Maps a path through the dereferenced document to where its value is written: the file, and the path in it (each
 * replaced reference moves to its target). A path that goes beyond the document stops at its closest existing node.
 */
export function sourceOf(document: unknown, edges: RefEdges, rootName: string, path: readonly (string | number)[]): { file: string; path: string[] } {
  let node = document;
  let file = rootName;
  let out: string[] = [];
  for (const segment of path) {
    if (node === null || typeof node !== "object") break;
    const key = typeof segment === "string" ? segment.replace(/~1/g, "/").replace(/~0/g, "~") : segment;
    let child: unknown;
    let edgeKey: string | number;
    if (Array.isArray(node)) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 0 || index >= node.length) break;
      child = node[index];
      edgeKey = index;
    } else {
      if (!Object.prototype.hasOwnProperty.call(node, key)) break;
      child = (node as Record<string, unknown>)[key];
      edgeKey = String(key);
    }
    const edge = edges.get(node)?.get(edgeKey);
    if (edge) {
      file = edge.file;
      out = [...edge.path];
    } else out.push(String(key));
    node = child;
  }
  return { file, path: out };
}

/**
 * The dereferenced document as a tree-like graph the validators can walk: itself when it has no cycle; otherwise a
 * copy in which each reference closing a cycle is a `{ $ref }` again (as Spectral's resolver leaves circular
 * references). Shared objects stay shared. Iterative: reference chains can be deeper than the stack.
 */
export function acyclicView(root: unknown, edges: RefEdges): unknown {
  if (root === null || typeof root !== "object") return root;
  // 1. Depth-first search marking the edges that close a cycle (to a node still on the stack).
  const back = new Map<object, Set<string | number>>();
  const state = new Map<object, 1 | 2>(); // 1: on the stack, 2: done
  const stack: { node: object; keys: (string | number)[]; i: number }[] = [];
  const enter = (node: object) => {
    state.set(node, 1);
    stack.push({ node, keys: Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node), i: 0 });
  };
  enter(root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.i >= frame.keys.length) {
      state.set(frame.node, 2);
      stack.pop();
      continue;
    }
    const key = frame.keys[frame.i++]!;
    const child = (frame.node as Record<string | number, unknown>)[key];
    if (child === null || typeof child !== "object") continue;
    const seen = state.get(child);
    if (seen === 1) {
      let keys = back.get(frame.node);
      if (!keys) back.set(frame.node, (keys = new Set()));
      keys.add(key);
    } else if (seen === undefined) enter(child);
  }
  if (back.size === 0) return root;
  // 2. Copy, post-order, without the marked edges.
  const copies = new Map<object, unknown>();
  const work: { node: object; expanded: boolean }[] = [{ node: root, expanded: false }];
  while (work.length > 0) {
    const item = work.pop()!;
    if (copies.has(item.node)) continue;
    const cut = back.get(item.node);
    const keys: (string | number)[] = Array.isArray(item.node) ? item.node.map((_, i) => i) : Object.keys(item.node);
    const children = keys.map((k) => [k, (item.node as Record<string | number, unknown>)[k]] as const);
    if (!item.expanded) {
      work.push({ node: item.node, expanded: true });
      for (const [k, child] of children) if (child !== null && typeof child === "object" && !cut?.has(k) && !copies.has(child)) work.push({ node: child, expanded: false });
      continue;
    }
    const copy = (Array.isArray(item.node) ? [] : {}) as Record<string | number, unknown>;
    for (const [k, child] of children) {
      if (cut?.has(k)) copy[k] = { $ref: edges.get(item.node)?.get(k)?.ref ?? "#" };
      else copy[k] = child !== null && typeof child === "object" ? copies.get(child) : child;
    }
    copies.set(item.node, copy);
  }
  return copies.get(root);
}
