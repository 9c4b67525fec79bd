import "server-only";
import { randomUUID } from "node:crypto";
import { and, arrayOverlaps, eq, inArray, isNull, or } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { notification, teamMember, user, webhook, webhookDelivery } from "@/db/schema.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";

/** Every event the portal reports, in the inbox and to webhooks. */
export const EVENT_TYPES = [
  "review.requested",
  "review.commented",
  "review.changes_requested",
  "review.approved",
  "review.rejected",
  "review.withdrawn",
  "review.published",
  "version.deprecated",
  "version.retired",
  "drift.finding.opened",
  "drift.finding.reopened",
  "webhook.test",
] as const;
/** One event type. */
export type EventType = (typeof EVENT_TYPES)[number];

/** True when the text names an event type. */
export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** Something that happened, as services report it. */
export interface PortalEvent {
  type: EventType;
  /** One sentence, shown in the inbox and sent to webhooks. */
  summary: string;
  /** The portal path it concerns, e.g. `/reviews/12`. */
  link: string;
  actor: Principal;
  /** The teams concerned: their webhooks get it (portal-wide webhooks always do). */
  teamIds: string[];
  /** The users whose inbox gets it; the actor is left out. */
  recipients: string[];
  data: Record<string, unknown>;
}

/** The JSON body a webhook receives. */
export interface EventPayload {
  id: string;
  type: EventType;
  occurredAt: string;
  summary: string;
  link: string;
  actor: { kind: Principal["kind"]; id: string; label: string };
  data: Record<string, unknown>;
}

const MAX_SUMMARY = 500;
const MAX_LINK = 1000;
const INSERT_BATCH = 500;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The link as a receiver can open it: absolute under the portal's public URL (MESHPORT_URL) when that is set. */
export function absoluteLink(link: string): string {
  const base = (process.env.MESHPORT_PUBLIC_URL || process.env.MESHPORT_URL)?.trim();
  if (!base || !link.startsWith("/")) return link;
  return `${base.replace(/\/+$/, "")}${link}`;
}

/**
 * Records an event in the caller's transaction: one inbox entry per recipient (not the actor), and one outbox row
 * per active webhook subscribed to its type (portal-wide ones and those of the teams concerned). The sender delivers
 * the rows once the transaction commits, so nothing acknowledged is lost and nothing is sent for a change that rolled
 * back. A `webhook.test` event goes to the one webhook named by `data.webhookId`, whatever it subscribes to.
 */
export async function emitEvent(tx: Executor, event: PortalEvent): Promise<{ eventId: string }> {
  const eventId = randomUUID();
  const summary = clip(event.summary, MAX_SUMMARY);
  const link = clip(event.link, MAX_LINK);
  const actorUserId = event.actor.kind === "user" ? event.actor.id : null;
  const recipients = [...new Set(event.recipients)].filter((id) => id !== actorUserId);
  for (let start = 0; start < recipients.length; start += INSERT_BATCH) {
    // An id that names no account (deleted meanwhile) is skipped rather than failing the caller's change.
    const known = await tx.select({ id: user.id }).from(user).where(inArray(user.id, recipients.slice(start, start + INSERT_BATCH)));
    if (known.length === 0) continue;
    await tx.insert(notification).values(known.map(({ id }) => ({ userId: id, kind: event.type, title: summary, link })));
  }

  const targets = await tx
    .select({ id: webhook.id })
    .from(webhook)
    .where(webhookTargets(event))
    .orderBy(webhook.id);
  if (targets.length > 0) {
    const payload: EventPayload = {
      id: eventId,
      type: event.type,
      occurredAt: new Date().toISOString(),
      summary,
      link: absoluteLink(link),
      actor: { kind: event.actor.kind, id: event.actor.id, label: principalLabel(event.actor) },
      data: event.data,
    };
    // A JSON round trip: the row holds exactly what jsonb stores, whatever the caller put in data.
    const stored = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
    await tx.insert(webhookDelivery).values(targets.map((t) => ({ webhookId: t.id, eventId, eventType: event.type, payload: stored })));
  }
  return { eventId };
}

function webhookTargets(event: PortalEvent) {
  if (event.type === "webhook.test") {
    const id = typeof event.data.webhookId === "string" ? event.data.webhookId : "";
    return and(eq(webhook.id, id), eq(webhook.active, true));
  }
  const teamIds = [...new Set(event.teamIds)];
  return and(
    eq(webhook.active, true),
    arrayOverlaps(webhook.events, ["*", event.type]),
    teamIds.length > 0 ? or(isNull(webhook.teamId), inArray(webhook.teamId, teamIds)) : isNull(webhook.teamId),
  );
}

/** The user ids of the members of these teams (each once), to name as recipients. */
export async function teamMemberIds(db: Executor, teamIds: readonly string[]): Promise<string[]> {
  const ids = [...new Set(teamIds)];
  if (ids.length === 0) return [];
  const rows = await db.selectDistinct({ userId: teamMember.userId }).from(teamMember).where(inArray(teamMember.teamId, ids));
  return rows.map((r) => r.userId);
}
