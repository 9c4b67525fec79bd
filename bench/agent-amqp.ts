/**
 * RabbitMQ agent benchmark (loopback only, bounded). On one real RabbitMQ node, a loader publishes to one topic
 * exchange as fast as the broker takes it; in interleaved rounds a bare amqplib consumer (bench/bare-amqp.mjs: plain
 * Node, its own exclusive queue with the agent's length bound, bound with `#`, no acknowledgements) and the built
 * agent (`node dist/agent/meshport-agent.mjs --kind amqp …`: the same kind of queue, the management API polled)
 * receive the same messages in turn, each measured from outside as in bench/agent.ts (bench/agent-harness.ts).
 * Two cases: 1,000 routing keys, and 100,000 distinct routing keys (where the agent holds most).
 *
 *   npx tsx bench/agent-amqp.ts [MESSAGES [ROUNDS]]   (prints the figures; bench/agent.ts calls {@link benchAmqpAgent})
 */
import { once } from "node:events";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { FakePortal } from "../agents/testing/fake-portal.ts";
import { RABBITMQ_BIN_DIR, startRabbitMq } from "../agents/testing/rabbitmq.ts";
import { BENCH_TOKEN, compareSides, comparisonLines, runAgent, runBare, type Measure } from "./agent-harness.ts";

const EXCHANGE = "bench";
const MESSAGES = 200_000;
const STEADY_KEYS = 1_000;
const DISTINCT_KEYS = 100_000;
const RSS_TARGET_MB = 150;

/** Options of {@link benchAmqpAgent}. */
export interface AmqpBenchOptions {
  /** the fake portal the agent reports to */
  portal: FakePortal;
  /** messages per run (default 200,000) */
  messages?: number;
  /** rounds of bare and agent in turn (default: as bench/agent.ts, BENCH_ROUNDS or 3) */
  rounds?: number;
  /** the agent's report window in seconds (default: as bench/agent.ts) */
  windowSeconds?: number;
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

/**
 * The RabbitMQ agent beside a bare amqplib consumer on one real node: throughput ratio, CPU per
 * message and peak RSS at 1,000 and at 100,000 distinct routing keys. Null when rabbitmq-server is
 * not installed.
 */
export async function benchAmqpAgent(opts: AmqpBenchOptions): Promise<{ summary: string[]; figures: Record<string, unknown> } | null> {
  if (!RABBITMQ_BIN_DIR) return null;
  const { ROUNDS, WINDOW_SECONDS } = await import("./agent.ts");
  const messages = opts.messages ?? MESSAGES;
  const roundsCount = opts.rounds ?? ROUNDS;
  const windowSeconds = opts.windowSeconds ?? WINDOW_SECONDS;
  const server = await startRabbitMq({ plugins: ["rabbitmq_management"] });
  try {
    const declared = await server.api("PUT", `/api/exchanges/%2F/${EXCHANGE}`, { type: "topic", durable: false });
    if (declared.status >= 300) throw new Error(`cannot declare the bench exchange: ${declared.status}`);
    // As a user runs it: the default management poll and queue bound, only the bench exchange observed.
    const agentArgs = ["--kind", "amqp", "--broker", server.url, "--management", server.managementUrl, "--exchanges", EXCHANGE];
    const compare = async (keys: number, key: (i: number) => string) => {
      const bare: Measure[] = [];
      const agent: Measure[] = [];
      const run = () => load(server.url, messages, key);
      for (let r = 0; r < roundsCount; r++) {
        bare.push(await runBare("amqp-bare", "bare-amqp.mjs", [server.url, EXCHANGE], messages, run));
        agent.push(await runAgent({ role: "amqp-agent", args: agentArgs, portal: opts.portal, expect: messages, load: run, intervalSeconds: windowSeconds }));
      }
      return { routingKeys: keys, ...compareSides(bare, agent, messages) };
    };
    const steady = await compare(STEADY_KEYS, (i) => `plant.line-${i % STEADY_KEYS}.sensor.temperature`);
    const distinct = await compare(DISTINCT_KEYS, (i) => `fleet.site${i % 50}.device-${i % DISTINCT_KEYS}.telemetry`);
    const version = ((await server.api("GET", "/api/overview")).body as { rabbitmq_version?: string } | null)?.rabbitmq_version ?? "?";
    const figures = {
      broker: `rabbitmq ${version} (loopback)`,
      brokerStartMs: server.startMs,
      messages,
      rounds: roundsCount,
      windowSeconds,
      rssTargetMb: RSS_TARGET_MB,
      steadyRoutingKeys: steady,
      distinctRoutingKeys: distinct,
    };
    const summary = [
      `RabbitMQ: ${figures.broker}, started in ${server.startMs} ms; ${messages} messages per run to one topic exchange, ${roundsCount} rounds interleaved, medians; bare = bench/bare-amqp.mjs`,
      `RabbitMQ over ${STEADY_KEYS} routing keys:`,
      ...comparisonLines(steady, "bare amqplib consumer", "RabbitMQ agent", "amqp.steadyRoutingKeys.all"),
      `RabbitMQ over ${DISTINCT_KEYS} distinct routing keys:`,
      ...comparisonLines(distinct, "bare amqplib consumer", "RabbitMQ agent", "amqp.distinctRoutingKeys.all"),
      // An agent run that lost messages held fewer routing keys than the target speaks of.
      `RabbitMQ agent peak RSS at ${DISTINCT_KEYS} routing keys: ${distinct.agent.peakRssMb} MB (target < ${RSS_TARGET_MB}) ${distinct.agent.peakRssMb < RSS_TARGET_MB && distinct.agentLost === 0 ? "met" : "MISSED"}${distinct.agentLost ? ` (${distinct.agentLost} agent run(s) LOST messages)` : ""}`,
    ];
    return { summary, figures };
  } finally {
    await server.cleanup();
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const { startFakePortal } = await import("../agents/testing/fake-portal.ts");
  const portal = await startFakePortal(BENCH_TOKEN);
  try {
    // Optional: messages per run and rounds, for a quick check (`npx tsx bench/agent-amqp.ts 20000 1`).
    const [messages, rounds] = process.argv.slice(2).map(Number);
    const result = await benchAmqpAgent({ portal, messages: messages || undefined, rounds: rounds || undefined });
    for (const line of result?.summary ?? ["rabbitmq-server is not installed"]) console.log(line);
  } finally {
    await portal.close();
  }
  process.exit(0);
}
