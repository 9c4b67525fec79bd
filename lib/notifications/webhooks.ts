import "server-only";
import { and, asc, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Executor } from "@/db/client.ts";
import { team, teamMember, webhook, webhookAttempt, webhookDelivery, type Webhook, type WebhookAttempt, type WebhookDelivery } from "@/db/schema.ts";
import { can } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand, defineQuery, idInput, noInput, type AuthorizeContext } from "@/lib/service.ts";
import { namesPrivateHost, webhookUrlProblem } from "./address.ts";
import { emitEvent, EVENT_TYPES } from "./events.ts";
import { senderSettings } from "./policy.ts";
import { encryptWebhookSecret, generateWebhookSecret } from "./secret.ts";

/** A webhook as listed and shown (never its secret). */
export type WebhookView = Omit<Webhook, "secretCiphertext"> & {
  teamSlug: string | null;
  teamName: string | null;
  pending: number;
  failed: number;
};

/** A delivery with its latest attempts. */
export type DeliveryView = WebhookDelivery & { attemptLog: WebhookAttempt[] };

const MAX_ATTEMPTS_SHOWN = 20;

const urlField = z
  .string()
  .trim()
  .max(2000, { message: "Use at most 2000 characters." })
  .superRefine((text, ctx) => {
    const problem = webhookUrlProblem(text);
    if (problem) {
      ctx.addIssue({ code: "custom", message: problem });
      return;
    }
    // An address literal or localhost is known private without a lookup; names are checked at send time.
    if (!senderSettings().allowPrivateNetworks && namesPrivateHost(new URL(text))) {
      ctx.addIssue({ code: "custom", message: "This address is on a private or loopback network, where webhooks are not sent." });
    }
  });

const eventsField = z
  .array(z.string().trim().max(60))
  .min(1, { message: "Choose at least one event, or * for all." })
  .max(EVENT_TYPES.length + 1)
  .superRefine((events, ctx) => {
    for (const e of events) {
      if (e !== "*" && !(EVENT_TYPES as readonly string[]).includes(e)) ctx.addIssue({ code: "custom", message: `Unknown event ${e.slice(0, 60)}.` });
    }
  })
  // `*` covers every type: storing it alone keeps the subscription readable.
  .transform((events) => (events.includes("*") ? ["*"] : [...new Set(events)].sort()));

const nameField = z.string().trim().min(1, { message: "Enter a name." }).max(100);
const secretField = z
  .string()
  .min(16, { message: "Use at least 16 characters, or leave it empty to have one generated." })
  .max(200)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { message: "Leave control characters out." });
const blankAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

/** Input to create a webhook. Without `teamSlug` it is portal-wide (admins only). */
export const createWebhookInput = z.object({
  name: nameField,
  url: urlField,
  events: eventsField,
  teamSlug: z.preprocess(blankAsUndefined, z.string().trim().max(60).optional()),
  secret: z.preprocess(blankAsUndefined, secretField.optional()),
  active: z.boolean().default(true),
});

/** Input to change a webhook; `secret` replaces the signing secret. */
export const updateWebhookInput = z
  .object({
    name: nameField.optional(),
    url: urlField.optional(),
    events: eventsField.optional(),
    active: z.boolean().optional(),
    secret: z.preprocess(blankAsUndefined, secretField.optional()),
  })
  .strict()
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: "Send at least one field to change." });

/** True when the principal may manage the webhooks of this team (null: portal-wide ones). */
async function mayManage(db: Executor, principal: Principal, teamId: string | null): Promise<boolean> {
  if (can(principal, "teams:manage")) return true;
  if (teamId === null || principal.kind !== "user") return false;
  const [membership] = await db
    .select({ role: teamMember.role })
    .from(teamMember)
    .where(and(eq(teamMember.teamId, teamId), eq(teamMember.userId, principal.id)));
  return membership?.role === "maintainer";
}

/** The ids of the teams a user maintains. */
async function maintainedTeamIds(db: Executor, principal: Principal): Promise<string[]> {
  if (principal.kind !== "user") return [];
  const rows = await db
    .select({ teamId: teamMember.teamId })
    .from(teamMember)
    .where(and(eq(teamMember.userId, principal.id), eq(teamMember.role, "maintainer")));
  return rows.map((r) => r.teamId);
}

/** True when the principal may manage some webhook: admins, and maintainers of a team (the header shows the link then). */
export async function mayManageWebhooks(principal: Principal): Promise<boolean> {
  return can(principal, "teams:manage") || (await maintainedTeamIds(await getDb(), principal)).length > 0;
}

const FORBIDDEN = "Only admins, and a team's maintainers for the team's webhooks, can manage webhooks.";

/** Loads a webhook the principal may manage; one they may not is reported as missing unless they may read it anyway. */
async function managedWebhook(db: Executor, principal: Principal, webhookId: string): Promise<Webhook & { teamSlug: string | null }> {
  const [row] = await db
    .select({ webhook, teamSlug: team.slug })
    .from(webhook)
    .leftJoin(team, eq(team.id, webhook.teamId))
    .where(eq(webhook.id, webhookId.slice(0, 100)));
  if (!row) throw new MeshportError("not_found", "No such webhook.", { subject: "webhook" });
  if (!(await mayManage(db, principal, row.webhook.teamId))) throw new MeshportError("forbidden", FORBIDDEN);
  return { ...row.webhook, teamSlug: row.teamSlug };
}

const authorizeWebhook = ({ tx, principal }: AuthorizeContext<unknown>, webhookId: string) => managedWebhook(tx, principal, webhookId);

function view(row: Webhook, teamRow: { slug: string; name: string } | null, pending = 0, failed = 0): WebhookView {
  const { secretCiphertext: _omit, ...visible } = row;
  void _omit;
  return { ...visible, teamSlug: teamRow?.slug ?? null, teamName: teamRow?.name ?? null, pending, failed };
}

/** Creates a webhook and returns its signing secret, shown this once (stored encrypted only). */
export const createWebhook = defineCommand({
  // Team maintainers hold no portal role for it: the team's membership decides (in run, once the team is known).
  permission: null,
  input: createWebhookInput,
  audit: "webhook.create",
  run: async ({ tx, principal, input: data, audit }): Promise<{ webhook: WebhookView; secret: string }> => {
    let teamRow: { id: string; slug: string; name: string } | null = null;
    if (data.teamSlug) {
      const [found] = await tx.select({ id: team.id, slug: team.slug, name: team.name }).from(team).where(eq(team.slug, data.teamSlug));
      if (!found) {
        throw new MeshportError("invalid_input", "The input is not valid.", {
          details: { fieldErrors: { teamSlug: [`No team ${data.teamSlug}.`] }, formErrors: [] },
        });
      }
      teamRow = found;
    }
    if (!(await mayManage(tx, principal, teamRow?.id ?? null))) {
      throw new MeshportError("forbidden", teamRow ? FORBIDDEN : "Only admins can create portal-wide webhooks.");
    }
    const id = newId("whk");
    const secret = data.secret ?? generateWebhookSecret();
    const [created] = await tx
      .insert(webhook)
      .values({
        id,
        teamId: teamRow?.id ?? null,
        name: data.name,
        url: data.url,
        events: data.events,
        secretCiphertext: encryptWebhookSecret(id, secret),
        active: data.active,
        createdById: principal.id,
      })
      .returning();
    audit({
      targetType: "webhook",
      targetId: id,
      details: { name: data.name, url: data.url, events: data.events, team: teamRow?.slug ?? null, active: data.active, secretGiven: data.secret !== undefined },
    });
    return { webhook: view(created!, teamRow), secret };
  },
});

/** Changes a webhook's name, URL, events, state or secret: `updateWebhook(principal, webhookId, input)`. */
export const updateWebhook = defineCommand({
  // Admins, or the team's maintainers: decided by authorize.
  permission: null,
  input: updateWebhookInput,
  audit: "webhook.update",
  authorize: authorizeWebhook,
  run: async ({ tx, input: data, target: found, audit }, _webhookId: string): Promise<WebhookView> => {
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    const set: Partial<typeof webhook.$inferInsert> = {};
    for (const key of ["name", "url", "events", "active"] as const) {
      const value = data[key];
      if (value === undefined || JSON.stringify(value) === JSON.stringify(found[key])) continue;
      before[key] = found[key];
      after[key] = value;
      Object.assign(set, { [key]: value });
    }
    if (data.secret !== undefined) {
      set.secretCiphertext = encryptWebhookSecret(found.id, data.secret);
      after.secretRotated = true;
    }
    const [updated] = Object.keys(set).length > 0 ? await tx.update(webhook).set(set).where(eq(webhook.id, found.id)).returning() : [found];
    audit({ targetType: "webhook", targetId: found.id, details: { name: updated!.name, team: found.teamSlug, before, after } });
    return (await webhookViews(tx, [found.id]))[0]!;
  },
});

/** Deletes a webhook with its outbox and attempts. */
export const deleteWebhook = defineCommand({
  // Admins, or the team's maintainers: decided in run, once the webhook is loaded.
  permission: null,
  input: idInput,
  audit: "webhook.delete",
  run: async ({ tx, principal, input: webhookId, audit }): Promise<void> => {
    const found = await managedWebhook(tx, principal, webhookId);
    await tx.delete(webhook).where(eq(webhook.id, found.id));
    audit({ targetType: "webhook", targetId: found.id, details: { name: found.name, url: found.url, team: found.teamSlug } });
  },
});

/** Sends a `webhook.test` event to this one webhook (through the outbox, like any event). */
export const sendTestEvent = defineCommand({
  // Admins, or the team's maintainers: decided by authorize.
  permission: null,
  input: noInput,
  audit: "webhook.test",
  authorize: authorizeWebhook,
  run: async ({ tx, principal, target: found, audit }, _webhookId: string): Promise<{ eventId: string }> => {
    if (!found.active) throw new MeshportError("conflict", "This webhook is disabled; enable it to send a test event.", { subject: "webhook" });
    const { eventId } = await emitEvent(tx, {
      type: "webhook.test",
      summary: `A test event for the webhook ${found.name}.`,
      link: `/webhooks/${found.id}`,
      actor: principal,
      teamIds: [],
      recipients: [],
      data: { webhookId: found.id, name: found.name },
    });
    audit({ targetType: "webhook", targetId: found.id, details: { name: found.name, team: found.teamSlug, eventId } });
    return { eventId };
  },
});

/**
 * Sends a failed delivery again now, with a fresh round of attempts (its earlier attempts stay in the log):
 * `retryDelivery(principal, webhookId, deliveryId)`.
 */
export const retryDelivery = defineCommand({
  // Admins, or the team's maintainers: decided by authorize.
  permission: null,
  input: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  audit: "webhook.update",
  authorize: authorizeWebhook,
  run: async ({ tx, input: deliveryId, target: found, audit }, _webhookId: string): Promise<void> => {
    const [retried] = await tx
      .update(webhookDelivery)
      .set({ state: "pending", attempts: 0, nextAttemptAt: new Date(), leasedUntil: null })
      .where(and(eq(webhookDelivery.id, deliveryId), eq(webhookDelivery.webhookId, found.id), eq(webhookDelivery.state, "failed")))
      .returning({ id: webhookDelivery.id, eventId: webhookDelivery.eventId });
    if (!retried) throw new MeshportError("conflict", "Only a failed delivery of this webhook can be sent again.", { subject: "delivery" });
    audit({
      targetType: "webhook",
      targetId: found.id,
      details: { name: found.name, team: found.teamSlug, delivery: retried.id, eventId: retried.eventId, before: { state: "failed" }, after: { state: "pending" } },
    });
  },
});

async function webhookViews(db: Executor, ids: string[] | null): Promise<WebhookView[]> {
  if (ids !== null && ids.length === 0) return [];
  const pending = sql<number>`(select count(*) from ${webhookDelivery} where ${webhookDelivery.webhookId} = ${webhook.id} and ${webhookDelivery.state} = 'pending')`.mapWith(Number);
  const failed = sql<number>`(select count(*) from ${webhookDelivery} where ${webhookDelivery.webhookId} = ${webhook.id} and ${webhookDelivery.state} = 'failed')`.mapWith(Number);
  const rows = await db
    .select({ webhook, teamSlug: team.slug, teamName: team.name, pending, failed })
    .from(webhook)
    .leftJoin(team, eq(team.id, webhook.teamId))
    .where(ids === null ? undefined : inArray(webhook.id, ids))
    .orderBy(asc(webhook.name), asc(webhook.id));
  return rows.map((r) => view(r.webhook, r.teamSlug && r.teamName ? { slug: r.teamSlug, name: r.teamName } : null, r.pending, r.failed));
}

/** The webhooks the principal may manage: all for admins, their teams' for maintainers. */
export const listWebhooks = defineQuery({
  permission: "catalog:read",
  input: noInput,
  run: async ({ db, principal }): Promise<WebhookView[]> => {
    if (can(principal, "teams:manage")) return webhookViews(db, null);
    const teams = await maintainedTeamIds(db, principal);
    if (teams.length === 0) return [];
    const ids = await db.select({ id: webhook.id }).from(webhook).where(inArray(webhook.teamId, teams));
    return webhookViews(db, ids.map((r) => r.id));
  },
});

/** One webhook the principal may manage. */
export const getWebhook = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, principal, input: webhookId }): Promise<WebhookView> => {
    const found = await managedWebhook(db, principal, webhookId);
    return (await webhookViews(db, [found.id]))[0]!;
  },
});

/** Input to list deliveries: newest first, `before` a delivery id to page back, `state` to filter. */
export const listDeliveriesInput = z
  .object({
    before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    state: z.enum(["pending", "delivered", "failed"]).optional(),
  })
  .default({ limit: 25 });

/** A webhook's deliveries, newest first, each with its latest attempts: `listDeliveries(principal, webhookId, input)`. */
export const listDeliveries = defineQuery({
  permission: "catalog:read",
  input: listDeliveriesInput,
  run: async ({ db, principal, input }, webhookId: string): Promise<{ deliveries: DeliveryView[]; nextBefore: number | null }> => {
    const found = await managedWebhook(db, principal, webhookId);
    const rows = await db
      .select()
      .from(webhookDelivery)
      .where(
        and(
          eq(webhookDelivery.webhookId, found.id),
          input.before ? lt(webhookDelivery.id, input.before) : undefined,
          input.state ? eq(webhookDelivery.state, input.state) : undefined,
        ),
      )
      .orderBy(desc(webhookDelivery.id))
      .limit(input.limit + 1);
    const page = rows.slice(0, input.limit);
    const attempts = page.length
      ? await db
          .select()
          .from(webhookAttempt)
          .where(inArray(webhookAttempt.deliveryId, page.map((d) => d.id)))
          .orderBy(desc(webhookAttempt.id))
      : [];
    const byDelivery = new Map<number, WebhookAttempt[]>();
    for (const a of attempts) {
      const list = byDelivery.get(a.deliveryId) ?? [];
      if (list.length < MAX_ATTEMPTS_SHOWN) list.push(a);
      byDelivery.set(a.deliveryId, list);
    }
    return {
      deliveries: page.map((d) => ({ ...d, attemptLog: byDelivery.get(d.id) ?? [] })),
      nextBefore: rows.length > input.limit ? page[page.length - 1]!.id : null,
    };
  },
});

/** The teams whose webhooks the principal may create: all for admins, the ones they maintain otherwise. */
export async function teamsForWebhooks(principal: Principal): Promise<Array<{ slug: string; name: string }>> {
  const db = await getDb();
  if (can(principal, "teams:manage")) return db.select({ slug: team.slug, name: team.name }).from(team).orderBy(asc(team.name));
  const ids = await maintainedTeamIds(db, principal);
  if (ids.length === 0) return [];
  return db.select({ slug: team.slug, name: team.name }).from(team).where(inArray(team.id, ids)).orderBy(asc(team.name));
}
