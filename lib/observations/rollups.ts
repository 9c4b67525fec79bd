import "server-only";
import { sql } from "drizzle-orm";
import { MAX_CLIENTS_PER_TEMPLATE, MAX_COUNT, type AgentReport } from "@/agents/protocol.ts";
import type { Executor } from "@/db/client.ts";
import { observationRollup, ROLLUP_RESOLUTIONS } from "@/db/schema.ts";
import { addCounts } from "@/lib/ingest/merge.ts";
import { bucketStart } from "./retention.ts";

// Rows per multi-row INSERT (12 parameters each; PostgreSQL allows 65,535 per statement).
const INSERT_CHUNK = 1_000;

type Producer = { clientId: string; messages: number };
type Consumer = { clientId: string; filter: string };

/** A topic's producers, one per client id (messages added), the busiest first, at most `limit`. */
export function rollupProducers(seen: ReadonlyArray<{ clientId: string; messages: number }>, limit = MAX_CLIENTS_PER_TEMPLATE): Producer[] {
  const byClient = new Map<string, number>();
  for (const p of seen) byClient.set(p.clientId, addCounts(byClient.get(p.clientId) ?? 0, p.messages));
  return [...byClient]
    .map(([clientId, messages]) => ({ clientId, messages }))
    .sort((a, b) => b.messages - a.messages || (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))
    .slice(0, limit);
}

/** A topic's consumers, one per (client id, filter), in the order first seen, at most `limit`. */
export function rollupConsumers(seen: ReadonlyArray<{ clientId: string; filter: string }>, limit = MAX_CLIENTS_PER_TEMPLATE): Consumer[] {
  const byKey = new Map<string, Consumer>();
  for (const c of seen) {
    const key = `${c.clientId}\u0000${c.filter}`;
    if (!byKey.has(key)) byKey.set(key, { clientId: c.clientId, filter: c.filter });
  }
  return [...byKey.values()].slice(0, limit);
}

/**
 * Adds one report's observations to the hourly and daily roll-ups of its window's start
 * (a window spanning buckets counts in the first). An upsert per row, inside the ingest's
 * transaction: counts add up (saturating), the highest rate and the widest seen-interval
 * win, clients unite within the cap. The report is already deduplicated by batch id and
 * holds each template once.
 */
export async function addToRollups(tx: Executor, report: AgentReport): Promise<void> {
  if (report.topics.length === 0) return;
  const start = new Date(report.window.start);
  const rows = ROLLUP_RESOLUTIONS.flatMap((resolution) =>
    report.topics.map((t) => ({
      resolution,
      bucketStart: bucketStart(start, resolution),
      brokerId: report.broker.id,
      template: t.template,
      channelAddress: t.channel?.address ?? null,
      messages: t.messages,
      bytes: t.bytes,
      maxRatePerSecond: t.ratePerSecond,
      firstSeen: new Date(t.firstSeen),
      lastSeen: new Date(t.lastSeen),
      producers: rollupProducers(t.producers),
      consumers: rollupConsumers(t.consumers),
    })),
  );
  const cap = sql.raw(String(MAX_CLIENTS_PER_TEMPLATE));
  const max = sql.raw(`${MAX_COUNT}`);
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await tx
      .insert(observationRollup)
      .values(rows.slice(i, i + INSERT_CHUNK))
      .onConflictDoUpdate({
        target: [observationRollup.resolution, observationRollup.bucketStart, observationRollup.brokerId, observationRollup.template],
        set: {
          channelAddress: sql`coalesce(excluded.channel_address, ${observationRollup.channelAddress})`,
          messages: sql`least(${observationRollup.messages} + excluded.messages, ${max}::bigint)`,
          bytes: sql`least(${observationRollup.bytes} + excluded.bytes, ${max}::bigint)`,
          maxRatePerSecond: sql`greatest(${observationRollup.maxRatePerSecond}, excluded.max_rate_per_second)`,
          firstSeen: sql`least(${observationRollup.firstSeen}, excluded.first_seen)`,
          lastSeen: sql`greatest(${observationRollup.lastSeen}, excluded.last_seen)`,
          producers: sql`(
            select coalesce(jsonb_agg(jsonb_build_object('clientId', u.client_id, 'messages', u.messages) order by u.messages desc, u.client_id), '[]'::jsonb)
            from (
              select e->>'clientId' as client_id, least(sum((e->>'messages')::numeric), ${max})::bigint as messages
              from jsonb_array_elements(${observationRollup.producers} || excluded.producers) as e
              group by 1 order by 2 desc, 1 limit ${cap}
            ) as u)`,
          consumers: sql`(
            select coalesce(jsonb_agg(jsonb_build_object('clientId', u.client_id, 'filter', u.filter) order by u.seen), '[]'::jsonb)
            from (
              select c.e->>'clientId' as client_id, c.e->>'filter' as filter, min(c.n) as seen
              from jsonb_array_elements(${observationRollup.consumers} || excluded.consumers) with ordinality as c(e, n)
              group by 1, 2 order by 3 limit ${cap}
            ) as u)`,
        },
      });
  }
}
