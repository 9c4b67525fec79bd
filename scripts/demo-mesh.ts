// The demo's live mesh: an embedded MQTT broker (aedes), a Meshport agent attached to it,
// and a traffic generator that mostly follows the demo contracts and drifts in a few ways.
// Started by scripts/demo.mjs once the portal is up; reads the agent token the portal wrote.
import { readFileSync } from "node:fs";
import path from "node:path";
import { startAgent } from "../agents/agent.ts";
import { startEmbeddedBroker } from "../agents/embedded-broker.ts";
import { startDemoTraffic } from "../demo/traffic.ts";

const dataDir = path.resolve(process.env.MESHPORT_DATA_DIR || ".data");
const portal = process.env.MESHPORT_URL || `http://127.0.0.1:${process.env.PORT || "3000"}`;
const mqttPort = Number(process.env.MESHPORT_DEMO_MQTT_PORT || 1883);
const token = readFileSync(path.join(dataDir, "demo-agent-token"), "utf8").trim();

// Another broker (say, a system Mosquitto) may hold the port: then any free port will do.
const broker = await startEmbeddedBroker({ port: mqttPort, host: "127.0.0.1" }).catch(async (error: NodeJS.ErrnoException) => {
  if (error.code !== "EADDRINUSE") throw error;
  console.log(`meshport demo mesh: port ${mqttPort} is taken, the embedded broker listens on another port`);
  return startEmbeddedBroker({ port: 0, host: "127.0.0.1" });
});
const agent = await startAgent({
  broker: broker.url,
  brokerId: "plant-eu",
  portal,
  token,
  brokerEvents: broker.events,
  spool: path.join(dataDir, "agent-spool", "plant-eu"),
  intervalSeconds: Number(process.env.MESHPORT_DEMO_REPORT_SECONDS || 5),
  channelsRefreshSeconds: 30,
  redact: ["operator"],
});
const traffic = await startDemoTraffic({ brokerUrl: broker.url, log: (line) => console.log(`demo traffic: ${line}`) });
console.log(`meshport demo mesh: MQTT broker ${broker.url}, agent reporting to ${portal} every few seconds, demo traffic flowing`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await traffic.stop();
  await agent.stop({ flush: true });
  await broker.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
