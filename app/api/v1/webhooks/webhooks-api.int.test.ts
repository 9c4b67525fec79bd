import { count, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { notification, webhookDelivery } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { emitEvent } from "@/lib/notifications/events.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import * as notificationsRoute from "../notifications/route.ts";
import * as readRoute from "../notifications/read/route.ts";
import * as deliveriesRoute from "./[id]/deliveries/route.ts";
import * as webhookRoute from "./[id]/route.ts";
import * as testRoute from "./[id]/test/route.ts";
import * as webhooksRoute from "./route.ts";

process.env.MESHPORT_AUTH_SECRET ??= "a-test-portal-secret-of-at-least-32-characters";

const BASE = "http://localhost:3000";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- route handlers differ only in their params
type Handler = (request: Request, context: { params: Promise<any> }) => Response | Promise<Response>;

function call(handler: Handler, path: string, init: RequestInit & { token?: string; params?: Record<string, string>; json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  const body = init.json === undefined ? init.body : JSON.stringify(init.json);
  if (body && !headers.has("content-type")) headers.set("content-type", "application/json");
  return Promise.resolve(handler(new Request(`${BASE}${path}`, { ...init, body, headers }), { params: Promise.resolve(init.params ?? {}) }));
}

describeEachBackend("webhooks and notifications API", ({ handle }) => {
  let adminToken: string;
  let readToken: string;
  let admin: Principal;

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    adminToken = (await createToken(admin, { name: "admin-ci", scopes: ["admin"] })).secret;
    readToken = (await createToken(admin, { name: "reader", scopes: ["read"] })).secret;
  });

  it("creates, lists, shows, changes, tests and deletes a webhook; the secret only in the create answer", async () => {
    const created = await call(webhooksRoute.POST, "/api/v1/webhooks", {
      method: "POST",
      token: adminToken,
      json: { name: "Bot", url: "https://hooks.example.com/meshport", events: ["review.approved", "review.requested"] },
    });
    expect(created.status).toBe(201);
    const { webhook, secret } = (await created.json()) as { webhook: { id: string; events: string[] }; secret: string };
    expect(secret.length).toBeGreaterThanOrEqual(16);
    expect(webhook.events).toEqual(["review.approved", "review.requested"]);
    const params = { id: webhook.id };

    const listed = await call(webhooksRoute.GET, "/api/v1/webhooks", { token: adminToken });
    const listText = await listed.text();
    expect(listed.status).toBe(200);
    expect(listText).toContain(webhook.id);
    expect(listText).not.toContain(secret);
    expect(listText).not.toContain("secretCiphertext");
    const shown = await call(webhookRoute.GET, `/api/v1/webhooks/${webhook.id}`, { token: adminToken, params });
    expect(await shown.text()).not.toContain(secret);

    const patched = await call(webhookRoute.PATCH, `/api/v1/webhooks/${webhook.id}`, { method: "PATCH", token: adminToken, params, json: { active: false } });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { webhook: { active: boolean } }).webhook.active).toBe(false);
    const refusedTest = await call(testRoute.POST, `/api/v1/webhooks/${webhook.id}/test`, { method: "POST", token: adminToken, params });
    expect(refusedTest.status).toBe(409);
    await call(webhookRoute.PATCH, `/api/v1/webhooks/${webhook.id}`, { method: "PATCH", token: adminToken, params, json: { active: true } });
    const tested = await call(testRoute.POST, `/api/v1/webhooks/${webhook.id}/test`, { method: "POST", token: adminToken, params });
    expect(tested.status).toBe(202);
    const { eventId } = (await tested.json()) as { eventId: string };
    const deliveries = await call(deliveriesRoute.GET, `/api/v1/webhooks/${webhook.id}/deliveries?limit=5`, { token: adminToken, params });
    expect(deliveries.status).toBe(200);
    expect(await deliveries.json()).toMatchObject({ deliveries: [{ eventId, eventType: "webhook.test", state: "pending", attemptLog: [] }], nextBefore: null });
    const badPage = await call(deliveriesRoute.GET, `/api/v1/webhooks/${webhook.id}/deliveries?limit=5000`, { token: adminToken, params });
    expect(badPage.status).toBe(422);

    const deleted = await call(webhookRoute.DELETE, `/api/v1/webhooks/${webhook.id}`, { method: "DELETE", token: adminToken, params });
    expect(deleted.status).toBe(204);
    expect(await handle().db.select({ n: count() }).from(webhookDelivery).where(eq(webhookDelivery.webhookId, webhook.id))).toEqual([{ n: 0 }]);
    const gone = await call(webhookRoute.GET, `/api/v1/webhooks/${webhook.id}`, { token: adminToken, params });
    expect(gone.status).toBe(404);
  });

  it("refuses bad input with field errors, other callers with 403, other methods with 405", async () => {
    const bad = await call(webhooksRoute.POST, "/api/v1/webhooks", { method: "POST", token: adminToken, json: { name: "x", url: "http://u:p@example.com", events: ["nope"] } });
    expect(bad.status).toBe(422);
    const { error } = (await bad.json()) as { error: { code: string; details: { fieldErrors: Record<string, string[]> } } };
    expect(error.code).toBe("invalid_input");
    expect(Object.keys(error.details.fieldErrors).sort()).toEqual(["events", "url"]);
    const reader = await call(webhooksRoute.POST, "/api/v1/webhooks", { method: "POST", token: readToken, json: { name: "x", url: "https://example.com", events: ["*"] } });
    expect(reader.status).toBe(403);
    expect(((await (await call(webhooksRoute.GET, "/api/v1/webhooks", { token: readToken })).json()) as { webhooks: unknown[] }).webhooks).toEqual([]);
    const put = await call(webhooksRoute.PUT as Handler, "/api/v1/webhooks", { method: "PUT", token: adminToken });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toContain("POST");
    const nobody = await call(webhooksRoute.GET, "/api/v1/webhooks");
    expect(nobody.status).toBe(401);
  });

  it("serves the inbox to people, not to tokens", async () => {
    await handle().db.transaction((tx) =>
      emitEvent(tx, { type: "review.approved", summary: "Approved.", link: "/reviews/1", actor: systemPrincipal("test"), teamIds: [], recipients: [admin.id], data: {} }),
    );
    expect(await handle().db.select({ n: count() }).from(notification)).toEqual([{ n: 1 }]);
    const listed = await call(notificationsRoute.GET, "/api/v1/notifications", { token: adminToken });
    expect(listed.status).toBe(403);
    const read = await call(readRoute.POST, "/api/v1/notifications/read", { method: "POST", token: adminToken, json: { all: true } });
    expect(read.status).toBe(403);
    const get = await call(readRoute.GET as Handler, "/api/v1/notifications/read", { token: adminToken });
    expect(get.status).toBe(405);
  });
});
