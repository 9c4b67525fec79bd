/**
 * Sends spooled batches to the portal strictly in order, one at a time, and
 * decides per answer what happens to the batch (see the HTTP contract in
 * protocol.ts). Failures back off exponentially with full jitter.
 */
import type { Logger } from "pino";
import {
  AGENT_PROTOCOL_VERSION,
  BROKER_BINDING_ERROR_CODE,
  channelListSchema,
  channelRefSchema,
  INGEST_CHANNELS_PATH,
  INGEST_REPORTS_PATH,
  ingestErrorSchema,
  type ChannelTemplate,
} from "./protocol.ts";
import type { Spool, SpoolEntry } from "./spool.ts";

/** What to do with a batch given the portal's HTTP status. */
export type Disposition = "accepted" | "rejected" | "auth" | "retry";

/** Maps an HTTP status of the ingest endpoint to what the agent does with the batch. */
export function classifyStatus(status: number): Disposition {
  if (status === 200 || status === 201 || status === 202 || status === 204 || status === 409) return "accepted";
  if (status === 400 || status === 413 || status === 422) return "rejected";
  if (status === 401 || status === 403) return "auth";
  return "retry";
}

/** The `error.code` of a portal error body, if it is one. */
export function errorCode(body: string): string | null {
  try {
    const parsed = ingestErrorSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.error.code : null;
  } catch {
    return null;
  }
}

/** Delay before retry number `attempt` (1-based): full jitter over an exponential ceiling. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  // Never zero, so a failing portal is not hammered by an unlucky draw.
  return Math.max(baseMs / 2, Math.floor(random() * ceiling));
}

/** Options of a {@link Reporter}. */
export interface ReporterOptions {
  spool: Spool;
  portalUrl: string;
  token: string;
  logger: Logger;
  /** first retry delay (default 500 ms) */
  backoffBaseMs?: number;
  /** longest retry delay (default 60 s) */
  backoffMaxMs?: number;
  /** per-request timeout (default 15 s) */
  timeoutMs?: number;
  /** told about each batch's outcome, for metrics */
  onOutcome?: (outcome: Disposition | "error", entry: SpoolEntry) => void;
}

/** Result of one drain pass. */
export interface DrainResult {
  sent: number;
  rejected: number;
  pending: number;
  /** why the pass stopped early, if it did */
  blockedBy: string | null;
}

/** Delivers the spool to the portal. */
export class Reporter {
  private running: Promise<DrainResult> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = false;
  /** time of the last accepted batch (ms since epoch), 0 if none */
  lastSuccessAt = 0;
  /** the last failure, for health output */
  lastError: string | null = null;
  /** batches accepted and rejected since start */
  sentTotal = 0;
  rejectedTotal = 0;

  /** Creates a reporter; nothing is sent until kick() or drain(). */
  constructor(private readonly o: ReporterOptions) {}

  /** Starts a drain unless one is running or a retry is already scheduled. */
  kick(): void {
    if (this.stopped || this.running || this.retryTimer) return;
    void this.drain();
  }

  /** Drains now (cancelling a scheduled retry), or joins the pass in progress. */
  drain(): Promise<DrainResult> {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops scheduling retries and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.running?.catch(() => {});
  }

  private async pass(): Promise<DrainResult> {
    const result: DrainResult = { sent: 0, rejected: 0, pending: 0, blockedBy: null };
    const { spool, logger } = this.o;
    while (!this.stopped && spool.entries.length > 0) {
      const entry = spool.entries[0]!;
      let disposition: Disposition;
      let detail: string;
      let status = 0;
      let body = "";
      try {
        const res = await this.send(entry);
        status = res.status;
        body = res.body;
        disposition = classifyStatus(status);
        detail = `HTTP ${status}`;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
          // The file went away under us (deleted by hand): nothing left to send for it.
          logger.error({ batchId: entry.batchId, sequence: entry.sequence }, "spooled batch file disappeared; skipping it");
          await spool.ack(entry);
          continue;
        }
        disposition = "retry";
        const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
        detail = err instanceof Error ? `${err.name}: ${err.message}${cause ? ` (${cause.code ?? cause.message})` : ""}` : String(err);
      }
      if (disposition === "accepted") {
        await spool.ack(entry);
        this.attempt = 0;
        this.lastSuccessAt = Date.now();
        this.lastError = null;
        this.sentTotal++;
        result.sent++;
        logger.debug({ batchId: entry.batchId, sequence: entry.sequence, status }, "batch accepted");
      } else if (disposition === "rejected") {
        // Kept aside with the reason: a refused batch is evidence, never silently dropped.
        await spool.reject(entry, { status, body: body.slice(0, 64 * 1024), batchId: entry.batchId, sequence: entry.sequence });
        this.rejectedTotal++;
        result.rejected++;
        logger.error({ batchId: entry.batchId, sequence: entry.sequence, status, body: body.slice(0, 2_000) }, "portal refused a batch as malformed; moved to rejected/");
      } else {
        this.attempt++;
        this.lastError = detail;
        const delay = backoffDelay(this.attempt, this.o.backoffBaseMs ?? 500, this.o.backoffMaxMs ?? 60_000);
        const fields = { batchId: entry.batchId, sequence: entry.sequence, attempt: this.attempt, retryInMs: delay, pending: spool.pendingCount, reason: detail };
        if (disposition === "auth" && errorCode(body) === BROKER_BINDING_ERROR_CODE) {
          logger.error({ ...fields, status }, "the agent token is not bound to this broker id: batches stay spooled until an admin creates a token bound to it");
        } else if (disposition === "auth") logger.error(fields, "portal refused the agent token (401/403): batches stay spooled until the token is fixed");
        else logger.warn(fields, "portal unavailable; batch stays spooled");
        this.o.onOutcome?.(disposition, entry);
        result.blockedBy = detail;
        if (!this.stopped) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            void this.drain();
          }, delay);
          this.retryTimer.unref();
        }
        break;
      }
      this.o.onOutcome?.(disposition, entry);
    }
    result.pending = spool.pendingCount;
    return result;
  }

  private async send(entry: SpoolEntry): Promise<{ status: number; body: string }> {
    const gz = await this.o.spool.read(entry);
    const res = await fetch(new URL(INGEST_REPORTS_PATH, this.o.portalUrl), {
      method: "POST",
      headers: {
        authorization: `Bearer ${this.o.token}`,
        "content-type": "application/json",
        "content-encoding": "gzip",
        "x-meshport-batch-id": entry.batchId,
        "x-meshport-agent-protocol": String(AGENT_PROTOCOL_VERSION),
      },
      body: new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength) as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 15_000),
    });
    const body = await res.text().catch(() => "");
    return { status: res.status, body };
  }
}

/**
 * Fetches the contract channel templates from the portal; null when the
 * endpoint is absent or failing (the caller keeps its previous list).
 */
export async function fetchChannels(portalUrl: string, token: string, timeoutMs = 10_000): Promise<ChannelTemplate[] | null> {
  try {
    const res = await fetch(new URL(INGEST_CHANNELS_PATH, portalUrl), {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    const parsed = channelListSchema.safeParse(await res.json());
    // A channel the portal would refuse in a report (address too long) is never matched.
    return parsed.success ? parsed.data.channels.filter((c) => channelRefSchema.safeParse(c).success) : null;
  } catch {
    return null;
  }
}
