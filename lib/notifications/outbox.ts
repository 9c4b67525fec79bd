import "server-only";
import http from "node:http";
import https from "node:https";
import { and, eq, inArray, sql } from "drizzle-orm";
import { getDb, type Database } from "@/db/client.ts";
import { webhook, webhookAttempt, webhookDelivery } from "@/db/schema.ts";
import { resolveDestination, type Destination, type Resolver } from "./address.ts";
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
  /** Webhooks served at once (default 16). */
  concurrency?: number;
  /** Deliveries of one webhook claimed together and sent one after the other (default 10). */
  perWebhook?: number;
  /** How long a claimed lane stays this sender's (default: twice the timeout plus 15 s); a crashed sender's lane is taken over after it. */
  leaseMs?: number;
  /** The clock (tests move it past a backoff). */
  now?: () => Date;
  /** Jitter source for the backoff. */
  random?: () => number;
  /** Host resolution (tests); it counts inside the attempt's timeout. */
  resolve?: Resolver;
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
/** Time an attempt's outcome may take to be written after its timeout. */
const LEASE_MARGIN_MS = 5_000;
const MAX_ERROR = 500;

function clip(text: string, max = MAX_ERROR): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

interface Lane {
  webhookId: string;
  url: string;
  secretCiphertext: string;
  rows: Claimed[];
}

type Row = Record<string, unknown>;

/** Rows of a raw statement, whichever driver ran it. */
function rowsOf(result: unknown): Row[] {
  return ((result as { rows?: Row[] }).rows ?? []) as Row[];
}

function isoParam(date: Date) {
  return sql`${date.toISOString()}::timestamptz`;
}

/**
 * Claims up to `lanes` webhooks whose oldest pending delivery is due and not leased, and for each the run of its
 * oldest pending deliveries (at most `perLane`) that are due, leased to this sender. A webhook's row is locked
 * (`FOR NO KEY UPDATE SKIP LOCKED`, which outbox inserts do not wait for) while its lane is claimed, so two senders
 * never claim from one webhook at once; the lease then keeps the lane this sender's until it is done.
 */
async function claim(db: Database, lanes: number, perLane: number, now: Date, leaseMs: number): Promise<Lane[]> {
  // Each claim leases until a distinct instant: a completion only writes while it still holds that lease.
  const lease = new Date(now.getTime() + leaseMs + Math.floor(Math.random() * 1000));
  return db.transaction(async (tx) => {
    const hooks = rowsOf(
      await tx.execute(sql`
        select w.id, w.url, w.secret_ciphertext
        from ${webhook} w
        join (
          select distinct on (webhook_id) webhook_id, id, next_attempt_at, leased_until
          from ${webhookDelivery} where state = 'pending' order by webhook_id, id
        ) head on head.webhook_id = w.id
        where w.active and head.next_attempt_at <= ${isoParam(now)}
          and (head.leased_until is null or head.leased_until < ${isoParam(now)})
        order by head.id
        limit ${lanes}
        for no key update of w skip locked`),
    );
    if (hooks.length === 0) return [];
    const rows = rowsOf(
      await tx.execute(sql`
        select id, webhook_id, event_id, event_type, payload, attempts,
          (next_attempt_at <= ${isoParam(now)} and (leased_until is null or leased_until < ${isoParam(now)})) as claimable
        from (
          select d.*, row_number() over (partition by d.webhook_id order by d.id) as pos
          from ${webhookDelivery} d
          where d.state = 'pending' and d.webhook_id in (${sql.join(hooks.map((h) => sql`${String(h.id)}`), sql`, `)})
        ) lane
        where pos <= ${perLane}
        order by webhook_id, id`),
    );
    const result: Lane[] = [];
    for (const hook of hooks) {
      const lane: Lane = { webhookId: String(hook.id), url: String(hook.url), secretCiphertext: String(hook.secret_ciphertext), rows: [] };
      // Only the unbroken run from the oldest: a delivery waits behind any earlier one that is not due or is held.
      for (const row of rows.filter((r) => String(r.webhook_id) === lane.webhookId)) {
        if (row.claimable !== true) break;
        lane.rows.push({
          id: Number(row.id),
          eventId: String(row.event_id),
          eventType: String(row.event_type),
          payload: (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>,
          attempts: Number(row.attempts),
          webhookId: lane.webhookId,
          url: lane.url,
          secretCiphertext: lane.secretCiphertext,
          lease,
        });
      }
      if (lane.rows.length > 0) result.push(lane);
    }
    const ids = result.flatMap((l) => l.rows.map((r) => r.id));
    if (ids.length > 0) await tx.update(webhookDelivery).set({ leasedUntil: lease }).where(inArray(webhookDelivery.id, ids));
    return result;
  });
}

/** Gives back the rest of a lane after a failed attempt: the lane stops there, in order. */
async function release(db: Database, rows: Claimed[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .update(webhookDelivery)
    .set({ leasedUntil: null })
    .where(and(inArray(webhookDelivery.id, rows.map((r) => r.id)), eq(webhookDelivery.leasedUntil, rows[0]!.lease)));
}

/** POSTs the body to the pinned address: no redirects followed, bounded in time, only an excerpt of the answer read. */
function post(url: URL, destination: Destination, headers: Record<string, string>, body: string, remainingMs: number, timeoutMs: number): Promise<{ status: number; excerpt: string }> {
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
    const timer = setTimeout(() => request.destroy(new Error(`timed out after ${timeoutMs} ms`)), Math.max(0, remainingMs));
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
  // One budget for the whole attempt, name resolution included, so the lease check before it holds.
  const remaining = () => settings.timeoutMs - (performance.now() - started);
  try {
    const url = new URL(claimed.url);
    const destination = await resolveDestination(url, settings.allowPrivateNetworks, options.resolve, settings.timeoutMs);
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
      remaining(),
      settings.timeoutMs,
    );
    if (status >= 200 && status < 300) return { status, error: null, durationMs: elapsed() };
    // The receiver's text is untrusted: control characters (NUL cannot even be stored) become spaces.
    const reason = status >= 300 && status < 400 ? "redirects are not followed" : excerpt.replace(/[\u0000-\u001f\u007f\s]+/g, " ").trim();
    return { status, error: clip(`HTTP ${status}${reason ? `: ${reason}` : ""}`), durationMs: elapsed() };
  } catch (error) {
    return { status: null, error: clip(error instanceof Error ? error.message : String(error)), durationMs: elapsed() };
  }
}

type Outcome = keyof Omit<DeliverCounts, "attempted">;

/**
 * Logs the attempt and moves the delivery on (one statement): delivered, due again after a backoff, or failed at the
 * cap. Null when the delivery is gone (its webhook was deleted during the attempt): nothing is logged then.
 */
async function complete(db: Database, claimed: Claimed, result: AttemptResult, settings: SenderSettings, options: DeliverOptions): Promise<Outcome | null> {
  const now = options.now?.() ?? new Date();
  const attempts = claimed.attempts + 1;
  const ok = result.error === null && result.status !== null;
  const outcome = ok ? "delivered" : attempts >= settings.maxAttempts ? "failed" : "retrying";
  const state = outcome === "retrying" ? "pending" : outcome;
  const next = outcome === "retrying" ? new Date(now.getTime() + backoffDelay(attempts, settings.backoffMs, settings.backoffCapMs, options.random)) : null;
  // The delivery moves only while this sender still holds its lease (one that ran out belongs to whoever took the
  // row over); the attempt is logged either way, since it was made, unless the delivery is gone. The row is locked
  // (key share) while it is logged, so a delete under way either waits for the log or removes the delivery first.
  const stored = rowsOf(
    await db.execute(sql`
    with moved as (
      update ${webhookDelivery}
      set attempts = ${attempts}, leased_until = null, last_status = ${result.status}::integer, last_error = ${result.error}::text,
        state = ${state}, delivered_at = ${ok ? isoParam(now) : sql`null`},
        next_attempt_at = coalesce(${next ? isoParam(next) : sql`null::timestamptz`}, next_attempt_at)
      where id = ${claimed.id} and leased_until = ${isoParam(claimed.lease)} and state = 'pending'
      returning id
    ), logged as (
      insert into ${webhookAttempt} (delivery_id, at, status, error, duration_ms)
      select ${claimed.id}, ${isoParam(now)}, ${result.status}::integer, ${result.error}::text, ${result.durationMs}
      where exists (select 1 from ${webhookDelivery} d where d.id = ${claimed.id} for key share)
      returning id
    )
    select count(*)::integer as logged from logged`),
  );
  return Number(stored[0]?.logged ?? 0) > 0 ? outcome : null;
}

/** One pass of the sender: claims what is due, sends it, records every attempt. Tests and the bench drive it directly. */
export async function deliverDue(db: Database, options: DeliverOptions = {}): Promise<DeliverCounts> {
  const settings = { ...senderSettings(), ...definedOnly(options) };
  const limit = options.limit ?? 500;
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const leaseMs = options.leaseMs ?? 2 * settings.timeoutMs + 15_000;
  const perLane = Math.max(1, options.perWebhook ?? 10);
  const counts: DeliverCounts = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
  while (counts.attempted < limit) {
    const now = options.now?.() ?? new Date();
    const lanes = await claim(db, concurrency, Math.min(perLane, limit - counts.attempted), now, leaseMs);
    if (lanes.length === 0) break;
    const before = counts.attempted;
    // Lanes side by side; within a lane one at a time, in order, stopping at the first failure. Every lane is
    // awaited, a failing one too, so a pass never returns (and the next never starts) while a lane still runs.
    const settled = await Promise.allSettled(
      lanes.map(async (lane) => {
        for (let index = 0; index < lane.rows.length; index++) {
          const row = lane.rows[index]!;
          // An attempt (name resolution included) starts only while the lease outlasts it: past that, another sender
          // may take the lane over.
          if ((options.now?.() ?? new Date()).getTime() + settings.timeoutMs + LEASE_MARGIN_MS > row.lease.getTime()) {
            await release(db, lane.rows.slice(index));
            break;
          }
          const outcome = await complete(db, row, await attempt(row, settings, options), settings, options);
          // The webhook was deleted meanwhile: its other deliveries went with it.
          if (outcome === null) break;
          counts.attempted++;
          counts[outcome]++;
          if (outcome !== "delivered") {
            await release(db, lane.rows.slice(index + 1));
            break;
          }
        }
      }),
    );
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failure) throw failure.reason;
    // A lease too short for even one attempt claims the same lanes again and again: stop instead.
    if (counts.attempted === before) break;
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
