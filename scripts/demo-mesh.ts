// The demo's live mesh: two embedded MQTT brokers (aedes), plant-eu and cloud-core, a bridge
// between them (erp/# out to the cloud, scm/# in to the plant), a Meshport agent on each with a
// token bound to its broker, and a traffic generator that mostly follows the demo contracts and
// drifts in a few ways. Started by scripts/demo.mjs once the portal is up; reads the agents'
// tokens the portal wrote into the data folder.
import { readFileSync } from "node:fs";
import path from "node:path";
import { startAgent, type AgentHandle } from "../agents/agent.ts";
import { startEmbeddedBridge, type EmbeddedBridge } from "../agents/embedded-bridge.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "../agents/embedded-broker.ts";
import { DEMO_BRIDGE, DEMO_BROKERS, type DemoBroker } from "../demo/mesh.ts";
import { startDemoTraffic, type DemoTraffic } from "../demo/traffic.ts";

const dataDir = path.resolve(process.env.MESHPORT_DATA_DIR || ".data");
const portal = process.env.MESHPORT_URL || `http://127.0.0.1:${process.env.PORT || "3000"}`;
const reportSeconds = Math.min(Math.max(Number(process.env.MESHPORT_DEMO_REPORT_SECONDS) || 5, 1), 300);

const brokers = new Map<string, EmbeddedBroker>();
const agents: AgentHandle[] = [];
let bridge: EmbeddedBridge | null = null;
let traffic: DemoTraffic | null = null;

let stopping = false;
async function stop(code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    // Clients first, brokers last, so every agent's last window is flushed to the portal.
    await traffic?.stop().catch(() => undefined);
    await bridge?.close().catch(() => undefined);
    await Promise.all(agents.map((a) => a.stop({ flush: true }).catch(() => undefined)));
    await Promise.all([...brokers.values()].map((b) => b.close().catch(() => undefined)));
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

function portOf(b: DemoBroker): number {
  const port = Number(process.env[b.portVariable] || b.defaultPort);
  return Number.isInteger(port) && port >= 0 && port <= 65_535 ? port : b.defaultPort;
}

// Another broker (say, a system Mosquitto) may hold a port: then any free port will do.
async function startBroker(b: DemoBroker): Promise<EmbeddedBroker> {
  const port = portOf(b);
  return startEmbeddedBroker({ port, host: "127.0.0.1" }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== "EADDRINUSE") throw error;
    console.log(`meshport demo mesh: port ${port} is taken, ${b.id}'s embedded broker listens on another port`);
    return startEmbeddedBroker({ port: 0, host: "127.0.0.1" });
  });
}

try {
  for (const b of DEMO_BROKERS) {
    const token = readFileSync(path.join(dataDir, b.tokenFile), "utf8").trim();
    const broker = await startBroker(b);
    brokers.set(b.id, broker);
    agents.push(
      await startAgent({
        broker: broker.url,
        brokerId: b.id,
        portal,
        token,
        brokerEvents: broker.events,
        spool: path.join(dataDir, "agent-spool", b.id),
        intervalSeconds: reportSeconds,
        channelsRefreshSeconds: 30,
        redact: ["operator"],
      }),
    );
  }
  const plant = brokers.get(DEMO_BRIDGE.local)!;
  const cloud = brokers.get(DEMO_BRIDGE.remote)!;
  bridge = await startEmbeddedBridge({
    name: DEMO_BRIDGE.name,
    // Both ends carry the bridge bit: each broker's agent then tells of the link, and neither mistakes it for an application.
    local: { url: plant.url, bridgeBit: true },
    remote: { url: cloud.url },
    topics: [...DEMO_BRIDGE.topics],
    log: (line) => console.log(`meshport demo mesh: ${line}`),
  });
  await bridge.whenReady();
  traffic = await startDemoTraffic({ brokerUrl: plant.url, cloudBrokerUrl: cloud.url, log: (line) => console.log(`demo traffic: ${line}`) });
  console.log(
    `meshport demo mesh: MQTT brokers plant-eu ${plant.url} and cloud-core ${cloud.url}, bridged (${DEMO_BRIDGE.topics.map((t) => `${t.filter} ${t.direction}`).join(", ")}), ` +
      `an agent on each reporting to ${portal} every ${reportSeconds} s, demo traffic flowing`,
  );
} catch (error) {
  console.error(`meshport demo mesh: could not start: ${error instanceof Error ? error.message : String(error)}`);
  await stop(1);
}
