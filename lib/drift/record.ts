import "server-only";
import { randomUUID } from "node:crypto";
import { and, arrayOverlaps, asc, eq, inArray, isNull, or } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { webhook, webhookDelivery } from "@/db/schema.ts";
import { storableJson } from "@/agents/protocol.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";
import { absoluteLink, type EventPayload, type EventType } from "@/lib/notifications/events.ts";

/*
 * One audit entry and one webhook event per finding, written as a few multi-row statements: a report that opens
 * thousands of findings must not cost thousands of round trips. The entries chain exactly as recordAudit chains them.
 */

export { lockAuditChain, recordAudits } from "@/lib/audit/record.ts";

const CHUNK = 500;

/** A drift event for the webhooks of its team (and the portal-wide ones). */
export interface DriftEvent {
  type: Extract<EventType, "drift.finding.opened" | "drift.finding.reopened">;
  summary: string;
  link: string;
  teamId: string | null;
  data: Record<string, unknown>;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);


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
