import "server-only";
import { and, asc, desc, eq, gt, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { auditEntry, type AuditEntry } from "@/db/schema.ts";
import { defineQuery, noInput } from "@/lib/service.ts";
import { auditHash, GENESIS_HASH } from "./chain.ts";

export { AUDIT_ACTIONS, isAuditAction, type AuditAction } from "./actions.ts";
export { recordAudit, type AuditEvent } from "./record.ts";

const listAuditInput = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
  action: z.string().trim().min(1).max(100).optional(),
  actorId: z.string().trim().min(1).max(200).optional(),
  targetType: z.string().trim().min(1).max(100).optional(),
  targetId: z.string().trim().min(1).max(200).optional(),
});

/** Filters for listing the audit log. */
export type ListAuditInput = z.input<typeof listAuditInput>;

/** Lists audit entries, newest first, paged by sequence number (`before`). */
export const listAudit = defineQuery({
  permission: "audit:read",
  input: listAuditInput.default({ limit: 50 }),
  run: async ({ db, input: filter }): Promise<{ entries: AuditEntry[]; nextBefore: number | null }> => {
    const conditions: SQL[] = [];
    if (filter.before) conditions.push(lt(auditEntry.seq, filter.before));
    if (filter.action) conditions.push(eq(auditEntry.action, filter.action));
    if (filter.actorId) conditions.push(eq(auditEntry.actorId, filter.actorId));
    if (filter.targetType) conditions.push(eq(auditEntry.targetType, filter.targetType));
    if (filter.targetId) conditions.push(eq(auditEntry.targetId, filter.targetId));
    const entries = await db
      .select()
      .from(auditEntry)
      .where(conditions.length ? and(...conditions) : undefined)
      .orderBy(desc(auditEntry.seq))
      .limit(filter.limit + 1);
    const hasMore = entries.length > filter.limit;
    const page = hasMore ? entries.slice(0, filter.limit) : entries;
    return { entries: page, nextBefore: hasMore ? page[page.length - 1]!.seq : null };
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

/** Recomputes every hash of the chain and reports the first tampered entry. */
export const verifyAuditChain = defineQuery({
  permission: "audit:read",
  input: noInput,
  run: async ({ db }): Promise<AuditVerification> => {
    const pageSize = 1000;
    let prevHash = GENESIS_HASH;
    let count = 0;
    let afterSeq = 0;
    for (;;) {
      const page = await db
        .select()
        .from(auditEntry)
        .where(gt(auditEntry.seq, afterSeq))
        .orderBy(asc(auditEntry.seq))
        .limit(pageSize);
      for (const entry of page) {
        if (entry.prevHash !== prevHash) {
          return { ok: false, entries: count, brokenAt: { seq: entry.seq, reason: "link_mismatch" }, headHash: prevHash };
        }
        if (auditHash(entry.prevHash, entry) !== entry.hash) {
          return { ok: false, entries: count, brokenAt: { seq: entry.seq, reason: "hash_mismatch" }, headHash: prevHash };
        }
        prevHash = entry.hash;
        count += 1;
        afterSeq = entry.seq;
      }
      if (page.length < pageSize) break;
    }
    return { ok: true, entries: count, brokenAt: null, headHash: prevHash };
  },
});
