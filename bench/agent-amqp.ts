/**
 * RabbitMQ agent benchmark (loopback only, bounded). On one real RabbitMQ node, a loader publishes
 * to one topic exchange as fast as the broker takes it; a bare amqplib consumer that only counts
 * and the agent (the RabbitMQ source: its own queue bound with `#`, the management API polled)
 * receive the same messages in turn, each in its own child process so CPU and RSS are their own.
 * Two cases: 1,000 routing keys, and 100,000 distinct routing keys (where the agent holds most).
 *
 *   npx tsx bench/agent-amqp.ts [MESSAGES [ROUNDS]]   (prints the figures; bench/agent.ts calls {@link benchAmqpAgent})
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { RABBITMQ_BIN_DIR, startRabbitMq } from "../agents/testing/rabbitmq.ts";
import { median, round } from "./stats.ts";

const EXCHANGE = "bench";
const MESSAGES = 200_000;
const STEADY_KEYS = 1_000;
const DISTINCT_KEYS = 100_000;
const ROUNDS = 2;
const RATIO_TARGET = 0.9;
const RSS_TARGET_MB = 150;

type Role = "amqp-bare" | "amqp-agent";

/** Options of {@link benchAmqpAgent}. */
export interface AmqpBenchOptions {
  /** the (fake) portal the agent reports to */
  portalUrl: string;
  /** messages per run (default 200,000) */
  messages?: number;
  /** rounds of bare and agent in turn (default 2) */
  rounds?: number;
}

/** Figures of one side, medians over the rounds (RSS: the highest). */
interface Side {
  messagesPerSecond: number;
  cpuMicrosPerMessage: number;
  peakRssMb: number;
  readyRssMb: number;
}

interface ChildReport {
  received: number;
  firstAt: number;
  lastAt: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  peakRssBytes: number;
  /** RSS once bound, before any traffic: node, the tsx loader and the modules */
  readyRssBytes: number;
}

interface Measure extends ChildReport {
  role: Role;
  messagesPerSecond: number;
}

const payload = (i: number) =>
  JSON.stringify({ seq: i, at: "2026-11-28T10:00:00.000Z", value: (i % 1000) / 10, unit: i % 2 ? "C" : "F", ok: true, tags: ["a", "b"] });

/** Publishes `count` messages to the bench exchange from pre-encoded payloads, paced by the channel's back-pressure. */
async function load(url: string, count: number, key: (i: number) => string): Promise<void> {
  const { default: amqp } = await import("amqplib");
  const conn = await amqp.connect(url, { clientProperties: { connection_name: `bench-loader-${process.pid}` } });
  try {
    const ch = await conn.createChannel();
    const payloads = Array.from({ length: 100 }, (_, i) => Buffer.from(payload(i)));
    for (let i = 0; i < count; i++) {
      if (!ch.publish(EXCHANGE, key(i), payloads[i % 100]!)) await once(ch, "drain");
    }
    await ch.close();
  } finally {
    await conn.close();
  }
}

function spawnChild(role: Role, url: string, managementUrl: string, portal: string, expect: number, spool: string): Promise<{ child: ChildProcess; done: Promise<ChildReport> }> {
  const child = fork(fileURLToPath(import.meta.url), ["--child", role, url, managementUrl, portal, String(expect), spool], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${role} child exited early (${code})`)));
    child.once("message", (m) => {
      if ((m as { ready?: boolean }).ready) {
        child.removeAllListeners("exit");
        const done = new Promise<ChildReport>((res, rej) => {
          child.once("message", (r) => res(r as ChildReport));
          child.once("exit", (code) => rej(new Error(`${role} child exited (${code}) before reporting`)));
        });
        // Awaited after the load; a child dying during it must not be an unhandled rejection.
        done.catch(() => {});
        resolve({ child, done });
      }
    });
  });
}

async function measure(role: Role, url: string, managementUrl: string, portal: string, count: number, key: (i: number) => string): Promise<Measure> {
  const spool = mkdtempSync(path.join(os.tmpdir(), "bench-amqp-spool-"));
  try {
    const { child, done } = await spawnChild(role, url, managementUrl, portal, count, spool);
    await load(url, count, key);
    // A consumer that cannot keep up would never finish: bound the wait.
    const timer = setTimeout(() => child.send({ stop: true }), 120_000);
    const r = await done;
    clearTimeout(timer);
    child.kill();
    return { role, ...r, messagesPerSecond: r.received / Math.max((r.lastAt - r.firstAt) / 1000, 0.001) };
  } finally {
    rmSync(spool, { recursive: true, force: true });
  }
}

/** Child side: counts messages as a bare consumer or runs the agent with the RabbitMQ source, then reports. */
async function child(role: Role, url: string, managementUrl: string, portal: string, expect: number, spool: string): Promise<void> {
  let peak = 0;
  let first = 0;
  let last = 0;
  let count = 0;
  const sampleRss = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  let stopRequested = false;
  process.on("message", (m) => {
    if ((m as { stop?: boolean }).stop) stopRequested = true;
  });
  let finish: () => Promise<void>;
  if (role === "amqp-bare") {
    const { default: amqp } = await import("amqplib");
    const conn = await amqp.connect(url, { clientProperties: { connection_name: `bench-bare-${process.pid}` } });
    const ch = await conn.createChannel();
    const q = await ch.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
    await ch.bindQueue(q.queue, EXCHANGE, "#");
    await ch.consume(
      q.queue,
      () => {
        const now = Date.now();
        if (count === 0) first = now;
        count++;
        last = now;
      },
      { noAck: true, exclusive: true },
    );
    finish = () => conn.close();
  } else {
    const [{ startAgent }, { createAmqpSource }] = await Promise.all([import("../agents/agent.ts"), import("../agents/amqp-source.ts")]);
    // A queue bound long enough for the whole run: the benchmark measures throughput, not the overflow bound.
    const source = createAmqpSource({ url, managementUrl, brokerId: "bench", exchanges: [EXCHANGE], pollSeconds: 5, queueMaxLength: 10_000_000 });
    const agent = await startAgent({ broker: url, source, brokerId: "bench", portal, token: "bench", spool, logLevel: "silent", intervalSeconds: 10 });
    await agent.whenSubscribed();
    // Sample the agent's counter often; message timestamps are then accurate to a few ms.
    const poll = setInterval(() => {
      const n = agent.stats().messagesTotal;
      if (n !== count) {
        const now = Date.now();
        if (count === 0) first = now;
        count = n;
        last = now;
      }
    }, 2);
    finish = async () => {
      clearInterval(poll);
      // Closing the window (snapshot, schemas, gzip) is part of the cost.
      await agent.flush();
      sampleRss();
      await agent.stop();
    };
  }
  const readyRss = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const rssTimer = setInterval(sampleRss, 20);
  process.send!({ ready: true });
  while (count < expect && !stopRequested) await new Promise((r) => setTimeout(r, 5));
  const cpu = process.cpuUsage(cpu0);
  await finish();
  clearInterval(rssTimer);
  sampleRss();
  const report: ChildReport = {
    received: count,
    firstAt: first,
    lastAt: last,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    peakRssBytes: Math.max(peak, process.resourceUsage().maxRSS * 1024),
    readyRssBytes: readyRss,
  };
  process.send!(report, () => process.exit(0));
}

/**
 * The RabbitMQ agent beside a bare amqplib consumer on one real node: throughput ratio, CPU per
 * message and peak RSS at 1,000 and at 100,000 distinct routing keys. Null when rabbitmq-server is
 * not installed.
 */
export async function benchAmqpAgent(opts: AmqpBenchOptions): Promise<{ summary: string[]; figures: Record<string, unknown> } | null> {
  if (!RABBITMQ_BIN_DIR) return null;
  const messages = opts.messages ?? MESSAGES;
  const roundsCount = opts.rounds ?? ROUNDS;
  const server = await startRabbitMq({ plugins: ["rabbitmq_management"] });
  try {
    const declared = await server.api("PUT", `/api/exchanges/%2F/${EXCHANGE}`, { type: "topic", durable: false });
    if (declared.status >= 300) throw new Error(`cannot declare the bench exchange: ${declared.status}`);
    const mb = (b: number) => round(b / 1024 / 1024, 1);
    const compare = async (keys: number, key: (i: number) => string) => {
      const rounds: Measure[] = [];
      for (let r = 0; r < roundsCount; r++) {
        rounds.push(await measure("amqp-bare", server.url, server.managementUrl, opts.portalUrl, messages, key));
        rounds.push(await measure("amqp-agent", server.url, server.managementUrl, opts.portalUrl, messages, key));
      }
      const of = (role: Role) => rounds.filter((m) => m.role === role);
      const rate = (role: Role) => median(of(role).map((m) => m.messagesPerSecond));
      const cpu = (role: Role) => median(of(role).map((m) => ((m.cpuUserMs + m.cpuSystemMs) * 1000) / Math.max(m.received, 1)));
      const side = (role: Role): Side => ({
        messagesPerSecond: Math.round(rate(role)),
        cpuMicrosPerMessage: round(cpu(role)),
        peakRssMb: mb(Math.max(...of(role).map((m) => m.peakRssBytes))),
        readyRssMb: mb(median(of(role).map((m) => m.readyRssBytes))),
      });
      return {
        routingKeys: keys,
        bare: side("amqp-bare"),
        agent: side("amqp-agent"),
        throughputRatio: round(rate("amqp-agent") / rate("amqp-bare"), 3),
        /** capacity when CPU-bound: the bare consumer's CPU per message over the agent's */
        cpuRatio: round(cpu("amqp-bare") / cpu("amqp-agent"), 3),
        lost: rounds.filter((m) => m.received < messages).length,
        all: rounds.map((m) => ({ role: m.role, received: m.received, messagesPerSecond: Math.round(m.messagesPerSecond), cpuMs: round(m.cpuUserMs + m.cpuSystemMs), peakRssMb: mb(m.peakRssBytes) })),
      };
    };
    const steady = await compare(STEADY_KEYS, (i) => `plant.line-${i % STEADY_KEYS}.sensor.temperature`);
    const distinct = await compare(DISTINCT_KEYS, (i) => `fleet.site${i % 50}.device-${i % DISTINCT_KEYS}.telemetry`);
    const version = ((await server.api("GET", "/api/overview")).body as { rabbitmq_version?: string } | null)?.rabbitmq_version ?? "?";
    const figures = {
      broker: `rabbitmq ${version} (loopback)`,
      brokerStartMs: server.startMs,
      messages,
      rounds: roundsCount,
      throughputTarget: RATIO_TARGET,
      rssTargetMb: RSS_TARGET_MB,
      steadyRoutingKeys: steady,
      distinctRoutingKeys: distinct,
    };
    const lines = (c: typeof steady) => [
      `  bare amqplib consumer on #: ${c.bare.messagesPerSecond} msg/s, ${c.bare.cpuMicrosPerMessage} µs CPU/msg, peak RSS ${c.bare.peakRssMb} MB (${c.bare.readyRssMb} MB idle)`,
      `  RabbitMQ agent:             ${c.agent.messagesPerSecond} msg/s, ${c.agent.cpuMicrosPerMessage} µs CPU/msg, peak RSS ${c.agent.peakRssMb} MB (${c.agent.readyRssMb} MB idle)`,
      `  throughput ratio agent/bare: ${c.throughputRatio} (target ≥ ${RATIO_TARGET}) ${c.throughputRatio >= RATIO_TARGET ? "OK" : "MISSED"}; CPU-per-message ratio bare/agent: ${c.cpuRatio}`,
      ...(c.lost ? [`  warning: ${c.lost} run(s) received fewer messages than published (see amqp.*.all)`] : []),
    ];
    const summary = [
      `RabbitMQ: ${figures.broker}, started in ${server.startMs} ms; ${messages} messages per run to one topic exchange, ${roundsCount} rounds, medians`,
      `RabbitMQ over ${STEADY_KEYS} routing keys:`,
      ...lines(steady),
      `RabbitMQ over ${DISTINCT_KEYS} distinct routing keys:`,
      ...lines(distinct),
      `RabbitMQ agent peak RSS at ${DISTINCT_KEYS} routing keys: ${distinct.agent.peakRssMb} MB (target < ${RSS_TARGET_MB}) ${distinct.agent.peakRssMb < RSS_TARGET_MB ? "OK" : "MISSED"}`,
    ];
    return { summary, figures };
  } finally {
    await server.cleanup();
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain && process.argv[2] === "--child") {
  const [, , , role, url, managementUrl, portal, expect, spool] = process.argv;
  await child(role as Role, url!, managementUrl!, portal!, Number(expect), spool!);
} else if (isMain) {
  const { startFakePortal } = await import("../agents/testing/fake-portal.ts");
  const portal = await startFakePortal("bench");
  try {
    // Optional: messages per run and rounds, for a quick check (`npx tsx bench/agent-amqp.ts 20000 1`).
    const [messages, rounds] = process.argv.slice(2).map(Number);
    const result = await benchAmqpAgent({ portalUrl: portal.url, messages: messages || undefined, rounds: rounds || undefined });
    for (const line of result?.summary ?? ["rabbitmq-server is not installed"]) console.log(line);
  } finally {
    await portal.close();
  }
  process.exit(0);
}
