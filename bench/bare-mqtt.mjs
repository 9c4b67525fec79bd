#!/usr/bin/env node
// The agent benchmark's bare MQTT subscriber: a plain `mqtt` client in plain Node (no TypeScript loader, no project
// modules) that connects and subscribes as the agent does (agents/mqtt-source.ts: MQTT 3.1.1, clean session, `#` at
// QoS 2 and `$SYS/#` at QoS 0 in one SUBSCRIBE) and only counts the messages that are not `$`-topics.
//
//   node bench/bare-mqtt.mjs URL EXPECT
//
// Prints one JSON line `{"ready":true}` once subscribed, then `{"done":true,"received":N,"firstAt":ms,"lastAt":ms}`
// when EXPECT messages arrived (or on SIGTERM, with what arrived so far), and keeps running until it is stopped.
import mqtt from "mqtt";

const [url, expectArg] = process.argv.slice(2);
const expect = Number(expectArg);
if (!url || !Number.isSafeInteger(expect) || expect < 1) {
  process.stderr.write("usage: node bench/bare-mqtt.mjs URL EXPECT\n");
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
const client = mqtt.connect(url, {
  clientId: `bench-bare-${process.pid}`,
  protocolVersion: 4,
  protocolId: "MQTT",
  clean: true,
  keepalive: 30,
  reconnectPeriod: 1_000,
  connectTimeout: 10_000,
  resubscribe: false,
});
client.on("message", (topic) => {
  if (topic.charCodeAt(0) === 36 /* $ */) return;
  const now = Date.now();
  if (received === 0) firstAt = now;
  received++;
  lastAt = now;
  if (received === expect) report();
});
client.once("connect", () => {
  client.subscribe({ "#": { qos: 2 }, "$SYS/#": { qos: 0 } }, (err) => {
    if (err) {
      process.stderr.write(`bare-mqtt: subscription failed: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  });
});
process.once("SIGTERM", () => {
  report();
  process.exit(0);
});
