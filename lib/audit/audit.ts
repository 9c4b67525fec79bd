import "server-only";
import { and, asc, desc, eq, gt, lt, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Executor } from "@/db/client.ts";
import { auditEntry, type AuditEntry } from "@/db/schema.ts";
import { assertCan } from "@/lib/auth/permissions.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";
import { parseInput } from "@/lib/errors.ts";
import { auditHash, GENESIS_HASH } from "./chain.ts";

// Serialises appends so each entry links to the one before it, across portal instances.
const AUDIT_CHAIN_LOCK_KEY = 7_316_542_002;

/** What a service says happened. */
export interface AuditEvent {
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

/**
 * Appends an entry to the audit chain. Call it inside the transaction that makes the
 * change, so the change and its record commit or roll back together.
 */
export async function recordAudit(tx: Executor, principal: Principal, event: AuditEvent): Promise<AuditEntry> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK_KEY})`);
  const [last] = await tx
    .select({ hash: auditEntry.hash })
    .from(auditEntry)
    .orderBy(desc(auditEntry.seq))
    .limit(1);
  const prevHash = last?.hash ?? GENESIS_HASH;
  const content = {
    at: new Date(),
    actorKind: principal.kind,
    actorId: principal.id,
    actorLabel: principalLabel(principal),
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    // A JSON round trip keeps exactly what jsonb will store, so the hash verifies later.
    details: JSON.parse(JSON.stringify(event.details ?? {})) as Record<string, unknown>,
  };
  const [row] = await tx
    .insert(auditEntry)
    .values({ ...content, prevHash, hash: auditHash(prevHash, content) })
    .returning();
  return row!;
}

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
export async function listAudit(
  principal: Principal,
  input: ListAuditInput = {},
): Promise<{ entries: AuditEntry[]; nextBefore: number | null }> {
  assertCan(principal, "audit:read");
  const filter = parseInput(listAuditInput, input);
  const db = await getDb();
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
}

/** The result of checking the audit chain end to end. */
export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The first entry whose hash or link does not match, when the chain is broken. */
  brokenAt: { seq: number; reason: "hash_mismatch" | "link_mismatch" } | null;
  headHash: string;
}

/** Recomputes every hash of the chain and reports the first tampered entry. */
export async function verifyAuditChain(principal: Principal): Promise<AuditVerification> {
  assertCan(principal, "audit:read");
  const db = await getDb();
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
}
