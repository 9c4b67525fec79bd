import "server-only";
import { asc, count, desc, eq, gte, sql, sum } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client.ts";
import { broker, brokerBridge, brokerTopic, type Broker, type BrokerBridge, type BrokerTopic } from "@/db/schema.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { isValidMqttFilter } from "@/lib/catalog/topics.ts";
import { defineCommand, defineQuery, idInput, noInput } from "@/lib/service.ts";
import { agentStatus } from "./status.ts";

/** A broker as listed, with its agent's status and a summary of what flows. */
export type BrokerSummary = Broker & {
  status: "online" | "stale" | "never";
  topicCount: number;
  /** messages per second over the topics seen in the agent's last window */
  ratePerSecond: number;
};

/** The rule for a broker id, declared or reported: `plant-eu`, `site.1`. */
export const brokerId = z
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
export const declareBroker = defineCommand({
  permission: "brokers:manage",
  input: declareBrokerInput,
  audit: "broker.declare",
  run: async ({ tx, input: data, audit }): Promise<Broker> => {
    const [saved] = await tx
      .insert(broker)
      .values(data)
      .onConflictDoUpdate({
        target: broker.id,
        set: { name: data.name, url: data.url, protocol: data.protocol, description: data.description },
      })
      .returning();
    audit({ targetType: "broker", targetId: data.id, details: data });
    return saved!;
  },
});

async function brokerSummaries(db: Database, now: number): Promise<BrokerSummary[]> {
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

/** The clock agent status is judged by (epoch milliseconds); now when left out. */
const nowInput = z.number().optional();

/** Lists brokers with their agent status, topic counts and current rates (`listBrokers(principal, now?)`). */
export const listBrokers = defineQuery({
  permission: "catalog:read",
  input: nowInput,
  run: ({ db, input: now }) => brokerSummaries(db, now ?? Date.now()),
});

/** Paging of a broker's topics. */
export const getBrokerInput = z
  .object({
    limit: z.number().optional(),
    offset: z.number().optional(),
    now: nowInput,
  })
  .default({});

const getBrokerQuery = defineQuery({
  permission: "catalog:read",
  input: getBrokerInput,
  run: async (
    { db, input: options },
    id: string,
  ): Promise<{ broker: BrokerSummary; topics: BrokerTopic[]; totalTopics: number; bridges: BrokerBridge[] }> => {
    const all = await brokerSummaries(db, options.now ?? Date.now());
    const found = all.find((b) => b.id === id);
    if (!found) throw new MeshportError("not_found", `No broker ${id}.`, { subject: "broker" });
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
  },
});

/** One broker with its topics (busiest first, paged: `{ limit, offset }`) and bridges. */
export function getBroker(principal: Principal, id: string, options?: unknown) {
  return getBrokerQuery(principal, id, options);
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
export const declareBridge = defineCommand({
  permission: "brokers:manage",
  input: declareBridgeInput,
  audit: "bridge.declare",
  run: async ({ tx, input: data, audit }): Promise<BrokerBridge> => {
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
    audit({ targetType: "bridge", targetId: created.id, details: data });
    return created;
  },
});

/** Removes a declared bridge (`removeBridge(principal, bridgeId)`). */
export const removeBridge = defineCommand({
  permission: "brokers:manage",
  input: idInput,
  audit: "bridge.remove",
  run: async ({ tx, input: bridgeId, audit }): Promise<void> => {
    const [removed] = await tx.delete(brokerBridge).where(eq(brokerBridge.id, bridgeId)).returning();
    if (!removed) throw new MeshportError("not_found", "No such bridge.", { subject: "bridge" });
    audit({
      targetType: "bridge",
      targetId: bridgeId,
      details: { from: removed.fromBrokerId, to: removed.toBrokerId, topicFilter: removed.topicFilter },
    });
  },
});

/** All declared bridges of the mesh. */
export const listBridges = defineQuery({
  permission: "catalog:read",
  input: noInput,
  run: ({ db }): Promise<BrokerBridge[]> =>
    db.select().from(brokerBridge).orderBy(asc(brokerBridge.fromBrokerId), asc(brokerBridge.toBrokerId), asc(brokerBridge.topicFilter)),
});
