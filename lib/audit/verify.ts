import "server-only";
import { asc, eq, gt } from "drizzle-orm";
import type { Database } from "@/db/client.ts";
import { auditEntry, type AuditEntry } from "@/db/schema.ts";
import { auditHash, GENESIS_HASH } from "./chain.ts";

/**
 * Entries a page view verifies at most. At about 50 µs an entry (read and re-hashed) this keeps a view that
 * follows a burst of writes near 100 ms; the rest is checked in the background.
 */
export const AUDIT_VIEW_VERIFY_LIMIT = 2_000;

/**
 * How old the last end-to-end check may be before a view starts another. A rewrite that keeps the chain
 * consistent changes every later hash, so the checkpoint check catches it at once; only an entry edited before
 * the checkpoint without fixing the hashes after it waits for the full check. Five minutes bounds that wait,
 * and a full check of 30,000 entries (about 1.5 s of one core) every five minutes costs under 1% of the machine.
 */
export const AUDIT_FULL_CHECK_INTERVAL_MS = 5 * 60_000;

/**
 * Entries the background reads and re-hashes per step (about 10 ms of one core): the checks run on the thread
 * that serves pages, and each step's read lets waiting requests in, so none waits behind a long hashing run.
 */
const BACKGROUND_PAGE = 200;

/** Why the chain does not verify at an entry. */
export type AuditBreakReason = "hash_mismatch" | "link_mismatch" | "checkpoint_changed";

/** The last verified prefix of the chain. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  entries: number;
  /** When the last end-to-end check that passed started, and how many entries it covered. */
  fullCheckAt: Date | null;
  fullEntries: number;
}

/** The result of checking the chain from the first entry, in one pass. */
export interface FullAuditCheck {
  ok: boolean;
  entries: number;
  brokenAt: { seq: number; reason: "hash_mismatch" | "link_mismatch" } | null;
  headHash: string;
  headSeq: number;
}

/** What a view of the audit log may say about the chain: only what was checked. */
export interface AuditChainStatus {
  ok: boolean;
  /** Entries known intact: the verified prefix, from the first entry through `throughSeq`. */
  entries: number;
  throughSeq: number;
  /** The last end-to-end check that passed, and the entries it covered (null: none yet in this process). */
  fullCheckAt: Date | null;
  fullEntries: number;
  /** Entries this view verified. */
  checkedNow: number;
  /** Whether entries after `throughSeq` were left for the background. */
  pending: boolean;
  /** Whether an end-to-end check is running. */
  fullRunning: boolean;
  brokenAt: { seq: number; reason: AuditBreakReason; foundAt: Date } | null;
}

interface Break {
  seq: number;
  reason: AuditBreakReason;
  foundAt: Date;
  /** The order of events in this process: a full check clears only a break found before it began. */
  tick: number;
  /** For a rewritten checkpoint entry: the hash it had when verified. */
  expectedHash?: string;
}

interface ChainState {
  checkpoint: AuditCheckpoint | null;
  broken: Break | null;
  /** When the last end-to-end check started, passed or not. */
  lastFullStartedAt: Date | null;
  job: Promise<void> | null;
  fullWanted: boolean;
}

// One state per database (tests open several in one process); the process's portal has one.
const states = new WeakMap<Database, ChainState>();
let ticks = 0;

function stateOf(db: Database): ChainState {
  let state = states.get(db);
  if (!state) {
    state = { checkpoint: null, broken: null, lastFullStartedAt: null, job: null, fullWanted: false };
    states.set(db, state);
  }
  return state;
}

function entriesAfter(db: Database, seq: number, limit: number): Promise<AuditEntry[]> {
  return db.select().from(auditEntry).where(gt(auditEntry.seq, seq)).orderBy(asc(auditEntry.seq)).limit(limit);
}

/** The first entry of `page` that does not follow `prevHash` or whose content does not hash to its hash. */
function firstBreak(page: readonly AuditEntry[], prevHash: string): { index: number; reason: "hash_mismatch" | "link_mismatch" } | null {
  let prev = prevHash;
  for (let i = 0; i < page.length; i++) {
    const entry = page[i]!;
    if (entry.prevHash !== prev) return { index: i, reason: "link_mismatch" };
    if (auditHash(entry.prevHash, entry) !== entry.hash) return { index: i, reason: "hash_mismatch" };
    prev = entry.hash;
  }
  return null;
}

function markBroken(state: ChainState, seq: number, reason: AuditBreakReason, expectedHash?: string): void {
  if (!state.broken) state.broken = { seq, reason, foundAt: new Date(), tick: ++ticks, ...(expectedHash ? { expectedHash } : {}) };
}

/**
 * Whether a remembered break still stands after a full pass that began at `tick`. A rewritten checkpoint entry
 * whose chain was rebuilt consistently passes a full check, so that break stands until the entry is restored.
 */
async function breakStands(db: Database, broken: Break, tick: number): Promise<boolean> {
  if (broken.tick > tick) return true;
  if (broken.reason !== "checkpoint_changed") return false;
  const [entry] = await db.select({ hash: auditEntry.hash }).from(auditEntry).where(eq(auditEntry.seq, broken.seq)).limit(1);
  return entry?.hash !== broken.expectedHash;
}

/** Moves the checkpoint forward over entries verified from it (never back: views run side by side). */
function advance(state: ChainState, from: AuditCheckpoint, last: AuditEntry, verified: number): void {
  const current = state.checkpoint;
  if (state.broken || (current && current.seq >= last.seq)) return;
  state.checkpoint = { ...(current ?? from), seq: last.seq, hash: last.hash, entries: from.entries + verified };
}

/**
 * Recomputes every hash of the chain from the first entry, in one pass, and reports the first tampered entry.
 * Its result replaces the checkpoint; a pass clears a break remembered before it started.
 */
export async function checkAuditChainFully(db: Database): Promise<FullAuditCheck> {
  const state = stateOf(db);
  const startedAt = new Date();
  const tick = ++ticks;
  state.lastFullStartedAt = startedAt;
  let prevHash = GENESIS_HASH;
  let count = 0;
  let afterSeq = 0;
  for (;;) {
    const page = await entriesAfter(db, afterSeq, BACKGROUND_PAGE);
    const found = firstBreak(page, prevHash);
    if (found) {
      count += found.index;
      const seq = page[found.index]!.seq;
      state.checkpoint = null;
      markBroken(state, seq, found.reason);
      return { ok: false, entries: count, brokenAt: { seq, reason: found.reason }, headHash: found.index > 0 ? page[found.index - 1]!.hash : prevHash, headSeq: found.index > 0 ? page[found.index - 1]!.seq : afterSeq };
    }
    if (page.length > 0) {
      prevHash = page[page.length - 1]!.hash;
      afterSeq = page[page.length - 1]!.seq;
      count += page.length;
    }
    if (page.length < BACKGROUND_PAGE) break;
  }
  // A break found after this pass began may be in entries it read before they were altered: keep it.
  if (state.broken && !(await breakStands(db, state.broken, tick))) state.broken = null;
  if (!state.broken) state.checkpoint = { seq: afterSeq, hash: prevHash, entries: count, fullCheckAt: startedAt, fullEntries: count };
  return { ok: true, entries: count, brokenAt: null, headHash: prevHash, headSeq: afterSeq };
}

/** Verifies the entries after the checkpoint, all of them (the background's catch-up). */
async function catchUp(db: Database, state: ChainState): Promise<void> {
  for (;;) {
    const from = state.checkpoint;
    if (!from || state.broken) return;
    const more = await verifyAfter(db, state, from, BACKGROUND_PAGE);
    if (!more.pending) return;
  }
}

/** Starts the background check, unless one runs: end to end when asked or due, else a catch-up. */
function startBackground(db: Database, state: ChainState, full: boolean, log: (line: string) => void = console.error): void {
  if (full) state.fullWanted = true;
  if (state.job) return;
  const run = async () => {
    do {
      const fullNow = state.fullWanted || fullDue(state);
      state.fullWanted = false;
      if (fullNow) await checkAuditChainFully(db);
      else await catchUp(db, state);
    } while (state.fullWanted);
  };
  state.job = new Promise<void>((resolve) => {
    // Off the request path; the timer does not keep the process alive.
    setTimeout(() => {
      run()
        .catch((error: unknown) => log(`meshport: the audit chain check failed (${error instanceof Error ? error.message : String(error)}); a later view retries it`))
        .finally(() => {
          state.job = null;
          resolve();
        });
    }, 0).unref();
  });
}

function fullDue(state: ChainState): boolean {
  const last = state.lastFullStartedAt;
  return !last || Date.now() - last.getTime() >= AUDIT_FULL_CHECK_INTERVAL_MS;
}

/** Verifies at most `limit` entries after `from`; the checkpoint moves over those that pass. */
async function verifyAfter(db: Database, state: ChainState, from: AuditCheckpoint, limit: number): Promise<{ checked: number; pending: boolean }> {
  const page = await entriesAfter(db, from.seq, limit + 1);
  const pending = page.length > limit;
  const batch = pending ? page.slice(0, limit) : page;
  const found = firstBreak(batch, from.hash);
  if (found) {
    markBroken(state, batch[found.index]!.seq, found.reason);
    return { checked: found.index, pending: false };
  }
  if (batch.length > 0) advance(state, from, batch[batch.length - 1]!, batch.length);
  return { checked: batch.length, pending };
}

function status(state: ChainState, checkedNow: number, pending: boolean): AuditChainStatus {
  const cp = state.checkpoint;
  return {
    ok: !state.broken,
    entries: cp?.entries ?? 0,
    throughSeq: cp?.seq ?? 0,
    fullCheckAt: cp?.fullCheckAt ?? null,
    fullEntries: cp?.fullEntries ?? 0,
    checkedNow,
    pending,
    fullRunning: state.job !== null,
    brokenAt: state.broken ? { seq: state.broken.seq, reason: state.broken.reason, foundAt: state.broken.foundAt } : null,
  };
}

/**
 * The chain as a view checks it: the checkpoint entry is read again (its stored hash must still be the
 * checkpoint's, and its content must still hash to it), then at most `limit` newer entries are verified. The
 * rest, and an end-to-end check when the last is older than {@link AUDIT_FULL_CHECK_INTERVAL_MS} or the
 * checkpoint no longer holds, run in the background. A break stays reported until an end-to-end check passes.
 */
export async function checkAuditChainForView(db: Database, limit = AUDIT_VIEW_VERIFY_LIMIT): Promise<AuditChainStatus> {
  const state = stateOf(db);
  if (state.broken) {
    if (fullDue(state)) startBackground(db, state, true);
    return status(state, 0, false);
  }
  let from = state.checkpoint;
  if (from && from.seq > 0) {
    const [entry] = await db.select().from(auditEntry).where(eq(auditEntry.seq, from.seq)).limit(1);
    if (!entry || entry.hash !== from.hash || auditHash(entry.prevHash, entry) !== entry.hash) {
      markBroken(state, from.seq, "checkpoint_changed", from.hash);
      state.checkpoint = null;
      startBackground(db, state, true);
      return status(state, 0, false);
    }
  }
  // A cold start verifies from the first entry; when that reaches the head in one pass it is an end-to-end check.
  const cold = !from;
  const startedAt = new Date();
  from ??= { seq: 0, hash: GENESIS_HASH, entries: 0, fullCheckAt: null, fullEntries: 0 };
  const { checked, pending } = await verifyAfter(db, state, from, limit);
  if (state.broken) {
    startBackground(db, state, true);
    return status(state, checked, false);
  }
  if (cold && !pending && state.checkpoint && state.checkpoint.fullCheckAt === null) {
    state.checkpoint = { ...state.checkpoint, fullCheckAt: startedAt, fullEntries: state.checkpoint.entries };
    state.lastFullStartedAt ??= startedAt;
  }
  if (pending || fullDue(state)) startBackground(db, state, cold || fullDue(state));
  return status(state, checked, pending);
}

/** Resolves when the background check of this database, if one runs, has finished. */
export async function auditChainBackgroundSettled(db: Database): Promise<void> {
  while (stateOf(db).job) await stateOf(db).job;
}
