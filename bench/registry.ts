import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { besideBaseline } from "./load.ts";
import { createScratchDatabase, findPostgresBinaries, startTemporaryPostgres } from "../db/testing/postgres-server.ts";
import { checkCompatibility, parseSchema, type ParsedSchema, type SchemaType } from "../registry/schematypes/index.ts";
import { ensureBuild, startBenchPortal } from "./portal.ts";
import type { BenchResult } from "./run.ts";
import { median, percentile, round } from "./stats.ts";

// GET /schemas/ids/{id} beside a constant route.
const CONNECTIONS = 32;
const SECONDS_PER_ROUND = 4;
const ROUNDS = 3;
const BY_ID_TARGET = 0.8;

// Registration against a long FULL_TRANSITIVE history.
const BASE_FIELDS = 50;
const VERSIONS = 100;
const WARMUP = 3;
const CANDIDATES = 20;
const ENGINE_ROUNDS = 20;
const TYPES = ["JSON", "AVRO"] as const satisfies readonly SchemaType[];

const API = "/api/schema-registry";
const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

// --- Schemas ---------------------------------------------------------------------------------------------------

const BASE_TYPES = ["string", "integer", "number", "boolean"] as const;
const AVRO_TYPES: Record<(typeof BASE_TYPES)[number], string> = { string: "string", integer: "long", number: "double", boolean: "boolean" };

/**
 * A 50-field record plus the named optional fields. JSON: a partially open content model (additional properties
 * must be strings), so an added optional string property is covered both ways and FULL-compatible, as in
 * Confluent's rules. Avro: each added field is a nullable union with a default, so either side reads the other.
 */
function schemaText(type: (typeof TYPES)[number], extras: readonly string[]): string {
  const base = Array.from({ length: BASE_FIELDS }, (_, i) => ({ name: `f${i + 1}`, type: BASE_TYPES[i % BASE_TYPES.length]! }));
  if (type === "JSON") {
    const properties: Record<string, unknown> = {};
    for (const field of base) properties[field.name] = { type: field.type };
    for (const name of extras) properties[name] = { type: "string" };
    return JSON.stringify({
      $schema: "http://json-schema.org/draft-07/schema#",
      title: "Reading",
      type: "object",
      properties,
      required: base.slice(0, 10).map((f) => f.name),
      additionalProperties: { type: "string" },
    });
  }
  return JSON.stringify({
    type: "record",
    name: "Reading",
    namespace: "bench.registry",
    fields: [
      ...base.map((f) => ({ name: f.name, type: AVRO_TYPES[f.type] })),
      ...extras.map((name) => ({ name, type: ["null", "string"], default: null })),
    ],
  });
}

/** Version v (1-based) of the history: the base fields and v−1 added ones. */
const versionExtras = (v: number) => Array.from({ length: v - 1 }, (_, i) => `x${i + 1}`);
/** Candidate i for version 101: version 100 and one more optional field of its own. */
const candidateExtras = (i: number) => [...versionExtras(VERSIONS), `c${i}`];

// --- HTTP ------------------------------------------------------------------------------------------------------

/** Confluent clients send the token as the Basic password (the user name is ignored). */
const basicAuth = (token: string) => `Basic ${Buffer.from(`bench:${token}`).toString("base64")}`;

async function registry(base: string, auth: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base}${API}${route}`, {
    method,
    headers: { authorization: auth, accept: CONTENT_TYPE, ...(body === undefined ? {} : { "content-type": CONTENT_TYPE }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${API}${route} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

// --- a. GET /schemas/ids/{id} beside /api/v1/ping -----------------------------------------------------------

async function schemaById(base: string, auth: string) {
  const { id } = (await registry(base, auth, "POST", "/subjects/bench-value/versions", { schema: schemaText("AVRO", []) })) as { id: number };
  if (!Number.isInteger(id)) throw new Error(`registering bench-value answered no id: ${JSON.stringify(id)}`);
  const fetched = (await registry(base, auth, "GET", `/schemas/ids/${id}`)) as { schema?: string };
  if (typeof fetched.schema !== "string") throw new Error(`GET /schemas/ids/${id} answered no schema`);

  const headers = { authorization: auth, accept: CONTENT_TYPE };
  const load = { connections: CONNECTIONS, seconds: SECONDS_PER_ROUND, rounds: ROUNDS };
  const measured = await besideBaseline("schema-by-id", { url: `${base}/api/v1/ping` }, { url: `${base}${API}/schemas/ids/${id}`, headers }, load);
  return { id, ping: measured.baseline, byId: measured.subject, throughputRatio: measured.throughputRatio };
}

// --- b. Registration against 100 FULL_TRANSITIVE versions, beside one pairwise check -------------------------

const summary = (samples: number[]) => ({ p50Ms: round(median(samples), 2), p95Ms: round(percentile(samples, 0.95), 2) });

async function registration(base: string, auth: string, type: (typeof TYPES)[number]) {
  const subject = `bench-${type.toLowerCase()}-history-value`;
  const encoded = encodeURIComponent(subject);
  await registry(base, auth, "PUT", `/config/${encoded}`, { compatibility: "FULL_TRANSITIVE" });
  const build = performance.now();
  for (let v = 1; v <= VERSIONS; v++) {
    await registry(base, auth, "POST", `/subjects/${encoded}/versions`, { schema: schemaText(type, versionExtras(v)), schemaType: type });
  }
  const buildMs = performance.now() - build;
  const latest = (await registry(base, auth, "GET", `/subjects/${encoded}/versions/latest`)) as { version: number };
  if (latest.version !== VERSIONS) throw new Error(`${subject} holds ${latest.version} versions, not ${VERSIONS}`);

  const register: number[] = [];
  const pairwise: number[] = [];
  for (let i = 0; i < WARMUP + CANDIDATES; i++) {
    const body = { schema: schemaText(type, candidateExtras(i)), schemaType: type };
    const check = await timed(() => registry(base, auth, "POST", `/compatibility/subjects/${encoded}/versions/latest`, body));
    if ((check.value as { is_compatible?: boolean }).is_compatible !== true) {
      throw new Error(`candidate ${i} of ${subject} is not compatible with the latest version: ${JSON.stringify(check.value)}`);
    }
    const added = await timed(() => registry(base, auth, "POST", `/subjects/${encoded}/versions`, body));
    if (!Number.isInteger((added.value as { id?: number }).id)) throw new Error(`registering candidate ${i} of ${subject} answered no id`);
    // Back to 100 versions, so every candidate is a version 101 against the same history.
    const version = await registry(base, auth, "DELETE", `/subjects/${encoded}/versions/latest`);
    if (version !== VERSIONS + 1) throw new Error(`deleting the latest version of ${subject} answered ${JSON.stringify(version)}`);
    await registry(base, auth, "DELETE", `/subjects/${encoded}/versions/${VERSIONS + 1}?permanent=true`);
    if (i >= WARMUP) {
      pairwise.push(check.ms);
      register.push(added.ms);
    }
  }
  return { subject, buildVersionsMs: round(buildMs, 0), register: summary(register), pairwise: summary(pairwise) };
}

/** The pure engine on the same inputs: the candidate against all 100 versions, and against the latest only. */
function engine(type: (typeof TYPES)[number]) {
  const parse = (text: string): ParsedSchema => {
    const outcome = parseSchema({ schemaType: type, schema: text, references: [] });
    if (!outcome.ok) throw new Error(`the engine refused a ${type} bench schema: ${outcome.message}`);
    return outcome.schema;
  };
  const earlier = Array.from({ length: VERSIONS }, (_, v) => parse(schemaText(type, versionExtras(v + 1))));
  const transitive: number[] = [];
  const pairwise: number[] = [];
  const parsing: number[] = [];
  for (let i = 0; i < WARMUP + ENGINE_ROUNDS; i++) {
    const text = schemaText(type, candidateExtras(i));
    const start = performance.now();
    const candidate = parse(text);
    const parsed = performance.now();
    const all = checkCompatibility("FULL_TRANSITIVE", candidate, earlier);
    const checked = performance.now();
    const one = checkCompatibility("FULL_TRANSITIVE", candidate, earlier.slice(-1));
    const done = performance.now();
    if (!all.compatible || !one.compatible) throw new Error(`the engine finds ${type} candidate ${i} incompatible: ${[...all.messages, ...one.messages].join("; ")}`);
    if (i >= WARMUP) {
      parsing.push(parsed - start);
      transitive.push(checked - parsed);
      pairwise.push(done - checked);
    }
  }
  return { parseCandidate: summary(parsing), transitive: summary(transitive), pairwise: summary(pairwise) };
}

// --- Run -------------------------------------------------------------------------------------------------------

async function measure(label: string, env: Record<string, string>, engines: Record<string, ReturnType<typeof engine>>) {
  const portal = await startBenchPortal(env, ["admin"]);
  try {
    const auth = basicAuth(portal.token);
    const byId = await schemaById(portal.base, auth);
    const registrations = [];
    for (const type of TYPES) {
      const api = await registration(portal.base, auth, type);
      const pure = engines[type]!;
      registrations.push({
        type,
        ...api,
        engine: pure,
        ratios: {
          registerVsPairwise: round(api.register.p50Ms / api.pairwise.p50Ms, 2),
          registerVsEngineTransitive: round(api.register.p50Ms / pure.transitive.p50Ms, 2),
        },
      });
    }
    return { label, byId, registrations };
  } finally {
    await portal.stop();
  }
}

/** The registry benchmark: schema by id beside a constant route; registering on a long history beside a pairwise check and the engine. */
export async function run(): Promise<BenchResult> {
  ensureBuild();
  const engines = Object.fromEntries(TYPES.map((type) => [type, engine(type)]));
  const runs = [];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "meshport-bench-"));
  try {
    runs.push(await measure("pglite", { MESHPORT_DATA_DIR: dataDir, DATABASE_URL: "" }, engines));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (findPostgresBinaries()) {
    const server = await startTemporaryPostgres();
    const scratchDir = mkdtempSync(path.join(os.tmpdir(), "meshport-bench-"));
    try {
      const scratch = await createScratchDatabase(server.url, "meshport_bench_registry");
      runs.push(await measure("postgres", { DATABASE_URL: scratch.url, MESHPORT_DATA_DIR: scratchDir }, engines));
    } finally {
      await server.stop();
      rmSync(scratchDir, { recursive: true, force: true });
    }
  }
  const lines = [
    `schema by id: autocannon, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS_PER_ROUND} s per route, Basic auth with a token, loopback; target ratio ≥ ${BY_ID_TARGET}`,
    ...runs.map(
      ({ label, byId: r }) =>
        `${label.padEnd(8)} ping ${r.ping.requestsPerSecond} req/s (p50 ${r.ping.p50Ms} ms, p99 ${r.ping.p99Ms} ms) | ` +
        `schemas/ids/${r.id} ${r.byId.requestsPerSecond} req/s (p50 ${r.byId.p50Ms} ms, p99 ${r.byId.p99Ms} ms) | ratio ${r.throughputRatio}` +
        (r.throughputRatio >= BY_ID_TARGET ? "" : " (below target)"),
    ),
    `registration: a ${BASE_FIELDS}-field schema, version ${VERSIONS + 1} of a subject whose ${VERSIONS} versions each add one optional field, FULL_TRANSITIVE; ` +
      `${CANDIDATES} candidates after ${WARMUP} warm-up, each beside one pairwise check (versions/latest) and the pure engine (${ENGINE_ROUNDS} rounds)`,
    ...runs.flatMap(({ label, registrations }) =>
      registrations.map(
        (r) =>
          `${label.padEnd(8)} ${r.type.padEnd(4)} register p50 ${r.register.p50Ms} ms (p95 ${r.register.p95Ms}) | pairwise check p50 ${r.pairwise.p50Ms} ms (p95 ${r.pairwise.p95Ms}) | ` +
          `engine: 100 versions ${r.engine.transitive.p50Ms} ms, latest only ${r.engine.pairwise.p50Ms} ms, parse ${r.engine.parseCandidate.p50Ms} ms | ` +
          `register/pairwise ${r.ratios.registerVsPairwise}, register/engine ${r.ratios.registerVsEngineTransitive} | ${VERSIONS} versions built in ${r.buildVersionsMs} ms`,
      ),
    ),
  ];
  return {
    name: "registry",
    summary: lines,
    figures: {
      schemaById: { connections: CONNECTIONS, secondsPerRound: SECONDS_PER_ROUND, rounds: ROUNDS, targetRatio: BY_ID_TARGET },
      registration: {
        baseFields: BASE_FIELDS,
        versions: VERSIONS,
        level: "FULL_TRANSITIVE",
        candidates: CANDIDATES,
        warmup: WARMUP,
        engineRounds: ENGINE_ROUNDS,
        target: "no figure in the issue: reported beside one pairwise check and the pure engine walk over the same 100 versions",
      },
      runs,
    },
  };
}
