import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { createScratchDatabase, findPostgresBinaries, startTemporaryPostgres } from "../db/testing/postgres-server.ts";
import { ensureBuild, startBenchPortal } from "./portal.ts";
import type { BenchResult } from "./run.ts";
import { median, round } from "./stats.ts";

const CONNECTIONS = 10;
const SECONDS_PER_ROUND = 4;
const ROUNDS = 3;

interface Sample {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>): Promise<Sample> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS_PER_ROUND, headers });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Starts a production portal on the given database, creates a read token, and measures both routes. */
async function measure(label: string, env: Record<string, string>) {
  const portal = await startBenchPortal(env, ["read"]);
  const { base, token } = portal;
  try {
    const baseline = `${base}/api/v1/ping`;
    const subject = `${base}/api/v1/whoami`;
    const auth = { authorization: `Bearer ${token}` };
    await load(baseline, {});
    await load(subject, auth);
    // Interleaved rounds so both routes see the same machine noise.
    const baselineSamples: Sample[] = [];
    const subjectSamples: Sample[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baselineSamples.push(await load(baseline, {}));
      subjectSamples.push(await load(subject, auth));
    }
    const bad = [...baselineSamples, ...subjectSamples].reduce((n, s) => n + s.non2xx + s.errors, 0);
    if (bad > 0) throw new Error(`${bad} requests failed during the ${label} run`);
    const summarise = (samples: Sample[]) => ({
      requestsPerSecond: round(median(samples.map((s) => s.requestsPerSecond)), 0),
      p50Ms: median(samples.map((s) => s.p50Ms)),
      p99Ms: median(samples.map((s) => s.p99Ms)),
    });
    const b = summarise(baselineSamples);
    const s = summarise(subjectSamples);
    return { label, baseline: b, subject: s, throughputRatio: round(s.requestsPerSecond / b.requestsPerSecond, 3) };
  } finally {
    await portal.stop();
  }
}

/** The API benchmark: token lookup + whoami vs a constant route, same load, same run. */
export async function run(): Promise<BenchResult> {
  ensureBuild();
  const runs = [];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "meshport-bench-"));
  try {
    runs.push(await measure("pglite", { MESHPORT_DATA_DIR: dataDir, DATABASE_URL: "" }));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (findPostgresBinaries()) {
    const server = await startTemporaryPostgres();
    try {
      const scratch = await createScratchDatabase(server.url, "meshport_bench");
      runs.push(await measure("postgres", { DATABASE_URL: scratch.url, MESHPORT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "meshport-bench-")) }));
    } finally {
      await server.stop();
    }
  }
  const summary = [
    `load: autocannon, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS_PER_ROUND} s per route, loopback`,
    ...runs.map(
      (r) =>
        `${r.label.padEnd(8)} ping ${r.baseline.requestsPerSecond} req/s (p50 ${r.baseline.p50Ms} ms, p99 ${r.baseline.p99Ms} ms) | ` +
        `whoami+token ${r.subject.requestsPerSecond} req/s (p50 ${r.subject.p50Ms} ms, p99 ${r.subject.p99Ms} ms) | ratio ${r.throughputRatio}`,
    ),
  ];
  return { name: "api", summary, figures: { connections: CONNECTIONS, secondsPerRound: SECONDS_PER_ROUND, rounds: ROUNDS, runs } };
}
