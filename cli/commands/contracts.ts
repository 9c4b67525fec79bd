import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import type { CompatibilityMode, Contract, Diagnostic, Finding } from "../../registry/index.ts";
import type { PrecompiledValidators } from "../../registry/parse/schema-check.ts";
import { parseMode } from "../../registry/policies.ts";

/** Options of {@link registerContractCommands}. */
export interface ContractCommandOptions {
  /** The AsyncAPI document validators compiled ahead of time (the built CLI's); otherwise compiled when first used. */
  precompiledValidators?: PrecompiledValidators;
}

let precompiledValidators: PrecompiledValidators | undefined;

// The engine (and its validators with it) loads only when a contract command runs, so other commands start fast.
async function engine() {
  const [loaded] = await Promise.all([
    import("../../registry/index.ts"),
    precompiledValidators ? import("../../registry/parse/schema-check.ts").then((m) => m.registerPrecompiledValidators(precompiledValidators)) : undefined,
  ]);
  return loaded;
}

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
const FORMATS = ["text", "json", "markdown", "github"] as const;
type Format = (typeof FORMATS)[number];

/** A usage or input problem: reported on stderr, exit code 2. */
class InputError extends Error {}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function modeOption(value: string | undefined): CompatibilityMode {
  const mode = parseMode(value ?? "BACKWARD");
  if (!mode) throw new InputError(`unknown mode ${value}; use NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE`);
  return mode;
}

function formatOption(value: string | undefined): Format {
  const format = (value ?? "text") as Format;
  if (!FORMATS.includes(format)) throw new InputError(`unknown format ${value}; use ${FORMATS.join(", ")}`);
  return format;
}

/** Reads one contract file; diagnostics on stderr and an InputError when it is not usable. */
async function readContract(file: string): Promise<{ contract: Contract; text: string }> {
  const { parseContract, formatDiagnostics } = await engine();
  const text = await readText(file);
  const name = path.basename(file);
  const result = await parseContract({ [name]: text });
  if (!result.contract) {
    process.stderr.write(formatDiagnostics(result.diagnostics.map((d) => ({ ...d, file: d.file === name ? file : d.file }))));
    throw new InputError(`${file} is not a valid AsyncAPI document`);
  }
  return { contract: result.contract, text };
}

async function run(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    process.stderr.write(`meshport: ${error.message}\n`);
    process.exitCode = EXIT.usage;
  }
}

async function validateCommand(files: string[]): Promise<number> {
  const { parseContract, formatDiagnostics } = await engine();
  // All files form one upload, named relative to their common folder so relative `$ref`s resolve among them.
  const absolute = files.map((f) => path.resolve(f));
  const base = absolute.reduce((acc, f) => {
    let dir = acc;
    while (!f.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep)) dir = path.dirname(dir);
    return dir;
  }, path.dirname(absolute[0]!));
  const upload: Record<string, string> = {};
  const display = new Map<string, string>();
  for (let i = 0; i < files.length; i++) {
    const name = path.relative(base, absolute[i]!).split(path.sep).join("/");
    upload[name] = await readText(files[i]!);
    display.set(name, files[i]!);
  }
  // Each file with an `asyncapi` key is a root; the others are fragments the roots may refer to.
  const { CORE_SCHEMA, load } = await import("js-yaml");
  const roots = Object.entries(upload)
    .filter(([, text]) => {
      try {
        const value = load(text, { schema: CORE_SCHEMA });
        return value !== null && typeof value === "object" && !Array.isArray(value) && "asyncapi" in value;
      } catch {
        return false;
      }
    })
    .map(([name]) => name);
  let failed = false;
  for (const root of roots.length > 0 ? roots : [Object.keys(upload)[0]!]) {
    const result = await parseContract(upload, { root });
    const diagnostics: Diagnostic[] = result.diagnostics.map((d) => ({ ...d, file: display.get(d.file) ?? d.file }));
    process.stdout.write(formatDiagnostics(diagnostics));
    const ok = result.contract !== undefined;
    failed ||= !ok;
    process.stdout.write(`${display.get(root) ?? root}: ${ok ? "valid" : "invalid"} (${result.validation === "full" ? "full validation" : "schema validation"})\n`);
  }
  return failed ? EXIT.failed : EXIT.ok;
}

async function diffCommand(previousFile: string, currentFile: string, options: { mode?: string; against?: string[]; format?: string }): Promise<number> {
  const mode = modeOption(options.mode);
  const format = formatOption(options.format);
  const { evaluateChange, toJsonReport, formatMarkdown, formatGithub, formatText } = await engine();
  const { locator } = await import("../../registry/parse/positions.ts");
  const previous = await readContract(previousFile);
  const current = await readContract(currentFile);
  const against: Contract[] = [];
  for (const file of options.against ?? []) against.push((await readContract(file)).contract);
  // The portal's own evaluation, over the history as given: oldest `--against` first, then previous, then current.
  // Files are ordered by the command line, not by their `info.version`, so the history is numbered in that order.
  const history = [...against].reverse();
  const stored = [...history, previous.contract].map((contract, i) => ({ version: `1.${i}.0`, state: "released" as const, contract }));
  const evaluation = evaluateChange({ contract: current.contract, diagnostics: [], version: `1.${stored.length}.0` }, stored, { mode });
  const report = evaluation.report!;
  let out: string;
  if (format === "json") out = JSON.stringify(toJsonReport(report), null, 2) + "\n";
  else if (format === "markdown") out = formatMarkdown(report);
  else if (format === "github") {
    const findCurrent = locator(current.text);
    const findPrevious = locator(previous.text);
    const segments = (pointer: string) => pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    out = formatGithub(report, (f: Finding) => {
      if (f.currentPath !== undefined) return { file: currentFile, ...findCurrent(segments(f.currentPath)) };
      if (f.previousPath !== undefined) return { file: previousFile, ...findPrevious(segments(f.previousPath)) };
      return { file: currentFile };
    });
  } else out = formatText(report) + `Suggested bump: ${evaluation.suggestedBump}; lint: ${evaluation.lint.length} finding${evaluation.lint.length === 1 ? "" : "s"} on ${currentFile}.\n`;
  process.stdout.write(out);
  return report.compatible ? EXIT.ok : EXIT.failed;
}

async function schemaDiffCommand(originalFile: string, updateFile: string, options: { mode?: string; format?: string }): Promise<number> {
  const mode = modeOption(options.mode);
  const format = options.format ?? "json";
  if (format !== "json" && format !== "text") throw new InputError(`unknown format ${format}; use json or text`);
  const { checkSchemaCompatibility } = await import("../../registry/jsonschema/index.ts");
  const { DEFAULT_LIMITS, byteLength, measure } = await import("../../registry/parse/limits.ts");
  const { CORE_SCHEMA, load } = await import("js-yaml");
  const parse = async (file: string) => {
    const text = await readText(file);
    if (byteLength(text) > DEFAULT_LIMITS.maxBytes) throw new InputError(`${file} exceeds the size limit of ${DEFAULT_LIMITS.maxBytes} bytes`);
    let value: unknown;
    try {
      value = load(text, { schema: CORE_SCHEMA, maxDepth: DEFAULT_LIMITS.maxDepth });
    } catch (error) {
      throw new InputError(`${file} is not valid JSON or YAML: ${error instanceof Error ? error.message : String(error)}`);
    }
    // YAML anchors can make a small file expand without bound; the same limits as contract uploads apply.
    if (measure(value, DEFAULT_LIMITS).exceeded) throw new InputError(`${file} nests too deep or expands to too many nodes`);
    return value;
  };
  const original = await parse(originalFile);
  const update = await parse(updateFile);
  for (const [file, schema] of [[originalFile, original], [updateFile, update]] as const) {
    if (typeof schema !== "boolean" && (schema === null || typeof schema !== "object" || Array.isArray(schema))) {
      throw new InputError(`${file} is not a JSON Schema (an object or a boolean)`);
    }
  }
  const result = checkSchemaCompatibility(original, update, mode);
  if (result.tooComplex) process.stderr.write("meshport: the schemas are too intricate to compare within bounds; reported incompatible for review\n");
  if (format === "json") {
    process.stdout.write(JSON.stringify({ compatible: result.compatible, mode, changes: result.changes, forwardChanges: result.forwardChanges, details: result.details }, null, 2) + "\n");
  } else {
    const lines = result.details.map((c) => `  ${c.type} ${c.path}  backward ${c.backward ? "ok" : "BREAKS"}, forward ${c.forward ? "ok" : "BREAKS"}${c.foundBy === "forward" ? " (seen reading new data with the old schema)" : ""}\n`);
    process.stdout.write(`${result.compatible ? "Compatible" : "INCOMPATIBLE"} under ${mode}\n${lines.join("")}`);
  }
  return result.compatible ? EXIT.ok : EXIT.failed;
}

/** Registers `validate`, `diff` and `schema-diff` (the contract engine's commands). */
export function registerContractCommands(program: Command, options: ContractCommandOptions = {}): void {
  precompiledValidators = options.precompiledValidators;
  program
    .command("validate")
    .description("Validate AsyncAPI documents (files given together form one upload, so they may refer to each other)")
    .argument("<files...>", "AsyncAPI documents and the files they refer to")
    .action((files: string[]) => run(() => validateCommand(files)));
  program
    .command("diff")
    .description("Compare two versions of a contract and classify every change")
    .argument("<previous>", "previous version")
    .argument("<current>", "current version")
    .option("--mode <mode>", "compatibility mode (NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE)", "BACKWARD")
    .option("--against <older...>", "earlier versions also checked under a transitive mode")
    .option("--format <format>", "text, json, markdown or github", "text")
    .action((previous: string, current: string, options: { mode?: string; against?: string[]; format?: string }) => run(() => diffCommand(previous, current, options)));
  program
    .command("schema-diff")
    .description("Compare two JSON Schema files with Confluent Schema Registry semantics")
    .argument("<original>", "original schema")
    .argument("<update>", "updated schema")
    .option("--mode <mode>", "compatibility mode", "BACKWARD")
    .option("--format <format>", "json or text", "json")
    .action((original: string, update: string, options: { mode?: string; format?: string }) => run(() => schemaDiffCommand(original, update, options)));
}
