import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { besideBaseline, cpuPlacement, type LoadFigures } from "./load.ts";
import { createScratchDatabase, findPostgresBinaries, startTemporaryPostgres } from "../db/testing/postgres-server.ts";
import { ensureBuild, startBenchPortal } from "./portal.ts";
import type { BenchResult } from "./run.ts";

const CONNECTIONS = 10;
const SECONDS_PER_ROUND = 4;
const ROUNDS = 3;
/** whoami with a token must reach this share of the constant dynamic route's throughput */
const TARGET_RATIO = 0.8;

/**
 * The baseline must run a handler on every request: a pre-rendered answer would measure Next.js's static cache,
 * not the framework's ceiling for a route handler. Refuses a ping that says it came from a cache.
 */
async function assertDynamic(url: string): Promise<void> {
  const response = await fetch(url);
  await response.arrayBuffer();
  const cache = response.headers.get("x-nextjs-cache");
  const control = response.headers.get("cache-control") ?? "";
  if (!response.ok || cache !== null || response.headers.has("x-nextjs-prerender") || !/no-store/.test(control)) {
    throw new Error(`the baseline ${url} is served from a cache (x-nextjs-cache: ${cache}, cache-control: ${control}): make it dynamic`);
  }
}

/** Starts a production portal on the given database, creates a read token, and measures both routes. */
async function measure(label: string, env: Record<string, string>) {
  const portal = await startBenchPortal(env, ["read"], "portal", { cpus: cpuPlacement().server });
  const { base, token, pid } = portal;
  try {
    await assertDynamic(`${base}/api/v1/ping`);
    const load = { connections: CONNECTIONS, seconds: SECONDS_PER_ROUND, rounds: ROUNDS };
    const measured = await besideBaseline(
      label,
      { url: `${base}/api/v1/ping`, serverPid: pid },
      { url: `${base}/api/v1/whoami`, headers: { authorization: `Bearer ${token}` }, serverPid: pid },
      load,
    );
    return { label, ...measured };
  } finally {
    await portal.stop();
  }
}

const describe = (f: LoadFigures) =>
  `${f.requestsPerSecond} req/s (p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, server ${f.serverCpuUsPerRequest ?? "?"} µs CPU/req, load generator ${f.loadCpuPercent}% CPU)`;

/** The API benchmark: token lookup + whoami vs a dynamic constant route, same load, same run. */
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
    const pgDataDir = mkdtempSync(path.join(os.tmpdir(), "meshport-bench-"));
    try {
      const scratch = await createScratchDatabase(server.url, "meshport_bench");
      runs.push(await measure("postgres", { DATABASE_URL: scratch.url, MESHPORT_DATA_DIR: pgDataDir }));
    } finally {
      await server.stop();
      rmSync(pgDataDir, { recursive: true, force: true });
    }
  }
  const placement = cpuPlacement();
  const summary = [
    `load: autocannon in its own process, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS_PER_ROUND} s per route, loopback; ${placement.note}`,
    `baseline: /api/v1/ping, a dynamic route handler answering constant JSON (checked not to come from a cache)`,
    ...runs.flatMap((r) => [
      `${r.label.padEnd(8)} ping         ${describe(r.baseline)}`,
      `${r.label.padEnd(8)} whoami+token ${describe(r.subject)}`,
      `${r.label.padEnd(8)} ratio ${r.throughputRatio} (target ≥ ${TARGET_RATIO}: ${r.throughputRatio >= TARGET_RATIO ? "met" : "MISSED"})`,
    ]),
  ];
  return {
    name: "api",
    summary,
    figures: { connections: CONNECTIONS, secondsPerRound: SECONDS_PER_ROUND, rounds: ROUNDS, placement, targetRatio: TARGET_RATIO, runs },
  };
}
