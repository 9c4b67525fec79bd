import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPORT_JSON_LIMITS } from "../agents/protocol.ts";
import { parseBoundedJson } from "../lib/http/input.ts";
import { report as reportOf, topic } from "../lib/ingest/report-fixtures.ts";
import { cpuPlacement, sample } from "./load.ts";
import { ensureBuild, startBenchPortal, type BenchPortal } from "./portal.ts";
import type { BenchResult } from "./run.ts";
import { median, round } from "./stats.ts";

const CONNECTIONS = 10;
const SECONDS_PER_ROUND = 4;
const ROUNDS = 3;
const PARSE_RUNS = 15;

async function requestsPerSecond(url: string, headers: Record<string, string> = {}): Promise<number> {
  const result = await sample({ url, headers }, CONNECTIONS, SECONDS_PER_ROUND);
  if (result.non2xx + result.errors > 0) throw new Error(`${result.non2xx + result.errors} requests to ${url} failed`);
  return result.requestsPerSecond;
}

/** The same route through the portal's server (edge checks, client address) and through bare `next start`, interleaved. */
async function serverOverhead(route: string, auth: boolean) {
  const dirs = [mkdtempSync(path.join(os.tmpdir(), "meshport-bench-")), mkdtempSync(path.join(os.tmpdir(), "meshport-bench-"))];
  const portals: BenchPortal[] = [];
  try {
    // Both on the server's core; only one is under load at a time.
    const cpus = cpuPlacement().server;
    portals.push(await startBenchPortal({ MESHPORT_DATA_DIR: dirs[0]!, DATABASE_URL: "" }, ["read"], "next", { cpus }));
    portals.push(await startBenchPortal({ MESHPORT_DATA_DIR: dirs[1]!, DATABASE_URL: "" }, ["read"], "portal", { cpus }));
    const [bare, product] = portals as [BenchPortal, BenchPortal];
    const headers = (p: BenchPortal): Record<string, string> => (auth ? { authorization: `Bearer ${p.token}` } : {});
    await requestsPerSecond(`${bare.base}${route}`, headers(bare));
    await requestsPerSecond(`${product.base}${route}`, headers(product));
    const bareSamples: number[] = [];
    const productSamples: number[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      bareSamples.push(await requestsPerSecond(`${bare.base}${route}`, headers(bare)));
      productSamples.push(await requestsPerSecond(`${product.base}${route}`, headers(product)));
    }
    const b = round(median(bareSamples), 0);
    const p = round(median(productSamples), 0);
    return { route, nextStart: b, portalServer: p, ratio: round(p / b, 3) };
  } finally {
    for (const portal of portals) await portal.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** Parsing a full report batch with the nesting bound counted first, beside JSON.parse alone. */
function parseOverhead() {
  const topics = Array.from({ length: 2_000 }, (_, index) => topic(`plant/${index}/{p1}/temperature`, 100 + index));
  const end = new Date();
  const text = JSON.stringify(reportOf(1, topics, new Date(end.getTime() - 60_000).toISOString(), end.toISOString(), "bench-broker"));
  const time = (fn: () => unknown) => {
    const samples: number[] = [];
    for (let index = 0; index < PARSE_RUNS; index++) {
      const started = process.hrtime.bigint();
      fn();
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(samples);
  };
  time(() => JSON.parse(text));
  const plain = time(() => JSON.parse(text));
  const bounded = time(() => parseBoundedJson(text, "The report", REPORT_JSON_LIMITS.maxDepth));
  const bomb = "[".repeat(15 * 1024 * 1024);
  const refused = time(() => {
    try {
      parseBoundedJson(bomb, "The report", REPORT_JSON_LIMITS.maxDepth);
    } catch {
      // refused, as it must be
    }
  });
  // JSON.parse alone, to its end: a result, or the error it gives up with after building the nesting.
  const started = process.hrtime.bigint();
  try {
    JSON.parse(bomb);
  } catch {
    // expected: the text is not JSON
  }
  const bombParse = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    reportBytes: text.length,
    jsonParseMs: round(plain, 2),
    boundedParseMs: round(bounded, 2),
    ratio: round(bounded / plain, 3),
    bombRefusedMs: round(refused, 2),
    bombJsonParseMs: round(bombParse, 1),
  };
}

/** The cost of the hardening at the edge: the portal's server beside bare Next.js, and the bounded JSON parse. */
export async function run(): Promise<BenchResult> {
  ensureBuild();
  const parse = parseOverhead();
  const ping = await serverOverhead("/api/v1/ping", false);
  const whoami = await serverOverhead("/api/v1/whoami", true);
  const summary = [
    `load: autocannon in its own process, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS_PER_ROUND} s per server, loopback, PGlite; ${cpuPlacement().note}`,
    `ping is a dynamic route handler (constant JSON, no database): both servers run it on every request`,
    ...[ping, whoami].map((r) => `${r.route.padEnd(16)} next start ${r.nextStart} req/s | portal server ${r.portalServer} req/s | ratio ${r.ratio}`),
    `report of ${parse.reportBytes} bytes: JSON.parse ${parse.jsonParseMs} ms | nesting bound + parse ${parse.boundedParseMs} ms | ratio ${parse.ratio}`,
    `15 MB of brackets: refused in ${parse.bombRefusedMs} ms; JSON.parse alone takes ${parse.bombJsonParseMs} ms to fail`,
  ];
  return { name: "edge", summary, figures: { connections: CONNECTIONS, secondsPerRound: SECONDS_PER_ROUND, rounds: ROUNDS, ping, whoami, parse } };
}
