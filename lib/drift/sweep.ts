import "server-only";
import { and, asc, lt, ne, sql } from "drizzle-orm";
import { getDb } from "@/db/client.ts";
import { driftFinding } from "@/db/schema.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { silentChannels } from "@/registry/drift/index.ts";
import { loadDriftCatalog } from "./catalog.ts";
import { applyEvaluation } from "./findings.ts";
import { channelActivityOf, observingSince, silentAfterSeconds } from "./observed.ts";

/**
 * The periodic part of drift: channels nothing was observed on (SILENT_CHANNEL), and findings not seen for the
 * stale window, resolved as `not_seen`. Run by a timer in every portal instance and soon after an ingest, at most
 * once per sweep interval per process; an advisory lock keeps two instances from sweeping at once.
 */

// One-key advisory lock of the sweep (the audit chain and first-admin locks are its neighbours).
export const DRIFT_SWEEP_LOCK_KEY = 7_316_542_004;
/** Stale findings resolved per sweep at most (the next sweep takes the rest). */
export const MAX_STALE_PER_SWEEP = 5_000;
/** Least time between two sweeps of one process (`MESHPORT_DRIFT_SWEEP_SECONDS`, default 60). */
export function sweepIntervalMs(): number {
  const seconds = Number(process.env.MESHPORT_DRIFT_SWEEP_SECONDS || 60);
  return Number.isFinite(seconds) && seconds >= 1 && seconds <= 3_600 ? Math.floor(seconds) * 1000 : 60_000;
}

/** What one sweep did; `ran: false` when another instance was sweeping. */
export interface SweepOutcome {
  ran: boolean;
  opened: number;
  reopened: number;
  resolved: number;
}

/** Sweeps once: judges silent channels and resolves stale findings as the system, at `now`. */
export async function sweepDrift(now = new Date()): Promise<SweepOutcome> {
  const db = await getDb();
  const principal = systemPrincipal("drift");
  return db.transaction(async (tx) => {
    const locked = await tx.execute(sql`select pg_try_advisory_xact_lock(${DRIFT_SWEEP_LOCK_KEY}) as locked`);
    if ((locked as unknown as { rows: Array<{ locked?: unknown }> }).rows[0]?.locked !== true) return { ran: false, opened: 0, reopened: 0, resolved: 0 };
    const { catalog } = await loadDriftCatalog(tx);
    const windowSeconds = silentAfterSeconds();
    const sends = catalog.flows.filter((f) => f.action === "send");
    const silent = silentChannels({
      flows: sends,
      activity: await channelActivityOf(tx, sends.map((f) => f.application.id)),
      now,
      windowSeconds,
      observingSince: await observingSince(tx, now, windowSeconds),
    });
    const quiet = await applyEvaluation(tx, principal, { findings: silent.findings, judgedChannels: silent.judged }, { now, resolution: "stopped" });
    // Silent channels are resolved by the silence judgement, not by age.
    const stale = await tx
      .select({ id: driftFinding.id })
      .from(driftFinding)
      .where(and(ne(driftFinding.status, "resolved"), lt(driftFinding.lastSeen, new Date(now.getTime() - windowSeconds * 1000)), ne(driftFinding.rule, "SILENT_CHANNEL")))
      .orderBy(asc(driftFinding.lastSeen))
      .limit(MAX_STALE_PER_SWEEP);
    const aged = await applyEvaluation(tx, principal, { findings: [], resolveIds: stale.map((s) => s.id) }, { now, resolution: "not_seen" });
    return { ran: true, opened: quiet.opened.length, reopened: quiet.reopened.length, resolved: quiet.resolved.length + aged.resolved.length };
  });
}

interface Sweeper {
  lastRun: number;
  timer: NodeJS.Timeout | undefined;
  soon: NodeJS.Timeout | undefined;
  running: Promise<void> | null;
  log: (line: string) => void;
  failing: boolean;
}

const globalForSweep = globalThis as typeof globalThis & { __meshportDriftSweeper?: Sweeper };

function runOnce(sweeper: Sweeper): void {
  if (sweeper.running || Date.now() - sweeper.lastRun < sweepIntervalMs()) return;
  sweeper.lastRun = Date.now();
  sweeper.running = sweepDrift()
    .then(() => {
      sweeper.failing = false;
    })
    .catch((error: unknown) => {
      // Logged once per outage, not once per minute.
      if (!sweeper.failing) sweeper.log(`meshport: the drift sweep failed (${error instanceof Error ? error.message : String(error)}); it runs again in a minute`);
      sweeper.failing = true;
    })
    .finally(() => {
      sweeper.running = null;
    });
}

/** Starts the process's drift sweeper (once): every minute, and soon after an ingest. Its timers do not keep the process alive. */
export function startDriftSweeper({ log = console.log }: { log?: (line: string) => void } = {}): void {
  if (globalForSweep.__meshportDriftSweeper) return;
  const sweeper: Sweeper = { lastRun: 0, timer: undefined, soon: undefined, running: null, log, failing: false };
  globalForSweep.__meshportDriftSweeper = sweeper;
  sweeper.timer = setInterval(() => runOnce(sweeper), sweepIntervalMs());
  sweeper.timer.unref();
}

/** Stops the process's drift sweeper, waiting for a sweep under way. */
export async function stopDriftSweeper(): Promise<void> {
  const sweeper = globalForSweep.__meshportDriftSweeper;
  if (!sweeper) return;
  globalForSweep.__meshportDriftSweeper = undefined;
  clearInterval(sweeper.timer);
  clearTimeout(sweeper.soon);
  await sweeper.running;
}

/**
 * Asks for a sweep soon (after an ingest), when the sweeper runs in this process and has not swept in the last
 * minute. Deferred, so the ingest's transaction has committed when it starts.
 */
export function requestDriftSweep(): void {
  const sweeper = globalForSweep.__meshportDriftSweeper;
  if (!sweeper || sweeper.soon || sweeper.running || Date.now() - sweeper.lastRun < sweepIntervalMs()) return;
  sweeper.soon = setTimeout(() => {
    sweeper.soon = undefined;
    runOnce(sweeper);
  }, 1_000);
  sweeper.soon.unref();
}
