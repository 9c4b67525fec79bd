import { Parser, type Diagnostic as ParserDiagnostic } from "@asyncapi/parser";
import { AvroSchemaParser } from "@asyncapi/avro-schema-parser";
import { OpenAPISchemaParser } from "@asyncapi/openapi-schema-parser";
import specs from "@asyncapi/specs";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { Diagnostic, Severity } from "../types.ts";
import { normaliseName } from "./refs.ts";

/** Prefix of the virtual paths the parser sees; its resolver maps them back to upload files. */
const VIRTUAL_ROOT = "/__meshport_upload__/";

let parser: Parser | undefined;

/** The shared parser: full Spectral ruleset (core and recommended) with the Avro and OpenAPI schema parsers. */
function sharedParser(): Parser {
  parser ??= new Parser({ schemaParsers: [AvroSchemaParser(), OpenAPISchemaParser()] });
  return parser;
}

interface Uri {
  path(): string;
  toString(): string;
}

/**
 * Resolvers for one validation: `file:` reads only from the upload, `http:`/`https:` never fetch.
 * The parser tries its default readers only when ours throw, so a refusal returns an empty document and is
 * recorded instead (the upload was already checked for such references; this is defence in depth).
 */
function isolatedResolvers(texts: ReadonlyMap<string, string>, refused: string[]) {
  const refuse = (uri: Uri) => {
    refused.push(uri.toString());
    return "{}";
  };
  const read = (uri: Uri) => {
    const path = uri.path();
    const name = path.startsWith(VIRTUAL_ROOT) ? normaliseName(decodeURIComponent(path.slice(VIRTUAL_ROOT.length))) : undefined;
    const text = name === undefined ? undefined : texts.get(name);
    return text ?? refuse(uri);
  };
  return [
    { schema: "file", order: 1, read },
    { schema: "http", order: 1, read: refuse },
    { schema: "https", order: 1, read: refuse },
  ];
}

const SEVERITIES: Severity[] = ["error", "warning", "info", "hint"];

/** Validates an upload with `@asyncapi/parser` (AsyncAPI JSON Schema, Spectral core and recommended rules, schema formats). */
export async function validateWithParser(texts: ReadonlyMap<string, string>, rootName: string): Promise<Diagnostic[]> {
  const refused: string[] = [];
  const source = VIRTUAL_ROOT + rootName.split("/").map(encodeURIComponent).join("/");
  const results = await sharedParser().validate(texts.get(rootName) ?? "", {
    source,
    __unstable: { resolver: { cache: false, resolvers: isolatedResolvers(texts, refused) } },
  } as Parameters<Parser["validate"]>[1]);
  const diagnostics = results.map((d) => fromParser(d, rootName));
  for (const uri of refused) {
    diagnostics.push({ code: "ref-remote", severity: "error", file: rootName, path: [], message: `Reference refused, never fetched or read: ${uri}.` });
  }
  return diagnostics;
}

function fromParser(d: ParserDiagnostic, rootName: string): Diagnostic {
  // Spectral names the file a diagnostic is in by its virtual path; map it back to the upload name.
  const source = typeof d.source === "string" ? d.source : "";
  const at = source.indexOf(VIRTUAL_ROOT);
  const file = at >= 0 ? decodeURIComponent(source.slice(at + VIRTUAL_ROOT.length)) : rootName;
  return {
    code: String(d.code),
    severity: SEVERITIES[d.severity] ?? "error",
    message: d.message,
    file,
    path: [...d.path],
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
  };
}

const validators = new Map<string, ValidateFunction>();
let ajv: Ajv | undefined;

/** AsyncAPI versions the engine reads. */
export const SUPPORTED_VERSIONS = ["2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0", "2.5.0", "2.6.0", "3.0.0", "3.1.0"] as const;

/** The official AsyncAPI JSON Schema validator of a version, compiled once (about 0.3–0.5 s). */
function specValidator(version: string): ValidateFunction | undefined {
  const known = validators.get(version);
  if (known) return known;
  const schema = (specs.schemasWithoutId as Record<string, object | undefined>)[version];
  if (!schema) return undefined;
  ajv ??= addFormats(new Ajv({ allErrors: true, strict: false, validateSchema: false }));
  const validate = ajv.compile(schema);
  validators.set(version, validate);
  return validate;
}

/**
 * Validates the root document against the official AsyncAPI JSON Schema only (the parser's `asyncapi-schema`
 * rule without the rest of Spectral): used for large uploads where Spectral takes seconds.
 */
export function validateWithSchema(value: unknown, version: string, rootName: string): Diagnostic[] {
  const validate = specValidator(version);
  if (!validate) return [];
  if (validate(value)) return [];
  return condense(validate.errors ?? []).map((e) => ({
    code: "asyncapi-schema",
    severity: "error",
    file: rootName,
    path: e.instancePath
      .split("/")
      .slice(1)
      .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~")),
    message: `${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.params && "additionalProperty" in e.params ? `: ${String(e.params.additionalProperty)}` : ""}`,
  }));
}

/** Keeps the deepest error per instance path: the oneOf/anyOf noise above it says nothing more. */
function condense(errors: ErrorObject[]): ErrorObject[] {
  const deepest = new Map<string, ErrorObject>();
  for (const e of errors) {
    if (e.keyword === "oneOf" || e.keyword === "anyOf" || e.keyword === "if") continue;
    const key = `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`;
    if (!deepest.has(key)) deepest.set(key, e);
  }
  const list = [...deepest.values()];
  const kept = list.filter((e) => !list.some((o) => o !== e && o.instancePath.startsWith(e.instancePath + "/")));
  return (kept.length > 0 ? kept : errors).slice(0, 50);
}
