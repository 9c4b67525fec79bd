import "server-only";
import { and, asc, count, desc, eq, gte, inArray, ne, or, sql, sum } from "drizzle-orm";
import { z } from "zod";
import { inventorySchema, type Inventory } from "@/agents/protocol.ts";
import type { Database } from "@/db/client.ts";
import { broker, brokerBridge, brokerLink, brokerTopic, type Broker, type BrokerBridge, type BrokerTopic } from "@/db/schema.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand, defineQuery, idInput, noInput } from "@/lib/service.ts";
import { agentVisibility, brokerDialect, BROKER_KINDS, filterIn, kindLabel, subscriptionFilterIn, type AgentVisibility } from "./dialect.ts";
import { agentStatus } from "./status.ts";

/** A broker as listed, with its agent's status and a summary of what flows. */
export type BrokerSummary = Broker & {
  status: "online" | "stale" | "never";
  /** the kind as named: MQTT, NATS, RabbitMQ… */
  kind: string;
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
  protocol: z.enum(BROKER_KINDS).default("mqtt"),
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

async function brokerSummaries(db: Database, now: number, kind?: string): Promise<BrokerSummary[]> {
  const [brokers, topicCounts, rates] = await Promise.all([
    db
      .select()
      .from(broker)
      .where(kind ? eq(broker.protocol, kind) : undefined)
      .orderBy(asc(broker.id)),
    db
      .select({ brokerId: brokerTopic.brokerId, topics: count() })
      .from(brokerTopic)
      .groupBy(brokerTopic.brokerId),
    // The current rate is what the last window carried, not the all-time history.
    db
      .select({ brokerId: brokerTopic.brokerId, rate: sum(brokerTopic.lastRatePerSecond) })
      .from(brokerTopic)
      .innerJoin(broker, eq(broker.id, brokerTopic.brokerId))
      .where(gte(brokerTopic.lastWindowEnd, sql`${broker.lastWindowEnd}`))
      .groupBy(brokerTopic.brokerId),
  ]);
  const countOf = new Map(topicCounts.map((r) => [r.brokerId, r.topics]));
  const rateOf = new Map(rates.map((r) => [r.brokerId, Number(r.rate ?? 0)]));
  return brokers.map((b) => ({
    ...b,
    status: agentStatus(b.lastReportAt, now),
    kind: kindLabel(b.protocol),
    topicCount: countOf.get(b.id) ?? 0,
    ratePerSecond: rateOf.get(b.id) ?? 0,
  }));
}

/** The clock agent status is judged by (epoch milliseconds); now when left out. */
const nowInput = z.number().optional();

/** What the list is asked for: the clock alone, or the clock and a kind of broker. */
export const listBrokersInput = z.union([nowInput, z.object({ now: nowInput, kind: z.enum(BROKER_KINDS).optional() })]);

/** Lists brokers with their kind, agent status, topic counts and current rates (`listBrokers(principal, now? | { now?, kind? })`). */
export const listBrokers = defineQuery({
  permission: "catalog:read",
  input: listBrokersInput,
  run: ({ db, input }) => {
    const options = typeof input === "object" ? input : { now: input };
    return brokerSummaries(db, options.now ?? Date.now(), "kind" in options ? options.kind : undefined);
  },
});

/** Paging of a broker's topics. */
export const getBrokerInput = z
  .object({
    limit: z.number().optional(),
    offset: z.number().optional(),
    now: nowInput,
  })
  .default({});

/** A topic of the broker, with how a subscriber of this broker subscribes to it (`orders.*.created`). */
export type BrokerTopicView = BrokerTopic & { subscription: string | null };

/**
 * A link of the broker to another: a bridge an admin declared, or a link a broker told its agent of (this broker's,
 * or another's whose far end is this one). `direction` is seen from this broker.
 */
export interface BrokerLinkView {
  source: "declared" | "discovered";
  /** `declared`, or how the brokers link: mqtt-bridge, nats-route, rabbitmq-shovel… */
  kind: string;
  /** the link's own name (a declared bridge's id) */
  name: string;
  /** the far end as told (a declared bridge: the other broker's id) */
  remote: string;
  /** the far end when it is a broker of the mesh; null: not a broker of this mesh */
  remoteBroker: { id: string; name: string } | null;
  direction: "in" | "out" | "both";
  /** what flows, in the syntax of the broker that told it; empty when unknown */
  topics: string[];
  state: string | null;
  lastSeen: Date | null;
  /** the broker whose agent told of the link (this one, or the far end) */
  reportedBy: string | null;
  /** a declared bridge's id */
  bridgeId: string | null;
}

/** One broker as its page and the API show it. */
export interface BrokerDetails {
  broker: BrokerSummary;
  /** what its agent can see and cannot, from its kind and capabilities; null before any report */
  visibility: AgentVisibility | null;
  /** what this kind calls a topic and a filter */
  words: { topic: string; filter: string };
  topics: BrokerTopicView[];
  totalTopics: number;
  /** declared bridges touching the broker */
  bridges: BrokerBridge[];
  /** declared bridges and discovered links, from this broker's side */
  links: BrokerLinkView[];
  /** the broker's own resources as its agent last listed them; null when it lists none */
  inventory: Inventory | null;
  inventoryAt: Date | null;
}

/** Links listed on a broker's page at most. */
export const MAX_BROKER_LINKS = 500;

const flip = (direction: "in" | "out" | "both") => (direction === "in" ? "out" : direction === "out" ? "in" : "both");

const getBrokerQuery = defineQuery({
  permission: "catalog:read",
  input: getBrokerInput,
  run: async ({ db, input: options }, id: string): Promise<BrokerDetails> => {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 500);
    // Every read needs only the id: side by side (a broker that does not exist has no rows in the others).
    const [all, rows, bridges, discovered] = await Promise.all([
      brokerSummaries(db, options.now ?? Date.now()),
      db
        .select()
        .from(brokerTopic)
        .where(eq(brokerTopic.brokerId, id))
        .orderBy(desc(brokerTopic.lastRatePerSecond), desc(brokerTopic.totalMessages), asc(brokerTopic.template))
        .limit(limit)
        .offset(Math.max(options.offset ?? 0, 0)),
      db
        .select()
        .from(brokerBridge)
        .where(sql`${brokerBridge.fromBrokerId} = ${id} or ${brokerBridge.toBrokerId} = ${id}`)
        .orderBy(asc(brokerBridge.fromBrokerId), asc(brokerBridge.toBrokerId))
        .limit(MAX_BROKER_LINKS),
      db
        .select()
        .from(brokerLink)
        .where(or(eq(brokerLink.brokerId, id), and(eq(brokerLink.remoteBrokerId, id), ne(brokerLink.brokerId, id))))
        .orderBy(asc(brokerLink.brokerId), asc(brokerLink.kind), asc(brokerLink.name))
        .limit(MAX_BROKER_LINKS),
    ]);
    const found = all.find((b) => b.id === id);
    if (!found) throw new MeshportError("not_found", `No broker ${id}.`, { subject: "broker" });
    const names = new Map(all.map((b) => [b.id, b.name]));
    const dialect = brokerDialect(found.protocol);
    const topics = rows.map((t) => ({ ...t, subscription: subscriptionFilterIn(t.template, dialect) }));
    const end = (other: string | null) => (other && names.has(other) ? { id: other, name: names.get(other)! } : null);
    const links: BrokerLinkView[] = [
      ...bridges.map((b): BrokerLinkView => {
        const outgoing = b.fromBrokerId === id;
        const other = outgoing ? b.toBrokerId : b.fromBrokerId;
        return {
          source: "declared",
          kind: "declared",
          name: b.id,
          remote: other,
          remoteBroker: end(other),
          direction: b.direction === "both" ? "both" : outgoing ? "out" : "in",
          topics: [b.topicFilter],
          state: null,
          lastSeen: null,
          reportedBy: null,
          bridgeId: b.id,
        };
      }),
      ...discovered.map((l): BrokerLinkView => {
        const own = l.brokerId === id;
        return {
          source: "discovered",
          kind: l.kind,
          name: l.name,
          remote: own ? l.remote : l.brokerId,
          remoteBroker: own ? end(l.remoteBrokerId) : end(l.brokerId),
          direction: own ? l.direction : flip(l.direction),
          topics: l.topics,
          state: l.state,
          lastSeen: l.lastSeen,
          reportedBy: l.brokerId,
          bridgeId: null,
        };
      }),
    ];
    const inventory = found.inventory ? inventorySchema.safeParse(found.inventory) : null;
    return {
      broker: found,
      visibility: agentVisibility(found.protocol, found.capabilities),
      words: dialect.words,
      topics,
      totalTopics: found.topicCount,
      bridges,
      links,
      inventory: inventory?.success ? inventory.data : null,
      inventoryAt: inventory?.success ? found.inventoryAt : null,
    };
  },
});

/** One broker with its kind, what its agent sees, its topics (busiest first, paged: `{ limit, offset }`), inventory and links. */
export function getBroker(principal: Principal, id: string, options?: unknown): Promise<BrokerDetails> {
  return getBrokerQuery(principal, id, options);
}

// Checked in the syntax of the broker the bridge leaves, once it is known.
const topicFilter = z.string().trim().min(1).max(500);

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
      .select({ id: broker.id, protocol: broker.protocol })
      .from(broker)
      .where(inArray(broker.id, [data.fromBrokerId, data.toBrokerId]));
    for (const end of [data.fromBrokerId, data.toBrokerId]) {
      if (!ends.some((e) => e.id === end)) {
        throw new MeshportError("invalid_input", "The input is not valid.", {
          details: { fieldErrors: { [end === data.fromBrokerId ? "fromBrokerId" : "toBrokerId"]: [`No broker ${end}.`] }, formErrors: [] },
        });
      }
    }
    // The filter is the source broker's subscription: its syntax (`plant/#`, `orders.>`, `invoice.#`).
    const from = ends.find((e) => e.id === data.fromBrokerId)!;
    const dialect = brokerDialect(from.protocol);
    if (!filterIn(data.topicFilter, dialect)) {
      const { single, multi } = dialect;
      throw new MeshportError("invalid_input", "The input is not valid.", {
        details: {
          fieldErrors: {
            topicFilter: [
              `Not a valid ${kindLabel(from.protocol)} ${dialect.words.filter} (${single} and ${multi} stand alone in a level${dialect.multiAnywhere ? "" : `; ${multi} comes last`}).`,
            ],
          },
          formErrors: [],
        },
      });
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
