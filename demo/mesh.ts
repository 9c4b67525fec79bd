/**
 * The demo mesh's shape: two brokers and the bridge between them. The demo mesh process runs
 * them (scripts/demo-mesh.ts) and the seed declares them (demo/seed.ts), from this one place.
 */
import type { BridgeTopic } from "../agents/embedded-bridge.ts";
import type { DemoBrokerId } from "./traffic.ts";

/** A broker of the demo mesh. */
export interface DemoBroker {
  id: DemoBrokerId;
  name: string;
  description: string;
  /** Environment variable with its MQTT port, and the port without it (a taken port falls back to a free one). */
  portVariable: string;
  defaultPort: number;
  /** File in the data folder with its agent's token (bound to this broker). */
  tokenFile: string;
}

export const DEMO_BROKERS: readonly DemoBroker[] = [
  {
    id: "plant-eu",
    name: "Lyon plant broker",
    description: "The Lyon plant's MQTT broker: line sensors, machines, orders, warehouse, and the ERP's source integration.",
    portVariable: "MESHPORT_DEMO_MQTT_PORT",
    defaultPort: 1883,
    tokenFile: "demo-agent-token",
  },
  {
    id: "cloud-core",
    name: "Cloud core broker",
    description: "The cloud's MQTT broker: the supplier network's source integration, and the CRM and analytics targets.",
    portVariable: "MESHPORT_DEMO_CLOUD_MQTT_PORT",
    defaultPort: 1884,
    tokenFile: "demo-agent-token-cloud-core",
  },
];

/** The bridge: plant-eu's side connects to cloud-core, like a Mosquitto `connection` on the plant broker. */
export const DEMO_BRIDGE = {
  name: "plant-eu.cloud-core",
  local: "plant-eu",
  remote: "cloud-core",
  topics: [
    { filter: "erp/#", direction: "out", qos: 1 },
    { filter: "scm/#", direction: "in", qos: 1 },
  ],
} as const satisfies { name: string; local: DemoBrokerId; remote: DemoBrokerId; topics: readonly BridgeTopic[] };

/** The bridge as the portal declares bridges: one per filter, from the broker the messages leave. */
export function declaredDemoBridges(): Array<{ fromBrokerId: DemoBrokerId; toBrokerId: DemoBrokerId; topicFilter: string; direction: "out" | "both"; description: string }> {
  return DEMO_BRIDGE.topics.map((t: BridgeTopic) => {
    const inward = t.direction === "in";
    return {
      fromBrokerId: inward ? DEMO_BRIDGE.remote : DEMO_BRIDGE.local,
      toBrokerId: inward ? DEMO_BRIDGE.local : DEMO_BRIDGE.remote,
      topicFilter: t.filter,
      direction: t.direction === "both" ? "both" : "out",
      description: `Bridge ${DEMO_BRIDGE.name} (on plant-eu): ${t.filter} ${inward ? "in from cloud-core" : t.direction === "both" ? "both ways" : "out to cloud-core"}.`,
    };
  });
}
