/**
 * Contract engine benchmark: every figure is a median measured in this run beside a baseline measured in the same
 * run (interleaved where both are cheap enough), so the ratio holds on a loaded machine too.
 *
 * (a) `meshport diff` of two small documents as a process (the built CLI through bin/meshport.mjs) beside `node -e 0`,
 *     with the CLI's start-up alone (`schema-diff`, which never loads the AsyncAPI parser), the engine's import time and
 *     the TypeScript fallback through tsx; target < 400 ms.
 * (b) The portal's validate of a small document, warm (parseContract in process after warm-up), beside the AsyncAPI
 *     JSON Schema check alone (ajv 8, compiled once, on the same dereferenced document); target < 10 ms.
 * (c) Over the corpus pairs and the 2 MB contract: our normalise + compare beside @asyncapi/diff on the documents each
 *     one's parser produced (its flattening is inside its own diff, so our normalise is inside our timed part).
 * (d) Whole check of the 2 MB, 1,000-channel contract against its stored previous version (parse + normalise +
 *     compare, as a publish does); target < 300 ms.
 *
 * `npm run bench -- engine` prints the table and writes bench/results/engine.json; standalone: `npx tsx bench/engine.ts`.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { diff as asyncapiDiff } from "@asyncapi/diff";
import { Parser } from "@asyncapi/parser";
import { AvroSchemaParser } from "@asyncapi/avro-schema-parser";
import specs from "@asyncapi/specs";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { BUILT_CLI, builtCliIsCurrent } from "../bin/cli-build.mjs";
import { compare, loadUpload, normalise, parseContract, type Contract, type LoadedUpload } from "../registry/index.ts";
import { generateContract } from "../registry/testing/generate.ts";
import type { BenchResult } from "./run.ts";
import { median, round } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CORPUS = process.env.MESHPORT_CORPUS ?? path.resolve(ROOT, "../shared/corpus");
/** The small documents of (a) and (b): the CLI test's fixture pair, about 4 KB each. */
const SMALL = {
  previous: path.join(ROOT, "registry", "testdata", "CHANNEL_REMOVED", "previous.yaml"),
  current: path.join(ROOT, "registry", "testdata", "CHANNEL_REMOVED", "current.yaml"),
};

// --- timing -------------------------------------------------------------------------------------------------------

/** How many calls make one sample (≥ 5 ms, beyond timer resolution), after warming up about 200 ms or 2,000 calls. */
async function warmUp(fn: () => unknown): Promise<number> {
  const started = performance.now();
  await fn();
  const once = performance.now() - started;
  const warmUntil = performance.now() + Math.min(200, once * 2000);
  while (performance.now() < warmUntil) await fn();
  return once >= 5 ? 1 : Math.min(10_000, Math.ceil(5 / Math.max(once, 0.001)));
}

/** Median wall time of one call of `fn` over `runs` samples, in milliseconds. */
async function time(runs: number, fn: () => unknown): Promise<number> {
  const batch = await warmUp(fn);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    for (let j = 0; j < batch; j++) await fn();
    samples.push((performance.now() - started) / batch);
  }
  return median(samples);
}

/** Medians of two functions sampled alternately, so that both see the same machine load (the machine is shared). */
async function timeBoth(runs: number, a: () => unknown, b: () => unknown): Promise<[number, number]> {
  const [batchA, batchB] = [await warmUp(a), await warmUp(b)];
  const samplesA: number[] = [];
  const samplesB: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [fn, batch, samples] of [[a, batchA, samplesA], [b, batchB, samplesB]] as const) {
      const started = performance.now();
      for (let j = 0; j < batch; j++) await fn();
      samples.push((performance.now() - started) / batch);
    }
  }
  return [median(samplesA), median(samplesB)];
}

interface ProcessRun {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ARGS` from the project folder; wall time from spawn to exit, as a shell user sees it. */
function runNode(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

// --- (a) the CLI as a process ---------------------------------------------------------------------------------------

interface CliFigures {
  runs: number;
  /** How the built CLI was found: current, or built by this run (it was missing or older than its sources). */
  build: string;
  nodeMs: number;
  /** `meshport schema-diff` of two tiny JSON Schemas: the built CLI's start-up without the AsyncAPI parser. */
  startupMs: number;
  diffMs: number | null;
  diffOverNode: number | null;
  /** Importing the bundled engine (@asyncapi/parser, Spectral…) inside a fresh process, as reported by that process. */
  engineImportMs: number | null;
  /** The same diff through the TypeScript sources (tsx), as without a build; fewer runs, it is slow. */
  tsxDiffMs: number;
  tsxRuns: number;
  diffUnavailable?: string;
}

async function measureCli(runs: number): Promise<CliFigures> {
  let build = "current";
  if (!builtCliIsCurrent()) {
    const made = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-cli.mjs")], { cwd: ROOT, encoding: "utf8" });
    build = made.status === 0 ? "built by this run (missing or older than its sources)" : `build failed: ${made.stderr.trim().split("\n").pop()}`;
  }
  const built = existsSync(BUILT_CLI) && !build.startsWith("build failed");
  const tmp = mkdtempSync(path.join(tmpdir(), "meshport-bench-"));
  const schemaA = path.join(tmp, "a.json");
  const schemaB = path.join(tmp, "b.json");
  writeFileSync(schemaA, JSON.stringify({ type: "string", maxLength: 10 }));
  writeFileSync(schemaB, JSON.stringify({ type: "string", maxLength: 12 }));
  const bin = path.join(ROOT, "bin", "meshport.mjs");
  // The build just checked or made is what is timed, even if someone edits a source file meanwhile.
  const builtEnv = { ...process.env, MESHPORT_CLI: "built" };
  const sourceEnv = { ...process.env, MESHPORT_CLI: "source" };
  const manifest = built ? (JSON.parse(readFileSync(path.join(ROOT, "dist", "cli", "inputs.json"), "utf8")) as { chunks?: Record<string, string> }) : {};
  const engineChunk = manifest.chunks?.["registry/index.ts"];
  const importProbe = engineChunk
    ? ["--input-type=module", "-e", `const t = performance.now(); await import(${JSON.stringify(new URL(engineChunk, BUILT_CLI).href)}); process.stdout.write(String(performance.now() - t));`]
    : undefined;

  const samples = { node: [] as number[], startup: [] as number[], diff: [] as number[], engineImport: [] as number[], tsx: [] as number[] };
  let diffUnavailable = built ? undefined : `no current build (${build})`;
  for (let i = 0; i < runs; i++) {
    samples.node.push((await runNode(["-e", "0"])).ms);
    if (built) {
      const startup = await runNode([bin, "schema-diff", schemaA, schemaB], builtEnv);
      if (startup.code !== 0) throw new Error(`meshport schema-diff exited ${startup.code}: ${startup.stderr}`);
      samples.startup.push(startup.ms);
      const diff = await runNode([bin, "diff", SMALL.previous, SMALL.current], builtEnv);
      // CHANNEL_REMOVED is a breaking change: exit code 1 with a report is the expected outcome.
      if (diff.code !== 1 || !diff.stdout.includes("CHANNEL_REMOVED")) diffUnavailable = `meshport diff exited ${diff.code}: ${diff.stderr.slice(0, 200)}`;
      samples.diff.push(diff.ms);
      if (importProbe) samples.engineImport.push(Number((await runNode(importProbe)).stdout));
    }
    if (i % 3 === 0) samples.tsx.push((await runNode([bin, "diff", SMALL.previous, SMALL.current], sourceEnv)).ms);
  }
  rmSync(tmp, { recursive: true, force: true });
  const nodeMs = median(samples.node);
  const diffMs = diffUnavailable ? null : median(samples.diff);
  return {
    runs,
    build,
    nodeMs: round(nodeMs),
    startupMs: round(median(samples.startup)),
    diffMs: diffMs === null ? null : round(diffMs),
    diffOverNode: diffMs === null ? null : round(diffMs / nodeMs),
    engineImportMs: samples.engineImport.length ? round(median(samples.engineImport)) : null,
    tsxDiffMs: round(median(samples.tsx)),
    tsxRuns: samples.tsx.length,
    ...(diffUnavailable ? { diffUnavailable } : {}),
  };
}

// --- (b) validate of a small document, warm ----------------------------------------------------------------------

interface ValidateFigures {
  bytes: number;
  version: string;
  /** First parseContract in this process (Spectral's ruleset built, the AsyncAPI schema compiled). */
  coldMs: number;
  /** parseContract with the default (full) validation, warm. */
  parseMs: number;
  /** parseContract with the JSON Schema check only (`validation: "schema-only"`), warm. */
  schemaOnlyParseMs: number;
  /** ajv alone: the version's AsyncAPI JSON Schema compiled once, validating the dereferenced document. */
  ajvMs: number;
  ajvCompileMs: number;
  ajvValid: boolean;
  parseOverAjv: number;
}

async function measureValidate(runs: number): Promise<ValidateFigures> {
  const text = readFileSync(SMALL.current, "utf8");
  const coldStart = performance.now();
  const first = await parseContract(text);
  const coldMs = performance.now() - coldStart;
  if (!first.contract) throw new Error(`${SMALL.current} does not parse`);
  const loaded = await loadUpload(text);
  const version = loaded.version!;
  // As registry/parse/validate.ts compiles it: the schema without $ids, allErrors, formats, no strict mode.
  const schema = (specs.schemasWithoutId as Record<string, object>)[version]!;
  const compileStart = performance.now();
  const validate = addFormats(new Ajv({ allErrors: true, strict: false, validateSchema: false })).compile(schema);
  const ajvCompileMs = performance.now() - compileStart;
  const ajvValid = validate(loaded.document) === true;
  const [parseMs, ajvMs] = await timeBoth(runs, () => parseContract(text), () => validate(loaded.document));
  const schemaOnlyParseMs = await time(runs, () => parseContract(text, { validation: "schema-only" }));
  return {
    bytes: Buffer.byteLength(text),
    version,
    coldMs: round(coldMs),
    parseMs: round(parseMs),
    schemaOnlyParseMs: round(schemaOnlyParseMs, 3),
    ajvMs: round(ajvMs, 4),
    ajvCompileMs: round(ajvCompileMs),
    ajvValid,
    parseOverAjv: round(parseMs / ajvMs, 1),
  };
}

// --- (c) compare beside @asyncapi/diff ------------------------------------------------------------------------------

interface PairFigures {
  pair: string;
  parseMs: number | null;
  validation: string | null;
  normaliseMs: number | null;
  compareMs: number | null;
  /** Our normalise of both documents + compare: what is set beside @asyncapi/diff. */
  checkMs: number | null;
  asyncapiDiffMs: number | null;
  checkOverAsyncapiDiff: number | null;
  findings: number | null;
  /** Why a figure is missing: a document one of the parsers refuses, or @asyncapi/diff failing. */
  unavailable?: string;
}

const theirParser = new Parser({ schemaParsers: [AvroSchemaParser()] });

/** The document @asyncapi/diff takes: its parser's JSON output, or why there is none. */
async function theirDocument(text: string): Promise<unknown> {
  const { document, diagnostics } = await theirParser.parse(text);
  if (document) return document.json();
  const error = diagnostics.find((d) => d.severity === 0);
  return new Error(`@asyncapi/parser refuses a document${error ? ` (${error.message})` : ""}`);
}

/** Loads with the engine's default validation; a document the full ruleset refuses is loaded with schema-only validation. */
async function load(text: string): Promise<LoadedUpload> {
  const loaded = await loadUpload(text);
  return loaded.document ? loaded : loadUpload(text, { validation: "schema-only" });
}

function theirDiffRun(a: unknown, b: unknown): () => unknown {
  return () => asyncapiDiff(a, b, { outputType: "json" }).getOutput();
}

/** Our side of (c): normalise both dereferenced documents and compare them. */
function ourCheck(a: Record<string, unknown>, b: Record<string, unknown>): () => Promise<unknown> {
  return async () => compare(await normalise(a), await normalise(b));
}

async function measurePair(name: string, before: string, after: string, runs: { parse: number; fast: number }): Promise<PairFigures> {
  const empty = { parseMs: null, validation: null, normaliseMs: null, compareMs: null, checkMs: null, asyncapiDiffMs: null, checkOverAsyncapiDiff: null, findings: null };
  const loaded = [await load(before), await load(after)] as const;
  const refused = loaded.find((l) => !l.document);
  if (refused) {
    const error = refused.diagnostics.find((d) => d.severity === "error");
    return { pair: name, ...empty, unavailable: `Meshport refuses a document${error ? ` (${error.code}: ${error.message})` : ""}` };
  }
  const [a, b] = [loaded[0].document!, loaded[1].document!];
  const contracts: Contract[] = [await normalise(a), await normalise(b)];
  const parseMs = await time(runs.parse, async () => {
    await load(before);
    await load(after);
  });
  // normalise() reads the dereferenced document without changing it, so the loaded one can be reused.
  const normaliseMs = await time(runs.fast, async () => {
    await normalise(a);
    await normalise(b);
  });
  const compareMs = await time(runs.fast, () => compare(contracts[0]!, contracts[1]!));
  const theirs = [await theirDocument(before), await theirDocument(after)];
  let unavailable = theirs.find((t): t is Error => t instanceof Error)?.message;
  let checkMs: number | null = null;
  let asyncapiDiffMs: number | null = null;
  if (!unavailable) {
    try {
      theirDiffRun(theirs[0], theirs[1])();
      [checkMs, asyncapiDiffMs] = await timeBoth(runs.fast, ourCheck(a, b), theirDiffRun(theirs[0], theirs[1]));
    } catch (error) {
      unavailable = `@asyncapi/diff refuses the pair (${error instanceof Error ? error.message : String(error)})`;
    }
  }
  checkMs ??= await time(runs.fast, ourCheck(a, b));
  return {
    pair: name,
    parseMs: round(parseMs),
    validation: loaded.map((l) => l.validation).join("/"),
    normaliseMs: round(normaliseMs, 3),
    compareMs: round(compareMs, 3),
    checkMs: round(checkMs, 3),
    asyncapiDiffMs: asyncapiDiffMs === null ? null : round(asyncapiDiffMs, 3),
    checkOverAsyncapiDiff: asyncapiDiffMs === null ? null : round(checkMs / asyncapiDiffMs, 3),
    findings: compare(contracts[0]!, contracts[1]!).findings.length,
    ...(unavailable ? { unavailable } : {}),
  };
}

interface CorpusPair {
  name: string;
  before: string;
  after: string;
}

/** The asyncapi-diff pairs (every derived case, each pair of documents once) and the 2.6 → 3.0 rewrites. */
function corpusPairs(): { pairs: CorpusPair[]; skipped: string[] } {
  const pairs: CorpusPair[] = [];
  const skipped: string[] = [];
  const derived = path.join(CORPUS, "asyncapi-diff", "derived");
  const seen = new Map<string, string>();
  if (existsSync(derived)) {
    for (const file of readdirSync(derived).filter((f) => f.endsWith(".expected.json")).sort()) {
      const spec = JSON.parse(readFileSync(path.join(derived, file), "utf8")) as { before?: string; after?: string; before_doc?: unknown; after_doc?: unknown };
      const label = file.replace(/\.expected\.json$/, "");
      let pair: CorpusPair;
      if (spec.before && spec.after) {
        const read = (p: string) => readFileSync(path.join(CORPUS, "asyncapi-diff", p), "utf8");
        pair = { name: `asyncapi-diff: ${path.basename(spec.before)} → ${path.basename(spec.after)}`, before: read(spec.before), after: read(spec.after) };
      } else if (spec.before_doc && spec.after_doc) {
        pair = { name: `asyncapi-diff: ${label} (inline documents)`, before: JSON.stringify(spec.before_doc), after: JSON.stringify(spec.after_doc) };
      } else {
        skipped.push(`${label}: no documents in the case`);
        continue;
      }
      const key = pair.before + "\u0000" + pair.after;
      const same = seen.get(key);
      if (same !== undefined) {
        skipped.push(`${label}: same documents as ${same} (the case differs only in its expected classification)`);
        continue;
      }
      seen.set(key, label);
      pairs.push(pair);
    }
  }
  const docs = path.join(CORPUS, "asyncapi");
  for (const [v2, v3] of [
    ["asyncapi-spec@v2.6.0__examples__streetlights-mqtt.yml", "asyncapi-spec@v3.0.0__examples__streetlights-mqtt-asyncapi.yml"],
    ["asyncapi-spec@v2.6.0__examples__streetlights-kafka.yml", "asyncapi-spec@v3.0.0__examples__streetlights-kafka-asyncapi.yml"],
    ["asyncapi-spec@v2.6.0__examples__slack-rtm.yml", "asyncapi-spec@v3.0.0__examples__slack-rtm-asyncapi.yml"],
    ["asyncapi-spec@v2.6.0__examples__websocket-gemini.yml", "asyncapi-spec@v3.0.0__examples__websocket-gemini-asyncapi.yml"],
  ] as const) {
    if (!existsSync(path.join(docs, v2)) || !existsSync(path.join(docs, v3))) {
      skipped.push(`2.6 → 3.0 ${v2}: not in the corpus`);
      continue;
    }
    pairs.push({ name: `2.6 → 3.0: ${v2.replace(/.*__/, "")}`, before: readFileSync(path.join(docs, v2), "utf8"), after: readFileSync(path.join(docs, v3), "utf8") });
  }
  return { pairs, skipped };
}

// --- (c, d) the 2 MB contract -------------------------------------------------------------------------------------

async function measureLarge() {
  // 1,000 channels, ~2 MB; the new version edits every message summary and narrows every sensorId (breaking).
  const previous = generateContract({ channels: 1000 });
  const current = generateContract({ channels: 1000, variant: 1 }).replaceAll("maxLength: 64", "maxLength: 32");
  const [a, b] = [await loadUpload(previous), await loadUpload(current)];
  if (!a.document || !b.document) throw new Error("generated contract does not load");
  const [ca, cb] = [await normalise(a.document), await normalise(b.document)];
  // The previous version as a publish finds it: the Contract stored (jsonb) when it was published.
  const stored = JSON.parse(JSON.stringify(ca)) as Contract;
  const parseMs = await time(5, () => loadUpload(current));
  const normaliseMs = await time(5, () => normalise(b.document!));
  const compareMs = await time(7, () => compare(stored, cb));
  // (d) Whole check as a publish runs it: parse + normalise the new text, compare against the stored previous version.
  const checkMs = await time(7, async () => {
    const parsed = await parseContract(current);
    return compare(stored, parsed.contract!);
  });
  // (c) Ours (normalise both + compare) beside @asyncapi/diff, on the documents each parser produced.
  const theirs = [await theirDocument(previous), await theirDocument(current)];
  const theirError = theirs.find((t): t is Error => t instanceof Error);
  const [oursMs, theirMs] = theirError ? [await time(5, ourCheck(a.document, b.document)), null] : await timeBoth(5, ourCheck(a.document, b.document), theirDiffRun(theirs[0], theirs[1]));
  const report = compare(stored, cb);
  return {
    bytes: Buffer.byteLength(current),
    channels: Object.keys(cb.channels).length,
    validation: b.validation,
    parseMs: round(parseMs),
    normaliseMs: round(normaliseMs),
    compareMs: round(compareMs),
    checkMs: round(checkMs),
    normaliseBothAndCompareMs: round(oursMs),
    asyncapiDiffMs: theirMs === null ? null : round(theirMs),
    checkOverAsyncapiDiff: theirMs === null ? null : round(oursMs / theirMs, 3),
    findings: report.findings.length,
    compatible: report.compatible,
    ...(theirError ? { unavailable: theirError.message } : {}),
  };
}

// --- report -------------------------------------------------------------------------------------------------------

const ms = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? "n/a" : `${round(v, digits)} ms`);
const ratio = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : `${v}×`);
/** The reason without its parenthesised detail, for a table cell; the detail is in the notes below the table. */
const brief = (reason: string | undefined) => `n/a: ${(reason ?? "").replace(/ \(.*\)$/, "")}`;
const verdict = (value: number | null, target: number) => (value === null ? "n/a" : value < target ? "met" : "NOT met");

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

/** Runs the engine benchmark. */
export async function run(): Promise<BenchResult> {
  const loadAtStart = loadavg()[0]!;
  const cli = await measureCli(15);
  const validate = await measureValidate(7);
  const { pairs: corpus, skipped } = corpusPairs();
  const pairs: PairFigures[] = [];
  for (const p of corpus) pairs.push(await measurePair(p.name, p.before, p.after, { parse: 3, fast: 21 }));
  const large = await measureLarge();

  // Start-up + engine import + two warm parses (nothing compiled any more): what `meshport diff` would cost if every
  // validator it needs were compiled ahead of time rather than in the process.
  const floorMs = cli.engineImportMs === null ? null : round(cli.startupMs + cli.engineImportMs + 2 * validate.parseMs);
  const summary: string[] = [];
  summary.push(
    ...table(
      ["measure", "Meshport", "baseline (same run)", "ratio", "target"],
      [
        [`(a) meshport diff, 2 small docs, process (${cli.runs} runs)`, ms(cli.diffMs), `node -e 0: ${ms(cli.nodeMs)}`, ratio(cli.diffOverNode), `< 400 ms: ${verdict(cli.diffMs, 400)}`],
        ["    built CLI start-up alone (schema-diff)", ms(cli.startupMs), `node -e 0: ${ms(cli.nodeMs)}`, ratio(round(cli.startupMs / cli.nodeMs)), ""],
        ["    engine import in a fresh process", ms(cli.engineImportMs), "", "", ""],
        [`    same diff through tsx, no build (${cli.tsxRuns} runs)`, ms(cli.tsxDiffMs), `built: ${ms(cli.diffMs)}`, cli.diffMs ? ratio(round(cli.tsxDiffMs / cli.diffMs)) : "n/a", ""],
        ["    floor: start-up + import + 2 warm parses", ms(floorMs), "", "", `< 400 ms: ${verdict(floorMs, 400)}`],
        [`(b) validate small doc (${validate.bytes} B, ${validate.version}), warm`, ms(validate.parseMs), `ajv alone: ${ms(validate.ajvMs, 3)}`, ratio(validate.parseOverAjv), `< 10 ms: ${verdict(validate.parseMs, 10)}`],
        ["    same, cold (first in process)", ms(validate.coldMs), `ajv compile: ${ms(validate.ajvCompileMs)}`, "", ""],
        ["    same, schema-only validation, warm", ms(validate.schemaOnlyParseMs, 2), `ajv alone: ${ms(validate.ajvMs, 3)}`, ratio(round(validate.schemaOnlyParseMs / validate.ajvMs, 1)), `< 10 ms: ${verdict(validate.schemaOnlyParseMs, 10)}`],
        ...pairs.map((p) => [
          `(c) ${p.pair}`,
          p.checkMs === null ? "n/a" : `${ms(p.checkMs, 3)} (compare ${ms(p.compareMs, 3)})`,
          p.asyncapiDiffMs === null ? brief(p.unavailable) : `@asyncapi/diff: ${ms(p.asyncapiDiffMs, 3)}`,
          ratio(p.checkOverAsyncapiDiff),
          p.checkOverAsyncapiDiff === null ? "" : `≤ 1×: ${p.checkOverAsyncapiDiff <= 1 ? "met" : "NOT met"}`,
        ]),
        [
          `(c) generated ${large.channels} channels, ${(large.bytes / 1e6).toFixed(2)} MB`,
          `${ms(large.normaliseBothAndCompareMs)} (compare ${ms(large.compareMs)})`,
          large.asyncapiDiffMs === null ? brief(large.unavailable) : `@asyncapi/diff: ${ms(large.asyncapiDiffMs)}`,
          ratio(large.checkOverAsyncapiDiff),
          large.checkOverAsyncapiDiff === null ? "" : `≤ 1×: ${large.checkOverAsyncapiDiff <= 1 ? "met" : "NOT met"}`,
        ],
        [`(d) whole check, ${(large.bytes / 1e6).toFixed(2)} MB contract, previous stored`, ms(large.checkMs), `parse ${ms(large.parseMs)} + normalise ${ms(large.normaliseMs)} + compare ${ms(large.compareMs)}`, "", `< 300 ms: ${verdict(large.checkMs, 300)}`],
      ],
    ),
  );
  const machine = { cores: availableParallelism(), loadAverageAtStart: round(loadAtStart), loadAverageAtEnd: round(loadavg()[0]!) };
  summary.push(`machine: ${machine.cores} cores, 1-minute load average ${machine.loadAverageAtStart} at start, ${machine.loadAverageAtEnd} at end (shared: figures scale with it, ratios less)`);
  summary.push(`(a) build: ${cli.build}${cli.diffUnavailable ? `; diff n/a: ${cli.diffUnavailable}` : ""}`);
  summary.push("(c) Meshport = normalise of both documents + compare (its flattening is inside @asyncapi/diff's own time); compare alone in brackets");
  summary.push(`(b) ajv alone on the dereferenced document: ${validate.ajvValid ? "valid" : "reports errors (the 3.0 schema wants some fields as $refs)"}`);
  summary.push(`(c) corpus pairs: ${pairs.length} measured, ${pairs.filter((p) => p.asyncapiDiffMs !== null).length} with an @asyncapi/diff baseline${skipped.length ? `; not measured: ${skipped.join("; ")}` : ""}`);
  if (corpus.length === 0) summary.push(`corpus not found at ${CORPUS}: corpus pairs skipped`);
  for (const p of pairs) {
    const figures = p.parseMs === null ? "" : `parse ${ms(p.parseMs)} (${p.validation} validation), normalise both ${ms(p.normaliseMs, 3)}, ${p.findings} findings`;
    summary.push(`    ${p.pair}: ${[figures, p.unavailable].filter(Boolean).join("; ")}`);
  }
  summary.push(`(d) ${large.validation} validation; ${large.findings} findings, compatible: ${large.compatible}`);
  const ratios = [large.checkOverAsyncapiDiff, ...pairs.map((p) => p.checkOverAsyncapiDiff)].filter((r): r is number => r !== null);
  return { name: "engine", summary, figures: { machine, cli, validate, pairs, skippedPairs: skipped, large, floorWithoutSpectralMs: floorMs, worstRatioToAsyncapiDiff: Math.max(...ratios) } };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const result = await run();
  for (const line of result.summary) console.log(line);
  const outDir = path.join(ROOT, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, "engine.json"), `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`);
  console.log("results: bench/results/engine.json");
}
