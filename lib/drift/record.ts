import "server-only";
import { randomUUID } from "node:crypto";
import { and, arrayOverlaps, asc, desc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { auditEntry, webhook, webhookDelivery } from "@/db/schema.ts";
import type { AuditAction } from "@/lib/audit/actions.ts";
import { auditHash, GENESIS_HASH } from "@/lib/audit/chain.ts";
import type { AuditEvent } from "@/lib/audit/record.ts";
import { storableJson } from "@/agents/protocol.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";
import type { EventPayload, EventType } from "@/lib/notifications/events.ts";

/*
 * One audit entry and one webhook event per finding, written as a few multi-row statements: a report that opens
 * thousands of findings must not cost thousands of round trips. The entries chain exactly as recordAudit chains them.
 */

// The lock recordAudit takes (lib/audit/record.ts): appends are serialised across portal instances.
const AUDIT_CHAIN_LOCK_KEY = 7_316_542_002;
const CHUNK = 500;

/** Takes the audit chain's lock for the rest of the transaction (recordAudit takes it again harmlessly). */
export async function lockAuditChain(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK_KEY})`);
}

/** Appends the entries to the audit chain in order, in the caller's transaction. */
export async function recordAudits(tx: Executor, principal: Principal, events: readonly (AuditEvent & { action: AuditAction })[]): Promise<void> {
  if (events.length === 0) return;
  await lockAuditChain(tx);
  const [last] = await tx.select({ hash: auditEntry.hash }).from(auditEntry).orderBy(desc(auditEntry.seq)).limit(1);
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
      details: JSON.parse(storableJson(JSON.stringify(withOrigin(principal, event.details ?? {})))) as Record<string, unknown>,
    };
    const hash = auditHash(prevHash, content);
    const row = { ...content, prevHash, hash };
    prevHash = hash;
    return row;
  });
  // Rows of one VALUES list take their sequence numbers in order, so the chain reads back in this order.
  for (let i = 0; i < rows.length; i += CHUNK) await tx.insert(auditEntry).values(rows.slice(i, i + CHUNK));
}

function withOrigin(principal: Principal, details: Record<string, unknown>): Record<string, unknown> {
  const address = principal.kind === "system" ? null : principal.address;
  return address && details.from === undefined ? { ...details, from: address } : details;
}

/** A drift event for the webhooks of its team (and the portal-wide ones). */
export interface DriftEvent {
  type: Extract<EventType, "drift.finding.opened" | "drift.finding.reopened">;
  summary: string;
  link: string;
  teamId: string | null;
  data: Record<string, unknown>;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function absoluteLink(link: string): string {
  const base = (process.env.MESHPORT_PUBLIC_URL || process.env.MESHPORT_URL)?.trim();
  if (!base || !link.startsWith("/")) return link;
  return `${base.replace(/\/+$/, "")}${link}`;
}

/**
 * Records drift events as emitEvent does (lib/notifications/events.ts), with one webhook query for the lot:
 * an outbox row per active webhook subscribed to the type, portal-wide or of the finding's team.
 */
export async function emitDriftEvents(tx: Executor, actor: Principal, events: readonly DriftEvent[]): Promise<void> {
  if (events.length === 0) return;
  const types = [...new Set(events.map((e) => e.type))];
  const teamIds = [...new Set(events.flatMap((e) => (e.teamId ? [e.teamId] : [])))];
  const hooks = await tx
    .select({ id: webhook.id, teamId: webhook.teamId, events: webhook.events })
    .from(webhook)
    .where(and(eq(webhook.active, true), arrayOverlaps(webhook.events, ["*", ...types]), teamIds.length > 0 ? or(isNull(webhook.teamId), inArray(webhook.teamId, teamIds)) : isNull(webhook.teamId)))
    .orderBy(asc(webhook.id));
  if (hooks.length === 0) return;
  const label = principalLabel(actor);
  const rows: Array<typeof webhookDelivery.$inferInsert> = [];
  for (const event of events) {
    const targets = hooks.filter((h) => (h.teamId === null || h.teamId === event.teamId) && (h.events.includes("*") || h.events.includes(event.type)));
    if (targets.length === 0) continue;
    const eventId = randomUUID();
    const payload: EventPayload = {
      id: eventId,
      type: event.type,
      occurredAt: new Date().toISOString(),
      summary: clip(event.summary, 500),
      link: absoluteLink(clip(event.link, 1000)),
      actor: { kind: actor.kind, id: actor.id, label },
      data: event.data,
    };
    // As jsonb stores it: a summary cut inside a surrogate pair must not refuse the change.
    const stored = JSON.parse(storableJson(JSON.stringify(payload))) as Record<string, unknown>;
    for (const t of targets) rows.push({ webhookId: t.id, eventId, eventType: event.type, payload: stored });
  }
  for (let i = 0; i < rows.length; i += CHUNK) await tx.insert(webhookDelivery).values(rows.slice(i, i + CHUNK));
}
