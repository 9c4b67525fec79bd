import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { median, round } from "./stats.ts";

/*
 * Load for the HTTP benchmarks. autocannon runs in a child process of its own, so the CPU it takes is measured
 * (process.cpuUsage() in the child) instead of hidden in the benchmark's process; on a machine with two cores or
 * more, the server and the load generator are pinned to different cores (taskset) so they do not take turns on one.
 */

interface Sample {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  requests: number;
  /** CPU the server process used during the sample, µs */
  serverCpuUs: number | null;
  /** CPU the load generator used during the sample, µs, and how long it ran, µs */
  loadCpuUs: number;
  loadWallUs: number;
}

/** What one route did under load: medians over the rounds. */
export interface LoadFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** server CPU per request, µs (null when the server's process is not known) */
  serverCpuUsPerRequest: number | null;
  /** CPU the load generator took, % of one core */
  loadCpuPercent: number;
}

export interface RouteUnderLoad {
  url: string;
  headers?: Record<string, string>;
  /** the server's process id: its CPU is read from /proc around each sample */
  serverPid?: number;
}

/** Where the server and the load generator run: cores given to taskset, or unpinned (and why). */
export interface Placement {
  /** taskset's core list for the server, or null when unpinned */
  server: string | null;
  /** taskset's core list for the load generator, or null when unpinned */
  load: string | null;
  note: string;
}

let placement: Placement | undefined;

/** Server on core 0, load on core 1, when taskset exists and there are two cores; otherwise unpinned, saying why. */
export function cpuPlacement(): Placement {
  if (placement) return placement;
  const cores = os.availableParallelism();
  const taskset = spawnSync("taskset", ["-c", "0", "true"], { stdio: "ignore" });
  if (taskset.error || taskset.status !== 0) placement = { server: null, load: null, note: "unpinned: taskset is not available" };
  else if (cores < 2) placement = { server: null, load: null, note: "unpinned: one core only, the load generator shares the server's" };
  else {
    const load = cores > 2 ? `1-${cores - 1}` : "1";
    placement = { server: "0", load, note: `server pinned to core 0, load generator to core${cores > 2 ? "s" : ""} ${load} (taskset)` };
  }
  return placement;
}

/** The command that runs `args` (a program and its arguments) on the given cores, unpinned when null. */
export function pinned(cores: string | null, args: [string, ...string[]]): [string, string[]] {
  return cores === null ? [args[0], args.slice(1)] : ["taskset", ["-c", cores, ...args]];
}

let ticksPerSecond: number | undefined;

/** CPU a process has used so far (all its threads), µs, from /proc; null when it cannot be read. */
export function processCpuUs(pid: number): number | null {
  try {
    ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / ticksPerSecond : null;
  } catch {
    return null;
  }
}

// The load generator's process: plain Node, only autocannon loaded, its own CPU measured around the run.
const LOAD_CHILD = `
const autocannon = require("autocannon");
const options = JSON.parse(process.argv[1]);
const cpu = process.cpuUsage();
const started = process.hrtime.bigint();
autocannon(options).then((result) => {
  const used = process.cpuUsage(cpu);
  process.stdout.write(JSON.stringify({
    requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99,
    non2xx: result.non2xx, errors: result.errors, requests: result.requests.total,
    loadCpuUs: used.user + used.system, loadWallUs: Number(process.hrtime.bigint() - started) / 1000,
  }));
}, (error) => { console.error(error); process.exit(1); });
`;

/** One run of autocannon against a route, in its own (pinned) process, with the CPU of both sides. */
export async function sample(route: RouteUnderLoad, connections: number, seconds: number): Promise<Sample> {
  const options = JSON.stringify({ url: route.url, connections, duration: seconds, headers: route.headers ?? {} });
  const [command, args] = pinned(cpuPlacement().load, [process.execPath, "-e", LOAD_CHILD, options]);
  const serverBefore = route.serverPid === undefined ? null : processCpuUs(route.serverPid);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], cwd: process.cwd() });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  const serverAfter = route.serverPid === undefined ? null : processCpuUs(route.serverPid);
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  const result = JSON.parse(out) as Omit<Sample, "serverCpuUs">;
  return { ...result, serverCpuUs: serverBefore === null || serverAfter === null ? null : serverAfter - serverBefore };
}

const summarise = (samples: Sample[]): LoadFigures => {
  const perRequest = samples.map((s) => (s.serverCpuUs === null || s.requests === 0 ? null : s.serverCpuUs / s.requests));
  return {
    requestsPerSecond: round(median(samples.map((s) => s.requestsPerSecond)), 0),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    serverCpuUsPerRequest: perRequest.includes(null) ? null : round(median(perRequest as number[]), 0),
    loadCpuPercent: round(median(samples.map((s) => (100 * s.loadCpuUs) / s.loadWallUs)), 0),
  };
};

/**
 * A route beside its baseline under the same load: one warm-up each, then interleaved rounds so both see the
 * same machine noise. Any non-2xx answer or error fails the run.
 */
export async function besideBaseline(
  label: string,
  baseline: RouteUnderLoad,
  subject: RouteUnderLoad,
  { connections, seconds, rounds }: { connections: number; seconds: number; rounds: number },
): Promise<{ baseline: LoadFigures; subject: LoadFigures; throughputRatio: number }> {
  await sample(baseline, connections, seconds);
  await sample(subject, connections, seconds);
  const baselineSamples: Sample[] = [];
  const subjectSamples: Sample[] = [];
  for (let r = 0; r < rounds; r++) {
    baselineSamples.push(await sample(baseline, connections, seconds));
    subjectSamples.push(await sample(subject, connections, seconds));
  }
  const bad = [...baselineSamples, ...subjectSamples].reduce((n, s) => n + s.non2xx + s.errors, 0);
  if (bad > 0) throw new Error(`${bad} requests failed during the ${label} run`);
  const b = summarise(baselineSamples);
  const s = summarise(subjectSamples);
  return { baseline: b, subject: s, throughputRatio: round(s.requestsPerSecond / b.requestsPerSecond, 3) };
}
