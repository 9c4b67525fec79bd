import "server-only";
import http from "node:http";
import https from "node:https";
import { and, asc, eq, isNull, lt, lte, or, sql } from "drizzle-orm";
import { getDb, type Database } from "@/db/client.ts";
import { webhook, webhookAttempt, webhookDelivery } from "@/db/schema.ts";
import { resolveDestination, type Destination } from "./address.ts";
import { backoffDelay, senderSettings, type SenderSettings } from "./policy.ts";
import { decryptWebhookSecret } from "./secret.ts";
import { signatureHeader } from "./signature.ts";

export { verifySignature, type VerifyOptions } from "./signature.ts";

/**
 * The webhook sender: delivers the outbox (`webhook_delivery`) that `emitEvent` fills.
 *
 * - Several portal instances may run it at once. A sender claims rows in a short transaction
 *   (`FOR UPDATE SKIP LOCKED`) and leases them (`leased_until`); a crashed sender's rows are taken over
 *   once the lease runs out. Delivery is therefore at least once: receivers dedupe on X-Meshport-Delivery.
 * - In order per webhook: only the oldest pending delivery of a webhook may be claimed, so a webhook's later
 *   events wait while an earlier one is retrying (a failed one, given up, no longer holds them back).
 * - Each attempt is logged in `webhook_attempt`; the HTTP request runs outside any transaction.
 */

/** What one pass may be told; every setting defaults to the environment's. */
export interface DeliverOptions extends Partial<Omit<SenderSettings, "pollMs">> {
  /** Most attempts in this pass (default 500). */
  limit?: number;
  /** Webhooks served at once, one delivery each (default 16). */
  concurrency?: number;
  /** How long a claimed row stays this sender's (default: the timeout plus a minute). */
  leaseMs?: number;
  /** The clock (tests move it past a backoff). */
  now?: () => Date;
  /** Jitter source for the backoff. */
  random?: () => number;
  /** Host resolution (tests). */
  resolve?: (host: string) => Promise<Array<{ address: string; family: number }>>;
}

/** What one pass did. */
export interface DeliverCounts {
  attempted: number;
  delivered: number;
  /** Failed attempts that will be tried again. */
  retrying: number;
  /** Deliveries given up after their last attempt. */
  failed: number;
}

interface Claimed {
  id: number;
  eventId: string;
  eventType: string;
  payload: Record<string, unknown>;
  attempts: number;
  webhookId: string;
  url: string;
  secretCiphertext: string;
  lease: Date;
}

interface AttemptResult {
  status: number | null;
  error: string | null;
  durationMs: number;
}

const EXCERPT_BYTES = 300;
const MAX_ERROR = 500;

function clip(text: string, max = MAX_ERROR): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Claims the oldest pending, due, unleased delivery of up to `count` webhooks and leases them to this sender. */
async function claim(db: Database, count: number, now: Date, leaseMs: number): Promise<Claimed[]> {
  // Each claim leases until a distinct instant: the completion below only writes while it still holds that lease.
  const lease = new Date(now.getTime() + leaseMs + Math.floor(Math.random() * 1000));
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({
        id: webhookDelivery.id,
        eventId: webhookDelivery.eventId,
        eventType: webhookDelivery.eventType,
        payload: webhookDelivery.payload,
        attempts: webhookDelivery.attempts,
        webhookId: webhook.id,
        url: webhook.url,
        secretCiphertext: webhook.secretCiphertext,
      })
      .from(webhookDelivery)
      .innerJoin(webhook, eq(webhook.id, webhookDelivery.webhookId))
      .where(
        and(
          eq(webhookDelivery.state, "pending"),
          eq(webhook.active, true),
          lte(webhookDelivery.nextAttemptAt, now),
          or(isNull(webhookDelivery.leasedUntil), lt(webhookDelivery.leasedUntil, now)),
          sql`not exists (select 1 from ${webhookDelivery} as earlier where earlier.webhook_id = ${webhookDelivery.webhookId} and earlier.state = 'pending' and earlier.id < ${webhookDelivery.id})`,
        ),
      )
      .orderBy(asc(webhookDelivery.id))
      .limit(count)
      .for("update", { of: webhookDelivery, skipLocked: true });
    for (const row of rows) {
      await tx.update(webhookDelivery).set({ leasedUntil: lease }).where(eq(webhookDelivery.id, row.id));
    }
    return rows.map((row) => ({ ...row, lease }));
  });
}

/** POSTs the body to the pinned address: no redirects followed, bounded in time, only an excerpt of the answer read. */
function post(url: URL, destination: Destination, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; excerpt: string }> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === "https:" ? https : http;
    const request = transport.request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)), "user-agent": "Meshport-Webhook/1" },
        agent: false,
        // The address was checked when it was resolved; connecting to exactly it leaves no second lookup to steer.
        lookup: ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
          if (options.all) callback(null, [{ address: destination.address, family: destination.family }]);
          else callback(null, destination.address, destination.family);
        }) as never,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, excerpt: Buffer.concat(chunks).toString("utf8").slice(0, EXCERPT_BYTES) });
          response.destroy();
        };
        response.on("data", (chunk: Buffer) => {
          if (size < EXCERPT_BYTES) chunks.push(chunk.subarray(0, EXCERPT_BYTES - size));
          size += chunk.length;
          // The rest of a long answer is never read.
          if (size >= EXCERPT_BYTES) finish();
        });
        response.on("end", finish);
        response.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    request.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}

async function attempt(claimed: Claimed, settings: SenderSettings, options: DeliverOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const url = new URL(claimed.url);
    const destination = await resolveDestination(url, settings.allowPrivateNetworks, options.resolve);
    let secret: string;
    try {
      secret = decryptWebhookSecret(claimed.webhookId, claimed.secretCiphertext);
    } catch {
      return { status: null, error: "the signing secret cannot be opened (was the portal secret changed?)", durationMs: elapsed() };
    }
    const body = JSON.stringify(claimed.payload);
    const timestamp = Math.floor(Date.now() / 1000);
    const { status, excerpt } = await post(
      url,
      destination,
      {
        "content-type": "application/json",
        "x-meshport-event": claimed.eventType,
        "x-meshport-delivery": claimed.eventId,
        "x-meshport-timestamp": String(timestamp),
        "x-meshport-signature": signatureHeader(secret, timestamp, body),
      },
      body,
      settings.timeoutMs,
    );
    if (status >= 200 && status < 300) return { status, error: null, durationMs: elapsed() };
    const reason = status >= 300 && status < 400 ? "redirects are not followed" : excerpt.trim();
    return { status, error: clip(`HTTP ${status}${reason ? `: ${reason}` : ""}`), durationMs: elapsed() };
  } catch (error) {
    return { status: null, error: clip(error instanceof Error ? error.message : String(error)), durationMs: elapsed() };
  }
}

/** Logs the attempt and moves the delivery on: delivered, due again after a backoff, or failed at the cap. */
async function complete(db: Database, claimed: Claimed, result: AttemptResult, settings: SenderSettings, options: DeliverOptions): Promise<keyof Omit<DeliverCounts, "attempted">> {
  const now = options.now?.() ?? new Date();
  const attempts = claimed.attempts + 1;
  const ok = result.error === null && result.status !== null;
  const outcome = ok ? "delivered" : attempts >= settings.maxAttempts ? "failed" : "retrying";
  await db.transaction(async (tx) => {
    await tx.insert(webhookAttempt).values({ deliveryId: claimed.id, at: now, status: result.status, error: result.error, durationMs: result.durationMs });
    const base = { attempts, leasedUntil: null, lastStatus: result.status, lastError: result.error };
    const set =
      outcome === "delivered"
        ? { ...base, state: "delivered" as const, deliveredAt: now }
        : outcome === "failed"
          ? { ...base, state: "failed" as const }
          : { ...base, nextAttemptAt: new Date(now.getTime() + backoffDelay(attempts, settings.backoffMs, settings.backoffCapMs, options.random)) };
    // Only while this sender still holds its lease: one that ran out belongs to whoever took the row over.
    await tx
      .update(webhookDelivery)
      .set(set)
      .where(and(eq(webhookDelivery.id, claimed.id), eq(webhookDelivery.leasedUntil, claimed.lease), eq(webhookDelivery.state, "pending")));
  });
  return outcome;
}

/** One pass of the sender: claims what is due, sends it, records every attempt. Tests and the bench drive it directly. */
export async function deliverDue(db: Database, options: DeliverOptions = {}): Promise<DeliverCounts> {
  const settings = { ...senderSettings(), ...definedOnly(options) };
  const limit = options.limit ?? 500;
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const leaseMs = options.leaseMs ?? settings.timeoutMs + 60_000;
  const counts: DeliverCounts = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
  while (counts.attempted < limit) {
    const now = options.now?.() ?? new Date();
    const claimed = await claim(db, Math.min(concurrency, limit - counts.attempted), now, leaseMs);
    if (claimed.length === 0) break;
    const outcomes = await Promise.all(
      claimed.map(async (row) => complete(db, row, await attempt(row, settings, options), settings, options)),
    );
    counts.attempted += claimed.length;
    for (const outcome of outcomes) counts[outcome]++;
  }
  return counts;
}

function definedOnly(options: DeliverOptions): Partial<SenderSettings> {
  const out: Partial<SenderSettings> = {};
  for (const key of ["maxAttempts", "backoffMs", "backoffCapMs", "timeoutMs", "allowPrivateNetworks"] as const) {
    if (options[key] !== undefined) Object.assign(out, { [key]: options[key] });
  }
  return out;
}

interface RunningSender {
  stop(): Promise<void>;
}

const globalForSender = globalThis as typeof globalThis & { __meshportWebhookSender?: RunningSender };

/**
 * Starts the process's webhook sender (once: a second call returns the running one). It polls every
 * MESHPORT_WEBHOOK_POLL_MS (0: not started), and right away again after a full pass. Its timer does not keep the
 * process alive.
 */
export function startWebhookSender({ log = console.log, db }: { log?: (line: string) => void; db?: Database } = {}): RunningSender {
  if (globalForSender.__meshportWebhookSender) return globalForSender.__meshportWebhookSender;
  const settings = senderSettings();
  let stopped = settings.pollMs === 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let failing = false;
  const limit = 500;
  const tick = () => {
    if (stopped) return;
    running = (async () => {
      let delay = settings.pollMs;
      try {
        const counts = await deliverDue(db ?? (await getDb()), { limit });
        if (counts.attempted >= limit) delay = 0;
        failing = false;
      } catch (error) {
        // Logged once per outage (the database is down, say), not once per poll.
        if (!failing) log(`meshport: the webhook sender could not run a pass (${error instanceof Error ? error.message : String(error)}); it keeps trying`);
        failing = true;
      }
      if (!stopped) {
        timer = setTimeout(tick, delay);
        timer.unref();
      }
    })();
  };
  const sender: RunningSender = {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      if (globalForSender.__meshportWebhookSender === sender) globalForSender.__meshportWebhookSender = undefined;
    },
  };
  globalForSender.__meshportWebhookSender = sender;
  if (!stopped) {
    timer = setTimeout(tick, 0);
    timer.unref();
    log(`meshport: webhook sender started (every ${settings.pollMs} ms${settings.allowPrivateNetworks ? ", private networks allowed" : ""})`);
  }
  return sender;
}

/** Stops the process's webhook sender, waiting for a pass under way. */
export async function stopWebhookSender(): Promise<void> {
  await globalForSender.__meshportWebhookSender?.stop();
}
