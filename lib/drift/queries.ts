import "server-only";
import { and, asc, count, desc, eq, gte, inArray, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client.ts";
import { application, broker, driftFinding, driftFindingEvent, team, type DriftFinding, type DriftFindingEvent, type DriftStatus } from "@/db/schema.ts";
import { DRIFT_RULE_IDS, type DriftEvidence, type DriftRuleId, type DriftSeverity } from "@/registry/drift/types.ts";
import { MeshportError } from "@/lib/errors.ts";
import { defineQuery } from "@/lib/service.ts";
import { silentAfterSeconds } from "./observed.ts";

/** Severities, most first. */
export const DRIFT_SEVERITIES = ["error", "warning", "info"] as const satisfies readonly DriftSeverity[];
/** The status filter: `active` is open and acknowledged (what still needs someone), `all` includes resolved. */
export const DRIFT_STATUS_FILTERS = ["active", "open", "acknowledged", "resolved", "all"] as const;
export type DriftStatusFilter = (typeof DRIFT_STATUS_FILTERS)[number];

/** Most findings one page lists, and how deep offset paging goes. */
export const MAX_FINDINGS_PAGE = 200;
export const MAX_FINDINGS_OFFSET = 10_000;
/** Most days of trend. */
export const MAX_TREND_DAYS = 90;
/** Most events a finding's page lists (newest kept). */
const MAX_EVENTS_SHOWN = 500;
/** Most rows of the by-team and by-broker counts. */
const MAX_GROUPS = 50;

/** Text PostgreSQL can hold (no U+0000), bounded. */
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !v.includes("\u0000"), { message: "Contains a NUL character (U+0000)." });
const slug = text(100);
/** Finding ids are generated (`drift_…`): anything else names none. */
const FINDING_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** Filters shared by the list and the summary; every text is bounded, none becomes a pattern. */
export const driftFilterFields = {
  status: z.enum(DRIFT_STATUS_FILTERS).default("active"),
  rule: z.enum(DRIFT_RULE_IDS).optional(),
  severity: z.enum(DRIFT_SEVERITIES).optional(),
  team: slug.optional(),
  application: slug.optional(),
  broker: slug.optional(),
  /** A contract channel address, exactly. */
  channel: text(500).optional(),
  /** The start of an observed topic template. */
  template: text(500).optional(),
  /** Words in the summary, template, channel or client id. */
  text: text(200).optional(),
};

export const driftFilterInput = z.object(driftFilterFields).default({ status: "active" });
export type DriftFilter = z.output<typeof driftFilterInput>;

export const listFindingsInput = z
  .object({
    ...driftFilterFields,
    limit: z.coerce.number().int().min(1).max(MAX_FINDINGS_PAGE).default(50),
    offset: z.coerce.number().int().min(0).max(MAX_FINDINGS_OFFSET).default(0),
  })
  .default({ status: "active", limit: 50, offset: 0 });

/** `%`, `_` and the escape character itself stand for themselves in a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The portal page of a finding. */
export function driftFindingPath(id: string): string {
  return `/drift/${encodeURIComponent(id)}`;
}

/** The dashboard, filtered. */
export function driftDashboardPath(filter: Partial<Record<"status" | "rule" | "severity" | "team" | "application" | "broker" | "channel" | "template" | "text", string>>): string {
  const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""));
  const text = query.toString();
  return text ? `/drift?${text}` : "/drift";
}

function statusCondition(status: DriftStatusFilter): SQL | undefined {
  if (status === "all") return undefined;
  if (status === "active") return inArray(driftFinding.status, ["open", "acknowledged"]);
  return eq(driftFinding.status, status);
}

function filterConditions(filter: DriftFilter): SQL[] {
  const where: SQL[] = [];
  const status = statusCondition(filter.status);
  if (status) where.push(status);
  if (filter.rule) where.push(eq(driftFinding.rule, filter.rule));
  if (filter.severity) where.push(eq(driftFinding.severity, filter.severity));
  if (filter.application) where.push(eq(application.slug, filter.application));
  if (filter.team) where.push(eq(team.slug, filter.team));
  if (filter.broker) where.push(eq(driftFinding.brokerId, filter.broker));
  if (filter.channel) where.push(eq(driftFinding.channel, filter.channel));
  if (filter.template) where.push(sql`${driftFinding.template} like ${`${escapeLike(filter.template)}%`} escape '\\'`);
  if (filter.text) {
    const pattern = `%${escapeLike(filter.text)}%`;
    where.push(
      or(
        sql`${driftFinding.summary} ilike ${pattern} escape '\\'`,
        sql`${driftFinding.template} ilike ${pattern} escape '\\'`,
        sql`${driftFinding.channel} ilike ${pattern} escape '\\'`,
        sql`${driftFinding.clientId} ilike ${pattern} escape '\\'`,
      )!,
    );
  }
  return where;
}

/** One row of the findings table. */
export interface FindingSummary {
  id: string;
  rule: DriftRuleId;
  severity: DriftSeverity;
  status: DriftStatus;
  summary: string;
  broker: { id: string; name: string } | null;
  template: string | null;
  channel: string | null;
  application: { slug: string; name: string } | null;
  team: { slug: string; name: string } | null;
  clientId: string | null;
  messageKey: string | null;
  firstSeen: Date;
  lastSeen: Date;
  occurrences: number;
  acknowledgedByLabel: string | null;
  resolution: string | null;
  resolvedAt: Date | null;
  url: string;
}

const SEVERITY_ORDER = sql`case ${driftFinding.severity} when 'error' then 0 when 'warning' then 1 else 2 end`;

function baseSelect(db: Database) {
  return db
    .select({
      finding: driftFinding,
      broker: { id: broker.id, name: broker.name },
      app: { slug: application.slug, name: application.name },
      team: { slug: team.slug, name: team.name },
    })
    .from(driftFinding)
    .leftJoin(broker, eq(broker.id, driftFinding.brokerId))
    .leftJoin(application, eq(application.id, driftFinding.applicationId))
    .leftJoin(team, eq(team.id, application.teamId));
}

type Joined = { finding: DriftFinding; broker: { id: string; name: string } | null; app: { slug: string; name: string } | null; team: { slug: string; name: string } | null };

function toSummary(r: Joined): FindingSummary {
  const f = r.finding;
  return {
    id: f.id,
    rule: f.rule,
    severity: f.severity,
    status: f.status,
    summary: f.summary,
    broker: r.broker?.id ? r.broker : f.brokerId ? { id: f.brokerId, name: f.brokerId } : null,
    template: f.template,
    channel: f.channel,
    application: r.app?.slug ? r.app : null,
    team: r.team?.slug ? r.team : null,
    clientId: f.clientId,
    messageKey: f.messageKey,
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
    occurrences: f.occurrences,
    acknowledgedByLabel: f.acknowledgedByLabel,
    resolution: f.resolution,
    resolvedAt: f.resolvedAt,
    url: driftFindingPath(f.id),
  };
}

/** The findings that match the filters: most severe first, then the most recently seen; paged by offset. */
export const listFindings = defineQuery({
  permission: "catalog:read",
  input: listFindingsInput,
  run: async ({ db, input }): Promise<{ findings: FindingSummary[]; total: number; limit: number; offset: number; hasNext: boolean }> => {
    const where = filterConditions(input);
    const condition = where.length ? and(...where) : undefined;
    const [rows, [totalRow]] = await Promise.all([
      baseSelect(db)
        .where(condition)
        .orderBy(SEVERITY_ORDER, desc(driftFinding.lastSeen), asc(driftFinding.id))
        .limit(input.limit + 1)
        .offset(input.offset),
      db
        .select({ n: count() })
        .from(driftFinding)
        .leftJoin(application, eq(application.id, driftFinding.applicationId))
        .leftJoin(team, eq(team.id, application.teamId))
        .where(condition),
    ]);
    return {
      findings: rows.slice(0, input.limit).map(toSummary),
      total: Number(totalRow?.n ?? 0),
      limit: input.limit,
      offset: input.offset,
      hasNext: rows.length > input.limit,
    };
  },
});

/** Counts of the findings that match the filters, and whether any broker reports at all. */
export interface DriftSummary {
  total: number;
  byRule: Record<DriftRuleId, number>;
  bySeverity: Record<DriftSeverity, number>;
  /** Findings of no application (undocumented topics, unknown clients) count under `team: null`. */
  byTeam: Array<{ team: { slug: string; name: string } | null; count: number }>;
  byBroker: Array<{ broker: { id: string; name: string } | null; count: number }>;
  /** Open findings anywhere, whatever the filters: "no drift" is only true when this is 0. */
  openAnywhere: number;
  /** Acknowledged findings anywhere: still there, someone has looked at them. */
  acknowledgedAnywhere: number;
  /**
   * Brokers declared, those that ever reported, and those that reported within the stale window (`reportingNow`,
   * `windowSeconds`): with none reporting now, nothing is being compared and no open finding means no drift.
   */
  brokers: { declared: number; reported: number; reportingNow: number; windowSeconds: number; lastReportAt: Date | null };
}

/** Counts by rule, severity, team and broker of the findings that match the filters (by default: open and acknowledged). */
export const driftSummary = defineQuery({
  permission: "catalog:read",
  input: driftFilterInput,
  run: async ({ db, input }): Promise<DriftSummary> => {
    const windowSeconds = silentAfterSeconds();
    const since = new Date(Date.now() - windowSeconds * 1000).toISOString();
    const where = filterConditions(input);
    const condition = where.length ? and(...where) : undefined;
    const from = () =>
      db
        .select({ rule: driftFinding.rule, severity: driftFinding.severity, n: count() })
        .from(driftFinding)
        .leftJoin(application, eq(application.id, driftFinding.applicationId))
        .leftJoin(team, eq(team.id, application.teamId))
        .where(condition);
    const [ruleRows, teamRows, brokerRows, statusRows, [brokerStats]] = await Promise.all([
      from().groupBy(driftFinding.rule, driftFinding.severity),
      db
        .select({ slug: team.slug, name: team.name, n: count() })
        .from(driftFinding)
        .leftJoin(application, eq(application.id, driftFinding.applicationId))
        .leftJoin(team, eq(team.id, application.teamId))
        .where(condition)
        .groupBy(team.slug, team.name)
        .orderBy(desc(count()), asc(team.slug))
        .limit(MAX_GROUPS),
      db
        .select({ id: driftFinding.brokerId, name: broker.name, n: count() })
        .from(driftFinding)
        .leftJoin(broker, eq(broker.id, driftFinding.brokerId))
        .leftJoin(application, eq(application.id, driftFinding.applicationId))
        .leftJoin(team, eq(team.id, application.teamId))
        .where(condition)
        .groupBy(driftFinding.brokerId, broker.name)
        .orderBy(desc(count()), asc(driftFinding.brokerId))
        .limit(MAX_GROUPS),
      db.select({ status: driftFinding.status, n: count() }).from(driftFinding).where(inArray(driftFinding.status, ["open", "acknowledged"])).groupBy(driftFinding.status),
      db
        .select({
          declared: count(),
          reported: count(broker.lastReportAt),
          reportingNow: sql<number>`count(*) filter (where ${broker.lastReportAt} >= ${since}::timestamptz)`,
          lastReportAt: sql<string | null>`max(${broker.lastReportAt})`,
        })
        .from(broker),
    ]);
    const byRule = Object.fromEntries(DRIFT_RULE_IDS.map((id) => [id, 0])) as Record<DriftRuleId, number>;
    const bySeverity: Record<DriftSeverity, number> = { error: 0, warning: 0, info: 0 };
    let total = 0;
    for (const r of ruleRows) {
      const n = Number(r.n);
      if (r.rule in byRule) byRule[r.rule] += n;
      if (r.severity in bySeverity) bySeverity[r.severity] += n;
      total += n;
    }
    return {
      total,
      byRule,
      bySeverity,
      byTeam: teamRows.map((r) => ({ team: r.slug ? { slug: r.slug, name: r.name ?? r.slug } : null, count: Number(r.n) })),
      byBroker: brokerRows.map((r) => ({ broker: r.id ? { id: r.id, name: r.name ?? r.id } : null, count: Number(r.n) })),
      openAnywhere: Number(statusRows.find((r) => r.status === "open")?.n ?? 0),
      acknowledgedAnywhere: Number(statusRows.find((r) => r.status === "acknowledged")?.n ?? 0),
      brokers: {
        declared: Number(brokerStats?.declared ?? 0),
        reported: Number(brokerStats?.reported ?? 0),
        reportingNow: Number(brokerStats?.reportingNow ?? 0),
        windowSeconds,
        lastReportAt: brokerStats?.lastReportAt ? new Date(brokerStats.lastReportAt) : null,
      },
    };
  },
});

export const driftTrendsInput = z.object({ days: z.coerce.number().int().min(1).max(MAX_TREND_DAYS).default(30) }).default({ days: 30 });

/** One day of the trend (UTC). */
export interface DriftTrendDay {
  /** `YYYY-MM-DD` */
  day: string;
  /** findings opened or reopened that day */
  opened: number;
  resolved: number;
  /** findings not resolved (open or acknowledged) at the end of the day */
  open: number;
}

const DAY_MS = 86_400_000;

function dayKey(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Per day over the last `days` days (today included): findings opened or reopened, findings resolved, and how many
 * stood unresolved at the end of each day, counted back from now through the state changes.
 */
export const driftTrends = defineQuery({
  permission: "catalog:read",
  input: driftTrendsInput,
  run: async ({ db, input }): Promise<{ days: DriftTrendDay[] }> => {
    const now = new Date();
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const start = new Date(today - (input.days - 1) * DAY_MS);
    const day = sql<string>`to_char(${driftFindingEvent.at} at time zone 'UTC', 'YYYY-MM-DD')`;
    const [rows, [active]] = await Promise.all([
      db
        .select({ day, kind: driftFindingEvent.kind, n: count() })
        .from(driftFindingEvent)
        .where(and(gte(driftFindingEvent.at, start), inArray(driftFindingEvent.kind, ["opened", "reopened", "resolved"])))
        .groupBy(day, driftFindingEvent.kind),
      db.select({ n: count() }).from(driftFinding).where(inArray(driftFinding.status, ["open", "acknowledged"])),
    ]);
    const perDay = new Map<string, { opened: number; resolved: number }>();
    for (const r of rows) {
      const entry = perDay.get(r.day) ?? { opened: 0, resolved: 0 };
      if (r.kind === "resolved") entry.resolved += Number(r.n);
      else entry.opened += Number(r.n);
      perDay.set(r.day, entry);
    }
    const days: DriftTrendDay[] = [];
    let open = Number(active?.n ?? 0);
    for (let i = 0; i < input.days; i++) {
      const key = dayKey(new Date(today - i * DAY_MS));
      const entry = perDay.get(key) ?? { opened: 0, resolved: 0 };
      days.push({ day: key, opened: entry.opened, resolved: entry.resolved, open: Math.max(0, open) });
      // The end of the day before: undo this day's changes.
      open = open - entry.opened + entry.resolved;
    }
    return { days: days.reverse() };
  },
});

/** A finding with its names and its history, as its page shows it. */
export interface FindingView extends FindingSummary {
  evidence: DriftEvidence;
  note: string | null;
  acknowledgedAt: Date | null;
  reopenedCount: number;
  createdAt: Date;
  application: { id: string; slug: string; name: string } | null;
  team: { id: string; slug: string; name: string } | null;
  /** State changes, oldest first (the newest {@link MAX_EVENTS_SHOWN}). */
  events: DriftFindingEvent[];
}

/** One finding by id, with its evidence, the names of its broker, application and team, and its history. */
export const getFinding = defineQuery({
  permission: "catalog:read",
  // Any text names no finding unless it is one's id: a page for a long or odd one is a 404.
  input: z.string(),
  run: async ({ db, input: id }): Promise<FindingView> => {
    const found = FINDING_ID.test(id) ? await findingRow(db, id) : undefined;
    if (!found) throw new MeshportError("not_found", `No drift finding ${id.slice(0, 40)}.`, { subject: "drift_finding" });
    const events = await db
      .select()
      .from(driftFindingEvent)
      .where(eq(driftFindingEvent.findingId, id))
      .orderBy(desc(driftFindingEvent.id))
      .limit(MAX_EVENTS_SHOWN);
    const f = found.finding;
    return {
      ...toSummary({ finding: f, broker: found.broker, app: found.app, team: found.team }),
      application: found.app?.id ? found.app : null,
      team: found.team?.id ? found.team : null,
      evidence: f.evidence,
      note: f.note,
      acknowledgedAt: f.acknowledgedAt,
      reopenedCount: f.reopenedCount,
      createdAt: f.createdAt,
      events: events.reverse(),
    };
  },
});

async function findingRow(db: Database, id: string) {
  const [row] = await db
    .select({
      finding: driftFinding,
      broker: { id: broker.id, name: broker.name },
      app: { id: application.id, slug: application.slug, name: application.name },
      team: { id: team.id, slug: team.slug, name: team.name },
    })
    .from(driftFinding)
    .leftJoin(broker, eq(broker.id, driftFinding.brokerId))
    .leftJoin(application, eq(application.id, driftFinding.applicationId))
    .leftJoin(team, eq(team.id, application.teamId))
    .where(eq(driftFinding.id, id));
  return row;
}
