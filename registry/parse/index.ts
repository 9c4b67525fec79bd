import { CORE_SCHEMA, load, YAMLException } from "js-yaml";
import type { Diagnostic, ParseResult } from "../types.ts";
import { ExpansionLimitError, normalise } from "../normalise/index.ts";
import { DEFAULT_LIMITS, byteLength, measure, type Limits, type Measure } from "./limits.ts";
import { locator } from "./positions.ts";
import { dereference, normaliseName } from "./refs.ts";
import { SUPPORTED_VERSIONS, validateWithParser, validateWithSchema } from "./validate.ts";

/** Default limits of the parser and their type. */
export { DEFAULT_LIMITS, LIMIT_CODES, type Limits } from "./limits.ts";

/** The files of one upload: file name → text; a single text is named `asyncapi.yaml`. */
export type Upload = string | Readonly<Record<string, string>>;

/** Options of {@link loadUpload} and `parseContract`. */
export interface ParseOptions {
  /** Name of the AsyncAPI root file; default: the only file with an `asyncapi` key. */
  root?: string;
  limits?: Partial<Limits>;
  /** `auto` (default) runs the full parser up to `limits.fullValidationMaxBytes`, schema-only above. */
  validation?: "auto" | "full" | "schema-only";
}

/** A validated, dereferenced upload, ready to normalise. */
export interface LoadedUpload {
  /** Dereferenced root document (may contain cycles where the document has circular references). */
  document?: Record<string, unknown>;
  version?: string;
  root?: string;
  diagnostics: Diagnostic[];
  validation: "full" | "schema-only";
}

function toMap(upload: Upload): Map<string, string> | Diagnostic {
  const entries = typeof upload === "string" ? [["asyncapi.yaml", upload] as const] : Object.entries(upload);
  const files = new Map<string, string>();
  for (const [name, text] of entries) {
    const normal = normaliseName(name);
    if (normal === undefined || normal === "") {
      return { code: "upload-name", severity: "error", file: name, path: [], message: `Upload file name ${name} is not a relative path.` };
    }
    files.set(normal, text);
  }
  return files;
}

function hasError(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/**
 * Reads, bounds, validates and dereferences an upload. Never throws for bad input: every problem is a diagnostic.
 * Order matters for safety: size, YAML limits and reference refusals are checked before the parser sees anything.
 */
export async function loadUpload(upload: Upload, options: ParseOptions = {}): Promise<LoadedUpload> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const files = toMap(upload);
  if (!(files instanceof Map)) return { diagnostics: [files], validation: "full" };
  let total = 0;
  // A text longer than the limit in UTF-16 units is over it in bytes too: no need to count those.
  for (const text of files.values()) total += text.length > limits.maxBytes ? text.length : byteLength(text);
  if (total > limits.maxBytes) {
    return {
      diagnostics: [
        {
          code: "too-large",
          severity: "error",
          file: [...files.keys()][0] ?? "",
          path: [],
          message: `Upload exceeds the size limit of ${limits.maxBytes} bytes.`,
        },
      ],
      validation: "full",
    };
  }
  const diagnostics: Diagnostic[] = [];
  const values = new Map<string, unknown>();
  // Files whose aliases share nodes: the parser gets their measured value re-serialised, not the YAML text.
  const aliased = new Set<string>();
  let expanded = 0;
  for (const [name, text] of files) {
    try {
      values.set(name, load(text, { filename: name, schema: CORE_SCHEMA, maxDepth: limits.maxDepth }));
    } catch (error) {
      const mark = error instanceof YAMLException ? error.mark : undefined;
      const tooDeep = error instanceof YAMLException && error.reason.startsWith("nesting exceeded");
      diagnostics.push({
        code: tooDeep ? "too-deep" : "yaml-syntax",
        severity: "error",
        file: name,
        path: [],
        message: tooDeep ? `Nesting deeper than ${limits.maxDepth} levels.` : `Not valid YAML or JSON: ${error instanceof YAMLException ? error.reason : String(error)}.`,
        ...(mark ? { line: mark.line + 1, column: mark.column + 1 } : {}),
      });
      continue;
    }
    // Measured right after loading, before any validator or the parser sees the value: aliases are counted
    // by reference without being expanded, so a bomb costs time linear in its text.
    const measured = measure(values.get(name), limits);
    expanded += measured.nodes;
    if (measured.nodes > measured.distinct) aliased.add(name);
    if (measured.exceeded) diagnostics.push(limitDiagnostic(name, measured, limits));
  }
  const validation = options.validation === "full" || options.validation === "schema-only"
    ? options.validation
    : total <= limits.fullValidationMaxBytes && expanded <= limits.fullValidationMaxNodes ? "full" : "schema-only";
  if (hasError(diagnostics)) return { diagnostics: locate(diagnostics, files), validation };

  const candidates = [...values].filter(([, v]) => v !== null && typeof v === "object" && !Array.isArray(v) && "asyncapi" in v);
  const root = options.root !== undefined ? normaliseName(options.root) : candidates.length === 1 ? candidates[0]![0] : undefined;
  if (root === undefined || !values.has(root)) {
    const message =
      candidates.length === 0
        ? "No AsyncAPI document in the upload: no file has an `asyncapi` key."
        : options.root !== undefined
          ? `Root file ${options.root} is not part of the upload.`
          : `Several AsyncAPI documents in one upload (${candidates.map(([n]) => n).join(", ")}); name the root.`;
    return { diagnostics: [{ code: "no-root", severity: "error", file: options.root ?? "", path: [], message }], validation };
  }
  const rootValue = values.get(root) as Record<string, unknown>;
  const version = String(rootValue.asyncapi);
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    return {
      diagnostics: locate(
        [
          {
            code: "unsupported-version",
            severity: "error",
            file: root,
            path: ["asyncapi"],
            message: `AsyncAPI ${version} is not supported; Meshport reads ${SUPPORTED_VERSIONS.join(", ")}.`,
          },
        ],
        files,
      ),
      root,
      version,
      validation,
    };
  }

  if (validation === "schema-only") diagnostics.push(...validateWithSchema(rootValue, version, root));
  const deref = dereference(values, root);
  diagnostics.push(...deref.diagnostics);
  // Refused references stop here: the parser must never see a document that names a URL or an outside file.
  if (!hasError(diagnostics) && validation === "full") diagnostics.push(...(await validateAsLoaded(files, values, aliased, root)));
  const located = locate(diagnostics, files);
  if (hasError(located)) return { diagnostics: located, root, version, validation };
  return { document: deref.root as Record<string, unknown>, version, root, diagnostics: located, validation };
}

function limitDiagnostic(file: string, measured: Measure, limits: Limits): Diagnostic {
  const base = { severity: "error" as const, file, path: measured.path };
  switch (measured.exceeded) {
    case "depth":
      return { ...base, code: "too-deep", message: `Nesting deeper than ${limits.maxDepth} levels (YAML aliases followed).` };
    case "aliases":
      return {
        ...base,
        code: "alias-bomb",
        message:
          `YAML aliases expand this document beyond ${measured.limit} nodes from ${measured.distinct} written in the text ` +
          `(at most ${limits.maxAliasExpansion} times the written size is accepted); refusing what looks like an alias bomb ("billion laughs").`,
      };
    default:
      return { ...base, code: "too-many-nodes", message: `Document has more than ${limits.maxNodes} nodes.` };
  }
}

/**
 * Runs the full parser over exactly what was loaded and measured. A file whose YAML aliases share nodes is handed
 * over as the JSON of its measured value, so the parser's own YAML reader never expands aliases we did not count;
 * positions in such files are found again from the YAML text (by path) afterwards.
 */
async function validateAsLoaded(files: ReadonlyMap<string, string>, values: ReadonlyMap<string, unknown>, aliased: ReadonlySet<string>, root: string): Promise<Diagnostic[]> {
  if (aliased.size === 0) return validateWithParser(files, root);
  const texts = new Map(files);
  for (const name of aliased) texts.set(name, JSON.stringify(values.get(name)));
  const diagnostics = await validateWithParser(texts, root);
  return diagnostics.map((d) => {
    if (!aliased.has(d.file)) return d;
    const { line: _line, column: _column, ...rest } = d;
    return rest;
  });
}

/** Fills in line and column of diagnostics that lack them. */
function locate(diagnostics: Diagnostic[], files: ReadonlyMap<string, string>): Diagnostic[] {
  const locators = new Map<string, ReturnType<typeof locator>>();
  return diagnostics.map((d) => {
    if (d.line !== undefined) return d;
    const text = files.get(d.file);
    if (text === undefined) return d;
    let find = locators.get(d.file);
    if (!find) locators.set(d.file, (find = locator(text)));
    const position = find(d.path);
    return position ? { ...d, line: position.line, column: position.column } : d;
  });
}

/** Parses, validates and normalises an upload into a {@link ParseResult}; bad input yields diagnostics, not exceptions. */
export async function parseContract(upload: Upload, options: ParseOptions = {}): Promise<ParseResult> {
  const loaded = await loadUpload(upload, options);
  if (!loaded.document || !loaded.version || !loaded.root) {
    return { diagnostics: loaded.diagnostics, validation: loaded.validation, ...(loaded.root ? { root: loaded.root } : {}) };
  }
  let contract;
  try {
    contract = await normalise(loaded.document, { maxNodes: options.limits?.maxNodes ?? DEFAULT_LIMITS.maxNodes });
  } catch (error) {
    if (!(error instanceof ExpansionLimitError)) throw error;
    const diagnostic = { code: "too-many-nodes", severity: "error" as const, file: loaded.root, path: [], message: error.message };
    return { diagnostics: [...loaded.diagnostics, diagnostic], root: loaded.root, validation: loaded.validation };
  }
  return { contract, diagnostics: loaded.diagnostics, root: loaded.root, validation: loaded.validation };
}
