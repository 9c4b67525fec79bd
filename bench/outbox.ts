import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { count, eq } from "drizzle-orm";
import { openDatabase, type DatabaseHandle } from "../db/client.ts";
import { webhook, webhookDelivery } from "../db/schema.ts";
import { createScratchDatabase, findPostgresBinaries, startTemporaryPostgres } from "../db/testing/postgres-server.ts";
import { systemPrincipal } from "../lib/auth/principal.ts";
import { emitEvent } from "../lib/notifications/events.ts";
import { deliverDue, verifySignature } from "../lib/notifications/outbox.ts";
import { encryptWebhookSecret } from "../lib/notifications/secret.ts";
import type { BenchResult } from "./run.ts";
import { median, round } from "./stats.ts";

/** What to measure. */
export interface OutboxBenchOptions {
  /** Events emitted per round (each goes to every webhook). Default 2,000 deliveries per round in all. */
  deliveries?: number;
  /** Webhook counts to run: one webhook is one ordered lane; several are served side by side. Default [1, 10]. */
  webhooks?: number[];
  /** Measured rounds per case (median reported). Default 3. */
  rounds?: number;
  /** Backends; PostgreSQL runs when its binaries are installed. Default both. */
  backends?: Array<"pglite" | "postgres">;
}

const SECRET = "bench-webhook-secret-0123456789";

/** A loopback receiver that answers 204 at once; the first few bodies are checked against their signatures. */
async function startReceiver() {
  let received = 0;
  let verified = 0;
  let badSignatures = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      received++;
      if (verified < 20) {
        verified++;
        const ok = verifySignature(SECRET, String(request.headers["x-meshport-timestamp"]), Buffer.concat(chunks).toString("utf8"), String(request.headers["x-meshport-signature"]), { toleranceSeconds: 300 });
        if (!ok) badSignatures++;
      }
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    stats: () => ({ received, badSignatures }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One round: a fresh outbox of `total` deliveries over `lanes` webhooks, emitted through emitEvent, then sent by deliverDue. */
async function round1(handle: DatabaseHandle, url: string, lanes: number, total: number) {
  const db = handle.db;
  await db.delete(webhook);
  for (let n = 0; n < lanes; n++) {
    const id = `whk_bench_${n}`;
    await db.insert(webhook).values({ id, name: `Bench ${n}`, url, events: ["*"], secretCiphertext: encryptWebhookSecret(id, SECRET), createdById: "system:bench" });
  }
  const events = Math.ceil(total / lanes);
  const actor = systemPrincipal("bench");
  const emitStarted = performance.now();
  for (let start = 0; start < events; start += 100) {
    await db.transaction(async (tx) => {
      for (let n = start; n < Math.min(events, start + 100); n++) {
        await emitEvent(tx, { type: "review.published", summary: `Version ${n} published.`, link: `/reviews/${n}`, actor, teamIds: [], recipients: [], data: { n } });
      }
    });
  }
  const emitSeconds = (performance.now() - emitStarted) / 1000;
  const started = performance.now();
  let delivered = 0;
  for (;;) {
    const counts = await deliverDue(db, { allowPrivateNetworks: true, limit: 1_000, concurrency: 16 });
    delivered += counts.delivered;
    if (counts.attempted === 0) break;
    if (counts.retrying + counts.failed > 0) throw new Error("a bench delivery failed");
  }
  const seconds = (performance.now() - started) / 1000;
  const [left] = await db.select({ n: count() }).from(webhookDelivery).where(eq(webhookDelivery.state, "pending"));
  if (left?.n) throw new Error(`${left.n} deliveries left pending`);
  return { delivered, perSecond: delivered / seconds, emittedPerSecond: (events * lanes) / emitSeconds };
}

async function measure(label: string, handle: DatabaseHandle, options: Required<Pick<OutboxBenchOptions, "deliveries" | "webhooks" | "rounds">>) {
  const receiver = await startReceiver();
  try {
    const cases = [];
    // Warm the JIT and the connection.
    await round1(handle, receiver.url, 1, 200);
    for (const lanes of options.webhooks) {
      const samples = [];
      for (let r = 0; r < options.rounds; r++) samples.push(await round1(handle, receiver.url, lanes, options.deliveries));
      cases.push({
        webhooks: lanes,
        deliveries: samples[0]!.delivered,
        deliveriesPerSecond: round(median(samples.map((s) => s.perSecond)), 0),
        outboxRowsWrittenPerSecond: round(median(samples.map((s) => s.emittedPerSecond)), 0),
      });
    }
    const { received, badSignatures } = receiver.stats();
    if (badSignatures > 0) throw new Error(`${badSignatures} bodies did not verify`);
    return { label, received, cases };
  } finally {
    await receiver.close();
  }
}

/**
 * Webhook outbox throughput: deliveries per second from the outbox to a loopback receiver through `deliverDue`
 * (claim with a lease, sign, POST, log the attempt, mark delivered), with one webhook (one ordered lane) and with
 * several side by side; beside it, the rate emitEvent writes outbox rows in the events' transactions.
 */
export async function benchOutbox(options: OutboxBenchOptions = {}): Promise<BenchResult> {
  const settings = { deliveries: options.deliveries ?? 2_000, webhooks: options.webhooks ?? [1, 10], rounds: options.rounds ?? 3 };
  const backends = options.backends ?? ["pglite", "postgres"];
  // The bench's own key for webhook secrets when the portal's is not set: nothing is written to a data folder.
  process.env.MESHPORT_AUTH_SECRET ||= randomBytes(32).toString("base64url");
  const runs = [];
  if (backends.includes("pglite")) {
    const handle = await openDatabase({ driver: "pglite", dataDir: null });
    try {
      await handle.migrate();
      runs.push(await measure("pglite", handle, settings));
    } finally {
      await handle.close();
    }
  }
  if (backends.includes("postgres") && findPostgresBinaries()) {
    const server = await startTemporaryPostgres();
    try {
      const scratch = await createScratchDatabase(server.url, "meshport_bench_outbox");
      const handle = await openDatabase({ driver: "postgres", url: scratch.url });
      try {
        await handle.migrate();
        runs.push(await measure("postgres", handle, settings));
      } finally {
        await handle.close();
      }
    } finally {
      await server.stop();
    }
  }
  const summary = [`webhook outbox: ${settings.deliveries} deliveries per round to a loopback receiver, median of ${settings.rounds} rounds, deliverDue with 16 webhooks served at once`];
  for (const r of runs) {
    for (const c of r.cases) {
      summary.push(`  ${r.label.padEnd(9)} ${String(c.webhooks).padStart(3)} webhook(s): ${c.deliveriesPerSecond} deliveries/s (outbox rows written at ${c.outboxRowsWrittenPerSecond}/s)`);
    }
  }
  return { name: "outbox", summary, figures: { ...settings, runs } };
}
