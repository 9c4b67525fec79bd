import "server-only";
import { desc, sql } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { auditEntry, type AuditEntry } from "@/db/schema.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";
import type { AuditAction } from "./actions.ts";
import { auditHash, GENESIS_HASH } from "./chain.ts";
import { storableJson } from "@/agents/protocol.ts";

// Serialises appends so each entry links to the one before it, across portal instances.
const AUDIT_CHAIN_LOCK_KEY = 7_316_542_002;

/** What a service says happened. */
export interface AuditEvent {
  action: AuditAction;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

/** Takes the audit chain's lock for the rest of the transaction (taking it again is harmless). */
export async function lockAuditChain(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK_KEY})`);
}

/**
 * Appends an entry to the audit chain. Call it inside the transaction that makes the
 * change, so the change and its record commit or roll back together.
 */
export async function recordAudit(tx: Executor, principal: Principal, event: AuditEvent): Promise<AuditEntry> {
  const [row] = await appendAudits(tx, principal, [event], true);
  return row!;
}

/**
 * Appends several entries to the audit chain in order, in a few multi-row statements: a change that records
 * thousands of entries (a report that opens thousands of drift findings) must not cost thousands of round trips.
 */
export async function recordAudits(tx: Executor, principal: Principal, events: readonly AuditEvent[]): Promise<void> {
  await appendAudits(tx, principal, events, false);
}

const INSERT_CHUNK = 500;

async function appendAudits(tx: Executor, principal: Principal, events: readonly AuditEvent[], returning: boolean): Promise<AuditEntry[]> {
  if (events.length === 0) return [];
  await lockAuditChain(tx);
  const [last] = await tx
    .select({ hash: auditEntry.hash })
    .from(auditEntry)
    .orderBy(desc(auditEntry.seq))
    .limit(1);
  let prevHash = last?.hash ?? GENESIS_HASH;
  const rows = events.map((event) => {
    const content = {
      at: new Date(),
      actorKind: principal.kind,
      actorId: principal.id,
      actorLabel: principalLabel(principal),
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId,
      // A JSON round trip keeps exactly what jsonb will store, so the hash verifies later.
      details: JSON.parse(storableJson(JSON.stringify(withOrigin(principal, event.details ?? {})))) as Record<string, unknown>,
    };
    const hash = auditHash(prevHash, content);
    const row = { ...content, prevHash, hash };
    prevHash = hash;
    return row;
  });
  const stored: AuditEntry[] = [];
  // Rows of one VALUES list take their sequence numbers in order, so the chain reads back in this order.
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    if (returning) stored.push(...(await tx.insert(auditEntry).values(chunk).returning()));
    else await tx.insert(auditEntry).values(chunk);
  }
  return stored;
}

/** Adds where the change came from (the client address of the request), when the principal knows it. */
function withOrigin(principal: Principal, details: Record<string, unknown>): Record<string, unknown> {
  const address = principal.kind === "system" ? null : principal.address;
  return address && details.from === undefined ? { ...details, from: address } : details;
}
