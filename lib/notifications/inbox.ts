import "server-only";
import { and, count, desc, eq, inArray, isNull, lt } from "drizzle-orm";
import { z } from "zod";
import { getDb } from "@/db/client.ts";
import { notification, type Notification } from "@/db/schema.ts";
import { assertCan } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { defineQuery, noInput, parseServiceInput } from "@/lib/service.ts";

/*
 * The inbox of the signed-in person. Marking entries read is personal UI state, like a collapsed panel: it changes
 * nothing anyone else sees, so it is not audited (and not a `defineCommand`, which always audits).
 */

/** One page of the inbox, newest first. */
export interface InboxPage {
  items: Notification[];
  /** Pass as `before` for the next (older) page; null on the last. */
  nextBefore: number | null;
  unread: number;
}

/** The inbox belongs to a person: a token has none. */
function owner(principal: Principal): string {
  if (principal.kind !== "user") throw new MeshportError("forbidden", "The inbox belongs to a signed-in person; API tokens have none.", { subject: "inbox" });
  return principal.id;
}

/** Input to list the inbox. */
export const listNotificationsInput = z
  .object({
    unread: z.preprocess((v) => (v === "true" || v === "1" ? true : v === "false" || v === "0" ? false : v), z.boolean()).default(false),
    before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
  })
  .default({ unread: false, limit: 25 });

/** The signed-in person's inbox, newest first, optionally unread only, paged by `before` (an entry id). */
export const listNotifications = defineQuery({
  permission: "catalog:read",
  input: listNotificationsInput,
  run: async ({ db, principal, input }): Promise<InboxPage> => {
    const userId = owner(principal);
    const rows = await db
      .select()
      .from(notification)
      .where(
        and(
          eq(notification.userId, userId),
          input.unread ? isNull(notification.readAt) : undefined,
          input.before ? lt(notification.id, input.before) : undefined,
        ),
      )
      .orderBy(desc(notification.id))
      .limit(input.limit + 1);
    const items = rows.slice(0, input.limit);
    const [unread] = await db.select({ n: count() }).from(notification).where(and(eq(notification.userId, userId), isNull(notification.readAt)));
    return { items, nextBefore: rows.length > input.limit ? items[items.length - 1]!.id : null, unread: unread?.n ?? 0 };
  },
});

/** How many unread entries the signed-in person has (the header's badge). */
export const unreadCount = defineQuery({
  permission: "catalog:read",
  input: noInput,
  run: async ({ db, principal }): Promise<number> => {
    const [row] = await db.select({ n: count() }).from(notification).where(and(eq(notification.userId, owner(principal)), isNull(notification.readAt)));
    return row?.n ?? 0;
  },
});

/** Input to mark entries read: some by id, or all. */
export const markReadInput = z.union([
  z.object({ ids: z.array(z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER)).min(1).max(500) }).strict(),
  z.object({ all: z.literal(true) }).strict(),
]);

/** Marks the signed-in person's entries read (`{ ids }` or `{ all: true }`); others' entries are never touched. Returns how many changed. */
export async function markRead(principal: Principal, input: unknown): Promise<{ updated: number }> {
  assertCan(principal, "catalog:read");
  const userId = owner(principal);
  const data = await parseServiceInput(markReadInput, input);
  const db = await getDb();
  const updated = await db
    .update(notification)
    .set({ readAt: new Date() })
    .where(and(eq(notification.userId, userId), isNull(notification.readAt), "ids" in data ? inArray(notification.id, [...new Set(data.ids)]) : undefined))
    .returning({ id: notification.id });
  return { updated: updated.length };
}
