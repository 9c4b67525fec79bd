/**
 * Demo traffic for the embedded brokers: MQTT clients named after the demo applications publish
 * and subscribe as their contracts (latest released versions in demo/contracts) say, so the
 * agents see live topics, producers and consumers at once. The shop floor and the ERP's source
 * integration run on plant-eu; the supplier network's source and the CRM and analytics targets
 * run on cloud-core, so their events cross the bridge between the two (`erp/#` out, `scm/#` in).
 *
 * Deliberate drift from the contracts, so that the portal has something to flag:
 * - undocumented topic: `line-sensors-gw-1` publishes plain-text PLC debug lines on
 *   `plant/debug/raw` (a debug tap left on); no contract declares it.
 * - payload that breaks its schema: about one line-4 temperature reading in twelve carries
 *   `value` as a string ("71.3"); line-sensors 2.0.0 says number.
 * - payload that breaks its schema: meter `em-oven-2` still runs energy-meter 1.0.0 firmware
 *   (deprecated) and sends `kwh` instead of the required `energyWh`.
 * - undeclared consumer: client `excel-export` subscribes to `orders/#`; no contract receives
 *   that filter or names that client.
 */
import { randomUUID } from "node:crypto";
import { connectAsync, type MqttClient } from "mqtt";

/** A random source in [0, 1); tests pass a seeded one. */
export type Random = () => number;

/** Where a conforming message is declared: application slug, channel address template, message key. */
export interface DemoContractRef {
  app: string;
  channel: string;
  message: string;
}

/** One message the demo world wants published, with what it is meant to follow or break. */
export interface DemoMessage {
  client: string;
  topic: string;
  payload: string;
  qos: 0 | 1;
  retain: boolean;
  /** The contract message it follows, or the one it breaks for `schema-violation`. */
  contract?: DemoContractRef;
  drift?: "undocumented-topic" | "schema-violation";
}

type Json = Record<string, unknown>;
type SiteId = "lyon" | "columbus";

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length) % items.length]!;
const round = (value: number, digits: number) => Number(value.toFixed(digits));
const between = (random: Random, low: number, high: number) => low + random() * (high - low);

// ---------------------------------------------------------------------------------------------
// Payload builders: one per contract message, shaped like the latest released version.

/** A temperature reading as line-sensors 2.0.0 sends it (always °C, no `unit`). */
export function temperatureReading(input: { lineId: string; sensorId: string; value: number; at: Date; signalQuality?: "good" | "uncertain" | "bad" }): Json {
  return { lineId: input.lineId, sensorId: input.sensorId, timestamp: input.at.toISOString(), signalQuality: input.signalQuality ?? "good", value: round(input.value, 1) };
}

/** A vibration reading as line-sensors 2.0.0 sends it (`rmsVelocity` in mm/s). */
export function vibrationReading(input: { lineId: string; sensorId: string; rmsVelocity: number; peakAcceleration: number; at: Date }): Json {
  return {
    lineId: input.lineId,
    sensorId: input.sensorId,
    timestamp: input.at.toISOString(),
    rmsVelocity: round(input.rmsVelocity, 2),
    peakAcceleration: round(input.peakAcceleration, 2),
  };
}

/** A line alarm as machine-monitor 1.4.0 sends it. */
export function lineAlarm(input: {
  alarmId: string;
  lineId: string;
  sensorId: string;
  kind: "over-temperature" | "excessive-vibration" | "sensor-silent";
  severity: "info" | "warning" | "critical";
  state: "raised" | "cleared";
  measuredValue: number;
  threshold: number;
  at: Date;
}): Json {
  const what = input.kind === "over-temperature" ? `${input.threshold} °C` : `${input.threshold} mm/s`;
  return {
    alarmId: input.alarmId,
    lineId: input.lineId,
    sensorId: input.sensorId,
    timestamp: input.at.toISOString(),
    kind: input.kind,
    severity: input.severity,
    state: input.state,
    measuredValue: round(input.measuredValue, 2),
    threshold: input.threshold,
    message: `${input.sensorId} ${input.state === "raised" ? "above" : "back below"} ${what}`,
  };
}

/** An alarm acknowledgement as alarm-dispatcher 1.2.0 sends it. */
export function alarmAck(input: { alarmId: string; lineId: string; acknowledgedBy: string; route: "pager" | "andon-board" | "email"; responseSeconds: number; at: Date }): Json {
  return {
    alarmId: input.alarmId,
    lineId: input.lineId,
    timestamp: input.at.toISOString(),
    acknowledgedBy: input.acknowledgedBy,
    route: input.route,
    responseSeconds: Math.max(0, Math.round(input.responseSeconds)),
  };
}

/** A production order of the simulation (the MES's view of it). */
export interface DemoOrder {
  orderId: string;
  orderNumber: string;
  siteId: SiteId;
  lineId: string;
  productSku: string;
  quantity: number;
  priority: "normal" | "rush";
  dueDate: string;
  status: "released" | "in-production" | "on-hold" | "completed" | "cancelled";
  holdReason?: "material-shortage" | "quality-hold" | "machine-down";
  batchId?: string;
  quantityProduced: number;
  inspections: number;
  failedInspections: number;
}

/** An order creation as mes-orders 1.2.0 sends it. */
export function orderCreated(order: DemoOrder, at: Date): Json {
  const { orderId, orderNumber, siteId, lineId, productSku, quantity, priority, dueDate } = order;
  return { orderId, orderNumber, siteId, lineId, productSku, quantity, priority, dueDate, timestamp: at.toISOString() };
}

/** An order status change as mes-orders 1.2.0 sends it. */
export function orderStatusChanged(order: DemoOrder, at: Date): Json {
  return {
    orderId: order.orderId,
    status: order.status,
    ...(order.status === "on-hold" && order.holdReason ? { holdReason: order.holdReason } : {}),
    lineId: order.lineId,
    ...(order.batchId ? { batchId: order.batchId } : {}),
    quantityProduced: order.quantityProduced,
    timestamp: at.toISOString(),
  };
}

/** A stock movement as warehouse-service 2.1.0 sends it. */
export function stockMovement(input: {
  siteId: SiteId;
  movementType: "receipt" | "issue-to-line" | "transfer" | "shipment-pick";
  sku: string;
  quantity: number;
  unitOfMeasure: "pcs" | "kg" | "m";
  fromLocation?: string;
  toLocation?: string;
  orderId?: string;
  shipmentId?: string;
  handlingUnitId: string;
  at: Date;
}): Json {
  const { at, ...rest } = input;
  return { movementId: randomUUID(), ...rest, timestamp: at.toISOString() };
}

/** A shipment of the simulation. */
export interface DemoShipment {
  shipmentId: string;
  orderId: string;
  siteId: SiteId;
  carrier: "dhl-freight" | "ups" | "db-schenker" | "own-fleet";
  trackingNumber?: string;
  stage: "picked" | "packed" | "dispatched" | "in-transit" | "delivered" | "exception";
  latitude: number;
  longitude: number;
  estimatedDelivery: string;
}

/** A shipment milestone as shipment-tracker 3.0.2 sends it. */
export function shipmentEvent(shipment: DemoShipment, at: Date): Json {
  const moving = shipment.stage !== "picked" && shipment.stage !== "packed";
  return {
    shipmentId: shipment.shipmentId,
    eventType: shipment.stage,
    carrier: shipment.carrier,
    ...(shipment.trackingNumber ? { trackingNumber: shipment.trackingNumber } : {}),
    orderId: shipment.orderId,
    siteId: shipment.siteId,
    ...(moving ? { location: { latitude: round(shipment.latitude, 4), longitude: round(shipment.longitude, 4) } } : {}),
    estimatedDelivery: shipment.estimatedDelivery,
    ...(shipment.stage === "exception" ? { exceptionReason: "Customs documents incomplete" } : {}),
    timestamp: at.toISOString(),
  };
}

/** The control plan: characteristics an inspection station measures, with nominal and tolerances. */
const CONTROL_PLAN = [
  { characteristic: "bore-diameter", stationId: "CMM-03", unit: "mm", nominal: 52.0, lower: -0.02, upper: 0.03, digits: 3 },
  { characteristic: "flatness", stationId: "CMM-03", unit: "mm", nominal: 0, lower: 0, upper: 0.05, digits: 3 },
  { characteristic: "bolt-torque", stationId: "TQ-02", unit: "Nm", nominal: 45, lower: -2, upper: 2, digits: 1 },
  { characteristic: "surface-defects", stationId: "VIS-01", unit: "count", nominal: 0, lower: 0, upper: 0, digits: 0 },
  { characteristic: "leak-rate", stationId: "LEAK-01", unit: "mbar-l-s", nominal: 0, lower: 0, upper: 0.01, digits: 4 },
] as const;

/** An inspection result as quality-inspection 1.3.0 sends it. */
export function inspectionResult(input: { order: DemoOrder; result: "pass" | "fail" | "rework"; random: Random; at: Date }): Json {
  const plan = pick(input.random, CONTROL_PLAN);
  const width = plan.upper - plan.lower;
  // Passing parts measure inside the tolerance band, failing ones just outside it.
  const offset = input.result === "pass" ? plan.lower + input.random() * width : plan.upper + (0.1 + input.random()) * Math.max(width, 1) * 0.5;
  // Visual defects are counted, not measured: a failed part has at least one.
  const measured = plan.unit === "count" ? (input.result === "pass" ? 0 : 1 + Math.floor(input.random() * 3)) : round(plan.nominal + offset, plan.digits);
  return {
    inspectionId: randomUUID(),
    lineId: input.order.lineId,
    stationId: plan.stationId,
    orderId: input.order.orderId,
    ...(input.order.batchId ? { batchId: input.order.batchId } : {}),
    partSerial: `${input.order.productSku.split("-")[0]}-${input.order.orderNumber.slice(-6)}-${String(input.order.inspections + 1).padStart(4, "0")}`,
    characteristic: plan.characteristic,
    measuredValue: measured,
    nominal: plan.nominal,
    lowerTolerance: plan.lower,
    upperTolerance: plan.upper,
    unit: plan.unit,
    result: input.result,
    timestamp: input.at.toISOString(),
  };
}

/** A batch release decision as batch-release 1.0.1 sends it. */
export function batchDecision(order: DemoOrder & { batchId: string }, at: Date): Json {
  // Automatic release only under 2 % failed inspections; above that a quality engineer looks at it.
  const failRate = order.inspections === 0 ? 0 : order.failedInspections / order.inspections;
  const decision = failRate < 0.02 ? "released" : failRate < 0.1 ? "quarantined" : "rejected";
  return {
    batchId: order.batchId,
    orderId: order.orderId,
    decision,
    decidedBy: decision === "released" ? "system" : "a.lindqvist",
    inspectionsCount: order.inspections,
    failedInspections: order.failedInspections,
    ...(decision === "released" ? { certificateUrl: `https://quality.meshport.demo/certificates/${order.batchId}.pdf` } : { comment: `Failure rate ${(failRate * 100).toFixed(1)} % above the 2 % release limit` }),
    timestamp: at.toISOString(),
  };
}

/** A meter reading as energy-meter 2.0.0 sends it (integer Wh). */
export function meterReading(input: { siteId: SiteId; meterId: string; energyWh: number; powerKw: number; powerFactor: number; at: Date }): Json {
  return {
    siteId: input.siteId,
    meterId: input.meterId,
    timestamp: input.at.toISOString(),
    energyWh: Math.round(input.energyWh),
    powerKw: round(input.powerKw, 1),
    powerFactor: round(input.powerFactor, 2),
  };
}

/** Drift: a temperature reading whose `value` is a string, as a misconfigured PLC tag sends it. */
export function temperatureReadingAsText(reading: Json): Json {
  return { ...reading, value: String(reading.value) };
}

/** Drift: a meter reading in the deprecated energy-meter 1.0.0 shape (`kwh`, no `energyWh`). */
export function legacyMeterReading(input: { siteId: SiteId; meterId: string; energyWh: number; powerKw: number; at: Date }): Json {
  return { siteId: input.siteId, meterId: input.meterId, timestamp: input.at.toISOString(), kwh: round(input.energyWh / 1000, 1), powerKw: round(input.powerKw, 1) };
}

/** A sales order line. */
export interface DemoSalesOrderLine {
  sku: string;
  quantity: number;
  unitPrice: number;
}

/** A sales order of the simulation (the ERP's view of it). */
export interface DemoSalesOrder {
  salesOrderId: string;
  customerId: string;
  customerName: string;
  siteId: SiteId;
  currency: "EUR" | "USD";
  requestedDelivery: string;
  lines: DemoSalesOrderLine[];
}

const orderTotal = (order: DemoSalesOrder) => round(order.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0), 2);

/** A sales order confirmation as erp-order-source 1.0.0 sends it. */
export function salesOrderConfirmed(order: DemoSalesOrder, at: Date): Json {
  return {
    salesOrderId: order.salesOrderId,
    customerId: order.customerId,
    customerName: order.customerName,
    siteId: order.siteId,
    currency: order.currency,
    totalAmount: orderTotal(order),
    requestedDelivery: order.requestedDelivery,
    lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice })),
    timestamp: at.toISOString(),
  };
}

/** A posted invoice as erp-order-source 1.0.0 sends it: thirty days net on the whole order. */
export function invoicePosted(input: { invoiceId: string; order: DemoSalesOrder; at: Date }): Json {
  return {
    invoiceId: input.invoiceId,
    salesOrderId: input.order.salesOrderId,
    customerId: input.order.customerId,
    amount: orderTotal(input.order),
    currency: input.order.currency,
    dueDate: new Date(input.at.getTime() + 30 * 86_400_000).toISOString().slice(0, 10),
    timestamp: input.at.toISOString(),
  };
}

/** An advance shipping notice as scm-asn-source 1.0.0 sends it. */
export function advanceShippingNotice(input: {
  asnId: string;
  supplierId: string;
  supplierName: string;
  siteId: SiteId;
  purchaseOrder: string;
  carrier: "dhl-freight" | "ups" | "db-schenker" | "own-fleet";
  expectedArrival: Date;
  items: Array<{ sku: string; quantity: number; unitOfMeasure: "pcs" | "kg" | "m" }>;
  at: Date;
}): Json {
  return {
    asnId: input.asnId,
    supplierId: input.supplierId,
    supplierName: input.supplierName,
    siteId: input.siteId,
    purchaseOrder: input.purchaseOrder,
    carrier: input.carrier,
    expectedArrival: input.expectedArrival.toISOString(),
    items: input.items,
    timestamp: input.at.toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// The simulated plant: state advanced one tick at a time, each tick yielding messages.

const LINES = [
  { lineId: "line-1", siteId: "lyon", thermo: "tc-motor-1", baseline: 62, limit: 85, accel: "acc-spindle-1", rms: 2.4 },
  { lineId: "line-2", siteId: "lyon", thermo: "tc-oven-z2", baseline: 182, limit: 220, accel: "acc-conveyor-2", rms: 1.1 },
  { lineId: "line-3", siteId: "lyon", thermo: "tc-press-3", baseline: 48, limit: 75, accel: "acc-press-3", rms: 4.2 },
  { lineId: "line-4", siteId: "columbus", thermo: "tc-weld-4", baseline: 71, limit: 95, accel: "acc-robot-4", rms: 1.8 },
] as const satisfies ReadonlyArray<{ siteId: SiteId } & Record<string, unknown>>;

const METERS = [
  { siteId: "lyon", meterId: "em-compressor-1", kw: 74, legacy: false },
  { siteId: "lyon", meterId: "em-oven-2", kw: 210, legacy: true },
  { siteId: "columbus", meterId: "em-feeder-1", kw: 18, legacy: false },
  { siteId: "columbus", meterId: "em-compressor-2", kw: 55, legacy: false },
] as const satisfies ReadonlyArray<{ siteId: SiteId } & Record<string, unknown>>;

const PRODUCTS = ["GBX-HSG-220", "GBX-CVR-110", "PMP-IMP-075", "VLV-BDY-040"] as const;
/** ISO 10816 class II: above 7.1 mm/s is zone D, damage likely. */
const VIBRATION_LIMIT = 7.1;
const OPERATORS = ["j.moreau", "s.okafor", "m.rossi", "k.tanaka"] as const;

const CUSTOMERS = [
  { customerId: "C-10042", customerName: "Rhône Pumps SA", siteId: "lyon", currency: "EUR" },
  { customerId: "C-10117", customerName: "Alpenantrieb GmbH", siteId: "lyon", currency: "EUR" },
  { customerId: "C-20008", customerName: "Great Lakes Fluid Power", siteId: "columbus", currency: "USD" },
  { customerId: "C-20031", customerName: "Ohio Valve Works", siteId: "columbus", currency: "USD" },
] as const satisfies ReadonlyArray<{ siteId: SiteId; currency: "EUR" | "USD" } & Record<string, unknown>>;

/** List prices of the finished products. */
const PRICES: Record<(typeof PRODUCTS)[number], number> = { "GBX-HSG-220": 142.5, "GBX-CVR-110": 27.01, "PMP-IMP-075": 64.9, "VLV-BDY-040": 38.25 };

const SUPPLIERS = [
  { supplierId: "SUP-0042", supplierName: "Fonderie Beaujolais", siteId: "lyon", carrier: "db-schenker", sku: "CST-AL-220", unit: "pcs" },
  { supplierId: "SUP-0107", supplierName: "Acier Dauphiné", siteId: "lyon", carrier: "dhl-freight", sku: "STL-SHEET-2MM", unit: "kg" },
  { supplierId: "SUP-2210", supplierName: "Buckeye Castings", siteId: "columbus", carrier: "ups", sku: "CST-AL-220", unit: "pcs" },
] as const satisfies ReadonlyArray<{ siteId: SiteId; carrier: string; unit: "pcs" | "kg" | "m" } & Record<string, unknown>>;

/** Channel address templates of the contracts, per message stream. */
const REF = {
  temperature: { app: "line-sensors", channel: "plant/{lineId}/temperature", message: "temperatureReading" },
  vibration: { app: "line-sensors", channel: "plant/{lineId}/vibration", message: "vibrationReading" },
  alarm: { app: "machine-monitor", channel: "plant/{lineId}/alarms", message: "lineAlarm" },
  ack: { app: "alarm-dispatcher", channel: "plant/{lineId}/alarms/ack", message: "alarmAck" },
  created: { app: "mes-orders", channel: "orders/{orderId}/created", message: "orderCreated" },
  status: { app: "mes-orders", channel: "orders/{orderId}/status", message: "orderStatusChanged" },
  movement: { app: "warehouse-service", channel: "warehouse/{siteId}/movements", message: "stockMovement" },
  shipment: { app: "shipment-tracker", channel: "shipments/{shipmentId}/events", message: "shipmentEvent" },
  inspection: { app: "quality-inspection", channel: "quality/{lineId}/inspections", message: "inspectionResult" },
  batch: { app: "batch-release", channel: "batches/{batchId}/release", message: "batchDecision" },
  meter: { app: "energy-meter", channel: "energy/{siteId}/{meterId}/reading", message: "meterReading" },
  salesOrder: { app: "erp-order-source", channel: "erp/orders/{salesOrderId}/confirmed", message: "salesOrderConfirmed" },
  invoice: { app: "erp-order-source", channel: "erp/invoices/{invoiceId}/posted", message: "invoicePosted" },
  asn: { app: "scm-asn-source", channel: "scm/suppliers/{supplierId}/asn", message: "advanceShippingNotice" },
} as const satisfies Record<string, DemoContractRef>;

/** Publishing client ids (named after the applications) and the consumers' subscriptions. */
export const DEMO_CLIENTS = {
  lineSensors: "line-sensors-gw-1",
  machineMonitor: "machine-monitor",
  alarmDispatcher: "alarm-dispatcher",
  mesOrders: "mes-orders",
  warehouse: "warehouse-service",
  shipmentTracker: "shipment-tracker",
  qualityInspection: "quality-inspection",
  batchRelease: "batch-release",
  energyMeters: "energy-meters-gw",
  opsDashboard: "ops-dashboard",
  excelExport: "excel-export",
  erpOrderSource: "erp-order-source-1",
  scmAsnSource: "scm-asn-source-1",
  crmOrderSync: "crm-order-sync-1",
  analyticsIngest: "analytics-ingest-1",
  documentArchive: "document-archive-1",
} as const;

/** The demo mesh's brokers. */
export type DemoBrokerId = "plant-eu" | "cloud-core";

/** Clients that run in the cloud; every other demo client connects to plant-eu. */
export const DEMO_CLOUD_CLIENTS: ReadonlySet<string> = new Set([DEMO_CLIENTS.scmAsnSource, DEMO_CLIENTS.crmOrderSync, DEMO_CLIENTS.analyticsIngest]);

/** The broker a demo client connects to. */
export function demoBrokerOf(clientId: string): DemoBrokerId {
  return DEMO_CLOUD_CLIENTS.has(clientId) ? "cloud-core" : "plant-eu";
}

/** Subscription filters per client: what each contract receives, plus the undeclared `excel-export`. */
export const DEMO_SUBSCRIPTIONS: Readonly<Record<string, readonly string[]>> = {
  [DEMO_CLIENTS.machineMonitor]: ["plant/+/temperature", "plant/+/vibration"],
  [DEMO_CLIENTS.alarmDispatcher]: ["plant/+/alarms"],
  [DEMO_CLIENTS.warehouse]: ["orders/+/created"],
  [DEMO_CLIENTS.shipmentTracker]: ["warehouse/+/movements"],
  [DEMO_CLIENTS.batchRelease]: ["quality/+/inspections", "orders/+/status"],
  [DEMO_CLIENTS.opsDashboard]: ["plant/+/alarms", "orders/+/status", "shipments/+/events", "energy/+/+/reading"],
  // Drift: nobody declared this consumer.
  [DEMO_CLIENTS.excelExport]: ["orders/#"],
  [DEMO_CLIENTS.crmOrderSync]: ["erp/orders/+/confirmed", "erp/invoices/+/posted"],
  [DEMO_CLIENTS.analyticsIngest]: ["erp/orders/+/confirmed", "erp/invoices/+/posted", "scm/suppliers/+/asn"],
  [DEMO_CLIENTS.documentArchive]: ["erp/invoices/+/posted", "scm/suppliers/+/asn"],
};

interface OpenAlarm {
  alarmId: string;
  lineId: string;
  raisedAt: Date;
}

/** The simulated plant; `tick` advances it and returns what the clients publish. */
export class DemoWorld {
  private tickNo = 0;
  private readonly temperatures = new Map<string, number>();
  private readonly excursions = new Map<string, number>();
  private readonly alarms = new Map<string, OpenAlarm>();
  /** Raised alarms waiting for somebody on shift, by the tick they get taken. */
  private readonly acks: Array<OpenAlarm & { dueTick: number }> = [];
  private readonly orders: DemoOrder[] = [];
  private readonly shipments: DemoShipment[] = [];
  private readonly energy = new Map<string, number>();
  private orderSeq = 4800;
  private batchSeq = new Map<string, number>();
  /** Confirmed sales orders waiting to be invoiced, by the tick the invoice is posted. */
  private readonly toInvoice: Array<{ order: DemoSalesOrder; dueTick: number }> = [];
  private salesOrderSeq = 40_012_000;
  private invoiceSeq = 90_004_000;
  private asnSeq = 70_001_000;

  /** `tickMs` is the simulated time between ticks; `random` drives every choice. */
  constructor(
    private readonly random: Random = Math.random,
    private readonly tickMs = 500,
  ) {
    for (const line of LINES) this.temperatures.set(line.lineId, line.baseline);
    for (const meter of METERS) this.energy.set(meter.meterId, 1_000_000_000 + Math.floor(random() * 400_000_000));
  }

  /** Advances the plant by one tick at time `now` and returns the messages of that tick. */
  tick(now: Date = new Date()): DemoMessage[] {
    const out: DemoMessage[] = [];
    const n = this.tickNo++;
    this.sensors(now, n, out);
    if (n % 4 === 0) this.meters(now, out);
    if (n % 6 === 0) this.newOrder(now, out);
    if (n % 3 === 1) this.advanceOrder(now, out);
    if (n % 4 === 2) this.advanceShipment(now, out);
    if (n % 12 === 5) this.receipt(now, out);
    this.inspect(now, out);
    this.acknowledge(now, n, out);
    if (n % 10 === 7) this.confirmSalesOrder(now, n, out);
    this.postInvoices(now, n, out);
    if (n % 14 === 9) this.shipFromSupplier(now, out);
    if (n % 10 === 3) {
      const line = pick(this.random, LINES);
      out.push({
        client: DEMO_CLIENTS.lineSensors,
        topic: "plant/debug/raw",
        payload: `DBG ${line.lineId} PLC scan=${Math.round(between(this.random, 8, 16))}ms queue=${Math.floor(this.random() * 5)} ${now.toISOString()}`,
        qos: 0,
        retain: false,
        drift: "undocumented-topic",
      });
    }
    return out;
  }

  private json(client: string, ref: DemoContractRef, topic: string, payload: Json, qos: 0 | 1, retain = false): DemoMessage {
    return { client, topic, payload: JSON.stringify(payload), qos, retain, contract: ref };
  }

  private sensors(now: Date, n: number, out: DemoMessage[]): void {
    for (const line of LINES) {
      // Line 2's curing oven overshoots now and then: that is what raises the demo's alarms.
      let excursion = this.excursions.get(line.lineId) ?? 0;
      if (excursion === 0 && line.lineId === "line-2" && this.random() < 1 / 80) excursion = 14;
      if (excursion > 0) this.excursions.set(line.lineId, excursion - 1);
      const target = line.baseline + (excursion > 0 ? 48 * Math.sin((Math.PI * excursion) / 14) : 0);
      const previous = this.temperatures.get(line.lineId) ?? line.baseline;
      const value = previous + (target - previous) * 0.5 + between(this.random, -0.8, 0.8);
      this.temperatures.set(line.lineId, value);
      const reading = temperatureReading({ lineId: line.lineId, sensorId: line.thermo, value, at: now });
      const topic = `plant/${line.lineId}/temperature`;
      if (line.lineId === "line-4" && this.random() < 1 / 12) {
        out.push({ ...this.json(DEMO_CLIENTS.lineSensors, REF.temperature, topic, temperatureReadingAsText(reading), 0), drift: "schema-violation" });
      } else {
        out.push(this.json(DEMO_CLIENTS.lineSensors, REF.temperature, topic, reading, 0));
      }
      this.watch(now, line, "over-temperature", value, line.limit, out);
    }
    // Vibration of two lines per tick, alternating, so each line reports every second tick.
    for (const line of LINES.slice((n % 2) * 2, (n % 2) * 2 + 2)) {
      const spike = line.lineId === "line-3" && this.random() < 0.03 ? between(this.random, 3.5, 6) : 0;
      const rms = Math.max(0.05, line.rms + spike + between(this.random, -0.4, 0.4));
      out.push(
        this.json(
          DEMO_CLIENTS.lineSensors,
          REF.vibration,
          `plant/${line.lineId}/vibration`,
          vibrationReading({ lineId: line.lineId, sensorId: line.accel, rmsVelocity: rms, peakAcceleration: rms * between(this.random, 0.25, 0.4), at: now }),
          0,
        ),
      );
      this.watch(now, line, "excessive-vibration", rms, VIBRATION_LIMIT, out);
    }
  }

  /** The Machine Monitor's logic: raise above the limit, clear below it with a hysteresis. */
  private watch(now: Date, line: (typeof LINES)[number], kind: "over-temperature" | "excessive-vibration", value: number, limit: number, out: DemoMessage[]): void {
    const key = `${line.lineId} ${kind}`;
    const open = this.alarms.get(key);
    const hysteresis = kind === "over-temperature" ? 10 : 1.5;
    if (!open && value > limit) {
      const alarmId = randomUUID();
      this.alarms.set(key, { alarmId, lineId: line.lineId, raisedAt: now });
      // Taken within eight ticks, so the queue stays short.
      this.acks.push({ alarmId, lineId: line.lineId, raisedAt: now, dueTick: this.tickNo + 2 + Math.floor(this.random() * 6) });
      const severity = kind === "over-temperature" && line.lineId === "line-2" ? "critical" : "warning";
      out.push(this.json(DEMO_CLIENTS.machineMonitor, REF.alarm, `plant/${line.lineId}/alarms`, lineAlarm({ alarmId, lineId: line.lineId, sensorId: kind === "over-temperature" ? line.thermo : line.accel, kind, severity, state: "raised", measuredValue: value, threshold: limit, at: now }), 1, true));
    } else if (open && value < limit - hysteresis) {
      this.alarms.delete(key);
      out.push(this.json(DEMO_CLIENTS.machineMonitor, REF.alarm, `plant/${line.lineId}/alarms`, lineAlarm({ alarmId: open.alarmId, lineId: line.lineId, sensorId: kind === "over-temperature" ? line.thermo : line.accel, kind, severity: "info", state: "cleared", measuredValue: value, threshold: limit, at: now }), 1, true));
    }
  }

  private acknowledge(now: Date, n: number, out: DemoMessage[]): void {
    for (const alarm of this.acks.filter((a) => a.dueTick <= n)) {
      this.acks.splice(this.acks.indexOf(alarm), 1);
      const payload = alarmAck({ alarmId: alarm.alarmId, lineId: alarm.lineId, acknowledgedBy: pick(this.random, OPERATORS), route: pick(this.random, ["pager", "andon-board"] as const), responseSeconds: (now.getTime() - alarm.raisedAt.getTime()) / 1000, at: now });
      out.push(this.json(DEMO_CLIENTS.alarmDispatcher, REF.ack, `plant/${alarm.lineId}/alarms/ack`, payload, 1));
    }
  }

  private meters(now: Date, out: DemoMessage[]): void {
    for (const meter of METERS) {
      const powerKw = meter.kw * between(this.random, 0.85, 1.15);
      const energyWh = (this.energy.get(meter.meterId) ?? 0) + (powerKw * 1000 * this.tickMs * 4) / 3_600_000;
      this.energy.set(meter.meterId, energyWh);
      const topic = `energy/${meter.siteId}/${meter.meterId}/reading`;
      if (meter.legacy) {
        out.push({ ...this.json(DEMO_CLIENTS.energyMeters, REF.meter, topic, legacyMeterReading({ ...meter, energyWh, powerKw, at: now }), 0, true), drift: "schema-violation" });
      } else {
        out.push(this.json(DEMO_CLIENTS.energyMeters, REF.meter, topic, meterReading({ ...meter, energyWh, powerKw, powerFactor: between(this.random, 0.78, 0.96), at: now }), 0, true));
      }
    }
  }

  private newOrder(now: Date, out: DemoMessage[]): void {
    if (this.orders.filter((o) => o.status !== "completed" && o.status !== "cancelled").length >= 4) return;
    const line = pick(this.random, LINES);
    const due = new Date(now.getTime() + (1 + Math.floor(this.random() * 5)) * 86_400_000);
    const order: DemoOrder = {
      orderId: randomUUID(),
      orderNumber: `MO-${now.getUTCFullYear()}-${String(++this.orderSeq).padStart(6, "0")}`,
      siteId: line.siteId,
      lineId: line.lineId,
      productSku: pick(this.random, PRODUCTS),
      quantity: 20 * (1 + Math.floor(this.random() * 12)),
      priority: this.random() < 0.15 ? "rush" : "normal",
      dueDate: due.toISOString().slice(0, 10),
      status: "released",
      quantityProduced: 0,
      inspections: 0,
      failedInspections: 0,
    };
    this.orders.push(order);
    out.push(this.json(DEMO_CLIENTS.mesOrders, REF.created, `orders/${order.orderId}/created`, orderCreated(order, now), 1));
    out.push(this.json(DEMO_CLIENTS.mesOrders, REF.status, `orders/${order.orderId}/status`, orderStatusChanged(order, now), 1, true));
    // The warehouse stages material for the new order.
    out.push(this.json(DEMO_CLIENTS.warehouse, REF.movement, `warehouse/${order.siteId}/movements`, stockMovement({ siteId: order.siteId, movementType: "issue-to-line", sku: order.productSku.replace(/^[A-Z]+/, "CST"), quantity: order.quantity, unitOfMeasure: "pcs", fromLocation: `A-${10 + Math.floor(this.random() * 20)}-0${1 + Math.floor(this.random() * 6)}`, toLocation: `${order.lineId.toUpperCase()}-INFEED`, orderId: order.orderId, handlingUnitId: this.handlingUnit(), at: now }), 1));
  }

  private advanceOrder(now: Date, out: DemoMessage[]): void {
    const open = this.orders.filter((o) => o.status !== "completed" && o.status !== "cancelled");
    if (open.length === 0) return;
    const order = pick(this.random, open);
    const chance = this.random();
    if (order.status === "released") {
      order.status = "in-production";
      const day = now.toISOString().slice(2, 10).replaceAll("-", "");
      const key = `${day} ${order.lineId}`;
      const seq = (this.batchSeq.get(key) ?? 0) + 1;
      this.batchSeq.set(key, seq);
      order.batchId = `B-${day}-L${order.lineId.slice(5)}-${String(seq % 100).padStart(2, "0")}`;
    } else if (order.status === "on-hold") {
      order.status = "in-production";
      order.holdReason = undefined;
    } else if (chance < 0.03) {
      order.status = "cancelled";
    } else if (chance < 0.1) {
      order.status = "on-hold";
      order.holdReason = pick(this.random, ["material-shortage", "quality-hold", "machine-down"] as const);
    } else {
      order.quantityProduced = Math.min(order.quantity, order.quantityProduced + Math.ceil(order.quantity * between(this.random, 0.15, 0.3)));
      if (order.quantityProduced >= order.quantity) order.status = "completed";
    }
    out.push(this.json(DEMO_CLIENTS.mesOrders, REF.status, `orders/${order.orderId}/status`, orderStatusChanged(order, now), 1, true));
    if (order.status === "completed" && order.batchId) this.complete(order as DemoOrder & { batchId: string }, now, out);
    if (order.status === "completed" || order.status === "cancelled") {
      // Keep the order book bounded: finished orders leave the simulation.
      this.orders.splice(this.orders.indexOf(order), 1);
    }
  }

  private complete(order: DemoOrder & { batchId: string }, now: Date, out: DemoMessage[]): void {
    out.push(this.json(DEMO_CLIENTS.batchRelease, REF.batch, `batches/${order.batchId}/release`, batchDecision(order, now), 1, true));
    if (this.shipments.length >= 10) return;
    const shipment: DemoShipment = {
      shipmentId: `SHP-${String(20_000_000 + Math.floor(this.random() * 9_999_999))}`,
      orderId: order.orderId,
      siteId: order.siteId,
      carrier: order.siteId === "lyon" ? pick(this.random, ["dhl-freight", "db-schenker"] as const) : pick(this.random, ["ups", "own-fleet"] as const),
      stage: "picked",
      latitude: order.siteId === "lyon" ? 45.764 : 39.9612,
      longitude: order.siteId === "lyon" ? 4.8357 : -82.9988,
      estimatedDelivery: new Date(now.getTime() + 2 * 86_400_000).toISOString(),
    };
    this.shipments.push(shipment);
    out.push(this.json(DEMO_CLIENTS.warehouse, REF.movement, `warehouse/${order.siteId}/movements`, stockMovement({ siteId: order.siteId, movementType: "shipment-pick", sku: order.productSku, quantity: order.quantity, unitOfMeasure: "pcs", fromLocation: "FG-01-01", toLocation: "DOCK-2", shipmentId: shipment.shipmentId, handlingUnitId: this.handlingUnit(), at: now }), 1));
    out.push(this.json(DEMO_CLIENTS.shipmentTracker, REF.shipment, `shipments/${shipment.shipmentId}/events`, shipmentEvent(shipment, now), 1));
  }

  private advanceShipment(now: Date, out: DemoMessage[]): void {
    if (this.shipments.length === 0) return;
    const shipment = pick(this.random, this.shipments);
    const next: Record<DemoShipment["stage"], DemoShipment["stage"]> = {
      picked: "packed",
      packed: "dispatched",
      dispatched: "in-transit",
      "in-transit": "delivered",
      exception: "in-transit",
      delivered: "delivered",
    };
    shipment.stage = shipment.stage === "in-transit" && this.random() < 0.1 ? "exception" : next[shipment.stage];
    if (shipment.stage === "dispatched") shipment.trackingNumber = `JD01460000${Math.floor(between(this.random, 1e9, 1e10 - 1))}`;
    if (shipment.stage === "in-transit") {
      shipment.latitude += between(this.random, -0.6, 0.6);
      shipment.longitude += between(this.random, -0.6, 0.6);
    }
    out.push(this.json(DEMO_CLIENTS.shipmentTracker, REF.shipment, `shipments/${shipment.shipmentId}/events`, shipmentEvent(shipment, now), 1));
    if (shipment.stage === "delivered") this.shipments.splice(this.shipments.indexOf(shipment), 1);
  }

  private receipt(now: Date, out: DemoMessage[]): void {
    const siteId = pick(this.random, ["lyon", "columbus"] as const);
    const bulk = this.random() < 0.5;
    out.push(this.json(DEMO_CLIENTS.warehouse, REF.movement, `warehouse/${siteId}/movements`, stockMovement({ siteId, movementType: "receipt", sku: bulk ? "STL-SHEET-2MM" : "CST-AL-220", quantity: bulk ? round(between(this.random, 400, 1200), 1) : 240, unitOfMeasure: bulk ? "kg" : "pcs", toLocation: "GOODS-IN-1", handlingUnitId: this.handlingUnit(), at: now }), 1));
  }

  private inspect(now: Date, out: DemoMessage[]): void {
    const running = this.orders.filter((o) => o.status === "in-production");
    if (running.length === 0) return;
    const order = pick(this.random, running);
    const chance = this.random();
    const result = chance < 0.95 ? "pass" : chance < 0.98 ? "fail" : "rework";
    const payload = inspectionResult({ order, result, random: this.random, at: now });
    order.inspections++;
    if (result === "fail") order.failedInspections++;
    out.push(this.json(DEMO_CLIENTS.qualityInspection, REF.inspection, `quality/${order.lineId}/inspections`, payload, 1));
  }

  /** The ERP confirms a customer's order; its invoice follows a few ticks later. */
  private confirmSalesOrder(now: Date, n: number, out: DemoMessage[]): void {
    if (this.toInvoice.length >= 20) return;
    const customer = pick(this.random, CUSTOMERS);
    const skus = [...PRODUCTS].filter(() => this.random() < 0.5);
    const lines = (skus.length > 0 ? skus : [pick(this.random, PRODUCTS)]).map((sku) => ({ sku, quantity: 10 * (1 + Math.floor(this.random() * 30)), unitPrice: PRICES[sku] }));
    const order: DemoSalesOrder = {
      salesOrderId: `SO-${++this.salesOrderSeq}`,
      customerId: customer.customerId,
      customerName: customer.customerName,
      siteId: customer.siteId,
      currency: customer.currency,
      requestedDelivery: new Date(now.getTime() + (7 + Math.floor(this.random() * 21)) * 86_400_000).toISOString().slice(0, 10),
      lines,
    };
    this.toInvoice.push({ order, dueTick: n + 6 + Math.floor(this.random() * 10) });
    out.push(this.json(DEMO_CLIENTS.erpOrderSource, REF.salesOrder, `erp/orders/${order.salesOrderId}/confirmed`, salesOrderConfirmed(order, now), 1));
  }

  private postInvoices(now: Date, n: number, out: DemoMessage[]): void {
    for (const due of this.toInvoice.filter((x) => x.dueTick <= n)) {
      this.toInvoice.splice(this.toInvoice.indexOf(due), 1);
      const invoiceId = `INV-${++this.invoiceSeq}`;
      out.push(this.json(DEMO_CLIENTS.erpOrderSource, REF.invoice, `erp/invoices/${invoiceId}/posted`, invoicePosted({ invoiceId, order: due.order, at: now }), 1));
    }
  }

  /** A supplier announces a shipment of material to one of the plants. */
  private shipFromSupplier(now: Date, out: DemoMessage[]): void {
    const supplier = pick(this.random, SUPPLIERS);
    const quantity = supplier.unit === "kg" ? round(between(this.random, 800, 2400), 1) : 120 * (1 + Math.floor(this.random() * 6));
    const payload = advanceShippingNotice({
      asnId: `ASN-${++this.asnSeq}`,
      supplierId: supplier.supplierId,
      supplierName: supplier.supplierName,
      siteId: supplier.siteId,
      purchaseOrder: `PO-${55_001_000 + Math.floor(this.random() * 900)}`,
      carrier: supplier.carrier,
      expectedArrival: new Date(now.getTime() + (1 + Math.floor(this.random() * 4)) * 86_400_000),
      items: [{ sku: supplier.sku, quantity, unitOfMeasure: supplier.unit }],
      at: now,
    });
    out.push(this.json(DEMO_CLIENTS.scmAsnSource, REF.asn, `scm/suppliers/${supplier.supplierId}/asn`, payload, 1));
  }

  private handlingUnit(): string {
    return `HU-${String(Math.floor(this.random() * 1e8)).padStart(8, "0")}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The MQTT side.

/** Options of {@link startDemoTraffic}. */
export interface DemoTrafficOptions {
  /** plant-eu's URL: every client connects here unless cloudBrokerUrl is given */
  brokerUrl: string;
  /** cloud-core's URL, for the clients that run in the cloud ({@link DEMO_CLOUD_CLIENTS}) */
  cloudBrokerUrl?: string;
  /** Time between ticks; each tick publishes about ten messages (default 500 ms, about 20 msg/s). */
  intervalMs?: number;
  log?: (line: string) => void;
}

/** A running traffic generator. */
export interface DemoTraffic {
  /** Stops the ticks and ends every client. */
  stop(): Promise<void>;
  /** Messages published (acknowledged by the client library) and received by the consumers so far. */
  stats(): { published: number; received: number };
}

/** Connects the demo clients to a broker and publishes the demo plant's traffic until stopped. */
export async function startDemoTraffic(options: DemoTrafficOptions): Promise<DemoTraffic> {
  const intervalMs = Math.max(50, options.intervalMs ?? 500);
  const log = options.log ?? (() => {});
  const world = new DemoWorld(Math.random, intervalMs);
  const clients = new Map<string, MqttClient>();
  let published = 0;
  let received = 0;
  let stopped = false;

  const endAll = () =>
    Promise.all([...clients.values()].map((c) => c.endAsync(!c.connected).catch(() => undefined))).then(() => undefined);

  try {
    for (const clientId of Object.values(DEMO_CLIENTS)) {
      const url = options.cloudBrokerUrl && demoBrokerOf(clientId) === "cloud-core" ? options.cloudBrokerUrl : options.brokerUrl;
      // aedes speaks MQTT 3.1.1 only; fail fast on the first connect, then reconnect quietly.
      const client = await connectAsync(url, { clientId, protocolVersion: 4, clean: true, reconnectPeriod: 2000, connectTimeout: 5000, queueQoSZero: false }, false);
      client.on("error", (error) => log(`demo traffic: ${clientId}: ${error.message}`));
      clients.set(clientId, client);
      const filters = DEMO_SUBSCRIPTIONS[clientId];
      if (filters) {
        client.on("message", () => received++);
        await client.subscribeAsync([...filters], { qos: 1 });
      }
    }
  } catch (error) {
    await endAll();
    throw error;
  }
  log(`demo traffic: ${clients.size} clients on ${[options.brokerUrl, options.cloudBrokerUrl].filter(Boolean).join(" and ")}, a tick every ${intervalMs} ms`);

  const timer = setInterval(() => {
    for (const message of world.tick()) {
      const client = clients.get(message.client);
      // Skip rather than queue while a client reconnects: a demo need not catch up.
      if (!client?.connected) continue;
      client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, (error) => {
        if (error) log(`demo traffic: publish ${message.topic} failed: ${error.message}`);
        else published++;
      });
    }
  }, intervalMs);
  timer.unref();

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await endAll();
      log(`demo traffic: stopped after ${published} messages`);
    },
    stats: () => ({ published, received }),
  };
}
