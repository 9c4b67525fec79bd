/**
 * Drift engine benchmark (`npm run bench -- drift`):
 * (a) topic matching: 1,000,000 concrete topics against 10,000 channel templates (TemplateIndex) and 10,000
 *     subscription filters (FilterIndex), beside a loop over precompiled RegExps of the same templates and
 *     filters; the RegExp loop runs on a deterministic subset of the topics and throughput is compared per topic.
 *     Target ≥ 50× faster.
 * (b) payload validation: 1,000,000 sampled payloads (JSON text → parse → check) through PayloadValidators.check
 *     beside JSON.parse + the compiled ajv functions called directly, interleaved rounds, medians. Target ≥ 0.9.
 * (c) evaluation of one report batch (2,000 observed templates) against a catalog of 10,000 channels, the catalog
 *     compiled once outside the timing; p50/p95 over the runs. Target p95 < 50 ms.
 */
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { cpus, loadavg } from "node:os";
import { compileDriftCatalog, evaluateObservedTopics, PayloadValidators, type DeclaredFlow, type DriftApp, type DriftCatalog, type ObservedTopic, type OtherVersionFlow, type StoredSchema } from "../registry/drift/index.ts";
import { FilterIndex, TemplateIndex } from "../registry/topics/index.ts";
import type { BenchResult } from "./run.ts";
import { median, percentile, round } from "./stats.ts";

const TEMPLATES = 10_000;
const FILTERS = 10_000;
const TOPICS = 1_000_000;
const REGEX_TOPICS = 2_000;

const PAYLOADS = 1_000_000;
const VALIDATION_ROUNDS = 20;
const SCHEMAS = 10;
const DISTINCT_PAYLOADS = 1_000;

const CATALOG_APPS = 500;
const CHANNELS_PER_APP = 20;
const BATCH = 2_000;
const EVAL_WARMUP = 5;
const EVAL_RUNS = 40;

/** A small deterministic generator (mulberry32), so every run benches the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// --- (a) topic matching -------------------------------------------------------------------------------------------

const REGIONS = 20;
const PLANTS = 50;
const METRICS = 10;

/** Template i: `r{a}/p{b}/{line}/m{c}`, every third with a partial-level parameter (`line-{n}`), every seventh one level deeper. */
function template(i: number): string {
  const a = i % REGIONS;
  const b = Math.floor(i / REGIONS) % PLANTS;
  const c = Math.floor(i / (REGIONS * PLANTS)) % METRICS;
  const line = i % 3 === 0 ? "line-{n}" : "{line}";
  return i % 7 === 0 ? `r${a}/p${b}/${line}/m${c}/{unit}` : `r${a}/p${b}/${line}/m${c}`;
}

function filters(count: number, random: () => number): string[] {
  const out = new Set<string>();
  while (out.size < count) {
    const a = Math.floor(random() * REGIONS);
    const b = Math.floor(random() * PLANTS * 2);
    const c = Math.floor(random() * METRICS);
    const shape = Math.floor(random() * 5);
    const line = `line-${Math.floor(random() * 40)}`;
    out.add([`r${a}/p${b}/+/m${c}`, `r${a}/p${b}/#`, `r${a}/+/${line}/m${c}`, `+/p${b}/${line}/#`, `r${a}/p${b}/${line}/m${c}/u${Math.floor(random() * 20)}`][shape]!);
  }
  return [...out];
}

function topics(count: number, random: () => number): string[] {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const a = Math.floor(random() * REGIONS);
    // one plant in two has no channel: some topics match nothing
    const b = Math.floor(random() * PLANTS * 2);
    const line = random() < 0.5 ? `line-${Math.floor(random() * 40)}` : `l${Math.floor(random() * 40)}`;
    const c = Math.floor(random() * METRICS);
    out[i] = random() < 0.15 ? `r${a}/p${b}/${line}/m${c}/u${Math.floor(random() * 20)}` : `r${a}/p${b}/${line}/m${c}`;
  }
  return out;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The RegExp a naive implementation builds for a template: a parameter is one or more characters without `/`. */
function templateRegExp(address: string): RegExp {
  return new RegExp(`^${address.split(/\{[^}]+\}/).map(escapeRegExp).join("[^/]+")}$`);
}

/** The RegExp of an MQTT filter: `+` one level, a trailing `/#` the parent and everything below. */
function filterRegExp(filter: string): RegExp {
  const levels = filter.split("/");
  const multi = levels[levels.length - 1] === "#";
  const body = (multi ? levels.slice(0, -1) : levels).map((l) => (l === "+" ? "[^/]*" : escapeRegExp(l))).join("/");
  return new RegExp(multi ? `^${body}(?:/.*)?$` : `^${body}$`);
}

function measureMatching() {
  const random = prng(11);
  const addresses = Array.from({ length: TEMPLATES }, (_, i) => template(i));
  const filterList = filters(FILTERS, random);
  const topicList = topics(TOPICS, random);
  const buildStart = performance.now();
  const templateIndex = new TemplateIndex<number>();
  addresses.forEach((a, i) => templateIndex.add(a, i));
  const filterIndex = new FilterIndex<number>();
  filterList.forEach((f, i) => filterIndex.set(f, i));
  const buildMs = performance.now() - buildStart;
  const templateRes = addresses.map(templateRegExp);
  const filterRes = filterList.map(filterRegExp);

  const indexed = (list: readonly string[]) => {
    let hits = 0;
    const start = performance.now();
    for (const t of list) hits += templateIndex.matchTopic(t).length + filterIndex.matchTopic(t).length;
    return { ms: performance.now() - start, hits };
  };
  const regex = (list: readonly string[]) => {
    let hits = 0;
    const start = performance.now();
    for (const t of list) {
      for (const re of templateRes) if (re.test(t)) hits++;
      for (const re of filterRes) if (re.test(t)) hits++;
    }
    return { ms: performance.now() - start, hits };
  };
  const stride = Math.floor(TOPICS / REGEX_TOPICS);
  const subset = Array.from({ length: REGEX_TOPICS }, (_, i) => topicList[i * stride]!);
  // warm both paths on a tenth of the subset
  indexed(subset.slice(0, REGEX_TOPICS / 10));
  regex(subset.slice(0, REGEX_TOPICS / 10));
  const all = indexed(topicList);
  const baseline = regex(subset);
  // both answer the same on the subset
  const check = { index: indexed(subset).hits, regex: baseline.hits };
  if (check.index !== check.regex) throw new Error(`index and RegExp loop disagree: ${check.index} vs ${check.regex} matches`);
  const indexPerTopicUs = (all.ms * 1000) / TOPICS;
  const regexPerTopicUs = (baseline.ms * 1000) / REGEX_TOPICS;
  return {
    templates: TEMPLATES,
    filters: FILTERS,
    topics: TOPICS,
    regexTopics: REGEX_TOPICS,
    indexBuildMs: round(buildMs, 1),
    indexMs: round(all.ms, 1),
    indexMatches: all.hits,
    indexTopicsPerSecond: round(TOPICS / (all.ms / 1000), 0),
    regexMs: round(baseline.ms, 1),
    regexTopicsPerSecond: round(REGEX_TOPICS / (baseline.ms / 1000), 0),
    indexPerTopicUs: round(indexPerTopicUs, 3),
    regexPerTopicUs: round(regexPerTopicUs, 1),
    subsetMatches: check.index,
    ratio: round(regexPerTopicUs / indexPerTopicUs, 1),
  };
}

// --- (b) payload validation ---------------------------------------------------------------------------------------

const JSON_FORMAT = "application/schema+json;version=draft-07";

/** Schema k: a reading with a few typed fields, a nested object and an array. */
function readingSchema(k: number): Record<string, unknown> {
  return {
    type: "object",
    properties: {
      sensor: { type: "string", minLength: 1 },
      value: { type: "number", minimum: -100, maximum: 1000 + k },
      unit: { type: "string", enum: ["C", "F", "K"] },
      at: { type: "string" },
      status: { type: "object", properties: { ok: { type: "boolean" }, code: { type: "integer" } }, required: ["ok"] },
      tags: { type: "array", items: { type: "string" }, maxItems: 10 },
    },
    required: ["sensor", "value", "unit"],
  };
}

function payloadTexts(random: () => number): string[] {
  return Array.from({ length: DISTINCT_PAYLOADS }, (_, i) => {
    const bad = random() < 0.1;
    return JSON.stringify({
      sensor: `s-${i}`,
      value: bad ? "high" : Math.round(random() * 50000) / 100,
      unit: ["C", "F", "K"][i % 3],
      at: "2026-12-01T10:00:00.000Z",
      status: { ok: random() < 0.9, code: Math.floor(random() * 10) },
      tags: ["line", `l${i % 40}`],
    });
  });
}

function measureValidation() {
  const schemas = Array.from({ length: SCHEMAS }, (_, k) => readingSchema(k));
  const stored: StoredSchema[] = schemas.map((schema) => ({ format: JSON_FORMAT, schema }));
  const validators = new PayloadValidators((id) => stored[id]);
  const ajv = addFormats(new Ajv({ strict: false, allErrors: false, allowUnionTypes: true, validateSchema: false, addUsedSchema: false }));
  const direct: ValidateFunction[] = schemas.map((s) => ajv.compile(s));
  const texts = payloadTexts(prng(23));
  const perRound = PAYLOADS / VALIDATION_ROUNDS;

  const viaCheck = () => {
    let failed = 0;
    const start = performance.now();
    for (let i = 0; i < perRound; i++) {
      const result = validators.check(i % SCHEMAS, JSON.parse(texts[i % DISTINCT_PAYLOADS]!));
      if (result.valid === false) failed++;
    }
    return { ms: performance.now() - start, failed };
  };
  const viaAjv = () => {
    let failed = 0;
    const start = performance.now();
    for (let i = 0; i < perRound; i++) {
      const validate = direct[i % SCHEMAS]!;
      if (!validate(JSON.parse(texts[i % DISTINCT_PAYLOADS]!))) failed++;
    }
    return { ms: performance.now() - start, failed };
  };
  // warm-up: compile, and let the JIT settle on both loops
  viaCheck();
  viaAjv();
  const checkRates: number[] = [];
  const ajvRates: number[] = [];
  const pairRatios: number[] = [];
  let failedCheck = 0;
  let failedAjv = 0;
  for (let r = 0; r < VALIDATION_ROUNDS; r++) {
    const pair = r % 2 === 0 ? [viaCheck(), viaAjv()] : [viaAjv(), viaCheck()].reverse();
    const [c, a] = pair as [{ ms: number; failed: number }, { ms: number; failed: number }];
    checkRates.push(perRound / (c.ms / 1000));
    ajvRates.push(perRound / (a.ms / 1000));
    // the two halves of a round run back to back, under the same load
    pairRatios.push(a.ms / c.ms);
    failedCheck += c.failed;
    failedAjv += a.failed;
  }
  if (failedCheck !== failedAjv) throw new Error(`check and ajv disagree: ${failedCheck} vs ${failedAjv} failures`);
  const checkPerSecond = median(checkRates);
  const ajvPerSecond = median(ajvRates);
  return {
    payloads: PAYLOADS,
    rounds: VALIDATION_ROUNDS,
    schemas: SCHEMAS,
    failedPayloads: failedCheck,
    checkPayloadsPerSecond: round(checkPerSecond, 0),
    ajvPayloadsPerSecond: round(ajvPerSecond, 0),
    ratioOfMedians: round(checkPerSecond / ajvPerSecond, 3),
    /** median over the rounds of (check throughput / ajv throughput) */
    ratio: round(median(pairRatios), 3),
  };
}

// --- (c) evaluation of a batch ------------------------------------------------------------------------------------

function evaluationFixture() {
  const random = prng(37);
  const apps: DriftApp[] = Array.from({ length: CATALOG_APPS }, (_, k) => ({ id: `app-${k}`, slug: `app-${k}`, name: `Application ${k}`, teamId: `team-${k % 40}` }));
  const stored: StoredSchema[] = Array.from({ length: SCHEMAS }, (_, k) => ({ format: JSON_FORMAT, schema: readingSchema(k) }));
  const flows: DeclaredFlow[] = [];
  const otherVersions: OtherVersionFlow[] = [];
  let channel = 0;
  for (const app of apps) {
    for (let j = 0; j < CHANNELS_PER_APP; j++, channel++) {
      const address = template(channel);
      const schemaId = channel % SCHEMAS;
      const base = { versionId: `${app.id}@2.0.0`, version: "2.0.0", channel: address, messageKey: "reading", payloadSchemaId: schemaId, payloadFormat: JSON_FORMAT, publishedAt: "2026-11-01T00:00:00.000Z" };
      flows.push({ ...base, application: app, action: "send" });
      const reader = apps[(Number(app.id.slice(4)) + 1) % CATALOG_APPS]!;
      flows.push({ ...base, application: reader, versionId: `${reader.id}@2.0.0`, action: "receive" });
      if (j % 4 === 0) otherVersions.push({ applicationId: app.id, versionId: `${app.id}@1.0.0`, version: "1.0.0", relation: "older", channel: address, action: "send", messageKey: "reading", payloadSchemaId: (schemaId + 1) % SCHEMAS, payloadFormat: JSON_FORMAT });
    }
  }
  const mapClient = (clientId: string): readonly DriftApp[] => {
    const k = Number(clientId.split("-")[1]);
    return Number.isInteger(k) && k >= 0 && k < CATALOG_APPS ? [apps[k]!] : [];
  };
  const catalog: DriftCatalog = { flows, otherVersions, applications: apps, mapClient };
  const texts = payloadTexts(prng(41));
  const inferred = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: { sensor: { type: "string" }, value: { type: "number" }, unit: { type: "string" }, at: { type: "string" }, status: { type: "object", properties: { ok: { type: "boolean" }, code: { type: "integer" } } }, tags: { type: "array", items: { type: "string" } } },
  };
  const withExtra = { ...inferred, properties: { ...inferred.properties, humidity: { type: "number" } } };
  const batch: ObservedTopic[] = Array.from({ length: BATCH }, (_, i) => {
    // one in ten templates is undocumented
    const c = Math.floor(random() * TEMPLATES);
    const undocumented = i % 10 === 0;
    const address = undocumented ? `x${i}/p/{p1}/m` : template(c).replace(/\{[^}]+\}/g, "{p1}");
    const listed = Array.from({ length: 5 }, (_, j) => address.replace(/\{p1\}/g, `${j}`).replace(/line-\{n\}/g, `line-${j}`));
    const owner = Math.floor(c / CHANNELS_PER_APP);
    return {
      brokerId: `broker-${i % 3}`,
      template: address,
      topics: listed,
      distinctTopics: i % 5 === 0 ? 40 : listed.length,
      messages: 100,
      firstSeen: "2026-12-01T09:00:00.000Z",
      lastSeen: "2026-12-01T10:00:00.000Z",
      // drift in one template of ten: an undocumented field, a producer of another application; an unknown client in one of twenty
      schema: i % 10 === 3 ? withExtra : inferred,
      samples: [0, 1, 2].map((j) => ({ at: "2026-12-01T10:00:00.000Z", encoding: "json" as const, payload: texts[(i * 3 + j) % DISTINCT_PAYLOADS]!, truncated: false, redacted: false })),
      producers: [{ clientId: `app-${owner}-a`, messages: 90 }, { clientId: i % 20 === 1 ? `stranger-${i}` : i % 10 === 5 ? `app-${(owner + 7) % CATALOG_APPS}-b` : `app-${owner}-b`, messages: 10 }],
      consumers: [{ clientId: `app-${(owner + 1) % CATALOG_APPS}-c`, filter: "r/+/#" }],
      knowsProducers: true,
      knowsConsumers: true,
    };
  });
  return { catalog, stored, batch };
}

function measureEvaluation() {
  const { catalog, stored, batch } = evaluationFixture();
  const compileStart = performance.now();
  const compiled = compileDriftCatalog(catalog);
  const compileMs = performance.now() - compileStart;
  const validators = new PayloadValidators((id) => stored[id]);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let findings = 0;
  const byRule: Record<string, number> = {};
  const loadBefore = loadavg()[0]!;
  let firstRunMs = 0;
  for (let r = 0; r < EVAL_WARMUP + EVAL_RUNS; r++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const result = evaluateObservedTopics(compiled, batch, validators);
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (r === 0) firstRunMs = ms;
    if (r >= EVAL_WARMUP) {
      times.push(ms);
      cpuTimes.push((used.user + used.system) / 1000);
    }
    if (r === 0) {
      findings = result.findings.length;
      for (const f of result.findings) byRule[f.subject.rule] = (byRule[f.subject.rule] ?? 0) + 1;
    }
  }
  return {
    channels: compiled.channels.size,
    flows: catalog.flows.length,
    batch: BATCH,
    runs: EVAL_RUNS,
    compileMs: round(compileMs, 1),
    findings,
    byRule,
    /** the first evaluation after compiling: schemas compiled, topic channels not yet remembered */
    firstRunMs: round(firstRunMs, 1),
    p50Ms: round(median(times), 2),
    p95Ms: round(percentile(times, 0.95), 2),
    // CPU time of the process per run: what the evaluation costs when it does not wait for a core
    cpuP50Ms: round(median(cpuTimes), 2),
    cpuP95Ms: round(percentile(cpuTimes, 0.95), 2),
    cores: cpus().length,
    loadAverage: round((loadBefore + loadavg()[0]!) / 2, 1),
  };
}
import { measureTopologyPage } from "./topology-page.ts";

export async function run(): Promise<BenchResult> {
  const matching = measureMatching();
  const validation = measureValidation();
  const evaluation = measureEvaluation();
  const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
  const summary = [
    `(a) ${matching.topics.toLocaleString("en")} concrete topics against ${matching.templates.toLocaleString("en")} channel templates (TemplateIndex) and ${matching.filters.toLocaleString("en")} subscription filters (FilterIndex); indexes built in ${matching.indexBuildMs} ms`,
    `    index: ${matching.indexMs} ms, ${matching.indexPerTopicUs} µs/topic (${matching.indexTopicsPerSecond.toLocaleString("en")} topics/s), ${matching.indexMatches.toLocaleString("en")} matches`,
    `    precompiled RegExp loop over the same templates and filters, on a deterministic subset of ${matching.regexTopics.toLocaleString("en")} topics (every ${TOPICS / REGEX_TOPICS}th; both agree on its ${matching.subsetMatches} matches): ${matching.regexMs} ms, ${matching.regexPerTopicUs} µs/topic`,
    `    per-topic throughput ratio: ${matching.ratio}× (target ≥ 50×: ${verdict(matching.ratio >= 50)})`,
    `(b) ${validation.payloads.toLocaleString("en")} sampled payloads, JSON text → JSON.parse → check, ${validation.schemas} schemas, ${validation.rounds} interleaved rounds, medians (${validation.failedPayloads.toLocaleString("en")} failures, same in both)`,
    `    PayloadValidators.check: ${validation.checkPayloadsPerSecond.toLocaleString("en")}/s | compiled ajv called directly: ${validation.ajvPayloadsPerSecond.toLocaleString("en")}/s | median of the per-round ratios ${validation.ratio} (target ≥ 0.9: ${verdict(validation.ratio >= 0.9)}; ratio of the medians ${validation.ratioOfMedians})`,
    `(c) one report batch of ${evaluation.batch.toLocaleString("en")} observed templates (5 listed topics, 3 samples, an inferred schema, producers and consumers each) against ${evaluation.channels.toLocaleString("en")} channels (${evaluation.flows.toLocaleString("en")} flows), compiled once in ${evaluation.compileMs} ms; the first evaluation (schemas compiled, channels of the topics remembered by the compiled catalog) took ${evaluation.firstRunMs} ms, then ${EVAL_WARMUP} warm-up runs`,
    `    evaluateObservedTopics: p50 ${evaluation.p50Ms} ms, p95 ${evaluation.p95Ms} ms over ${evaluation.runs} runs (target p95 < 50 ms: ${verdict(evaluation.p95Ms < 50)}); CPU time p50 ${evaluation.cpuP50Ms} ms, p95 ${evaluation.cpuP95Ms} ms; load average ${evaluation.loadAverage} on ${evaluation.cores} cores`,
    `    ${evaluation.findings} findings per run (${Object.entries(evaluation.byRule).map(([k, v]) => `${k} ${v}`).join(", ")})`,
  ];
  const topology = await measureTopologyPage();
  summary.push(`(d) topology page over ${JSON.stringify(topology.seeded)}: ${JSON.stringify(topology.graph)}`);
  summary.push(`    server (median ms): ${JSON.stringify(topology.server)}`);
  summary.push(`    first render in headless Chromium (median ms): ${JSON.stringify(topology.browser)}`);
  return { name: "drift", summary, figures: { matching, validation, evaluation, topology } };
}
