#!/usr/bin/env node
// The agent benchmark's bare RabbitMQ consumer: a plain amqplib client in plain Node (no TypeScript loader, no project
// modules) that consumes as the agent does (agents/amqp-source.ts: its own exclusive queue with the agent's length
// bound, bound to the exchange with `#`, consumed without acknowledgements) and only counts.
//
//   node bench/bare-amqp.mjs URL EXCHANGE EXPECT
//
// Prints one JSON line `{"ready":true}` once consuming, then `{"done":true,"received":N,"firstAt":ms,"lastAt":ms}`
// when EXPECT messages arrived (or on SIGTERM, with what arrived so far), and keeps running until it is stopped.
import amqp from "amqplib";

/** The agent's default bound of its queues (amqp-source.ts `queueMaxLength`), oldest dropped first. */
const QUEUE_MAX_LENGTH = 100_000;

const [url, exchange, expectArg] = process.argv.slice(2);
const expect = Number(expectArg);
if (!url || !exchange || !Number.isSafeInteger(expect) || expect < 1) {
  process.stderr.write("usage: node bench/bare-amqp.mjs URL EXCHANGE EXPECT\n");
  process.exit(2);
}
let received = 0;
let firstAt = 0;
let lastAt = 0;
let reported = false;
const report = () => {
  if (reported) return;
  reported = true;
  process.stdout.write(`${JSON.stringify({ done: true, received, firstAt, lastAt })}\n`);
};
// The agent's heartbeat (30 s unless its URL says otherwise).
const withHeartbeat = new URL(url);
if (!withHeartbeat.searchParams.has("heartbeat")) withHeartbeat.searchParams.set("heartbeat", "30");
const conn = await amqp.connect(withHeartbeat.toString(), { clientProperties: { connection_name: `bench-bare-${process.pid}` }, timeout: 10_000 });
const channel = await conn.createChannel();
const q = await channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false, arguments: { "x-max-length": QUEUE_MAX_LENGTH, "x-overflow": "drop-head" } });
await channel.bindQueue(q.queue, exchange, "#");
await channel.consume(
  q.queue,
  (msg) => {
    if (!msg) return;
    const now = Date.now();
    if (received === 0) firstAt = now;
    received++;
    lastAt = now;
    if (received === expect) report();
  },
  { noAck: true, exclusive: true },
);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.once("SIGTERM", () => {
  report();
  process.exit(0);
});
