import "server-only";
import { and, desc, eq, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import type { Database } from "@/db/client.ts";
import { z } from "zod";
import { auditEntry, type AuditEntry } from "@/db/schema.ts";
import { defineQuery, noInput } from "@/lib/service.ts";
import { checkAuditChainForView, checkAuditChainFully, type AuditChainStatus } from "./verify.ts";

export { AUDIT_ACTIONS, isAuditAction, type AuditAction } from "./actions.ts";
export { recordAudit, type AuditEvent } from "./record.ts";
export type { AuditChainStatus } from "./verify.ts";
export type { AuditEntry } from "@/db/schema.ts";

/** Most actions (or action prefixes) one filter names. */
export const MAX_AUDIT_ACTION_FILTERS = 20;

// Action names are dotted lowercase words; a filter ending with a dot names every action under it.
const ACTION_FILTER = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.?$/;

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/i;

/**
 * An instant of a time filter: a date (`2026-12-01`) or a date and time (`2026-12-01T14:05`, seconds,
 * milliseconds and an offset optional; UTC without one). With `end`, the instant just past the unit it names, so
 * "to 2026-12-01" takes in the whole day and "to 14:05" the whole minute. Undefined when not such a text.
 */
export function parseAuditInstant(text: string, end = false): Date | undefined {
  const day = DATE_ONLY.exec(text);
  const time = day ? null : DATE_TIME.exec(text);
  if (!day && !time) return undefined;
  const parts = (day ?? time)!;
  const [year, month, date] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (month < 1 || month > 12 || date < 1 || date > 31) return undefined;
  const iso = day
    ? `${parts[1]}-${parts[2]}-${parts[3]}T00:00:00.000Z`
    : `${parts[1]}-${parts[2]}-${parts[3]}T${parts[4]}:${parts[5]}:${parts[6] ?? "00"}${(parts[7] ?? ".000").padEnd(4, "0")}${(parts[8] ?? "Z").toUpperCase()}`;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return undefined;
  // Date rolls 31 February over into March: such a day does not exist.
  if (day && (at.getUTCFullYear() !== year || at.getUTCMonth() + 1 !== month || at.getUTCDate() !== date)) return undefined;
  if (!end) return at;
  const step = day ? 86_400_000 : time![7] ? 1 : time![6] ? 1000 : 60_000;
  return new Date(at.getTime() + step);
}

const instant = (end: boolean) =>
  z
    .string()
    .trim()
    .max(40)
    .transform((text, ctx) => {
      const at = parseAuditInstant(text, end);
      if (!at) {
        ctx.addIssue({ code: "custom", message: "Use an ISO date or date and time, such as 2026-12-01 or 2026-12-01T14:05Z." });
        return z.NEVER;
      }
      return at;
    });

const actionFilter = z
  .union([z.string().max(2000), z.array(z.string().max(100)).max(MAX_AUDIT_ACTION_FILTERS)])
  .transform((value, ctx) => {
    const names = [value]
      .flat()
      .flatMap((text) => text.split(","))
      .map((text) => text.trim())
      .filter((text) => text !== "");
    if (names.length > MAX_AUDIT_ACTION_FILTERS) {
      ctx.addIssue({ code: "custom", message: `Name at most ${MAX_AUDIT_ACTION_FILTERS} actions.` });
      return z.NEVER;
    }
    const bad = names.find((name) => name.length > 100 || !ACTION_FILTER.test(name));
    if (bad !== undefined) {
      ctx.addIssue({ code: "custom", message: "Name actions such as contract.publish, or a prefix such as change_request." });
      return z.NEVER;
    }
    return [...new Set(names)];
  });

/** The filters of the audit report, shared by the list, the export and the page. */
const auditFilterFields = {
  /** Entries at or after this instant. */
  from: instant(false).optional(),
  /** Entries before the end of the day, minute, second or millisecond named. */
  to: instant(true).optional(),
  /** The actor: its id, or its label (a person's email, `token NAME`), in any case. */
  actor: z.string().trim().min(1).max(320).optional(),
  actorId: z.string().trim().min(1).max(200).optional(),
  /** The slug of the application the entries are about (`details.application`). */
  application: z.string().trim().toLowerCase().min(1).max(100).optional(),
  /** One or several actions (a list, or comma-separated), each exact or a prefix ending with a dot. */
  action: actionFilter.optional(),
  targetType: z.string().trim().min(1).max(100).optional(),
  targetId: z.string().trim().min(1).max(200).optional(),
};

const auditFilter = z
  .object(auditFilterFields)
  .refine((f) => !f.from || !f.to || f.from < f.to, { message: "From must come before To.", path: ["to"] });

const listAuditInput = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.coerce.number().int().positive().optional(),
    ...auditFilterFields,
  })
  .refine((f) => !f.from || !f.to || f.from < f.to, { message: "From must come before To.", path: ["to"] });

/** Filters for listing the audit log. */
export type ListAuditInput = z.input<typeof listAuditInput>;

/** The filters of the audit report, as given (before validation). */
export type AuditFilterInput = z.input<typeof auditFilter>;

/** The filters of the audit report, validated. */
export type AuditFilter = z.output<typeof auditFilter>;

/** The names of the report's filters as query parameters. */
export const AUDIT_FILTER_PARAMS = ["from", "to", "actor", "actorId", "application", "action", "targetType", "targetId"] as const;

/**
 * The report's filters from query parameters: each once, except `action`, which may repeat (and may hold a
 * comma-separated list). Unknown parameters are left out; values are validated by the service.
 */
export function auditFilterParams(params: URLSearchParams): Record<string, string | string[]> {
  const filter: Record<string, string | string[]> = {};
  for (const name of AUDIT_FILTER_PARAMS) {
    if (name === "action") {
      const actions = params.getAll("action").slice(0, MAX_AUDIT_ACTION_FILTERS + 1);
      if (actions.length > 0) filter.action = actions;
      continue;
    }
    const value = params.get(name);
    if (value !== null && value.trim() !== "") filter[name] = value;
  }
  return filter;
}

function filterConditions(filter: AuditFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.from) conditions.push(gte(auditEntry.at, filter.from));
  if (filter.to) conditions.push(lt(auditEntry.at, filter.to));
  if (filter.actorId) conditions.push(eq(auditEntry.actorId, filter.actorId));
  if (filter.actor) {
    conditions.push(or(eq(auditEntry.actorId, filter.actor), sql`lower(${auditEntry.actorLabel}) = ${filter.actor.toLowerCase()}`)!);
  }
  // Written as the index expression, so the application filter uses audit_entry_application_idx.
  if (filter.application) conditions.push(sql`(${auditEntry.details}->>'application') = ${filter.application}`);
  if (filter.action && filter.action.length > 0) {
    const exact = filter.action.filter((name) => !name.endsWith("."));
    const prefixes = filter.action.filter((name) => name.endsWith("."));
    conditions.push(
      or(
        ...(exact.length > 0 ? [inArray(auditEntry.action, exact)] : []),
        ...prefixes.map((prefix) => sql`starts_with(${auditEntry.action}, ${prefix})`),
      )!,
    );
  }
  if (filter.targetType) conditions.push(eq(auditEntry.targetType, filter.targetType));
  if (filter.targetId) conditions.push(eq(auditEntry.targetId, filter.targetId));
  return conditions;
}

async function auditPage(db: Database, conditions: SQL[], before: number | undefined, limit: number): Promise<AuditEntry[]> {
  const where = before ? [...conditions, lt(auditEntry.seq, before)] : conditions;
  return db
    .select()
    .from(auditEntry)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditEntry.seq))
    .limit(limit);
}

/** Lists audit entries, newest first, paged by sequence number (`before`), with the report's filters. */
export const listAudit = defineQuery({
  permission: "audit:read",
  input: listAuditInput.default({ limit: 50 }),
  run: async ({ db, input: filter }): Promise<{ entries: AuditEntry[]; nextBefore: number | null }> => {
    const entries = await auditPage(db, filterConditions(filter), filter.before, filter.limit + 1);
    const hasMore = entries.length > filter.limit;
    const page = hasMore ? entries.slice(0, filter.limit) : entries;
    return { entries: page, nextBefore: hasMore ? page[page.length - 1]!.seq : null };
  },
});

/** Entries an export reads at a time. */
export const AUDIT_EXPORT_PAGE_SIZE = 500;

/** An export about to be read: its validated filters, and its pages, read one at a time as they are asked for. */
export interface AuditExport {
  filter: AuditFilter;
  pages: AsyncIterable<AuditEntry[]>;
}

/**
 * Every entry the filters select, newest first, in pages of {@link AUDIT_EXPORT_PAGE_SIZE} (keyset by sequence
 * number, never the whole log in memory). The permission and filters are checked now, so a refusal comes before
 * the first byte; the entries are those up to the newest one when the first page is read.
 */
export const exportAudit = defineQuery({
  permission: "audit:read",
  input: auditFilter.default({}),
  run: async ({ db, input: filter }): Promise<AuditExport> => {
    const conditions = filterConditions(filter);
    async function* pages(): AsyncGenerator<AuditEntry[]> {
      let before: number | undefined;
      for (;;) {
        const page = await auditPage(db, conditions, before, AUDIT_EXPORT_PAGE_SIZE);
        if (page.length > 0) yield page;
        if (page.length < AUDIT_EXPORT_PAGE_SIZE) return;
        before = page[page.length - 1]!.seq;
      }
    }
    return { filter, pages: pages() };
  },
});

/** The result of checking the audit chain end to end. */
export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The first entry whose hash or link does not match, when the chain is broken. */
  brokenAt: { seq: number; reason: "hash_mismatch" | "link_mismatch" } | null;
  headHash: string;
}

/**
 * Recomputes every hash of the chain from the first entry and reports the first tampered entry. The explicit
 * end-to-end check: its result also refreshes the checkpoint the audit page verifies from.
 */
export const verifyAuditChain = defineQuery({
  permission: "audit:read",
  input: noInput,
  run: async ({ db }): Promise<AuditVerification> => {
    const { ok, entries, brokenAt, headHash } = await checkAuditChainFully(db);
    return { ok, entries, brokenAt, headHash };
  },
});

/**
 * The chain as the audit page shows it: the entries after the last verified checkpoint are verified now (a
 * bounded number), the checkpoint entry is checked again, and end-to-end checks run in the background.
 */
export const auditChainStatus = defineQuery({
  permission: "audit:read",
  input: noInput,
  run: ({ db }): Promise<AuditChainStatus> => checkAuditChainForView(db),
});
