import "server-only";
import { and, asc, count, desc, eq, gte, sql, sum } from "drizzle-orm";
import { z } from "zod";
import { getDb } from "@/db/client.ts";
import { broker, brokerBridge, brokerTopic, type Broker, type BrokerBridge, type BrokerTopic } from "@/db/schema.ts";
import { recordAudit } from "@/lib/audit/audit.ts";
import { assertCan } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { isValidMqttFilter } from "@/lib/catalog/topics.ts";
import { agentStatus } from "./merge.ts";

/** A broker as listed, with its agent's status and a summary of what flows. */
export type BrokerSummary = Broker & {
  status: "online" | "stale" | "never";
  topicCount: number;
  /** messages per second over the topics seen in the agent's last window */
  ratePerSecond: number;
};

const brokerId = z
  .string()
  .trim()
  .regex(/^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/, { message: "Use lowercase letters, digits, and - _ . between them." })
  .min(2)
  .max(100);

/** Input to declare a broker before (or without) an agent. */
export const declareBrokerInput = z.object({
  id: brokerId,
  name: z.string().trim().min(1).max(120),
  url: z
    .string()
    .trim()
    .max(500)
    .refine((v) => v === "" || /^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i.test(v), { message: "Enter a URL such as mqtt://host:1883." })
    .default(""),
  protocol: z.enum(["mqtt", "amqp", "kafka", "nats", "solace", "other"]).default("mqtt"),
  description: z.string().trim().max(2000).default(""),
});

/** Declares a broker of the mesh, or updates its name, URL and description. */
export async function declareBroker(principal: Principal, input: z.input<typeof declareBrokerInput>): Promise<Broker> {
  assertCan(principal, "brokers:manage");
  const data = parseInput(declareBrokerInput, input);
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [saved] = await tx
      .insert(broker)
      .values(data)
      .onConflictDoUpdate({
        target: broker.id,
        set: { name: data.name, url: data.url, protocol: data.protocol, description: data.description },
      })
      .returning();
    await recordAudit(tx, principal, { action: "broker.declare", targetType: "broker", targetId: data.id, details: data });
    return saved!;
  });
}

/** Lists brokers with their agent status, topic counts and current rates. */
export async function listBrokers(principal: Principal, now = Date.now()): Promise<BrokerSummary[]> {
  assertCan(principal, "catalog:read");
  const db = await getDb();
  const brokers = await db.select().from(broker).orderBy(asc(broker.id));
  const topicCounts = await db
    .select({ brokerId: brokerTopic.brokerId, topics: count() })
    .from(brokerTopic)
    .groupBy(brokerTopic.brokerId);
  // The current rate is what the last window carried, not the all-time history.
  const rates = await db
    .select({ brokerId: brokerTopic.brokerId, rate: sum(brokerTopic.lastRatePerSecond) })
    .from(brokerTopic)
    .innerJoin(broker, eq(broker.id, brokerTopic.brokerId))
    .where(gte(brokerTopic.lastWindowEnd, sql`${broker.lastWindowEnd}`))
    .groupBy(brokerTopic.brokerId);
  const countOf = new Map(topicCounts.map((r) => [r.brokerId, r.topics]));
  const rateOf = new Map(rates.map((r) => [r.brokerId, Number(r.rate ?? 0)]));
  return brokers.map((b) => ({
    ...b,
    status: agentStatus(b.lastReportAt, now),
    topicCount: countOf.get(b.id) ?? 0,
    ratePerSecond: rateOf.get(b.id) ?? 0,
  }));
}

/** One broker with its topics (busiest first, paged) and bridges. */
export async function getBroker(
  principal: Principal,
  id: string,
  options: { limit?: number; offset?: number; now?: number } = {},
): Promise<{ broker: BrokerSummary; topics: BrokerTopic[]; totalTopics: number; bridges: BrokerBridge[] }> {
  const all = await listBrokers(principal, options.now);
  const found = all.find((b) => b.id === id);
  if (!found) throw new MeshportError("not_found", `No broker ${id}.`, { subject: "broker" });
  const db = await getDb();
  const limit = Math.min(Math.max(options.limit ?? 100, 1), 500);
  const topics = await db
    .select()
    .from(brokerTopic)
    .where(eq(brokerTopic.brokerId, id))
    .orderBy(desc(brokerTopic.lastRatePerSecond), desc(brokerTopic.totalMessages), asc(brokerTopic.template))
    .limit(limit)
    .offset(Math.max(options.offset ?? 0, 0));
  const bridges = await db
    .select()
    .from(brokerBridge)
    .where(sql`${brokerBridge.fromBrokerId} = ${id} or ${brokerBridge.toBrokerId} = ${id}`)
    .orderBy(asc(brokerBridge.fromBrokerId), asc(brokerBridge.toBrokerId));
  return { broker: found, topics, totalTopics: found.topicCount, bridges };
}

const topicFilter = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .refine(isValidMqttFilter, { message: "Not a valid MQTT topic filter (+ and # stand alone in a level; # comes last)." });

/** Input to declare a bridge between two brokers. */
export const declareBridgeInput = z
  .object({
    fromBrokerId: brokerId,
    toBrokerId: brokerId,
    topicFilter,
    direction: z.enum(["out", "both"]).default("out"),
    description: z.string().trim().max(2000).default(""),
  })
  .refine((v) => v.fromBrokerId !== v.toBrokerId, { message: "A bridge links two different brokers.", path: ["toBrokerId"] });

/** Declares a bridge that forwards topics between two known brokers. */
export async function declareBridge(principal: Principal, input: z.input<typeof declareBridgeInput>): Promise<BrokerBridge> {
  assertCan(principal, "brokers:manage");
  const data = parseInput(declareBridgeInput, input);
  const db = await getDb();
  return db.transaction(async (tx) => {
    const ends = await tx
      .select({ id: broker.id })
      .from(broker)
      .where(sql`${broker.id} in (${data.fromBrokerId}, ${data.toBrokerId})`);
    for (const end of [data.fromBrokerId, data.toBrokerId]) {
      if (!ends.some((e) => e.id === end)) {
        throw new MeshportError("invalid_input", "The input is not valid.", {
          details: { fieldErrors: { [end === data.fromBrokerId ? "fromBrokerId" : "toBrokerId"]: [`No broker ${end}.`] }, formErrors: [] },
        });
      }
    }
    const [created] = await tx
      .insert(brokerBridge)
      .values({ id: newId("brg"), ...data })
      .onConflictDoNothing()
      .returning();
    if (!created) throw new MeshportError("conflict", "This bridge is already declared.", { subject: "bridge" });
    await recordAudit(tx, principal, { action: "bridge.declare", targetType: "bridge", targetId: created.id, details: data });
    return created;
  });
}

/** Removes a declared bridge. */
export async function removeBridge(principal: Principal, bridgeId: string): Promise<void> {
  assertCan(principal, "brokers:manage");
  const db = await getDb();
  await db.transaction(async (tx) => {
    const [removed] = await tx.delete(brokerBridge).where(and(eq(brokerBridge.id, bridgeId))).returning();
    if (!removed) throw new MeshportError("not_found", "No such bridge.", { subject: "bridge" });
    await recordAudit(tx, principal, {
      action: "bridge.remove",
      targetType: "bridge",
      targetId: bridgeId,
      details: { from: removed.fromBrokerId, to: removed.toBrokerId, topicFilter: removed.topicFilter },
    });
  });
}

/** All declared bridges of the mesh. */
export async function listBridges(principal: Principal): Promise<BrokerBridge[]> {
  assertCan(principal, "catalog:read");
  const db = await getDb();
  return db.select().from(brokerBridge).orderBy(asc(brokerBridge.fromBrokerId), asc(brokerBridge.toBrokerId), asc(brokerBridge.topicFilter));
}
