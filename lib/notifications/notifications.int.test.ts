import http from "node:http";
import type { AddressInfo } from "node:net";
import { and, asc, count, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { auditEntry, notification, team, teamMember, user, webhook, webhookAttempt, webhookDelivery } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { emitEvent, teamMemberIds, type PortalEvent } from "./events.ts";
import { listNotifications, markRead, unreadCount } from "./inbox.ts";
import { deliverDue, verifySignature } from "./outbox.ts";
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, retryDelivery, sendTestEvent, updateWebhook } from "./webhooks.ts";

process.env.MESHPORT_WEBHOOK_ALLOW_PRIVATE_NETWORKS = "true";
process.env.MESHPORT_AUTH_SECRET ??= "a-test-portal-secret-of-at-least-32-characters";

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A loopback receiver: records every request; `answer` decides the status of each. */
function receiver() {
  const received: Received[] = [];
  let answer: (request: Received, index: number) => number = () => 200;
  // Requests to /hold wait for `releaseHeld`; `held()` resolves once one is waiting.
  const holding: http.ServerResponse[] = [];
  let heldArrived: (() => void) | undefined;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      const entry = { path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(entry);
      // A receiver that never answers: the sender's timeout ends the attempt.
      if (entry.path === "/slow") return;
      if (entry.path === "/hold") {
        holding.push(response);
        heldArrived?.();
        return;
      }
      response.writeHead(answer(entry, received.length - 1), { "content-type": "text/plain" });
      // A receiver's answer can hold anything, NUL included.
      response.end(entry.path === "/down" ? "down\u0000\u0007 for maintenance" : "ok from the receiver");
    });
  });
  return {
    received,
    server,
    answerWith(fn: typeof answer) {
      answer = fn;
    },
    held: () =>
      new Promise<void>((resolve) => {
        if (holding.length > 0) resolve();
        else heldArrived = resolve;
      }),
    releaseHeld() {
      for (const response of holding.splice(0)) response.writeHead(200).end("ok, at last");
    },
    url: (path: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    eventsAt: (path: string) => received.filter((r) => r.path === path).map((r) => (JSON.parse(r.body) as { id: string }).id),
  };
}

const admin: Principal = { kind: "user", id: "usr_admin", email: "admin@example.com", name: "Admin", role: "admin" };
const maintainer: Principal = { kind: "user", id: "usr_maint", email: "maint@example.com", name: "Mia", role: "editor" };
const member: Principal = { kind: "user", id: "usr_member", email: "member@example.com", name: "Max", role: "editor" };
const outsider: Principal = { kind: "user", id: "usr_out", email: "out@example.com", name: "Olga", role: "viewer" };

async function rejection(promise: Promise<unknown>): Promise<MeshportError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MeshportError);
  return error as MeshportError;
}

describeEachBackend("notifications", ({ handle, backend }) => {
  const rx = receiver();
  const db = () => handle().db;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    await new Promise<void>((resolve) => rx.server.listen(0, "127.0.0.1", resolve));
    await db()
      .insert(user)
      .values([admin, maintainer, member, outsider].map((p) => ({ id: p.id, name: p.kind === "user" ? p.name : "", email: p.kind === "user" ? p.email : "", role: p.kind === "user" ? p.role : "viewer" })));
    await db().insert(team).values([
      { id: "team_orders", slug: "orders", name: "Orders" },
      { id: "team_plant", slug: "plant", name: "Plant" },
    ]);
    await db().insert(teamMember).values([
      { teamId: "team_orders", userId: maintainer.id, role: "maintainer" },
      { teamId: "team_orders", userId: member.id, role: "member" },
      { teamId: "team_plant", userId: outsider.id, role: "member" },
    ]);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => rx.server.close(() => resolve()));
  });
  beforeEach(() => rx.answerWith(() => 200));

  async function hook(principal: Principal, input: Record<string, unknown>): Promise<string> {
    const { webhook: created, secret } = await createWebhook(principal, input);
    secrets.set(created.id, secret);
    return created.id;
  }

  function event(overrides: Partial<PortalEvent> = {}): PortalEvent {
    return {
      type: "review.requested",
      summary: "Mia asks Orders to review orders-service 2.0.0.",
      link: "/reviews/1",
      actor: maintainer,
      teamIds: ["team_orders"],
      recipients: [],
      data: { changeRequest: 1 },
      ...overrides,
    };
  }

  /** Empties the outbox between cases, so each counts only its own deliveries. */
  async function clearOutbox() {
    await db().delete(webhookDelivery);
  }

  /** Disables every webhook so far, so a case counts the deliveries of its own webhooks only. */
  async function quietOthers() {
    await db().update(webhook).set({ active: false });
  }

  let portalWide: string;
  let ordersHook: string;

  it("lets admins create portal-wide webhooks and maintainers their team's; shows the secret once and audits without it", async () => {
    portalWide = await hook(admin, { name: "Everything", url: rx.url("/all"), events: ["*"] });
    ordersHook = await hook(maintainer, { name: "Orders reviews", url: rx.url("/orders"), events: ["review.requested", "review.approved"], teamSlug: "orders", secret: "a-given-secret-of-16+" });
    expect(secrets.get(portalWide)).toMatch(/^whsec_/);
    expect(secrets.get(ordersHook)).toBe("a-given-secret-of-16+");
    const [stored] = await db().select().from(webhook).where(eq(webhook.id, ordersHook));
    expect(stored!.secretCiphertext).not.toContain("a-given-secret");
    const entries = await db().select().from(auditEntry).where(eq(auditEntry.action, "webhook.create"));
    expect(entries).toHaveLength(2);
    for (const entry of entries) {
      expect(JSON.stringify(entry.details)).not.toContain("a-given-secret");
      expect(JSON.stringify(entry.details)).not.toContain(secrets.get(portalWide)!);
    }
    expect(entries.find((e) => e.targetId === ordersHook)!.details).toMatchObject({ team: "orders" });

    expect((await rejection(createWebhook(maintainer, { name: "x", url: rx.url("/x"), events: ["*"] }))).status).toBe(403);
    expect((await rejection(createWebhook(member, { name: "x", url: rx.url("/x"), events: ["*"], teamSlug: "orders" }))).status).toBe(403);
    expect((await rejection(createWebhook(outsider, { name: "x", url: rx.url("/x"), events: ["*"], teamSlug: "orders" }))).status).toBe(403);
    expect((await listWebhooks(maintainer)).map((w) => w.id)).toEqual([ordersHook]);
    expect(await listWebhooks(member)).toEqual([]);
    expect((await listWebhooks(admin)).map((w) => w.id).sort()).toEqual([portalWide, ordersHook].sort());
    expect((await rejection(getWebhook(maintainer, portalWide))).status).toBe(403);
    expect((await listWebhooks(admin)).every((w) => !("secretCiphertext" in w))).toBe(true);
  });

  it("refuses bad webhook input with field errors and stores nothing", async () => {
    const [before] = await db().select({ n: count() }).from(webhook);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: "x", url: "ftp://example.com/hook", events: ["*"] }, "url"],
      [{ name: "x", url: "https://user:pw@example.com/hook", events: ["*"] }, "url"],
      [{ name: "x", url: `https://example.com/${"a".repeat(2000)}`, events: ["*"] }, "url"],
      [{ name: "x", url: "https://example.com/hook", events: ["review.exploded"] }, "events"],
      [{ name: "x", url: "https://example.com/hook", events: [] }, "events"],
      [{ name: "x".repeat(101), url: "https://example.com/hook", events: ["*"] }, "name"],
      [{ name: "x", url: "https://example.com/hook", events: ["*"], secret: "too-short" }, "secret"],
    ];
    for (const [input, field] of cases) {
      const error = await rejection(createWebhook(admin, input));
      expect(error.status).toBe(422);
      expect((error.details as { fieldErrors: Record<string, string[]> }).fieldErrors[field]).toBeDefined();
    }
    expect(await db().select({ n: count() }).from(webhook)).toEqual([before]);
  });

  it("writes inbox entries (not the actor's) and one outbox row per subscribed active webhook, in the caller's transaction", async () => {
    await clearOutbox();
    const disabled = await hook(admin, { name: "Off", url: rx.url("/off"), events: ["*"], active: false });
    const plantHook = await hook(admin, { name: "Plant", url: rx.url("/plant"), events: ["*"], teamSlug: "plant" });
    const recipients = await teamMemberIds(db(), ["team_orders"]);
    expect(recipients.sort()).toEqual([maintainer.id, member.id].sort());
    const { eventId } = await db().transaction((tx) => emitEvent(tx, event({ recipients: [...recipients, "usr_gone"] })));
    const rows = await db().select().from(webhookDelivery).where(eq(webhookDelivery.eventId, eventId));
    expect(rows.map((r) => r.webhookId).sort()).toEqual([portalWide, ordersHook].sort());
    expect(rows.map((r) => r.webhookId)).not.toContain(disabled);
    expect(rows.map((r) => r.webhookId)).not.toContain(plantHook);
    const inbox = await db().select().from(notification).where(eq(notification.kind, "review.requested"));
    expect(inbox.map((n) => n.userId)).toEqual([member.id]);
    // A type the team's webhook does not subscribe to reaches the portal-wide one only.
    const other = await db().transaction((tx) => emitEvent(tx, event({ type: "review.commented" })));
    expect((await db().select().from(webhookDelivery).where(eq(webhookDelivery.eventId, other.eventId))).map((r) => r.webhookId)).toEqual([portalWide]);
    await db().delete(webhook).where(eq(webhook.id, plantHook));
    await db().delete(webhook).where(eq(webhook.id, disabled));
  });

  it("emits nothing for a transaction that rolls back", async () => {
    await clearOutbox();
    const [inboxBefore] = await db().select({ n: count() }).from(notification);
    await expect(
      db().transaction(async (tx) => {
        await emitEvent(tx, event({ recipients: [member.id, outsider.id] }));
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    expect(await db().select({ n: count() }).from(webhookDelivery)).toEqual([{ n: 0 }]);
    expect(await db().select({ n: count() }).from(notification)).toEqual([inboxBefore]);
    const sent = rx.received.length;
    expect((await deliverDue(db())).attempted).toBe(0);
    expect(rx.received.length).toBe(sent);
  });

  it("sends signed bodies that verify, with the event's headers and fields", async () => {
    await clearOutbox();
    const start = rx.received.length;
    const { eventId } = await db().transaction((tx) => emitEvent(tx, event()));
    const counts = await deliverDue(db());
    expect(counts).toMatchObject({ attempted: 2, delivered: 2, retrying: 0, failed: 0 });
    const got = rx.received.slice(start);
    expect(got.map((r) => r.path).sort()).toEqual(["/all", "/orders"]);
    for (const request of got) {
      const secret = secrets.get(request.path === "/all" ? portalWide : ordersHook)!;
      const ts = String(request.headers["x-meshport-timestamp"]);
      const signature = String(request.headers["x-meshport-signature"]);
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["x-meshport-event"]).toBe("review.requested");
      expect(request.headers["x-meshport-delivery"]).toBe(eventId);
      expect(verifySignature(secret, ts, request.body, signature, { toleranceSeconds: 300 })).toBe(true);
      expect(verifySignature("another-secret-entirely", ts, request.body, signature, { toleranceSeconds: 300 })).toBe(false);
      expect(verifySignature(secret, ts, request.body.replace("Mia", "Eve"), signature, { toleranceSeconds: 300 })).toBe(false);
      const body = JSON.parse(request.body) as Record<string, unknown>;
      expect(body).toMatchObject({
        id: eventId,
        type: "review.requested",
        summary: "Mia asks Orders to review orders-service 2.0.0.",
        link: "/reviews/1",
        actor: { kind: "user", id: maintainer.id, label: "maint@example.com" },
        data: { changeRequest: 1 },
      });
      expect(Number.isNaN(Date.parse(String(body.occurredAt)))).toBe(false);
    }
    const rows = await db().select().from(webhookDelivery).where(eq(webhookDelivery.eventId, eventId));
    expect(rows.every((r) => r.state === "delivered" && r.attempts === 1 && r.lastStatus === 200 && r.leasedUntil === null)).toBe(true);
  });

  it("keeps the order per webhook while a failing receiver retries, then recovers", async () => {
    await clearOutbox();
    const ordered = await hook(admin, { name: "Ordered", url: rx.url("/ordered"), events: ["version.deprecated"] });
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) {
      ids.push((await db().transaction((tx) => emitEvent(tx, event({ type: "version.deprecated", summary: `Version ${n} deprecated.`, teamIds: [] })))).eventId);
    }
    let failuresLeft = 2;
    rx.answerWith((r) => (r.path === "/ordered" && failuresLeft-- > 0 ? 500 : 200));
    let clock = Date.now();
    const options = { now: () => new Date(clock), backoffMs: 60_000, backoffCapMs: 60_000, maxAttempts: 10 };
    // The first event fails: the later ones wait behind it (not sent), though other webhooks are served.
    const first = await deliverDue(db(), options);
    expect(first.retrying).toBeGreaterThanOrEqual(1);
    expect(rx.eventsAt("/ordered")).toEqual([ids[0]]);
    expect((await deliverDue(db(), options)).attempted).toBe(0);
    expect(rx.eventsAt("/ordered")).toEqual([ids[0]]);
    for (let pass = 0; pass < 6; pass++) {
      clock += 61_000;
      await deliverDue(db(), options);
    }
    expect(rx.eventsAt("/ordered")).toEqual([ids[0], ids[0], ids[0], ids[1], ids[2]]);
    const rows = await db().select().from(webhookDelivery).where(eq(webhookDelivery.webhookId, ordered)).orderBy(asc(webhookDelivery.id));
    expect(rows.map((r) => [r.state, r.attempts])).toEqual([
      ["delivered", 3],
      ["delivered", 1],
      ["delivered", 1],
    ]);
    const attempts = await db().select().from(webhookAttempt).where(eq(webhookAttempt.deliveryId, rows[0]!.id)).orderBy(asc(webhookAttempt.id));
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(attempts[0]!.error).toContain("HTTP 500");
    await deleteWebhook(admin, ordered);
  });

  it("stops retrying at the cap, logs every attempt, and lets a failed delivery be sent again", async () => {
    await clearOutbox();
    await quietOthers();
    const flaky = await hook(admin, { name: "Down", url: rx.url("/down"), events: ["version.retired"] });
    rx.answerWith((r) => (r.path === "/down" ? 503 : 200));
    await db().transaction((tx) => emitEvent(tx, event({ type: "version.retired", teamIds: [] })));
    const counts = await deliverDue(db(), { maxAttempts: 3, backoffMs: 0, backoffCapMs: 0 });
    expect(counts).toMatchObject({ retrying: 2, failed: 1 });
    const [failed] = await db().select().from(webhookDelivery).where(eq(webhookDelivery.webhookId, flaky));
    expect(failed).toMatchObject({ state: "failed", attempts: 3, lastStatus: 503 });
    const attempts = await db().select().from(webhookAttempt).where(eq(webhookAttempt.deliveryId, failed!.id));
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 503]);
    expect(attempts.map((a) => a.error)).toEqual(Array(3).fill("HTTP 503: down for maintenance"));
    expect((await deliverDue(db(), { maxAttempts: 3, backoffMs: 0 })).attempted).toBe(0);

    // A later event is not held back by one given up on.
    await db().transaction((tx) => emitEvent(tx, event({ type: "version.retired", teamIds: [] })));
    rx.answerWith(() => 200);
    expect((await deliverDue(db(), { maxAttempts: 3, backoffMs: 0 })).delivered).toBe(1);

    const page = await listDeliveries(admin, flaky, {});
    expect(page.deliveries.map((d) => d.state)).toEqual(["delivered", "failed"]);
    expect(page.deliveries[1]!.attemptLog).toHaveLength(3);
    expect((await rejection(retryDelivery(admin, flaky, page.deliveries[0]!.id))).status).toBe(409);
    await retryDelivery(admin, flaky, page.deliveries[1]!.id);
    expect((await deliverDue(db(), { maxAttempts: 3, backoffMs: 0 })).delivered).toBe(1);
    const [retried] = await db().select().from(webhookDelivery).where(eq(webhookDelivery.id, failed!.id));
    expect(retried).toMatchObject({ state: "delivered" });
    expect(await db().select({ n: count() }).from(webhookAttempt).where(eq(webhookAttempt.deliveryId, failed!.id))).toEqual([{ n: 4 }]);
    await deleteWebhook(admin, flaky);
  });

  it("ends an attempt at the timeout and follows no redirect", async () => {
    await clearOutbox();
    await quietOthers();
    const slow = await hook(admin, { name: "Slow", url: rx.url("/slow"), events: ["review.withdrawn"] });
    const moved = await hook(admin, { name: "Moved", url: rx.url("/moved"), events: ["review.withdrawn"] });
    rx.answerWith((r) => (r.path === "/moved" ? 302 : 200));
    await db().transaction((tx) => emitEvent(tx, event({ type: "review.withdrawn", teamIds: [] })));
    const counts = await deliverDue(db(), { maxAttempts: 1, timeoutMs: 300 });
    expect(counts.failed).toBe(2);
    const rows = await db().select().from(webhookDelivery);
    expect(rows.find((r) => r.webhookId === slow)).toMatchObject({ state: "failed", lastStatus: null, lastError: "timed out after 300 ms" });
    expect(rows.find((r) => r.webhookId === moved)).toMatchObject({ state: "failed", lastStatus: 302, lastError: "HTTP 302: redirects are not followed" });
    expect(rx.received.filter((r) => r.path === "/moved")).toHaveLength(1);
    await deleteWebhook(admin, slow);
    await deleteWebhook(admin, moved);
  });

  it("ends an attempt whose host name never resolves within the timeout, and logs it", async () => {
    await clearOutbox();
    await quietOthers();
    const unanswered = await hook(admin, { name: "Unanswered", url: "http://hooks.example.test/never", events: ["version.retired"] });
    await db().transaction((tx) => emitEvent(tx, event({ type: "version.retired", teamIds: [] })));
    let lookups = 0;
    const silent = () => {
      lookups++;
      return new Promise<never>(() => {});
    };
    const counts = await deliverDue(db(), { maxAttempts: 1, timeoutMs: 300, resolve: silent });
    expect(counts).toMatchObject({ attempted: 1, failed: 1 });
    expect(lookups).toBe(1);
    const [row] = await db().select().from(webhookDelivery).where(eq(webhookDelivery.webhookId, unanswered));
    expect(row).toMatchObject({ state: "failed", lastStatus: null, lastError: "name resolution timed out", leasedUntil: null });
    const attempts = await db().select().from(webhookAttempt).where(eq(webhookAttempt.deliveryId, row!.id));
    expect(attempts.map((a) => a.error)).toEqual(["name resolution timed out"]);
    await deleteWebhook(admin, unanswered);
  });

  it("finishes a pass without error when a webhook is deleted while its receiver is still answering", async () => {
    await clearOutbox();
    await quietOthers();
    const doomed = await hook(admin, { name: "Doomed", url: rx.url("/hold"), events: ["review.commented"] });
    const other = await hook(admin, { name: "Bystander", url: rx.url("/bystander"), events: ["review.commented"] });
    const ids: string[] = [];
    for (let n = 0; n < 2; n++) ids.push((await db().transaction((tx) => emitEvent(tx, event({ type: "review.commented", teamIds: [] })))).eventId);
    const pass = deliverDue(db());
    await rx.held();
    await deleteWebhook(admin, doomed);
    rx.releaseHeld();
    // The deleted webhook's attempt is not logged (its delivery is gone) and its next delivery is not sent.
    expect(await pass).toMatchObject({ attempted: 2, delivered: 2, retrying: 0, failed: 0 });
    expect(rx.eventsAt("/hold")).toEqual([ids[0]]);
    expect(rx.eventsAt("/bystander")).toEqual(ids);
    expect(await db().select({ n: count() }).from(webhookDelivery).where(eq(webhookDelivery.webhookId, doomed))).toEqual([{ n: 0 }]);
    const rows = await db().select().from(webhookDelivery).where(eq(webhookDelivery.webhookId, other));
    expect(rows.map((r) => r.state)).toEqual(["delivered", "delivered"]);
    expect(await db().select({ n: count() }).from(webhookAttempt).where(inArray(webhookAttempt.deliveryId, rows.map((r) => r.id)))).toEqual([{ n: 2 }]);
    await deleteWebhook(admin, other);
  });

  it("refuses private destinations unless they are allowed, logging the refusal", async () => {
    await clearOutbox();
    await quietOthers();
    const local = await hook(admin, { name: "Local", url: rx.url("/local"), events: ["version.retired"] });
    await db().transaction((tx) => emitEvent(tx, event({ type: "version.retired", teamIds: [] })));
    const sent = rx.eventsAt("/local").length;
    const counts = await deliverDue(db(), { allowPrivateNetworks: false, maxAttempts: 1 });
    expect(counts.failed).toBe(1);
    expect(rx.eventsAt("/local").length).toBe(sent);
    const [row] = await db().select().from(webhookDelivery).where(eq(webhookDelivery.webhookId, local));
    expect(row!.lastError).toContain("private or loopback");
    await deleteWebhook(admin, local);
  });

  it("sends each delivery once when two senders run at once (leases)", async () => {
    await clearOutbox();
    await quietOthers();
    const hooks: string[] = [];
    for (let n = 0; n < 4; n++) hooks.push(await hook(admin, { name: `Lane ${n}`, url: rx.url(`/lane${n}`), events: ["review.published"] }));
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push((await db().transaction((tx) => emitEvent(tx, event({ type: "review.published", teamIds: [] })))).eventId);
    const start = rx.received.length;
    const options = { concurrency: 3 };
    const [a, b] = await Promise.all([deliverDue(db(), options), deliverDue(db(), options)]);
    const rest = await deliverDue(db(), options);
    expect(a.delivered + b.delivered + rest.delivered).toBe(20);
    const got = rx.received.slice(start).map((r) => `${r.path} ${(JSON.parse(r.body) as { id: string }).id}`);
    expect(got).toHaveLength(20);
    expect(new Set(got).size).toBe(20);
    for (let n = 0; n < 4; n++) expect(rx.eventsAt(`/lane${n}`)).toEqual(ids);
    for (const id of hooks) await deleteWebhook(admin, id);
  });

  it("leaves a leased delivery to its sender, and takes it over once the lease has run out", async () => {
    await clearOutbox();
    await quietOthers();
    const held = await hook(admin, { name: "Held", url: rx.url("/held"), events: ["review.rejected"] });
    const { eventId } = await db().transaction((tx) => emitEvent(tx, event({ type: "review.rejected", teamIds: [] })));
    const inAnHour = new Date(Date.now() + 3_600_000);
    await db().update(webhookDelivery).set({ leasedUntil: inAnHour }).where(eq(webhookDelivery.eventId, eventId));
    expect((await deliverDue(db())).attempted).toBe(0);
    expect(rx.eventsAt("/held")).toEqual([]);
    expect((await deliverDue(db(), { now: () => new Date(inAnHour.getTime() + 1_000) })).delivered).toBe(1);
    expect(rx.eventsAt("/held")).toEqual([eventId]);

    // A lease too short to outlast an attempt starts none, and gives the lane back.
    const next = await db().transaction((tx) => emitEvent(tx, event({ type: "review.rejected", teamIds: [] })));
    expect((await deliverDue(db(), { leaseMs: 1_000, timeoutMs: 300 })).attempted).toBe(0);
    const [waiting] = await db().select().from(webhookDelivery).where(eq(webhookDelivery.eventId, next.eventId));
    expect(waiting).toMatchObject({ state: "pending", leasedUntil: null, attempts: 0 });
    expect((await deliverDue(db())).delivered).toBe(1);
    await deleteWebhook(admin, held);
  });

  it("updates, tests and deletes a webhook, auditing each with before and after", async () => {
    await clearOutbox();
    await db().update(webhook).set({ active: true }).where(eq(webhook.id, ordersHook));
    const updated = await updateWebhook(maintainer, ordersHook, { name: "Orders", events: ["*"], active: false });
    expect(updated).toMatchObject({ name: "Orders", events: ["*"], active: false, teamSlug: "orders" });
    const [entry] = await db().select().from(auditEntry).where(and(eq(auditEntry.action, "webhook.update"), eq(auditEntry.targetId, ordersHook)));
    expect(entry!.details).toMatchObject({ before: { name: "Orders reviews", active: true }, after: { name: "Orders", active: false, events: ["*"] } });
    expect((await rejection(sendTestEvent(maintainer, ordersHook, undefined))).status).toBe(409);
    expect((await rejection(updateWebhook(member, ordersHook, { active: true }))).status).toBe(403);
    await updateWebhook(maintainer, ordersHook, { active: true, secret: "a-rotated-secret-value" });
    const { eventId } = await sendTestEvent(maintainer, ordersHook, undefined);
    const rows = await db().select().from(webhookDelivery).where(eq(webhookDelivery.eventId, eventId));
    expect(rows.map((r) => r.webhookId)).toEqual([ordersHook]);
    const start = rx.received.length;
    await deliverDue(db());
    const got = rx.received.slice(start);
    expect(got).toHaveLength(1);
    expect(got[0]!.headers["x-meshport-event"]).toBe("webhook.test");
    expect(verifySignature("a-rotated-secret-value", String(got[0]!.headers["x-meshport-timestamp"]), got[0]!.body, String(got[0]!.headers["x-meshport-signature"]), { toleranceSeconds: 60 })).toBe(true);
    expect(await db().select({ n: count() }).from(auditEntry).where(eq(auditEntry.action, "webhook.test"))).toEqual([{ n: 1 }]);
    expect((await rejection(deleteWebhook(outsider, ordersHook))).status).toBe(403);
    await deleteWebhook(maintainer, ordersHook);
    expect(await db().select({ n: count() }).from(webhook).where(eq(webhook.id, ordersHook))).toEqual([{ n: 0 }]);
    expect(await db().select({ n: count() }).from(auditEntry).where(eq(auditEntry.action, "webhook.delete"))).not.toEqual([{ n: 0 }]);
  });

  it("lists, counts and marks read only the signed-in person's inbox", async () => {
    await db().delete(notification);
    await db().transaction((tx) => emitEvent(tx, event({ recipients: [member.id, outsider.id] })));
    await db().transaction((tx) => emitEvent(tx, event({ type: "review.approved", recipients: [member.id] })));
    await db().transaction((tx) => emitEvent(tx, event({ type: "review.published", recipients: [member.id] })));
    expect(await unreadCount(member)).toBe(3);
    expect(await unreadCount(outsider)).toBe(1);
    const first = await listNotifications(member, { limit: 2 });
    expect(first.items.map((n) => n.kind)).toEqual(["review.published", "review.approved"]);
    expect(first.nextBefore).not.toBeNull();
    const second = await listNotifications(member, { limit: 2, before: first.nextBefore });
    expect(second.items.map((n) => n.kind)).toEqual(["review.requested"]);
    expect(second.nextBefore).toBeNull();
    const outsiders = await listNotifications(outsider);
    // Someone else's entry id changes nothing for its owner.
    expect(await markRead(member, { ids: [outsiders.items[0]!.id] })).toEqual({ updated: 0 });
    expect(await unreadCount(outsider)).toBe(1);
    expect(await markRead(member, { ids: [first.items[0]!.id] })).toEqual({ updated: 1 });
    expect((await listNotifications(member, { unread: true })).items).toHaveLength(2);
    expect(await markRead(member, { all: true })).toEqual({ updated: 2 });
    expect(await unreadCount(member)).toBe(0);
    expect((await rejection(markRead(member, { ids: [] }))).status).toBe(422);
    const token: Principal = { kind: "token", id: "tok_x", name: "ci", scopes: ["read"], teamId: null, createdBy: member.id };
    expect((await rejection(unreadCount(token))).status).toBe(403);
    expect(await db().select({ n: count() }).from(auditEntry).where(eq(auditEntry.targetType, "notification"))).toEqual([{ n: 0 }]);
    void backend;
  });
});
