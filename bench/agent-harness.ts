/**
 * Shared by the agent benchmarks (bench/agent.ts, bench/agent-amqp.ts): each side runs as the process a user would
 * run, measured from outside through /proc, the same way for both.
 *
 * - The bare client is a plain Node script (bench/bare-*.mjs: no TypeScript loader, no project modules) that
 *   subscribes as the agent does and counts; it prints when it has counted every message.
 * - The agent is the built agent (`node dist/agent/meshport-agent.mjs …`, built first if stale) reporting to the fake
 *   portal; it has seen every message once the reports of its windows account for them all.
 *
 * CPU (utime + stime of /proc/<pid>/stat) and bytes read (/proc/<pid>/io) are deltas from the start of the load to
 * the moment the side is done: for the agent, once the window holding the last message is flushed to the portal, so
 * closing that window (snapshot, schemas, gzip, POST) is part of its cost. Peak RSS is VmHWM of /proc/<pid>/status
 * then: the whole process (node and the modules it loaded), start-up included.
 *
 * A side that exits before it is done fails its run (with its exit code and the end of its stderr): its CPU and RSS
 * can no longer be read, and a crashed process must not pass for a cheap one. A run that received fewer messages than
 * were published is kept and marked lost; the ratio targets are not met while any run of the comparison lost some.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AgentReport } from "../agents/protocol.ts";
import type { FakePortal } from "../agents/testing/fake-portal.ts";
import { buildIsCurrent } from "../bin/build-current.mjs";
import { median, round } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The built agent, as `npm run build` leaves it. */
export const AGENT_ENTRY = path.join(ROOT, "dist", "agent", "meshport-agent.mjs");
/** Token the fake portal is started with. */
export const BENCH_TOKEN = "bench";
/** A side that never finishes (lost messages, a stuck process) is stopped after this long. */
const DONE_TIMEOUT_MS = 120_000;

const CLOCK_TICKS = (() => {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** What /proc says of a process at one moment. */
export interface ProcSample {
  at: number;
  cpuMs: number;
  /** bytes returned by read calls (sockets, pipes and files) and the number of read calls */
  rchar: number;
  syscr: number;
  rssBytes: number;
  peakRssBytes: number;
}

/** Reads a live process's CPU time, read counters and RSS from /proc. */
export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces and parentheses: fields are counted after its closing one.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
  return {
    at: Date.now(),
    cpuMs: (ticks * 1000) / CLOCK_TICKS,
    rchar: field(io, "rchar"),
    syscr: field(io, "syscr"),
    rssBytes: field(status, "VmRSS") * 1024,
    peakRssBytes: field(status, "VmHWM") * 1024,
  };
}

/** How much of a child's stderr a failed run quotes. */
const STDERR_TAIL_CHARS = 2_000;

/** A child process whose stdout is read line by line. */
interface Child {
  proc: ChildProcess;
  lines: string[];
  /** whether the process has exited (or was killed) */
  gone(): boolean;
  waitLine(predicate: (line: string) => boolean, timeoutMs: number, what: string): Promise<string>;
  /** `promise`, unless the process exits first: then the run fails */
  whileAlive<T>(promise: Promise<T>, what: string): Promise<T>;
  /** /proc figures of the live process; the run fails if it has exited */
  sample(what: string): Promise<ProcSample>;
  /** the error a run fails with when the process exited before it was done */
  exitError(what: string): Promise<Error>;
  stop(): Promise<void>;
}

function startChild(args: string[], env: Record<string, string> = {}): Child {
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const proc = spawn(process.execPath, [...profile, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let notify = () => {};
  proc.stdout!.setEncoding("utf8");
  proc.stdout!.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    notify();
  });
  // Still shown as it comes; its end is kept for the error of a run the process did not finish.
  let stderrTail = "";
  proc.stderr!.setEncoding("utf8");
  proc.stderr!.on("data", (chunk: string) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  const exited = once(proc, "exit");
  // "close" comes once the process has exited and all its output has been read.
  const closed = once(proc, "close");
  let isClosed = false;
  void closed.then(() => {
    isClosed = true;
    notify();
  });
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  const exitError = async (what: string) => {
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000))]);
    const how = proc.signalCode !== null ? `signal ${proc.signalCode}` : `exit code ${proc.exitCode ?? "unknown"}`;
    const tail = stderrTail.trim();
    return new Error(`${what}: the process exited before its run was done (${how})${tail ? `; its stderr ended with:\n${tail}` : "; it wrote nothing to stderr"}`);
  };
  return {
    proc,
    lines,
    gone,
    exitError,
    whileAlive(promise, what) {
      if (gone()) return exitError(what).then((err) => Promise.reject(err));
      let onExit = () => {};
      const died = new Promise<never>((_, reject) => {
        onExit = () => void exitError(what).then(reject);
        proc.once("exit", onExit);
      });
      return Promise.race([promise, died]).finally(() => proc.off("exit", onExit));
    },
    async sample(what) {
      if (!gone()) {
        try {
          return sampleProc(proc.pid!);
        } catch {
          // Gone between the check and the read.
        }
      }
      throw await exitError(what);
    },
    waitLine(predicate, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        let from = 0;
        const check = () => {
          for (; from < lines.length; from++) {
            if (predicate(lines[from]!)) {
              cleanup();
              return resolve(lines[from]!);
            }
          }
          // Every line it wrote has been read: the line will not come.
          if (isClosed) {
            cleanup();
            void exitError(what).then(reject);
          }
        };
        const timer = setTimeout(() => (cleanup(), reject(new Error(`${what}: timed out after ${timeoutMs} ms`))), timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          notify = () => {};
        };
        notify = check;
        check();
      });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** One side's run. */
export interface Measure {
  role: string;
  /** messages the side counted (the agent: in its reports, plus those its caps dropped) */
  received: number;
  firstAt: number;
  lastAt: number;
  messagesPerSecond: number;
  cpuMs: number;
  peakRssBytes: number;
  /** RSS once subscribed, before the load */
  readyRssBytes: number;
  readBytes: number;
  readCalls: number;
  /** the agent: report windows that held messages of the load, and messages its caps dropped */
  windows?: number;
  dropped?: number;
  /** the agent's reports of the run (to read producers and the like from) */
  reports?: AgentReport[];
}

const finish = (role: string, received: number, firstAt: number, lastAt: number, s0: ProcSample, s1: ProcSample): Measure => ({
  role,
  received,
  firstAt,
  lastAt,
  messagesPerSecond: received / Math.max((lastAt - firstAt) / 1000, 0.001),
  cpuMs: s1.cpuMs - s0.cpuMs,
  peakRssBytes: s1.peakRssBytes,
  readyRssBytes: s0.rssBytes,
  readBytes: s1.rchar - s0.rchar,
  readCalls: s1.syscr - s0.syscr,
});

/**
 * Runs a bare client script (bench/bare-*.mjs, or an absolute path) with `args` and the expected count last: waits
 * for its ready line, runs the load, then for its done line. It keeps running after that line until stopped, so one
 * that exits before it is sampled has crashed: the run fails.
 */
export async function runBare(role: string, script: string, args: string[], expect: number, load: () => Promise<unknown>): Promise<Measure> {
  const child = startChild([path.resolve(ROOT, "bench", script), ...args, String(expect)]);
  try {
    await child.waitLine((l) => l.includes('"ready":true'), 30_000, `${role}: ready`);
    const s0 = await child.sample(`${role}: start of the load`);
    await child.whileAlive(load(), `${role}: during the load`);
    let line: string;
    let s1: ProcSample;
    try {
      line = await child.waitLine((l) => l.includes('"done":true'), DONE_TIMEOUT_MS, `${role}: done`);
      s1 = await child.sample(`${role}: done`);
    } catch (err) {
      if (child.gone()) throw err;
      // Timed out with messages missing: sampled while still running, then it prints what it counted when stopped.
      s1 = await child.sample(`${role}: end of the wait`);
      child.proc.kill("SIGTERM");
      line = await child.waitLine((l) => l.includes('"done":true'), 10_000, `${role}: count`);
    }
    const done = JSON.parse(line) as { received: number; firstAt: number; lastAt: number };
    return finish(role, done.received, done.firstAt, done.lastAt, s0, s1);
  } finally {
    await child.stop();
  }
}

/** Builds the agent when dist/agent is missing or older than its sources (the benchmark holds the build lock). */
export function ensureBuiltAgent(): void {
  if (buildIsCurrent("dist/agent", pathToFileURL(AGENT_ENTRY))) return;
  const built = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-agent.mjs")], { cwd: ROOT, stdio: "inherit" });
  if (built.status !== 0) throw new Error("could not build the agent (scripts/build-agent.mjs)");
}

/**
 * What an agent's window reports say of a load: messages seen outside `$`-topics, messages its caps dropped, the
 * first and last message's times, and how many windows held them.
 */
export function accountOf(reports: readonly AgentReport[]) {
  let seen = 0;
  let dropped = 0;
  let first = Infinity;
  let last = 0;
  const windows = new Set<string>();
  for (const r of reports) {
    let dollar = 0;
    let load = 0;
    for (const t of r.topics) {
      if (t.template.startsWith("$")) {
        dollar += t.messages;
        continue;
      }
      load += t.messages;
      first = Math.min(first, Date.parse(t.firstSeen));
      last = Math.max(last, Date.parse(t.lastSeen));
    }
    // A window split into parts repeats its totals in each part; its drops are its own.
    if (r.part.index === 0) seen += r.stats.messagesSeen;
    seen -= dollar;
    dropped += r.drops.topicCap + r.drops.templateCap;
    if (load > 0 || r.drops.topicCap + r.drops.templateCap > 0) windows.add(r.window.start);
  }
  return { seen, dropped, first, last, windows: windows.size };
}

let agentRuns = 0;

/** Options of {@link runAgent}. */
export interface AgentRun {
  role: string;
  /** command-line options after --broker-id, --portal, --spool and --interval (e.g. --broker URL, --kind nats …) */
  args: string[];
  portal: FakePortal;
  expect: number;
  load: () => Promise<unknown>;
  /** report window, in seconds: the load starts right after a window closes, so one that fits lands in one window */
  intervalSeconds: number;
  /** held after every message is accounted for, until true or two more windows passed (e.g. producers from a log) */
  settled?: (reports: readonly AgentReport[]) => boolean;
  /** the program run with the arguments (default: the built agent, built first if stale; tests give a stand-in) */
  program?: string;
}

/**
 * Runs the built agent as a user does, reporting to the fake portal: waits until it is subscribed and a window has
 * closed, runs the load, and is done once its reports account for every message (or after the timeout).
 */
export async function runAgent(run: AgentRun): Promise<Measure> {
  if (run.program === undefined) ensureBuiltAgent();
  const agentId = `bench-${process.pid}-${++agentRuns}`;
  const spool = mkdtempSync(path.join(os.tmpdir(), "bench-agent-spool-"));
  const args = [run.program ?? AGENT_ENTRY, ...run.args, "--broker-id", "bench", "--agent-id", agentId, "--portal", run.portal.url, "--spool", spool, "--interval", String(run.intervalSeconds)];
  // Info is the agent's default log level: a few lines at start and on broker events, none per message.
  const child = startChild(args, { MESHPORT_AGENT_TOKEN: BENCH_TOKEN });
  const mine = (from: number) => run.portal.reports.slice(from).filter((r) => r.agent.id === agentId);
  try {
    await child.waitLine((l) => /"msg":"(subscribed|observing the broker)"/.test(l), 30_000, `${run.role}: subscribed`);
    // Align with the window timer: the load starts just after a window closed.
    const before = run.portal.reports.length;
    await child.whileAlive(run.portal.waitFor(() => mine(before).length > 0, (run.intervalSeconds + 10) * 1000, `${run.role}: a first window`), `${run.role}: a first window`);
    const from = run.portal.reports.length;
    const s0 = await child.sample(`${run.role}: start of the load`);
    await child.whileAlive(run.load(), `${run.role}: during the load`);
    const deadline = Date.now() + DONE_TIMEOUT_MS;
    let account = accountOf(mine(from));
    // Messages the broker dropped never come: two windows in a row with nothing new after the load end the wait.
    let idle = { windows: mine(from).length, count: account.seen + account.dropped, since: mine(from).length };
    while (account.seen + account.dropped < run.expect && Date.now() < deadline && !child.gone() && idle.windows - idle.since < 2) {
      await new Promise((r) => setTimeout(r, 20));
      account = accountOf(mine(from));
      const windows = mine(from).length;
      if (windows !== idle.windows) {
        const count = account.seen + account.dropped;
        idle = { windows, count, since: count === idle.count ? idle.since : windows };
      }
    }
    if (run.settled) {
      const windowsThen = mine(from).length;
      while (!run.settled(mine(from)) && mine(from).length < windowsThen + 2 && !child.gone()) await new Promise((r) => setTimeout(r, 50));
    }
    const s1 = await child.sample(`${run.role}: ${account.seen + account.dropped} of ${run.expect} messages accounted for`);
    return {
      ...finish(run.role, account.seen + account.dropped, account.first, account.last, s0, s1),
      messagesPerSecond: account.seen / Math.max((account.last - account.first) / 1000, 0.001),
      windows: account.windows,
      dropped: account.dropped,
      reports: mine(from),
    };
  } finally {
    await child.stop();
    rmSync(spool, { recursive: true, force: true });
  }
}

/** Figures of one side over its rounds: medians of rate, CPU per message and read size; the highest peak RSS. */
export interface Side {
  messagesPerSecond: number;
  cpuMicrosPerMessage: number;
  peakRssMb: number;
  readyRssMb: number;
  bytesPerRead: number;
  bytesReadPerMessage: number;
}

export const mb = (b: number) => round(b / 1024 / 1024, 1);
export const cpuPerMessageUs = (m: Measure) => (m.cpuMs * 1000) / Math.max(m.received, 1);

/** One side's figures over its runs. */
export function side(runs: readonly Measure[]): Side {
  return {
    messagesPerSecond: Math.round(median(runs.map((m) => m.messagesPerSecond))),
    cpuMicrosPerMessage: round(median(runs.map(cpuPerMessageUs))),
    peakRssMb: mb(Math.max(...runs.map((m) => m.peakRssBytes))),
    readyRssMb: mb(median(runs.map((m) => m.readyRssBytes))),
    bytesPerRead: Math.round(median(runs.map((m) => m.readBytes / Math.max(m.readCalls, 1)))),
    bytesReadPerMessage: round(median(runs.map((m) => m.readBytes / Math.max(m.received, 1))), 1),
  };
}

/** The targets every broker kind is held to, agent against its bare client in the same run. */
export const TARGETS = { cpuRatioMax: 1.2, throughputRatioMin: 0.9 } as const;

/**
 * Agent beside bare over interleaved rounds: both sides, the ratios, and whether each target is met. A run that
 * received fewer than `expect` messages stays in the medians and is marked lost; while any run lost messages, neither
 * ratio target counts as met (a side that missed part of the load did less work than the other).
 */
export function compareSides(bare: readonly Measure[], agent: readonly Measure[], expect: number) {
  const b = side(bare);
  const a = side(agent);
  const throughputRatio = round(median(agent.map((m) => m.messagesPerSecond)) / median(bare.map((m) => m.messagesPerSecond)), 3);
  const cpuRatio = round(median(agent.map(cpuPerMessageUs)) / median(bare.map(cpuPerMessageUs)), 3);
  const lostOf = (runs: readonly Measure[]) => runs.filter((m) => m.received < expect).length;
  const lost = lostOf(bare) + lostOf(agent);
  return {
    bare: b,
    agent: a,
    /** agent msg/s over bare msg/s (target ≥ 0.9) */
    throughputRatio,
    /** agent CPU per message over bare CPU per message (target ≤ 1.2) */
    cpuRatio,
    throughputMet: throughputRatio >= TARGETS.throughputRatioMin && lost === 0,
    cpuMet: cpuRatio <= TARGETS.cpuRatioMax && lost === 0,
    /** runs (of both sides) that received fewer messages than published */
    lost,
    /** the agent's runs among them */
    agentLost: lostOf(agent),
    all: [...bare, ...agent].map((m) => brief(m, expect)),
  };
}

/** A run in a line, for the results file; with `expect`, how many messages it lost, if any. */
export function brief(m: Measure, expect?: number) {
  return {
    role: m.role,
    received: m.received,
    ...(expect !== undefined && m.received < expect ? { lost: expect - m.received } : {}),
    messagesPerSecond: Math.round(m.messagesPerSecond),
    cpuMs: round(m.cpuMs),
    peakRssMb: mb(m.peakRssBytes),
    bytesPerRead: Math.round(m.readBytes / Math.max(m.readCalls, 1)),
    ...(m.windows !== undefined ? { windows: m.windows, dropped: m.dropped } : {}),
  };
}

/** Printed lines of a comparison: each side, the ratios against their targets, lost runs. */
export function comparisonLines(c: ReturnType<typeof compareSides>, bareName: string, agentName: string, lostWhere: string): string[] {
  const pad = Math.max(bareName.length, agentName.length) + 1;
  const sideLine = (name: string, s: Side) =>
    `  ${`${name}:`.padEnd(pad)} ${s.messagesPerSecond} msg/s, ${s.cpuMicrosPerMessage} µs CPU/msg, peak RSS ${s.peakRssMb} MB (${s.readyRssMb} MB subscribed), ${s.bytesPerRead} B per read (${s.bytesReadPerMessage} B read per message)`;
  return [
    sideLine(bareName, c.bare),
    sideLine(agentName, c.agent),
    `  CPU per message agent/bare: ${c.cpuRatio} (target ≤ ${TARGETS.cpuRatioMax}) ${c.cpuMet ? "met" : "MISSED"}; throughput agent/bare: ${c.throughputRatio} (target ≥ ${TARGETS.throughputRatioMin}) ${c.throughputMet ? "met" : "MISSED"}`,
    ...(c.lost ? [`  LOST: ${c.lost} run(s) received fewer messages than published, so neither ratio counts as met (see ${lostWhere})`] : []),
  ];
}
