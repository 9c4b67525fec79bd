import "server-only";
import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { MAX_CLIENTS_PER_TEMPLATE, MAX_COUNT, MAX_TEMPLATE_BYTES } from "@/agents/protocol.ts";
import type { Executor } from "@/db/client.ts";
import { MeshportError, zodErrorDetails } from "@/lib/errors.ts";
import { rowsOf } from "./partitions.ts";
import { DAY_MS, bucketStart, hourlyRetentionDays, rawRetentionDays } from "./retention.ts";

/** The resolution a history answer was read at. */
export type HistoryResolution = "raw" | "hour" | "day";

/** What was observed on one topic template of one broker over a time range. */
export interface ObservedAt {
  brokerId: string;
  template: string;
  channelAddress: string | null;
  messages: number;
  bytes: number;
  /** ISO times: the earliest and latest sighting (for raw history, of the windows). */
  firstSeen: string;
  lastSeen: string;
  /** At most 100, the busiest first. */
  producers: Array<{ clientId: string; messages: number }>;
  /** At most 100, by client id and filter. */
  consumers: Array<{ clientId: string; filter: string }>;
}

/** The topics observed over a range, merged per (broker, template), ordered by broker and template. */
export interface ObservedBetween {
  resolution: HistoryResolution;
  topics: ObservedAt[];
  /** More topics matched than the limit; the first ones (by broker, template) are given. */
  truncated: boolean;
}

/** One point of a topic's timeline: a report window (raw) or an hour or day. */
export interface TimelineBucket {
  /** ISO start of the window or bucket. */
  start: string;
  messages: number;
  bytes: number;
  maxRatePerSecond: number;
  firstSeen: string;
  lastSeen: string;
}

export interface ObservedTimeline {
  resolution: HistoryResolution;
  buckets: TimelineBucket[];
  truncated: boolean;
}

/** Most topics one answer holds, and most timeline points. */
export const MAX_HISTORY_TOPICS = 20_000;
export const MAX_TIMELINE_BUCKETS = 10_000;
const MAX_BROKER_FILTER = 1_000;

const date = z.date().refine((d) => !Number.isNaN(d.getTime()), "Not a valid time.");
const rangeSchema = z
  .object({ from: date, to: date })
  .refine((r) => r.from.getTime() < r.to.getTime(), { message: "The range must end after it starts.", path: ["to"] });
const filterSchema = z
  .object({
    brokerIds: z.array(z.string().min(1).max(255)).max(MAX_BROKER_FILTER).optional(),
    templatePrefix: z.string().max(MAX_TEMPLATE_BYTES).optional(),
  })
  .optional();
const timelineSchema = z
  .object({
    brokerId: z.string().min(1).max(255),
    template: z.string().min(1).max(MAX_TEMPLATE_BYTES),
    from: date,
    to: date,
    resolution: z.enum(["raw", "hour", "day"]).optional(),
  })
  .refine((r) => r.from.getTime() < r.to.getTime(), { message: "The range must end after it starts.", path: ["to"] });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new MeshportError("invalid_input", "The observation history query is not valid.", {
      subject: "observation_history",
      details: zodErrorDetails(parsed.error),
    });
  }
  return parsed.data;
}

/**
 * The finest resolution still kept for history from `from` on: raw observations within
 * their retention, else hourly roll-ups, else daily ones.
 */
export function resolutionFor(from: Date, now = new Date()): HistoryResolution {
  const age = now.getTime() - from.getTime();
  if (age <= rawRetentionDays() * DAY_MS) return "raw";
  if (age <= hourlyRetentionDays() * DAY_MS) return "hour";
  return "day";
}

// Times as ISO text in UTC, counts as float8 (exact up to MAX_COUNT): the same on every driver.
const iso = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const MAX = sql.raw(String(MAX_COUNT));

/**
 * The rows of a range at a resolution, in one shape. A report window counts when it starts
 * in [from, to); an hour or day when it overlaps the range.
 */
function source(resolution: HistoryResolution, from: Date, to: Date, where: SQL[]): SQL {
  const extra = where.length > 0 ? sql` and ${sql.join(where, sql` and `)}` : sql``;
  if (resolution === "raw") {
    return sql`select broker_id, template, channel_address, messages, bytes, window_start as first_seen, window_end as last_seen,
        rate_per_second as rate, window_start as at, producers, consumers
      from observation
      where window_start >= ${from.toISOString()}::timestamptz and window_start < ${to.toISOString()}::timestamptz${extra}`;
  }
  return sql`select broker_id, template, channel_address, messages, bytes, first_seen, last_seen,
      max_rate_per_second as rate, bucket_start as at, producers, consumers
    from observation_rollup
    where resolution = ${resolution} and bucket_start >= ${bucketStart(from, resolution).toISOString()}::timestamptz
      and bucket_start < ${to.toISOString()}::timestamptz${extra}`;
}

interface TopicRow {
  broker_id: string;
  template: string;
  channel_address: string | null;
  messages: number | string;
  bytes: number | string;
  first_seen: string;
  last_seen: string;
  producers: Array<{ clientId: string; messages: number }> | string;
  consumers: Array<{ clientId: string; filter: string }> | string;
}

const json = <T>(value: T | string): T => (typeof value === "string" ? (JSON.parse(value) as T) : value);

/**
 * What was observed between two times, merged per (broker, template), at the finest
 * resolution still kept for `range.from`. Optionally only some brokers, or templates that
 * start with a prefix. At most `limit` topics (up to 20,000); `truncated` tells when more matched.
 */
export async function observedBetween(
  db: Executor,
  range: { from: Date; to: Date },
  filter?: { brokerIds?: string[]; templatePrefix?: string },
  limit = MAX_HISTORY_TOPICS,
): Promise<ObservedBetween> {
  const { from, to } = parse(rangeSchema, range);
  const wanted = parse(filterSchema, filter);
  const cap = Math.min(MAX_HISTORY_TOPICS, Math.max(1, Math.floor(Number.isFinite(limit) ? limit : MAX_HISTORY_TOPICS)));
  const resolution = resolutionFor(from);
  if (wanted?.brokerIds && wanted.brokerIds.length === 0) return { resolution, topics: [], truncated: false };

  const where: SQL[] = [];
  if (wanted?.brokerIds) where.push(sql`broker_id in (${sql.join([...new Set(wanted.brokerIds)].map((id) => sql`${id}`), sql`, `)})`);
  if (wanted?.templatePrefix) where.push(sql`starts_with(template, ${wanted.templatePrefix})`);
  const clients = sql.raw(String(MAX_CLIENTS_PER_TEMPLATE));

  const result = await db.execute(sql`
    with src as (${source(resolution, from, to, where)}),
    topics as (
      select broker_id, template, max(channel_address) as channel_address,
        least(sum(messages), ${MAX})::float8 as messages, least(sum(bytes), ${MAX})::float8 as bytes,
        min(first_seen) as first_seen, max(last_seen) as last_seen
      from src group by broker_id, template
      order by broker_id, template limit ${cap + 1}
    ),
    prod as (
      select s.broker_id, s.template, e->>'clientId' as client_id, least(sum((e->>'messages')::numeric), ${MAX})::float8 as messages
      from src s join topics t using (broker_id, template) cross join lateral jsonb_array_elements(s.producers) as e
      group by 1, 2, 3
    ),
    prod_ranked as (
      select *, row_number() over (partition by broker_id, template order by messages desc, client_id) as rn from prod
    ),
    prod_agg as (
      select broker_id, template,
        jsonb_agg(jsonb_build_object('clientId', client_id, 'messages', messages) order by messages desc, client_id) as producers
      from prod_ranked where rn <= ${clients} group by 1, 2
    ),
    cons as (
      select distinct s.broker_id, s.template, e->>'clientId' as client_id, e->>'filter' as filter
      from src s join topics t using (broker_id, template) cross join lateral jsonb_array_elements(s.consumers) as e
    ),
    cons_ranked as (
      select *, row_number() over (partition by broker_id, template order by client_id, filter) as rn from cons
    ),
    cons_agg as (
      select broker_id, template,
        jsonb_agg(jsonb_build_object('clientId', client_id, 'filter', filter) order by client_id, filter) as consumers
      from cons_ranked where rn <= ${clients} group by 1, 2
    )
    select t.broker_id, t.template, t.channel_address, t.messages, t.bytes,
      ${iso(sql`t.first_seen`)} as first_seen, ${iso(sql`t.last_seen`)} as last_seen,
      coalesce(p.producers, '[]'::jsonb) as producers, coalesce(c.consumers, '[]'::jsonb) as consumers
    from topics t
      left join prod_agg p using (broker_id, template)
      left join cons_agg c using (broker_id, template)
    order by t.broker_id, t.template`);

  const rows = rowsOf<TopicRow>(result);
  const topics = rows.slice(0, cap).map(
    (r): ObservedAt => ({
      brokerId: r.broker_id,
      template: r.template,
      channelAddress: r.channel_address,
      messages: Number(r.messages),
      bytes: Number(r.bytes),
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      producers: json(r.producers).map((p) => ({ clientId: p.clientId, messages: Number(p.messages) })),
      consumers: json(r.consumers).map((c) => ({ clientId: c.clientId, filter: c.filter })),
    }),
  );
  return { resolution, topics, truncated: rows.length > cap };
}

/**
 * One topic's history over a range, point by point: report windows while raw observations
 * are kept for `from`, else hours, else days (or the resolution asked for). At most 10,000 points, oldest first.
 */
export async function observedTimeline(
  db: Executor,
  query: { brokerId: string; template: string; from: Date; to: Date; resolution?: HistoryResolution },
): Promise<ObservedTimeline> {
  const { brokerId, template, from, to, resolution: asked } = parse(timelineSchema, query);
  const resolution = asked ?? resolutionFor(from);
  const where = [sql`broker_id = ${brokerId}`, sql`template = ${template}`];
  const result = await db.execute(sql`
    with src as (${source(resolution, from, to, where)})
    select ${iso(sql`at`)} as start, least(sum(messages), ${MAX})::float8 as messages, least(sum(bytes), ${MAX})::float8 as bytes,
      max(rate)::float8 as rate, ${iso(sql`min(first_seen)`)} as first_seen, ${iso(sql`max(last_seen)`)} as last_seen
    from src group by at order by at limit ${MAX_TIMELINE_BUCKETS + 1}`);
  const rows = rowsOf<{ start: string; messages: number | string; bytes: number | string; rate: number | string; first_seen: string; last_seen: string }>(result);
  const buckets = rows.slice(0, MAX_TIMELINE_BUCKETS).map(
    (r): TimelineBucket => ({
      start: r.start,
      messages: Number(r.messages),
      bytes: Number(r.bytes),
      maxRatePerSecond: Number(r.rate),
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
    }),
  );
  return { resolution, buckets, truncated: rows.length > MAX_TIMELINE_BUCKETS };
}
