import "server-only";
import { desc, sql } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { auditEntry, type AuditEntry } from "@/db/schema.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";
import type { AuditAction } from "./actions.ts";
import { auditHash, GENESIS_HASH } from "./chain.ts";

// Serialises appends so each entry links to the one before it, across portal instances.
const AUDIT_CHAIN_LOCK_KEY = 7_316_542_002;

/** What a service says happened. */
export interface AuditEvent {
  action: AuditAction;
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
    details: JSON.parse(JSON.stringify(withOrigin(principal, event.details ?? {}))) as Record<string, unknown>,
  };
  const [row] = await tx
    .insert(auditEntry)
    .values({ ...content, prevHash, hash: auditHash(prevHash, content) })
    .returning();
  return row!;
}

/** Adds where the change came from (the client address of the request), when the principal knows it. */
function withOrigin(principal: Principal, details: Record<string, unknown>): Record<string, unknown> {
  const address = principal.kind === "system" ? null : principal.address;
  return address && details.from === undefined ? { ...details, from: address } : details;
}
