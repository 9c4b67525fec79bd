/**
 * Contract engine benchmark (issue 3): medians of parse, normalise and compare over the corpus pairs and a
 * generated 1,000-channel (~2 MB) contract, with @asyncapi/diff timed on the same documents in the same run.
 * Standalone: `npx tsx bench/engine.ts` prints the figures and writes bench/results/engine.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { diff as asyncapiDiff } from "@asyncapi/diff";
import { Parser } from "@asyncapi/parser";
import { AvroSchemaParser } from "@asyncapi/avro-schema-parser";
import { compare, loadUpload, normalise, type Contract, type LoadedUpload } from "../registry/index.ts";
import { generateContract } from "../registry/testing/generate.ts";
import type { BenchResult } from "./run.ts";
import { median, round } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CORPUS = process.env.MESHPORT_CORPUS ?? path.resolve(ROOT, "../shared/corpus");

/**
 * Median wall time of one call of `fn` over `runs` samples (after a warm-up), in milliseconds. Sub-millisecond
 * calls are batched so that each sample lasts at least 5 ms, beyond timer resolution; both engines get the same treatment.
 */
async function time(runs: number, fn: () => unknown): Promise<number> {
  const warm = performance.now();
  await fn();
  const once = performance.now() - warm;
  const batch = once >= 5 ? 1 : Math.min(10_000, Math.ceil(5 / Math.max(once, 0.001)));
  // Warm-up until the JIT has settled: about 200 ms or 2,000 calls, whichever comes first.
  const warmUntil = performance.now() + Math.min(200, once * 2000);
  while (performance.now() < warmUntil) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    for (let j = 0; j < batch; j++) await fn();
    samples.push((performance.now() - started) / batch);
  }
  return median(samples);
}

/**
 * Medians of two functions sampled alternately, so that both see the same machine load (the bench machine is
 * shared); batching as in {@link time}.
 */
async function timeBoth(runs: number, a: () => unknown, b: () => unknown): Promise<[number, number]> {
  const batchOf = async (fn: () => unknown) => {
    const started = performance.now();
    await fn();
    const once = performance.now() - started;
    const warmUntil = performance.now() + Math.min(200, once * 2000);
    while (performance.now() < warmUntil) await fn();
    return once >= 5 ? 1 : Math.min(10_000, Math.ceil(5 / Math.max(once, 0.001)));
  };
  const [batchA, batchB] = [await batchOf(a), await batchOf(b)];
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

interface PairFigures {
  pair: string;
  parseMs: number;
  normaliseMs: number;
  compareMs: number;
  /** Null where @asyncapi/parser refuses a document of the pair (so @asyncapi/diff has no input). */
  asyncapiDiffMs: number | null;
  compareOverAsyncapiDiff: number | null;
  findings: number;
  validation: string;
  asyncapiDiffUnavailable?: string;
}

const theirParser = new Parser({ schemaParsers: [AvroSchemaParser()] });

/** The document @asyncapi/diff takes: the parser's JSON output. */
async function theirDocument(text: string): Promise<unknown> {
  const { document } = await theirParser.parse(text);
  return document?.json();
}

/** Loads with the engine's default validation; a document the full ruleset refuses is loaded with schema-only validation. */
async function load(text: string): Promise<LoadedUpload> {
  const loaded = await loadUpload(text);
  return loaded.document ? loaded : loadUpload(text, { validation: "schema-only" });
}

function theirDiffRun(a: unknown, b: unknown): () => unknown {
  return () => asyncapiDiff(a, b, { outputType: "json" }).getOutput();
}

async function measurePair(name: string, before: string, after: string, runs: { parse: number; fast: number }): Promise<PairFigures> {
  const loaded: LoadedUpload[] = [await load(before), await load(after)];
  if (!loaded[0]!.document || !loaded[1]!.document) throw new Error(`${name} does not load`);
  const contracts: Contract[] = [await normalise(loaded[0]!.document), await normalise(loaded[1]!.document)];
  const parseMs = await time(runs.parse, async () => {
    await load(before);
    await load(after);
  });
  const normaliseMs = await time(runs.fast, async () => {
    // normalise() reads the dereferenced document without changing it, so the loaded one can be reused.
    await normalise(loaded[0]!.document!);
    await normalise(loaded[1]!.document!);
  });
  const ours = () => compare(contracts[0]!, contracts[1]!);
  const theirs = [await theirDocument(before), await theirDocument(after)];
  let compareMs = Number.NaN;
  let asyncapiDiffMs: number | null = null;
  let why = theirs[0] && theirs[1] ? "" : "@asyncapi/parser refuses a document";
  if (!why) {
    try {
      theirDiffRun(theirs[0], theirs[1])();
      [compareMs, asyncapiDiffMs] = await timeBoth(runs.fast, ours, theirDiffRun(theirs[0], theirs[1]));
    } catch (error) {
      why = `@asyncapi/diff: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (Number.isNaN(compareMs)) compareMs = await time(runs.fast, ours);
  return {
    pair: name,
    parseMs: round(parseMs),
    normaliseMs: round(normaliseMs, 3),
    compareMs: round(compareMs, 3),
    asyncapiDiffMs: asyncapiDiffMs === null ? null : round(asyncapiDiffMs, 3),
    compareOverAsyncapiDiff: asyncapiDiffMs === null ? null : round(compareMs / asyncapiDiffMs, 3),
    findings: compare(contracts[0]!, contracts[1]!).findings.length,
    validation: loaded.map((l) => l.validation).join("/"),
    ...(why ? { asyncapiDiffUnavailable: why } : {}),
  };
}

function corpusPairs(): [string, string, string][] {
  const pairs: [string, string, string][] = [];
  const derived = path.join(CORPUS, "asyncapi-diff", "derived");
  const seen = new Set<string>();
  if (existsSync(derived)) {
    for (const name of ["asyncapi-cli_v2_asyncapi_v1.yml__asyncapi_v2.yml", "asyncapi-cli_v3_specification-v3.yml__specification-v3-diff.yml", "asyncapi-diff_v2_asyncapi.yml__diffSpec.yml", "asyncapi-diff_v3_asyncapi-v3.yml__asyncapi-v3-diff.yml"]) {
      const spec = JSON.parse(readFileSync(path.join(derived, `${name}.expected.json`), "utf8")) as { before: string; after: string };
      if (seen.has(spec.before + spec.after)) continue;
      seen.add(spec.before + spec.after);
      pairs.push([`asyncapi-diff: ${path.basename(spec.before)} → ${path.basename(spec.after)}`, path.join(CORPUS, "asyncapi-diff", spec.before), path.join(CORPUS, "asyncapi-diff", spec.after)]);
    }
  }
  const docs = path.join(CORPUS, "asyncapi");
  for (const [v2, v3] of [
    ["asyncapi-spec@v2.6.0__examples__streetlights-mqtt.yml", "asyncapi-spec@v3.0.0__examples__streetlights-mqtt-asyncapi.yml"],
    ["asyncapi-spec@v2.6.0__examples__streetlights-kafka.yml", "asyncapi-spec@v3.0.0__examples__streetlights-kafka-asyncapi.yml"],
    ["asyncapi-spec@v2.6.0__examples__slack-rtm.yml", "asyncapi-spec@v3.0.0__examples__slack-rtm-asyncapi.yml"],
    ["asyncapi-spec@v2.6.0__examples__websocket-gemini.yml", "asyncapi-spec@v3.0.0__examples__websocket-gemini-asyncapi.yml"],
  ] as const) {
    if (existsSync(path.join(docs, v2))) pairs.push([`2.6 → 3.0: ${v2.replace(/.*__/, "")}`, path.join(docs, v2), path.join(docs, v3)]);
  }
  return pairs;
}

/** Runs the engine benchmark. */
export async function run(): Promise<BenchResult> {
  const summary: string[] = [];
  const pairs: PairFigures[] = [];
  for (const [name, before, after] of corpusPairs()) {
    pairs.push(await measurePair(name, readFileSync(before, "utf8"), readFileSync(after, "utf8"), { parse: 5, fast: 21 }));
  }
  if (pairs.length === 0) summary.push(`corpus not found at ${CORPUS}: corpus pairs skipped`);
  for (const p of pairs) {
    const theirs = p.asyncapiDiffMs === null ? `@asyncapi/diff n/a (${p.asyncapiDiffUnavailable})` : `@asyncapi/diff ${p.asyncapiDiffMs} ms (ratio ${p.compareOverAsyncapiDiff})`;
    summary.push(`${p.pair}: parse ${p.parseMs} ms (${p.validation}), normalise ${p.normaliseMs} ms, compare ${p.compareMs} ms vs ${theirs}`);
  }

  // The generated pair: 1,000 channels, ~2 MB; the new version edits every message summary and narrows every sensorId.
  const previous = generateContract({ channels: 1000, properties: 8 });
  const current = generateContract({ channels: 1000, properties: 8, variant: 1 }).replaceAll("maxLength: 64", "maxLength: 32");
  const coldStart = performance.now();
  const cold = await loadUpload(previous);
  const coldParseMs = performance.now() - coldStart;
  const [a, b] = [cold, await loadUpload(current)];
  if (!a.document || !b.document) throw new Error("generated contract does not load");
  const [ca, cb] = [await normalise(a.document), await normalise(b.document)];
  const parseMs = await time(5, () => loadUpload(current));
  const normaliseMs = await time(5, () => normalise(b.document!));
  const theirs = [await theirDocument(previous), await theirDocument(current)];
  const [compareMs, theirMs] = await timeBoth(7, () => compare(ca, cb), theirDiffRun(theirs[0], theirs[1]));
  // Whole check as the portal runs it on a submission: the previous version is stored, the new one is parsed.
  const checkMs = await time(5, async () => {
    const loaded = await loadUpload(current);
    compare(ca, await normalise(loaded.document!));
  });
  // And from two texts, both parsed.
  const checkBothMs = await time(3, async () => {
    const [x, y] = [await loadUpload(previous), await loadUpload(current)];
    compare(await normalise(x.document!), await normalise(y.document!));
  });
  const report = compare(ca, cb);
  const large = {
    bytes: Buffer.byteLength(current),
    channels: Object.keys(cb.channels).length,
    validation: b.validation,
    coldParseMs: round(coldParseMs),
    parseMs: round(parseMs),
    normaliseMs: round(normaliseMs),
    compareMs: round(compareMs),
    checkMs: round(checkMs),
    checkBothMs: round(checkBothMs),
    asyncapiDiffMs: round(theirMs),
    compareOverAsyncapiDiff: round(compareMs / theirMs, 3),
    findings: report.findings.length,
    compatible: report.compatible,
  };
  summary.push(
    `generated ${large.channels} channels, ${(large.bytes / 1e6).toFixed(2)} MB (${large.validation} validation): parse ${large.parseMs} ms (cold ${large.coldParseMs} ms), normalise ${large.normaliseMs} ms, compare ${large.compareMs} ms vs @asyncapi/diff ${large.asyncapiDiffMs} ms (ratio ${large.compareOverAsyncapiDiff}); whole check ${large.checkMs} ms with the previous version stored, ${large.checkBothMs} ms parsing both; ${large.findings} findings`,
  );
  const worstRatio = Math.max(large.compareOverAsyncapiDiff, ...pairs.flatMap((p) => (p.compareOverAsyncapiDiff === null ? [] : [p.compareOverAsyncapiDiff])));
  summary.push(`targets: compare no slower than @asyncapi/diff (worst ratio ${worstRatio}: ${worstRatio <= 1 ? "met" : "NOT met"}); whole check of the 2 MB contract under 1 s (${large.checkMs} ms: ${large.checkMs < 1000 ? "met" : "NOT met"}; parsing both sides ${large.checkBothMs} ms)`);
  return { name: "engine", summary, figures: { pairs, large, worstCompareRatio: worstRatio } };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const result = await run();
  for (const line of result.summary) console.log(line);
  const outDir = path.join(ROOT, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, "engine.json"), `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`);
  console.log("results: bench/results/engine.json");
}
