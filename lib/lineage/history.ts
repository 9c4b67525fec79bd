import "server-only";
import { and, asc, gte, inArray, lt, sql } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { observation } from "@/db/schema.ts";

/**
 * What the agents observed in a past time range, per broker and topic template: the shape of
 * `observedBetween` in lib/observations/history.ts, which lineage reads for a past date.
 */
export interface ObservedHistory {
  resolution: string;
  topics: Array<{
    brokerId: string;
    template: string;
    channelAddress: string | null;
    messages: number;
    bytes: number;
    firstSeen: Date | string;
    lastSeen: Date | string;
    producers: Array<{ clientId: string; messages: number }>;
    consumers: Array<{ clientId: string; filter: string }>;
  }>;
  truncated: boolean;
}

/** Which observations a history read selects. */
export interface HistoryFilter {
  brokerIds?: string[];
  templatePrefix?: string;
  /** only templates of this many levels (what a channel of as many levels can meet) */
  levels?: number;
}

/** Clients per template and role kept at most when windows are summed. */
const MAX_CLIENTS = 200;

/**
 * The observations whose windows start within the range, summed per broker and template (raw windows: the
 * resolution is the agents' report window). Bounded: at most `limit` templates, `truncated` past it.
 */
export async function observedBetween(db: Executor, range: { from: Date; to: Date }, filter: HistoryFilter, limit: number): Promise<ObservedHistory> {
  const conditions = [gte(observation.windowStart, range.from), lt(observation.windowStart, range.to)];
  if (filter.brokerIds && filter.brokerIds.length > 0) conditions.push(inArray(observation.brokerId, filter.brokerIds));
  if (filter.templatePrefix) conditions.push(sql`starts_with(${observation.template}, ${filter.templatePrefix})`);
  if (filter.levels) conditions.push(sql`array_length(string_to_array(${observation.template}, '/'), 1) = ${filter.levels}`);
  const rows = await db
    .select({
      brokerId: observation.brokerId,
      template: observation.template,
      channelAddress: sql<string | null>`max(${observation.channelAddress})`,
      messages: sql<string>`sum(${observation.messages})`,
      bytes: sql<string>`sum(${observation.bytes})`,
      firstSeen: sql<string>`min(${observation.windowStart})`,
      lastSeen: sql<string>`max(${observation.windowEnd})`,
      producers: sql<unknown>`jsonb_agg(${observation.producers} order by ${observation.windowEnd} desc)`,
      consumers: sql<unknown>`jsonb_agg(${observation.consumers} order by ${observation.windowEnd} desc)`,
    })
    .from(observation)
    .where(and(...conditions))
    .groupBy(observation.brokerId, observation.template)
    .orderBy(asc(observation.brokerId), asc(observation.template))
    .limit(limit + 1);
  return {
    resolution: "window",
    truncated: rows.length > limit,
    topics: rows.slice(0, limit).map((row) => ({
      brokerId: row.brokerId,
      template: row.template,
      channelAddress: row.channelAddress,
      messages: Number(row.messages),
      bytes: Number(row.bytes),
      firstSeen: new Date(row.firstSeen),
      lastSeen: new Date(row.lastSeen),
      producers: sumProducers(row.producers),
      consumers: distinctConsumers(row.consumers),
    })),
  };
}

type Lists = unknown;
const lists = (value: Lists): unknown[][] => (Array.isArray(value) ? value.filter(Array.isArray) : []);

function sumProducers(value: Lists): Array<{ clientId: string; messages: number }> {
  const sums = new Map<string, number>();
  for (const list of lists(value)) {
    for (const p of list as Array<{ clientId?: unknown; messages?: unknown }>) {
      if (typeof p?.clientId !== "string") continue;
      if (!sums.has(p.clientId) && sums.size >= MAX_CLIENTS) continue;
      sums.set(p.clientId, (sums.get(p.clientId) ?? 0) + (typeof p.messages === "number" ? p.messages : 0));
    }
  }
  return [...sums].map(([clientId, messages]) => ({ clientId, messages }));
}

function distinctConsumers(value: Lists): Array<{ clientId: string; filter: string }> {
  const seen = new Map<string, { clientId: string; filter: string }>();
  for (const list of lists(value)) {
    for (const c of list as Array<{ clientId?: unknown; filter?: unknown }>) {
      if (typeof c?.clientId !== "string" || typeof c.filter !== "string") continue;
      const key = `${c.clientId}\u0000${c.filter}`;
      if (!seen.has(key) && seen.size < MAX_CLIENTS) seen.set(key, { clientId: c.clientId, filter: c.filter });
    }
  }
  return [...seen.values()];
}
