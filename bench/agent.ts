/**
 * Broker agent benchmark (loopback only, bounded). A loader publishes 200,000 messages over 1,000 topics as fast as
 * the broker takes them (TCP back-pressure); in interleaved rounds, a bare MQTT subscriber and the agent receive them
 * in turn on the same broker in the same run, each the process a user would run:
 *
 * - bare: bench/bare-mqtt.mjs, a plain `mqtt` client in plain Node subscribed to the agent's own filters (`#` at
 *   QoS 2 and `$SYS/#`, in one SUBSCRIBE), counting;
 * - agent: the built agent (`node dist/agent/meshport-agent.mjs --broker … --portal …`, built first if stale)
 *   reporting to the fake portal; done once its windows account for every message.
 *
 * Both are measured from outside through /proc (bench/agent-harness.ts): CPU from the start of the load until done
 * (the agent: its last window flushed to the portal), peak RSS (VmHWM), and the bytes per read call, so the reader
 * sees whether the broker batches deliveries alike for both. Then the agent's peak RSS with 100,000 distinct topics
 * in one window (collapsing into templates) and 100,000 that never collapse; and the agent following Mosquitto's log.
 *
 * NATS: the same beside bench/bare-nats.mjs (`>`), on a real nats-server, at 1,000 and at 100,000 distinct
 * subjects; the agent also polls the monitoring endpoint. RabbitMQ: bench/agent-amqp.ts, called from here.
 *
 *   npm run bench -- agent          (writes bench/results/agent.json)
 *   npx tsx bench/agent.ts nats     (only the NATS part, written to bench/results/agent-nats.json)
 *   BENCH_ROUNDS=N …                (rounds of bare and agent in turn; default 3)
 *   BENCH_CPU_PROF=<dir> …          (also a CPU profile of each child)
 *   BENCH_AGENT_CASES=steady,rss …  (only these parts: steady, rss, log, nats, amqp; default all)
 *   BENCH_NATS_CASES=steady,distinct,held …  (only these NATS runs; default all)
 */
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { AgentReport } from "../agents/protocol.ts";
import type { FakePortal } from "../agents/testing/fake-portal.ts";
import { MOSQUITTO_BIN, startMosquitto } from "../agents/testing/mosquitto.ts";
import { NATS_SERVER_BIN, startNatsServer } from "../agents/testing/nats.ts";
import { BENCH_TOKEN, brief, compareSides, comparisonLines, cpuPerMessageUs, mb, runAgent, runBare, type Measure } from "./agent-harness.ts";
import { resultsFile, type BenchResult } from "./run.ts";
import { round } from "./stats.ts";

const MESSAGES = 200_000;
const TOPICS = 1_000;
const DISTINCT_TOPICS = 100_000;
/** Rounds of bare and agent in turn; medians over them. */
export const ROUNDS = Math.max(1, Math.min(Number(process.env.BENCH_ROUNDS) || 3, 20));
/** The agent's report window in the comparison runs: a load starts after a window closes and is done within one or two. */
export const WINDOW_SECONDS = 5;
/** The window of the RSS runs: long enough that the 100,000 topics land in one window, as the target means. */
const RSS_WINDOW_SECONDS = 10;
/** Peak RSS targets: 100,000 distinct topics that collapse into templates, and 100,000 that never do. */
const RSS_TARGET_MB = 100;
const RSS_NON_COLLAPSING_TARGET_MB = 120;

/** NATS: messages over 100,000 distinct subjects, so the ratio is measured where the agent holds the most. */
const NATS_MESSAGES = 200_000;
const NATS_SUBJECTS = 100_000;
const NATS_RSS_TARGET_MB = 150;
/** publish rate of the RSS measurement, below what the agent handles on 2 cores */
const NATS_HELD_RATE = 20_000;

/** The parts of the benchmark; when BENCH_AGENT_CASES is set, only the parts it names run. */
type BenchCase = "steady" | "rss" | "log" | "nats" | "amqp";
/** Whether a part runs: every part unless BENCH_AGENT_CASES lists some. */
export function runsCase(name: BenchCase, listed = process.env.BENCH_AGENT_CASES): boolean {
  const wanted = (listed ?? "").slice(0, 200).split(",").map((c) => c.trim()).filter(Boolean);
  return wanted.length === 0 || wanted.includes(name);
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
async function loadMqtt(url: string, count: number, topic: (i: number) => string): Promise<number> {
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

/** Whether a NATS run is wanted: all of them unless BENCH_NATS_CASES lists some. */
const natsCase = (name: "steady" | "distinct" | "held") => {
  const listed = (process.env.BENCH_NATS_CASES ?? "").slice(0, 200).split(",").map((c) => c.trim()).filter(Boolean);
  return listed.length === 0 || listed.includes(name);
};

/** The NATS part: the agent beside a bare `nats` client on `>`, in turn, on one nats-server; null without nats-server. */
export async function runNats(portal: FakePortal): Promise<{ summary: string[]; figures: Record<string, unknown> } | null> {
  if (!NATS_SERVER_BIN) return null;
  // A subscriber the server cuts off as slow would lose messages: let it buffer the whole run.
  const server = await startNatsServer({ jetstream: false, maxPending: 1024 * 1024 * 1024 });
  try {
    const agentArgs = ["--kind", "nats", "--broker", server.url, "--monitor", server.monitorUrl];
    /** Bare and agent in turn, ROUNDS times, on the same subjects. */
    const compare = async (subjects: number, subject: (i: number) => string) => {
      const bare: Measure[] = [];
      const agent: Measure[] = [];
      const load = () => loadNats(server.url, NATS_MESSAGES, subject);
      for (let r = 0; r < ROUNDS; r++) {
        bare.push(await runBare("nats-bare", "bare-nats.mjs", [server.url], NATS_MESSAGES, load));
        agent.push(await runAgent({ role: "nats-agent", args: agentArgs, portal, expect: NATS_MESSAGES, load, intervalSeconds: WINDOW_SECONDS }));
      }
      return { subjects, ...compareSides(bare, agent, NATS_MESSAGES) };
    };
    const steady = natsCase("steady") ? await compare(TOPICS, (i) => `plant.line-${i % TOPICS}.sensor.temperature`) : null;
    const fleet = (i: number) => `fleet.site${i % 50}.device-${i % NATS_SUBJECTS}.telemetry`;
    const distinct = natsCase("distinct") ? await compare(NATS_SUBJECTS, fleet) : null;
    // Flooded, the client library reads ahead of a slower subscriber into memory, so the peak above
    // includes that backlog. Held below the agent's pace, the RSS is what 100,000 subjects cost.
    const held = natsCase("held")
      ? await runAgent({
          role: "nats-agent",
          args: agentArgs,
          portal,
          expect: NATS_SUBJECTS,
          load: () => loadNats(server.url, NATS_SUBJECTS, fleet, NATS_HELD_RATE),
          intervalSeconds: RSS_WINDOW_SECONDS,
        })
      : null;
    const version = ((await (await fetch(`${server.monitorUrl}/varz`)).json()) as { version?: string }).version ?? "?";
    const figures = {
      broker: `nats-server ${version} (loopback)`,
      messages: NATS_MESSAGES,
      rounds: ROUNDS,
      windowSeconds: WINDOW_SECONDS,
      rssTargetMb: NATS_RSS_TARGET_MB,
      steadySubjects: steady,
      distinctSubjects: distinct,
      distinctSubjectsHeldRate: held && { subjects: NATS_SUBJECTS, perSecond: NATS_HELD_RATE, ...brief(held, NATS_SUBJECTS), readyRssMb: mb(held.readyRssBytes) },
    };
    const heldLost = held ? Math.max(0, NATS_SUBJECTS - held.received) : 0;
    const heldMet = !!held && held.peakRssBytes < NATS_RSS_TARGET_MB * 1024 * 1024 && heldLost === 0;
    const skipped = (what: string) => [`NATS ${what}: skipped (BENCH_NATS_CASES)`];
    const summary = [
      `NATS: ${figures.broker}; ${NATS_MESSAGES} messages per run, ${ROUNDS} rounds interleaved, medians; bare = bench/bare-nats.mjs on >`,
      ...(steady ? [`NATS over ${TOPICS} subjects:`, ...comparisonLines(steady, "bare nats client", "NATS agent", "nats.steadySubjects.all")] : skipped(`over ${TOPICS} subjects`)),
      ...(distinct
        ? [`NATS over ${NATS_SUBJECTS} distinct subjects:`, ...comparisonLines(distinct, "bare nats client", "NATS agent", "nats.distinctSubjects.all")]
        : skipped(`over ${NATS_SUBJECTS} distinct subjects`)),
      ...(held
        ? [
            `NATS agent peak RSS at ${NATS_SUBJECTS} subjects, published at ${NATS_HELD_RATE} msg/s: ${mb(held.peakRssBytes)} MB (${mb(held.readyRssBytes)} MB subscribed; target < ${NATS_RSS_TARGET_MB}) ${heldMet ? "met" : "MISSED"}${heldLost ? ` (LOST ${heldLost} messages)` : ""}${distinct ? `; flooded: ${distinct.agent.peakRssMb} MB` : ""}`,
          ]
        : skipped("peak RSS at a held rate")),
    ];
    return { summary, figures };
  } finally {
    await server.cleanup();
  }
}

/** The RabbitMQ part (bench/agent-amqp.ts): the agent beside a bare amqplib consumer; null without rabbitmq-server. */
async function runAmqpPart(portal: FakePortal): Promise<{ summary: string[]; figures: Record<string, unknown> } | null> {
  const { benchAmqpAgent } = await import("./agent-amqp.ts");
  return benchAmqpAgent({ portal });
}

/** Runs the benchmark and returns its figures. */
export async function run(): Promise<BenchResult> {
  const mosquitto = MOSQUITTO_BIN ? await startMosquitto({ logAll: false }) : null;
  // Without Mosquitto, the embedded broker in this process (it then shares the cores with the loader).
  const embedded = mosquitto ? null : await (await import("../agents/embedded-broker.ts")).startEmbeddedBroker({ port: 0 });
  const { startFakePortal } = await import("../agents/testing/fake-portal.ts");
  const portal = await startFakePortal(BENCH_TOKEN);
  try {
    const brokerUrl = mosquitto?.url ?? embedded!.url;
    const agentArgs = ["--broker", brokerUrl];
    const topic = (i: number) => `plant/line-${i % TOPICS}/sensor/temperature`;
    const load = () => loadMqtt(brokerUrl, MESSAGES, topic);
    let steady: ReturnType<typeof compareSides> | null = null;
    if (runsCase("steady")) {
      const bare: Measure[] = [];
      const agent: Measure[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        bare.push(await runBare("bare", "bare-mqtt.mjs", [brokerUrl], MESSAGES, load));
        agent.push(await runAgent({ role: "agent", args: agentArgs, portal, expect: MESSAGES, load, intervalSeconds: WINDOW_SECONDS }));
      }
      steady = compareSides(bare, agent, MESSAGES);
    }

    const rssRun = (topicOf: (i: number) => string) =>
      runAgent({ role: "agent", args: agentArgs, portal, expect: DISTINCT_TOPICS, load: () => loadMqtt(brokerUrl, DISTINCT_TOPICS, topicOf), intervalSeconds: RSS_WINDOW_SECONDS });
    const rssCases = runsCase("rss");
    const distinct = rssCases ? await rssRun((i) => `fleet/site${i % 50}/device-${i}/telemetry`) : null;
    // Worst case for templates: 100,000 topics whose levels are words that never look like ids and
    // never pass the collapse threshold, so the template cap (10,000) has to hold the line.
    const word = (n: number) => "k" + "abcdefghijklmnopqr"[n % 18] + "abcdefghijklmnopqr"[Math.floor(n / 18) % 18];
    const wide = rssCases ? await rssRun((i) => `p${word(i % 18)}/q${word(Math.floor(i / 18) % 18)}/r${word(Math.floor(i / 324) % 18)}/s${word(Math.floor(i / 5832))}`) : null;

    // Producers from the broker log: Mosquitto writes a debug line per message, the agent follows the file.
    let withLog: { messagesPerSecond: number; cpuMicrosPerMessage: number; producerMessagesLearned: number } | null = null;
    if (MOSQUITTO_BIN && runsCase("log")) {
      const logged = await startMosquitto();
      try {
        const learned = (reports: readonly AgentReport[]) => {
          let n = 0;
          for (const r of reports) for (const t of r.topics) for (const p of t.producers) if (p.clientId.startsWith("bench-loader-")) n += p.messages;
          return n;
        };
        const m = await runAgent({
          role: "agent-log",
          args: ["--broker", logged.url, "--broker-log", logged.logFile],
          portal,
          expect: MESSAGES,
          load: () => loadMqtt(logged.url, MESSAGES, topic),
          intervalSeconds: WINDOW_SECONDS,
          // The log follower may trail the messages by a window.
          settled: (reports) => learned(reports) >= MESSAGES,
        });
        withLog = { messagesPerSecond: Math.round(m.messagesPerSecond), cpuMicrosPerMessage: round(cpuPerMessageUs(m)), producerMessagesLearned: learned(m.reports ?? []) };
      } finally {
        await logged.cleanup();
      }
    }
    const nats = runsCase("nats") ? await runNats(portal) : null;
    const amqp = runsCase("amqp") ? await runAmqpPart(portal) : null;
    // A run that lost messages held fewer topics than the target speaks of: its peak does not count as met.
    const rss = (m: Measure, target: number) => ({
      topics: DISTINCT_TOPICS,
      received: m.received,
      lost: Math.max(0, DISTINCT_TOPICS - m.received),
      dropped: m.dropped,
      windows: m.windows,
      peakRssMb: mb(m.peakRssBytes),
      readyRssMb: mb(m.readyRssBytes),
      targetMb: target,
      met: m.peakRssBytes < target * 1024 * 1024 && m.received >= DISTINCT_TOPICS,
      messagesPerSecond: Math.round(m.messagesPerSecond),
    });
    const figures = {
      broker: mosquitto ? "mosquitto 2.0.11 (loopback)" : "aedes (embedded in the benchmark process, loopback)",
      agentProcess: "node dist/agent/meshport-agent.mjs (built)",
      bareProcess: "node bench/bare-mqtt.mjs (mqtt, # and $SYS/# as the agent)",
      messages: MESSAGES,
      topics: TOPICS,
      rounds: ROUNDS,
      windowSeconds: WINDOW_SECONDS,
      ...steady,
      distinctTopics: distinct && rss(distinct, RSS_TARGET_MB),
      nonCollapsingTopics: wide && rss(wide, RSS_NON_COLLAPSING_TARGET_MB),
      agentWithBrokerLog: withLog,
      nats: nats?.figures ?? null,
      amqp: amqp?.figures ?? null,
      cpus: os.cpus().length,
      node: process.version,
    };
    const rssLine = (what: string, r: ReturnType<typeof rss> | null) =>
      !r ? `${DISTINCT_TOPICS} ${what}: skipped (BENCH_AGENT_CASES)` :
      `${DISTINCT_TOPICS} ${what}: agent peak RSS ${r.peakRssMb} MB (${r.readyRssMb} MB subscribed; target < ${r.targetMb}) ${r.met ? "met" : "MISSED"}` +
      `${r.dropped ? `; ${r.dropped} messages over the caps` : ""}${r.lost ? `; LOST ${r.lost} messages` : ""}${r.windows !== 1 ? `; warning: spread over ${r.windows} windows` : ""}`;
    const summary = [
      `broker: ${figures.broker}; ${MESSAGES} messages over ${TOPICS} topics, ${ROUNDS} rounds interleaved, medians; ${WINDOW_SECONDS} s windows`,
      `bare = ${figures.bareProcess}; agent = ${figures.agentProcess}; CPU and read sizes from /proc, from the load's start until done (the agent: last window flushed)`,
      ...(steady ? comparisonLines(steady, "bare subscriber", "agent", '"all"') : ["MQTT over 1,000 topics: skipped (BENCH_AGENT_CASES)"]),
      rssLine("distinct topics (collapsing into templates)", figures.distinctTopics),
      rssLine("topics that never collapse (the template cap holds)", figures.nonCollapsingTopics),
      ...(withLog
        ? [`agent following the broker log (log_type all): ${withLog.messagesPerSecond} msg/s, ${withLog.cpuMicrosPerMessage} µs CPU/msg, producer messages learned ${withLog.producerMessagesLearned}/${MESSAGES}`]
        : []),
      ...(nats?.summary ?? [`NATS: ${runsCase("nats") ? "nats-server is not installed" : "not in BENCH_AGENT_CASES"}; skipped`]),
      ...(amqp?.summary ?? [`RabbitMQ: ${runsCase("amqp") ? "rabbitmq-server is not installed" : "not in BENCH_AGENT_CASES"}; skipped`]),
      "RSS is the whole process (VmHWM: node and what it loaded, start-up included)",
    ];
    return { name: "agent", summary, figures, ...(process.env.BENCH_AGENT_CASES || process.env.BENCH_NATS_CASES ? { partial: true } : {}) };
  } finally {
    await portal.close();
    await mosquitto?.cleanup();
    await embedded?.close();
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain && process.argv[2] === "nats") {
  const { startFakePortal } = await import("../agents/testing/fake-portal.ts");
  const portal = await startFakePortal(BENCH_TOKEN);
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
  const file = resultsFile(dir, result);
  writeFileSync(file, `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), file)}`);
  process.exit(0);
}
