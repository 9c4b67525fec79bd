import { CORE_SCHEMA, load, YAMLException } from "js-yaml";
import type { Diagnostic, ParseResult } from "../types.ts";
import { ExpansionLimitError, normalise } from "../normalise/index.ts";
import { DEFAULT_LIMITS, byteLength, measure, type Limits, type Measure } from "./limits.ts";
import { locator } from "./positions.ts";
import { dereference, normaliseName } from "./refs.ts";
import { SUPPORTED_VERSIONS, validateResolved, validateUnresolved } from "./validate.ts";

/** Default limits of the parser and their type. */
export { DEFAULT_LIMITS, LIMIT_CODES, type Limits } from "./limits.ts";

/** The files of one upload: file name → text; a single text is named `asyncapi.yaml`. */
export type Upload = string | Readonly<Record<string, string>>;

/** Options of {@link loadUpload} and `parseContract`. */
export interface ParseOptions {
  /** Name of the AsyncAPI root file; default: the only file with an `asyncapi` key. */
  root?: string;
  limits?: Partial<Limits>;
  /**
   * `auto` (default) and `full`: the parser's AsyncAPI JSON Schema and its other rules, at every size.
   * `schema-only`: the JSON Schema alone (resolved document and `$ref` placement), without the other rules.
   */
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
    // Measured right after loading, before any validator sees the value: aliases are counted by reference
    // without being expanded, so a bomb costs time linear in its text.
    const measured = measure(values.get(name), limits);
    if (measured.exceeded) diagnostics.push(limitDiagnostic(name, measured, limits));
  }
  // One validation path for every size: the same checks for a 1 KB and a 5 MB upload.
  const validation = options.validation === "schema-only" ? "schema-only" : "full";
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

  const schemaOnly = validation === "schema-only";
  // The root file as written, before dereferencing replaces its `$ref`s: references placed where none is allowed.
  const unresolved = await validateUnresolved(rootValue, version, root, { schemaOnly });
  const deref = dereference(values, root);
  diagnostics.push(...deref.diagnostics);
  // Refused or broken references stop here: the document is not judged further.
  if (!hasError(diagnostics)) {
    diagnostics.push(...unresolved);
    diagnostics.push(...(await validateResolved(deref.root as Record<string, unknown>, deref.edges, version, root, { schemaOnly, text: files.get(root) ?? "", targets: deref.targets })));
  }
  const located = sortValidation(locate(diagnostics, files));
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

/** Spectral's order for located diagnostics: by file, position, code and path; the others first, as they came. */
function sortValidation(diagnostics: Diagnostic[]): Diagnostic[] {
  const located = diagnostics.filter((d) => d.line !== undefined);
  located.sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line! - b.line! ||
      (a.column ?? 0) - (b.column ?? 0) ||
      a.code.localeCompare(b.code, undefined, { numeric: true }) ||
      a.path.join().localeCompare(b.path.join()),
  );
  return [...diagnostics.filter((d) => d.line === undefined), ...located];
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
