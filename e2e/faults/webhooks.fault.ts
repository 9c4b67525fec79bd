/**
 * Webhook deliveries survive the portal: events acknowledged while the receiver is down, and while the portal
 * is SIGKILLed and started again, all reach the receiver, signed, each event's first arrival in the order the
 * events happened. Delivery is at least once: a receiver tells repeats by `X-Meshport-Delivery`.
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  api,
  bootstrapAccounts,
  createApplication,
  createPortal,
  describeEachBackend,
  eventually,
  freePort,
  freshBackend,
  logsOnFailure,
  removeBackend,
  stopAllPortals,
  stopPostgresServer,
  type Backend,
  type Portal,
} from "./harness.ts";

const APP = "hooked-orders";
const EVENTS = 12;

const CONTRACT = [
  "asyncapi: 3.0.0",
  "info: { title: Hooked orders, version: 1.0.0 }",
  "channels:",
  "  placed: { address: shop/orders/placed, messages: { placed: { name: placed, payload: { type: object } } } }",
  "operations:",
  "  sendPlaced: { action: send, channel: { $ref: '#/channels/placed' } }",
  "",
].join("\n");

interface Arrival {
  delivery: string;
  type: string;
  occurredAt: string;
  number: number | null;
  signatureValid: boolean;
}

/** A receiver that can be down (not listening), slow, or up, on a fixed port. */
function receiver(port: number, secret: () => string) {
  const arrivals: Arrival[] = [];
  let delayMs = 0;
  let server: http.Server | null = null;
  return {
    arrivals,
    slow(ms: number) {
      delayMs = ms;
    },
    async up() {
      server = http.createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (c: string) => (body += c));
        req.on("end", () => {
          setTimeout(() => {
            const timestamp = String(req.headers["x-meshport-timestamp"]);
            const expected = `sha256=${createHmac("sha256", secret()).update(`${timestamp}.${body}`).digest("hex")}`;
            const event = JSON.parse(body) as { type: string; occurredAt: string; data?: { changeRequest?: { number?: number } } };
            arrivals.push({ delivery: String(req.headers["x-meshport-delivery"]), type: event.type, occurredAt: event.occurredAt, number: event.data?.changeRequest?.number ?? null, signatureValid: req.headers["x-meshport-signature"] === expected });
            res.writeHead(204).end();
          }, delayMs);
        });
      });
      await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    },
    async down() {
      const s = server;
      server = null;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()).closeAllConnections());
    },
  };
}

afterAll(async () => {
  await stopAllPortals();
  await stopPostgresServer();
});

describeEachBackend("webhook deliveries across a receiver outage and portal crashes", (kind) => {
  let backend: Backend | null;
  let portal: Portal;
  let adminToken: string;
  let secret = "";
  let hook: ReturnType<typeof receiver>;

  beforeAll(async () => {
    backend = await freshBackend(kind);
    if (!backend) return;
    ({ adminToken } = bootstrapAccounts(backend));
    portal = await createPortal(backend, {
      MESHPORT_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      MESHPORT_WEBHOOK_POLL_MS: "100",
      MESHPORT_WEBHOOK_BACKOFF_MS: "200",
      MESHPORT_WEBHOOK_BACKOFF_CAP_MS: "1000",
      MESHPORT_WEBHOOK_MAX_ATTEMPTS: "100",
      MESHPORT_WEBHOOK_TIMEOUT_MS: "5000",
    });
    await portal.start();
    await createApplication(portal.url, adminToken, APP);
    const port = await freePort();
    hook = receiver(port, () => secret);
    const created = await api<{ secret: string }>(portal.url, "POST", "/api/v1/webhooks", adminToken, { name: "fault receiver", url: `http://127.0.0.1:${port}/hook`, events: ["review.requested"] });
    secret = created.secret;
  });

  afterAll(async () => {
    await hook?.down();
    await portal?.stop();
    if (backend) removeBackend(backend);
  });

  it("delivers every acknowledged event, signed and in order, after the receiver comes back and the portal restarts", async ({ skip }) => {
    if (!backend) return skip("PostgreSQL is not installed");
    logsOnFailure();
    const opened: number[] = [];
    const open = async (i: number) => {
      const answer = await api<{ changeRequest: { number: number } }>(portal.url, "POST", `/api/v1/applications/${APP}/change-requests`, adminToken, { files: { "asyncapi.yaml": CONTRACT }, title: `Request ${i}` }, [201]);
      opened.push(answer.changeRequest.number);
    };
    // The receiver is down: the first half of the events wait in the outbox, attempts failing.
    for (let i = 0; i < EVENTS / 2; i++) await open(i);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await portal.kill();
    await portal.start();
    // Up but slow: the portal is killed while it waits for answers.
    hook.slow(1500);
    await hook.up();
    for (let i = EVENTS / 2; i < EVENTS; i++) await open(i);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await portal.kill();
    hook.slow(0);
    await portal.start();

    await eventually("every event delivered", async () => (new Set(hook.arrivals.map((a) => a.delivery)).size >= EVENTS ? true : undefined), 90_000);
    const first = new Map<string, Arrival>();
    for (const a of hook.arrivals) if (!first.has(a.delivery)) first.set(a.delivery, a);
    const inOrder = [...first.values()];
    expect(inOrder.map((a) => a.number)).toEqual(opened);
    expect(inOrder.every((a) => a.type === "review.requested")).toBe(true);
    expect(hook.arrivals.every((a) => a.signatureValid)).toBe(true);
    // Nothing is delivered twice once answered.
    const deliveries = await api<{ deliveries: Array<{ state: string; attempts: number }> }>(portal.url, "GET", `/api/v1/webhooks/${await webhookId(portal, adminToken)}/deliveries`, adminToken);
    expect(deliveries.deliveries.filter((d) => d.state === "delivered").length).toBe(EVENTS);
    expect(deliveries.deliveries.some((d) => d.attempts > 1)).toBe(true);
  });
});

async function webhookId(portal: Portal, token: string): Promise<string> {
  const list = await api<{ webhooks: Array<{ id: string; name: string }> }>(portal.url, "GET", "/api/v1/webhooks", token);
  return list.webhooks.find((w) => w.name === "fault receiver")!.id;
}
