/**
 * The demo catalog: a manufacturing company's MQTT event mesh (the plant broker plant-eu, bridged
 * to the cloud broker cloud-core), written for Meshport: shop-floor applications, and source and
 * target micro-integrations between the company's systems (ERP, CRM, supplier network, analytics,
 * document archive). Each version is an AsyncAPI file beside this module, `<slug>@<version>.yaml`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

/** Lifecycle state of a demo version when it is seeded (draft and retired are not used by the demo). */
export type DemoVersionState = "released" | "deprecated";

/** One published version of a demo application. */
export interface DemoVersion {
  version: string;
  /** File name beside this module. */
  file: string;
  /** Default `released`. */
  state?: DemoVersionState;
  /** Why a version is deprecated, shown with the warning. */
  reason?: string;
}

/** A proposed version the demo leaves open for review, by one of the demo people. */
export interface DemoProposal {
  version: string;
  file: string;
  title: string;
  description: string;
  /** Email of the demo person who proposes it. */
  author: string;
}

/** One demo application with its versions, oldest first. */
export interface DemoApplication {
  slug: string;
  name: string;
  /** Team slug, as seeded by demo/seed.ts; equals the contracts' `x-owner`. */
  team: string;
  description: string;
  domain: string;
  /** Client ids of the application on the demo broker (the demo traffic's client names). */
  clientIdPatterns: string[];
  tags: string[];
  versions: DemoVersion[];
  /** Change requests left open in the demo, for people to review. */
  proposals?: DemoProposal[];
}

const file = (slug: string, version: string) => `${slug}@${version}.yaml`;

/** The demo applications in the order they should be seeded (producers before their consumers). */
export const DEMO_APPLICATIONS: DemoApplication[] = [
  {
    slug: "line-sensors",
    clientIdPatterns: ["line-sensors-gw-*"],
    name: "Line Sensors Gateway",
    team: "plant-operations",
    description: "Edge gateway publishing raw temperature and vibration readings of every assembly line.",
    domain: "production",
    tags: ["telemetry", "shop-floor", "iot"],
    versions: [
      { version: "1.0.0", file: file("line-sensors", "1.0.0"), state: "deprecated", reason: "Superseded by 2.0.0: temperatures are always Celsius now." },
      { version: "1.1.0", file: file("line-sensors", "1.1.0") },
      // Breaking under BACKWARD: `unit` removed and `rms` renamed `rmsVelocity` in closed payloads, hence the major bump.
      { version: "2.0.0", file: file("line-sensors", "2.0.0") },
    ],
  },
  {
    slug: "machine-monitor",
    clientIdPatterns: ["machine-monitor*"],
    name: "Machine Monitor",
    team: "plant-operations",
    description: "Condition monitoring: watches line telemetry and raises temperature and vibration alarms.",
    domain: "production",
    tags: ["condition-monitoring", "alarms", "shop-floor"],
    versions: [{ version: "1.4.0", file: file("machine-monitor", "1.4.0") }],
    // Breaking for every alarm consumer (a new severity scale): waits for Plant Operations and the Integration Platform.
    proposals: [
      {
        version: "2.0.0",
        file: file("machine-monitor", "2.0.0"),
        title: "Four alarm severities",
        description: "Alarms move to low, medium, high and critical so the andon board can page shift leads on high.",
        author: "eddie@meshport.demo",
      },
    ],
  },
  {
    slug: "alarm-dispatcher",
    clientIdPatterns: ["alarm-dispatcher*"],
    name: "Alarm Dispatcher",
    team: "plant-operations",
    description: "Routes line alarms to the people on shift and publishes their acknowledgements.",
    domain: "production",
    tags: ["alarms", "shop-floor", "asyncapi-2"],
    versions: [{ version: "1.2.0", file: file("alarm-dispatcher", "1.2.0") }],
  },
  {
    slug: "mes-orders",
    clientIdPatterns: ["mes-orders*"],
    name: "MES Order Service",
    team: "logistics",
    description: "Production orders released to the shop floor and their status until completion.",
    domain: "orders",
    tags: ["orders", "mes"],
    versions: [
      { version: "1.0.0", file: file("mes-orders", "1.0.0") },
      { version: "1.1.0", file: file("mes-orders", "1.1.0") },
      { version: "1.2.0", file: file("mes-orders", "1.2.0") },
    ],
  },
  {
    slug: "warehouse-service",
    clientIdPatterns: ["warehouse-service*"],
    name: "Warehouse Service",
    team: "logistics",
    description: "Stages material for new orders and reports every stock movement of both plants.",
    domain: "logistics",
    tags: ["warehouse", "inventory"],
    versions: [{ version: "2.1.0", file: file("warehouse-service", "2.1.0") }],
  },
  {
    slug: "shipment-tracker",
    clientIdPatterns: ["shipment-tracker*"],
    name: "Shipment Tracker",
    team: "logistics",
    description: "Follows finished goods from the dock to the customer, one event per milestone.",
    domain: "logistics",
    tags: ["transport", "tracking", "asyncapi-2"],
    versions: [{ version: "3.0.2", file: file("shipment-tracker", "3.0.2") }],
  },
  {
    slug: "quality-inspection",
    clientIdPatterns: ["quality-inspection*"],
    name: "Quality Inspection",
    team: "quality",
    description: "Inspection stations publishing each measured characteristic against its tolerance.",
    domain: "quality",
    tags: ["inspection", "spc"],
    versions: [{ version: "1.3.0", file: file("quality-inspection", "1.3.0") }],
  },
  {
    slug: "batch-release",
    clientIdPatterns: ["batch-release*"],
    name: "Batch Release",
    team: "quality",
    description: "Releases, quarantines or rejects each finished batch from its inspection results.",
    domain: "quality",
    tags: ["release", "compliance"],
    versions: [{ version: "1.0.1", file: file("batch-release", "1.0.1") }],
  },
  {
    slug: "energy-meter",
    clientIdPatterns: ["energy-meters-gw*"],
    name: "Energy Meters",
    team: "plant-operations",
    description: "Energy sub-meters of compressors, ovens and feeders, read every few seconds.",
    domain: "energy",
    tags: ["energy", "iso-50001", "asyncapi-2"],
    versions: [
      { version: "1.0.0", file: file("energy-meter", "1.0.0"), state: "deprecated", reason: "Fractional kWh drifted in monthly totals; use 2.0.0 (integer Wh)." },
      // Breaking under BACKWARD: required `kwh` (number) replaced by required `energyWh` (integer) in a closed payload.
      { version: "2.0.0", file: file("energy-meter", "2.0.0") },
    ],
  },
  {
    slug: "ops-dashboard",
    clientIdPatterns: ["ops-dashboard*"],
    name: "Operations Dashboard",
    team: "platform",
    description: "Control-room wall screens: alarms, order progress, shipments and energy; consumes only.",
    domain: "operations",
    tags: ["dashboard", "read-only"],
    versions: [{ version: "0.9.0", file: file("ops-dashboard", "0.9.0") }],
  },
  // The mesh's micro-integrations: their contracts name their kind and systems (`info.x-meshport-kind`, `x-meshport-systems`).
  {
    slug: "erp-order-source",
    clientIdPatterns: ["erp-order-source-*"],
    name: "ERP Order Source",
    team: "logistics",
    description: "Source integration: confirmed sales orders and posted invoices from the ERP, published on plant-eu.",
    domain: "orders",
    tags: ["erp", "integration"],
    versions: [{ version: "1.0.0", file: file("erp-order-source", "1.0.0") }],
  },
  {
    slug: "scm-asn-source",
    clientIdPatterns: ["scm-asn-source-*"],
    name: "Supplier ASN Source",
    team: "logistics",
    description: "Source integration: suppliers' advance shipping notices from the supplier network, published on cloud-core.",
    domain: "logistics",
    tags: ["scm", "integration"],
    versions: [{ version: "1.0.0", file: file("scm-asn-source", "1.0.0") }],
  },
  {
    slug: "crm-order-sync",
    clientIdPatterns: ["crm-order-sync-*"],
    name: "CRM Order Sync",
    team: "platform",
    description: "Target integration: writes sales orders and invoices bridged to cloud-core into the CRM.",
    domain: "sales",
    tags: ["crm", "integration"],
    versions: [{ version: "1.0.0", file: file("crm-order-sync", "1.0.0") }],
  },
  {
    slug: "analytics-ingest",
    clientIdPatterns: ["analytics-ingest-*"],
    name: "Analytics Ingest",
    team: "platform",
    description: "Target integration: lands orders, invoices and shipping notices from cloud-core in the analytics lakehouse.",
    domain: "analytics",
    tags: ["analytics", "integration"],
    versions: [{ version: "1.0.0", file: file("analytics-ingest", "1.0.0") }],
  },
  {
    slug: "document-archive",
    clientIdPatterns: ["document-archive-*"],
    name: "Document Archive Writer",
    team: "logistics",
    description: "Target integration: files invoices and the shipping notices bridged in from cloud-core in the plant's document archive.",
    domain: "logistics",
    tags: ["archive", "integration"],
    versions: [{ version: "1.0.0", file: file("document-archive", "1.0.0") }],
  },
];

/** The newest version of an application whose state is `released` (what its live traffic follows). */
export function latestReleased(app: DemoApplication): DemoVersion {
  const released = app.versions.filter((v) => (v.state ?? "released") === "released");
  const latest = released.at(-1);
  if (!latest) throw new Error(`demo application ${app.slug} has no released version`);
  return latest;
}

/** Reads the text of one demo contract file, e.g. `line-sensors@2.0.0.yaml`. */
export function readDemoContract(name: string): string {
  // Only plain manifest-style names: the argument must never walk out of this folder.
  if (!/^[a-z0-9-]+@[0-9]+\.[0-9]+\.[0-9]+\.yaml$/.test(name)) throw new Error(`not a demo contract file name: ${name}`);
  return readFileSync(path.join(/*turbopackIgnore: true*/ process.cwd(), "demo", "contracts", name), "utf8");
}
