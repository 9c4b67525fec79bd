/**
 * Broker agent benchmark (loopback only, bounded). A loader publishes 200,000
 * messages over 1,000 topics as fast as the broker takes them (TCP
 * back-pressure); a bare `mqtt` subscriber that only counts, and the agent,
 * each in its own child process so CPU and RSS are their own, receive them in
 * turn on the same broker in the same run. Then the agent's peak RSS with
 * 100,000 distinct topics in one window.
 *
 * NATS: the same beside a bare `nats` client counting on `>`, on a real nats-server, at 1,000
 * and at 100,000 distinct subjects; the agent also polls the monitoring endpoint. RabbitMQ:
 * bench/agent-amqp.ts, called from here.
 *
 *   npx tsx bench/agent.ts        (writes bench/results/agent.json)
 *   npx tsx bench/agent.ts nats   (only the NATS part, printed)
 *   BENCH_CPU_PROF=<dir> …        (also a CPU profile of each child)
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
// Clients, the agent and the fake portal are imported where used: each child process then holds
// only its own modules, so the bare subscriber's and the agent's RSS are their own.
import type { FakePortal } from "../agents/testing/fake-portal.ts";
import { MOSQUITTO_BIN, startMosquitto } from "../agents/testing/mosquitto.ts";
import { NATS_SERVER_BIN, startNatsServer } from "../agents/testing/nats.ts";
import type { BenchResult } from "./run.ts";
import { median, round } from "./stats.ts";

const MESSAGES = 200_000;
const TOPICS = 1_000;
const DISTINCT_TOPICS = 100_000;
const ROUNDS = 2;

type Role = "bare" | "agent" | "nats-bare" | "nats-agent";

/** NATS: messages over 100,000 distinct subjects, so the ratio is measured where the agent holds the most. */
const NATS_MESSAGES = 200_000;
const NATS_SUBJECTS = 100_000;
const NATS_RSS_TARGET_MB = 150;
const NATS_RATIO_TARGET = 0.9;
/** publish rate of the RSS measurement, below what the agent handles on 2 cores */
const NATS_HELD_RATE = 20_000;

interface ChildReport {
  received: number;
  firstAt: number;
  lastAt: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  peakRssBytes: number;
  /** RSS once connected, before any traffic: node, the tsx loader and the modules */
  readyRssBytes: number;
}

interface Measure extends ChildReport {
  role: Role;
  messagesPerSecond: number;
  endToEndSeconds: number;
}

const payload = (i: number) =>
  JSON.stringify({ seq: i, at: "2026-11-28T10:00:00.000Z", value: (i % 1000) / 10, unit: i % 2 ? "C" : "F", ok: true, tags: ["a", "b"] });

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
const packet = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type]), remainingLength(body.length), body]);

/**
 * Publishes QoS 0 messages from pre-encoded MQTT 3.1.1 packets on a raw socket,
 * paced only by TCP back-pressure: an `mqtt` client as loader would be slower
 * than the subscribers it is meant to stress on a 2-core machine.
 */
async function load(url: string, count: number, topic: (i: number) => string): Promise<number> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await once(socket, "connect");
  socket.setNoDelay(true);
  const id = Buffer.from(`bench-loader-${process.pid}`);
  // CONNECT: protocol "MQTT" level 4, clean session, keep-alive 60 s.
  socket.write(packet(0x10, Buffer.concat([u16(4), Buffer.from("MQTT"), Buffer.from([4, 0x02]), u16(60), u16(id.length), id])));
  const [connack] = (await once(socket, "data")) as [Buffer];
  if (connack[0] !== 0x20 || connack[3] !== 0) throw new Error("the broker refused the loader");
  const payloads = Array.from({ length: 100 }, (_, i) => Buffer.from(payload(i)));
  const started = Date.now();
  for (let i = 0; i < count; ) {
    const chunk: Buffer[] = [];
    for (const end = Math.min(count, i + 500); i < end; i++) {
      const t = Buffer.from(topic(i));
      chunk.push(packet(0x30, Buffer.concat([u16(t.length), t, payloads[i % 100]!])));
    }
    if (!socket.write(Buffer.concat(chunk))) await once(socket, "drain");
  }
  socket.end(packet(0xe0, Buffer.alloc(0)));
  await once(socket, "close");
  return started;
}

/**
 * Publishes on a raw NATS socket from pre-encoded PUB lines, paced only by TCP back-pressure or, with
 * `perSecond`, held to that rate; ends after the server's PONG.
 */
async function loadNats(url: string, count: number, subject: (i: number) => string, perSecond?: number): Promise<number> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await once(socket, "connect");
  socket.setNoDelay(true);
  await once(socket, "data"); // INFO
  socket.write(`CONNECT {"verbose":false,"pedantic":false,"name":"bench-loader-${process.pid}"}\r\n`);
  const payloads = Array.from({ length: 100 }, (_, i) => Buffer.from(payload(i)));
  const started = Date.now();
  for (let i = 0; i < count; ) {
    const chunk: Buffer[] = [];
    for (const end = Math.min(count, i + 500); i < end; i++) {
      const body = payloads[i % 100]!;
      chunk.push(Buffer.from(`PUB ${subject(i)} ${body.length}\r\n`), body, Buffer.from("\r\n"));
    }
    if (!socket.write(Buffer.concat(chunk))) await once(socket, "drain");
    const due = perSecond ? started + (i / perSecond) * 1000 : 0;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  }
  // PONG answers the PING once the server has processed every PUB before it.
  const pong = new Promise<void>((resolve) => {
    let seen = "";
    socket.on("data", (d: Buffer) => {
      seen = (seen + d.toString("latin1")).slice(-64);
      if (seen.includes("PONG")) resolve();
    });
  });
  socket.write("PING\r\n");
  await pong;
  socket.end();
  await once(socket, "close");
  return started;
}

function spawnChild(role: Role, broker: string, portal: string, expect: number, spool: string, brokerLog?: string, monitor?: string): Promise<{ child: ChildProcess; done: Promise<ChildReport> }> {
  const child = fork(fileURLToPath(import.meta.url), ["--child", role, broker, portal, String(expect), spool], {
    // BENCH_CPU_PROF=<dir> writes a CPU profile of each child there (node --cpu-prof).
    execArgv: ["--import", "tsx", ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
    env: { ...process.env, BENCH_BROKER_LOG: brokerLog ?? "", BENCH_NATS_MONITOR: monitor ?? "" },
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
        resolve({ child, done });
      }
    });
  });
}

async function measure(
  role: Role,
  broker: string,
  portal: string,
  count: number,
  topic: (i: number) => string,
  brokerLog?: string,
  nats?: { monitor: string; perSecond?: number },
): Promise<Measure> {
  const spool = mkdtempSync(path.join(os.tmpdir(), "bench-agent-spool-"));
  try {
    const { child, done } = await spawnChild(role, broker, portal, count, spool, brokerLog, nats?.monitor);
    const started = nats ? await loadNats(broker, count, topic, nats.perSecond) : await load(broker, count, topic);
    // A subscriber that cannot keep up would never finish: bound the wait.
    const timer = setTimeout(() => child.send({ stop: true }), 120_000);
    const r = await done;
    clearTimeout(timer);
    // The child exits by itself once it reported; a profile is written only if it is let to.
    if (process.env.BENCH_CPU_PROF && child.exitCode === null) await once(child, "exit");
    else child.kill();
    return {
      role,
      ...r,
      messagesPerSecond: r.received / Math.max((r.lastAt - r.firstAt) / 1000, 0.001),
      endToEndSeconds: (r.lastAt - started) / 1000,
    };
  } finally {
    rmSync(spool, { recursive: true, force: true });
  }
}

/** Child side: counts messages as a bare subscriber or runs a full agent, then reports. */
async function child(role: Role, broker: string, portal: string, expect: number, spool: string): Promise<void> {
  let peak = 0;
  let first = 0;
  let last = 0;
  let count = 0;
  const sampleRss = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  let finish: () => Promise<void>;
  let stopRequested = false;
  process.on("message", (m) => {
    if ((m as { stop?: boolean }).stop) stopRequested = true;
  });
  if (role === "bare") {
    const { default: mqtt } = await import("mqtt");
    const client = await mqtt.connectAsync(broker, { clientId: `bench-bare-${process.pid}` });
    client.on("message", () => {
      const now = Date.now();
      if (count === 0) first = now;
      count++;
      last = now;
    });
    await client.subscribeAsync("#", { qos: 2 });
    finish = () => client.endAsync();
  } else if (role === "nats-bare") {
    const { connect: natsConnect } = await import("nats");
    const nc = await natsConnect({ servers: broker, name: `bench-bare-${process.pid}` });
    nc.subscribe(">", {
      callback: () => {
        const now = Date.now();
        if (count === 0) first = now;
        count++;
        last = now;
      },
    });
    await nc.flush();
    finish = () => nc.close();
  } else if (role === "nats-agent") {
    const [{ startAgent }, { createNatsSource }] = await Promise.all([import("../agents/agent.ts"), import("../agents/nats-source.ts")]);
    const source = createNatsSource({ servers: broker, monitorUrl: process.env.BENCH_NATS_MONITOR || undefined, brokerId: "bench", pollSeconds: 5 });
    const agent = await startAgent({ broker, source, brokerId: "bench", portal, token: "bench", spool, logLevel: "silent", intervalSeconds: 10 });
    await agent.whenSubscribed();
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
      await agent.flush();
      sampleRss();
      await agent.stop();
    };
  } else {
    const brokerLog = process.env.BENCH_BROKER_LOG || undefined;
    const { startAgent } = await import("../agents/agent.ts");
    const agent = await startAgent({ broker, brokerId: "bench", portal, token: "bench", spool, logLevel: "silent", intervalSeconds: 10, brokerLog, brokerLogPollMs: 100 });
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
      // Let the broker-log follower catch up before the window closes, so producers are complete.
      for (let lines = -1; brokerLog && agent.stats().logLinesRead !== lines; ) {
        lines = agent.stats().logLinesRead;
        await new Promise((r) => setTimeout(r, 500));
      }
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

/** The NATS part: the agent beside a bare `nats` client on `>`, in turn, on one nats-server; null without nats-server. */
export async function runNats(portal: FakePortal): Promise<{ summary: string[]; figures: Record<string, unknown> } | null> {
  if (!NATS_SERVER_BIN) return null;
  // A subscriber the server cuts off as slow would lose messages: let it buffer the whole run.
  const server = await startNatsServer({ jetstream: false, maxPending: 1024 * 1024 * 1024 });
  try {
    const mb = (b: number) => round(b / 1024 / 1024, 1);
    const nats = { monitor: server.monitorUrl };
    /** Bare and agent in turn, ROUNDS times, on the same subjects; medians of rates and CPU, the highest RSS. */
    const compare = async (subjects: number, subject: (i: number) => string) => {
      const rounds: Measure[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        rounds.push(await measure("nats-bare", server.url, portal.url, NATS_MESSAGES, subject, undefined, nats));
        rounds.push(await measure("nats-agent", server.url, portal.url, NATS_MESSAGES, subject, undefined, nats));
      }
      const of = (role: Role) => rounds.filter((m) => m.role === role);
      const rate = (role: Role) => median(of(role).map((m) => m.messagesPerSecond));
      const cpu = (role: Role) => median(of(role).map((m) => ((m.cpuUserMs + m.cpuSystemMs) * 1000) / Math.max(m.received, 1)));
      const side = (role: Role) => ({
        messagesPerSecond: Math.round(rate(role)),
        cpuMicrosPerMessage: round(cpu(role)),
        peakRssMb: mb(Math.max(...of(role).map((m) => m.peakRssBytes))),
        readyRssMb: mb(median(of(role).map((m) => m.readyRssBytes))),
      });
      return {
        subjects,
        bare: side("nats-bare"),
        agent: side("nats-agent"),
        throughputRatio: round(rate("nats-agent") / rate("nats-bare"), 3),
        cpuRatio: round(cpu("nats-bare") / cpu("nats-agent"), 3),
        lost: rounds.filter((m) => m.received < NATS_MESSAGES).length,
        all: rounds.map((m) => ({ role: m.role, received: m.received, messagesPerSecond: Math.round(m.messagesPerSecond), cpuMs: round(m.cpuUserMs + m.cpuSystemMs), peakRssMb: mb(m.peakRssBytes) })),
      };
    };
    const steady = await compare(TOPICS, (i) => `plant.line-${i % TOPICS}.sensor.temperature`);
    const fleet = (i: number) => `fleet.site${i % 50}.device-${i % NATS_SUBJECTS}.telemetry`;
    const distinct = await compare(NATS_SUBJECTS, fleet);
    // Flooded, the client library reads ahead of a slower subscriber into memory, so the peak above
    // includes that backlog. Held below the agent's pace, the RSS is what 100,000 subjects cost.
    const held = await measure("nats-agent", server.url, portal.url, NATS_SUBJECTS, fleet, undefined, { ...nats, perSecond: NATS_HELD_RATE });
    const version = ((await (await fetch(`${server.monitorUrl}/varz`)).json()) as { version?: string }).version ?? "?";
    const figures = {
      broker: `nats-server ${version} (loopback)`,
      messages: NATS_MESSAGES,
      rounds: ROUNDS,
      throughputTarget: NATS_RATIO_TARGET,
      rssTargetMb: NATS_RSS_TARGET_MB,
      steadySubjects: steady,
      distinctSubjects: distinct,
      distinctSubjectsHeldRate: { subjects: NATS_SUBJECTS, perSecond: NATS_HELD_RATE, received: held.received, peakRssMb: mb(held.peakRssBytes), readyRssMb: mb(held.readyRssBytes) },
    };
    const line = (c: typeof steady) => [
      `  bare nats client on >: ${c.bare.messagesPerSecond} msg/s, ${c.bare.cpuMicrosPerMessage} µs CPU/msg, peak RSS ${c.bare.peakRssMb} MB (${c.bare.readyRssMb} MB idle)`,
      `  NATS agent:            ${c.agent.messagesPerSecond} msg/s, ${c.agent.cpuMicrosPerMessage} µs CPU/msg, peak RSS ${c.agent.peakRssMb} MB (${c.agent.readyRssMb} MB idle)`,
      `  throughput ratio agent/bare: ${c.throughputRatio} (target ≥ ${NATS_RATIO_TARGET}) ${c.throughputRatio >= NATS_RATIO_TARGET ? "OK" : "MISSED"}; CPU-per-message ratio bare/agent: ${c.cpuRatio}`,
      ...(c.lost ? [`  warning: ${c.lost} run(s) received fewer messages than published (see nats.*.all)`] : []),
    ];
    const summary = [
      `NATS: ${figures.broker}; ${NATS_MESSAGES} messages per run, ${ROUNDS} rounds, medians`,
      `NATS over ${TOPICS} subjects:`,
      ...line(steady),
      `NATS over ${NATS_SUBJECTS} distinct subjects:`,
      ...line(distinct),
      `NATS agent peak RSS at ${NATS_SUBJECTS} subjects, published at ${NATS_HELD_RATE} msg/s: ${mb(held.peakRssBytes)} MB (${mb(held.readyRssBytes)} MB idle; target < ${NATS_RSS_TARGET_MB}) ${held.peakRssBytes < NATS_RSS_TARGET_MB * 1024 * 1024 ? "OK" : "MISSED"}; flooded: ${distinct.agent.peakRssMb} MB`,
    ];
    return { summary, figures };
  } finally {
    await server.cleanup();
  }
}

/** The RabbitMQ part (bench/agent-amqp.ts): the agent beside a bare amqplib consumer; null without rabbitmq-server. */
async function runAmqpPart(portal: FakePortal): Promise<{ summary: string[]; figures: Record<string, unknown> } | null> {
  const { benchAmqpAgent } = await import("./agent-amqp.ts");
  return benchAmqpAgent({ portalUrl: portal.url });
}

/** Runs the benchmark and returns its figures. */
export async function run(): Promise<BenchResult> {
  const mosquitto = MOSQUITTO_BIN ? await startMosquitto({ logAll: false }) : null;
  const embedded = mosquitto ? null : await (await import("../agents/embedded-broker.ts")).startEmbeddedBroker({ port: 0 });
  const brokerUrl = mosquitto?.url ?? embedded!.url;
  const { startFakePortal } = await import("../agents/testing/fake-portal.ts");
  const portal = await startFakePortal("bench");
  try {
    const topic = (i: number) => `plant/line-${i % TOPICS}/sensor/temperature`;
    const rounds: Measure[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      rounds.push(await measure("bare", brokerUrl, portal.url, MESSAGES, topic));
      rounds.push(await measure("agent", brokerUrl, portal.url, MESSAGES, topic));
    }
    const of = (role: Role) => rounds.filter((m) => m.role === role);
    const rate = (role: Role) => median(of(role).map((m) => m.messagesPerSecond));
    const cpuPerMessageUs = (role: Role) => median(of(role).map((m) => ((m.cpuUserMs + m.cpuSystemMs) * 1000) / Math.max(m.received, 1)));
    const rss = (role: Role) => Math.max(...of(role).map((m) => m.peakRssBytes));
    const readyRss = (role: Role) => median(of(role).map((m) => m.readyRssBytes));
    const bareRate = rate("bare");
    const agentRate = rate("agent");
    const ratio = agentRate / bareRate;

    const distinct = await measure("agent", brokerUrl, portal.url, DISTINCT_TOPICS, (i) => `fleet/site${i % 50}/device-${i}/telemetry`);
    // Worst case for templates: 100,000 topics whose levels are words that never look like ids and
    // never pass the collapse threshold, so the template cap (10,000) has to hold the line.
    const word = (n: number) => "k" + "abcdefghijklmnopqr"[n % 18] + "abcdefghijklmnopqr"[Math.floor(n / 18) % 18];
    const wide = await measure("agent", brokerUrl, portal.url, DISTINCT_TOPICS, (i) => `p${word(i % 18)}/q${word(Math.floor(i / 18) % 18)}/r${word(Math.floor(i / 324) % 18)}/s${word(Math.floor(i / 5832))}`);
    const mb = (b: number) => round(b / 1024 / 1024, 1);

    // Producers from the broker log: Mosquitto writes a debug line per message, the agent follows the file.
    let withLog: { messagesPerSecond: number; cpuMicrosPerMessage: number; producerMessagesLearned: number } | null = null;
    if (MOSQUITTO_BIN) {
      const logged = await startMosquitto();
      try {
        const before = portal.reports.length;
        const m = await measure("agent", logged.url, portal.url, MESSAGES, topic, logged.logFile);
        let learned = 0;
        for (const r of portal.reports.slice(before)) for (const t of r.topics) for (const p of t.producers) if (p.clientId.startsWith("bench-loader-")) learned += p.messages;
        withLog = { messagesPerSecond: Math.round(m.messagesPerSecond), cpuMicrosPerMessage: round(((m.cpuUserMs + m.cpuSystemMs) * 1000) / Math.max(m.received, 1)), producerMessagesLearned: learned };
      } finally {
        await logged.cleanup();
      }
    }
    const nats = await runNats(portal);
    const amqp = await runAmqpPart(portal);
    const figures = {
      broker: mosquitto ? "mosquitto 2.0.11 (loopback)" : "aedes (embedded, loopback)",
      messages: MESSAGES,
      topics: TOPICS,
      rounds: ROUNDS,
      bare: { messagesPerSecond: Math.round(bareRate), cpuMicrosPerMessage: round(cpuPerMessageUs("bare")), peakRssMb: mb(rss("bare")), readyRssMb: mb(readyRss("bare")) },
      agent: { messagesPerSecond: Math.round(agentRate), cpuMicrosPerMessage: round(cpuPerMessageUs("agent")), peakRssMb: mb(rss("agent")), readyRssMb: mb(readyRss("agent")) },
      throughputRatio: round(ratio, 3),
      /** capacity when CPU-bound: the bare subscriber's CPU per message over the agent's */
      cpuRatio: round(cpuPerMessageUs("bare") / cpuPerMessageUs("agent"), 3),
      throughputTarget: 0.7,
      distinctTopics: {
        topics: DISTINCT_TOPICS,
        received: distinct.received,
        peakRssMb: mb(distinct.peakRssBytes),
        readyRssMb: mb(distinct.readyRssBytes),
        target: 200,
        messagesPerSecond: Math.round(distinct.messagesPerSecond),
      },
      nonCollapsingTopics: { topics: DISTINCT_TOPICS, received: wide.received, peakRssMb: mb(wide.peakRssBytes), readyRssMb: mb(wide.readyRssBytes) },
      agentWithBrokerLog: withLog,
      all: rounds.map((m) => ({ role: m.role, received: m.received, messagesPerSecond: Math.round(m.messagesPerSecond), cpuMs: round(m.cpuUserMs + m.cpuSystemMs), peakRssMb: mb(m.peakRssBytes) })),
      nats: nats?.figures ?? null,
      amqp: amqp?.figures ?? null,
      cpus: os.cpus().length,
      node: process.version,
    };
    const lost = rounds.filter((m) => m.received < MESSAGES).length + (distinct.received < DISTINCT_TOPICS ? 1 : 0);
    const summary = [
      `broker: ${figures.broker}; ${MESSAGES} messages over ${TOPICS} topics, ${ROUNDS} rounds, medians`,
      `bare subscriber: ${figures.bare.messagesPerSecond} msg/s, ${figures.bare.cpuMicrosPerMessage} µs CPU/msg, peak RSS ${figures.bare.peakRssMb} MB (${figures.bare.readyRssMb} MB idle)`,
      `agent:           ${figures.agent.messagesPerSecond} msg/s, ${figures.agent.cpuMicrosPerMessage} µs CPU/msg, peak RSS ${figures.agent.peakRssMb} MB (${figures.agent.readyRssMb} MB idle)`,
      `throughput ratio agent/bare: ${figures.throughputRatio} (target ≥ 0.7) ${ratio >= 0.7 ? "OK" : "MISSED"}; CPU-per-message ratio bare/agent: ${figures.cpuRatio}`,
      `${DISTINCT_TOPICS} distinct topics: peak RSS ${figures.distinctTopics.peakRssMb} MB (${figures.distinctTopics.readyRssMb} MB idle; target < 200) ${distinct.peakRssBytes < 200 * 1024 * 1024 ? "OK" : "MISSED"}`,
      `${DISTINCT_TOPICS} topics that never collapse (template cap holds): peak RSS ${figures.nonCollapsingTopics.peakRssMb} MB`,
      ...(withLog
        ? [`agent following the broker log (log_type all): ${withLog.messagesPerSecond} msg/s, ${withLog.cpuMicrosPerMessage} µs CPU/msg, producer messages learned ${withLog.producerMessagesLearned}/${MESSAGES}`]
        : []),
      ...(nats?.summary ?? ["NATS: nats-server is not installed; skipped"]),
      ...(amqp?.summary ?? []),
      "RSS includes node and the tsx loader (~50 MB), as when the agent runs through its launcher",
      ...(lost ? [`warning: ${lost} run(s) received fewer messages than published (see "all")`] : []),
    ];
    return { name: "agent", summary, figures };
  } finally {
    await portal.close();
    await mosquitto?.cleanup();
    await embedded?.close();
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain && process.argv[2] === "--child") {
  const [, , , role, broker, portal, expect, spool] = process.argv;
  await child(role as Role, broker!, portal!, Number(expect), spool!);
} else if (isMain && process.argv[2] === "nats") {
  const { startFakePortal } = await import("../agents/testing/fake-portal.ts");
  const portal = await startFakePortal("bench");
  const nats = await runNats(portal);
  await portal.close();
  for (const line of nats?.summary ?? ["nats-server is not installed"]) console.log(line);
  if (nats) {
    const dir = path.resolve("bench/results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "agent-nats.json"), `${JSON.stringify({ name: "agent-nats", summary: nats.summary, figures: { ...nats.figures, cpus: os.cpus().length, node: process.version }, at: new Date().toISOString() }, null, 2)}\n`);
    console.log(`results: ${path.relative(process.cwd(), path.join(dir, "agent-nats.json"))}`);
  }
  process.exit(0);
} else if (isMain) {
  const result = await run();
  for (const line of result.summary) console.log(line);
  const dir = path.resolve("bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "agent.json"), `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), path.join(dir, "agent.json"))}`);
  process.exit(0);
}
