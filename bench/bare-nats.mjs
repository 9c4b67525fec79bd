#!/usr/bin/env node
// The agent benchmark's bare NATS client: a plain `nats` client in plain Node (no TypeScript loader, no project
// modules) that connects and subscribes as the agent does (agents/nats-source.ts: no echo, one subscription to `>`
// with a callback) and only counts.
//
//   node bench/bare-nats.mjs SERVERS EXPECT
//
// Prints one JSON line `{"ready":true}` once the server has the subscription, then
// `{"done":true,"received":N,"firstAt":ms,"lastAt":ms}` when EXPECT messages arrived (or on SIGTERM, with what arrived
// so far), and keeps running until it is stopped.
import { connect } from "nats";

const [servers, expectArg] = process.argv.slice(2);
const expect = Number(expectArg);
if (!servers || !Number.isSafeInteger(expect) || expect < 1) {
  process.stderr.write("usage: node bench/bare-nats.mjs SERVERS EXPECT\n");
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
const nc = await connect({ servers: servers.split(","), name: `bench-bare-${process.pid}`, noEcho: true, maxReconnectAttempts: -1, reconnectTimeWait: 1_000, timeout: 10_000 });
nc.subscribe(">", {
  callback: (err) => {
    if (err) {
      process.stderr.write(`bare-nats: ${err.message}\n`);
      process.exit(1);
    }
    const now = Date.now();
    if (received === 0) firstAt = now;
    received++;
    lastAt = now;
    if (received === expect) report();
  },
});
await nc.flush();
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.once("SIGTERM", () => {
  report();
  process.exit(0);
});
