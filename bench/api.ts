import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { besideBaseline } from "./load.ts";
import { createScratchDatabase, findPostgresBinaries, startTemporaryPostgres } from "../db/testing/postgres-server.ts";
import { ensureBuild, startBenchPortal } from "./portal.ts";
import type { BenchResult } from "./run.ts";

const CONNECTIONS = 10;
const SECONDS_PER_ROUND = 4;
const ROUNDS = 3;

/** Starts a production portal on the given database, creates a read token, and measures both routes. */
async function measure(label: string, env: Record<string, string>) {
  const portal = await startBenchPortal(env, ["read"]);
  const { base, token } = portal;
  try {
    const load = { connections: CONNECTIONS, seconds: SECONDS_PER_ROUND, rounds: ROUNDS };
    const measured = await besideBaseline(label, { url: `${base}/api/v1/ping` }, { url: `${base}/api/v1/whoami`, headers: { authorization: `Bearer ${token}` } }, load);
    return { label, ...measured };
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
