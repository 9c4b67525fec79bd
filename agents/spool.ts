/**
 * The on-disk spool: every batch is written here (temp file, fsync, rename,
 * fsync of the directory) before it is sent, and deleted only once the portal
 * acknowledged it, so neither a portal outage nor an agent crash loses a
 * batch. File names sort in sequence order, so replay is in order.
 *
 *   <dir>/state.json          agent id and next sequence number
 *   <dir>/pending/<seq>-<batchId>.json.gz
 *   <dir>/rejected/<seq>-<batchId>.json.gz + .reason.json
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";

/** One spooled batch. */
export interface SpoolEntry {
  name: string;
  sequence: number;
  batchId: string;
  bytes: number;
}

/** Limits of a spool. */
export interface SpoolOptions {
  /** total bytes of pending batches (default 256 MiB); the oldest go first, counted as spoolCap drops */
  maxBytes?: number;
  /** number of pending batches (default 10,000) */
  maxFiles?: number;
  /** rejected batches kept for inspection (default 1,000); the oldest are deleted beyond it */
  maxRejected?: number;
}

interface SpoolState {
  agentId: string;
  nextSequence: number;
}

const NAME = /^(\d{12})-([0-9a-f-]{36})\.json\.gz$/;

/** Writes a file atomically and durably: temp file, fsync, rename, fsync of the directory. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.tmp-${randomUUID()}`);
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename durable; some platforms cannot open directories, which is harmless.
  const d = await open(dir, "r").catch(() => null);
  if (!d) return;
  await d.sync().catch(() => {});
  await d.close();
}

/** A durable FIFO of gzip report batches on disk. */
export class Spool {
  private pending: SpoolEntry[] = [];
  private pendingBytesTotal = 0;
  private rejected: string[] = [];
  private state: SpoolState;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly maxRejected: number;

  private constructor(
    readonly dir: string,
    state: SpoolState,
    options: SpoolOptions,
  ) {
    this.state = state;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.maxFiles = options.maxFiles ?? 10_000;
    this.maxRejected = options.maxRejected ?? 1_000;
  }

  /** Opens (creating if needed) a spool directory, cleaning temp files a crash left behind. */
  static async open(dir: string, options: SpoolOptions = {}, agentId?: string): Promise<Spool> {
    await mkdir(path.join(dir, "pending"), { recursive: true, mode: 0o700 });
    await mkdir(path.join(dir, "rejected"), { recursive: true, mode: 0o700 });
    let state: SpoolState | null = null;
    try {
      const raw = JSON.parse(await readFile(path.join(dir, "state.json"), "utf8")) as Partial<SpoolState>;
      if (typeof raw.agentId === "string" && Number.isSafeInteger(raw.nextSequence)) state = raw as SpoolState;
    } catch {
      // first start, or a state file lost: sequence is rebuilt from the pending names below
    }
    const spool = new Spool(dir, state ?? { agentId: agentId ?? randomUUID(), nextSequence: 0 }, options);
    if (agentId) spool.state.agentId = agentId;
    for (const name of await readdir(path.join(dir, "pending"))) {
      const file = path.join(dir, "pending", name);
      if (name.startsWith(".tmp-")) {
        await unlink(file).catch(() => {});
        continue;
      }
      const m = NAME.exec(name);
      if (!m) continue;
      const bytes = (await stat(file)).size;
      spool.pending.push({ name, sequence: Number(m[1]), batchId: m[2]!, bytes });
      spool.pendingBytesTotal += bytes;
    }
    spool.pending.sort((a, b) => a.sequence - b.sequence);
    const last = spool.pending[spool.pending.length - 1];
    if (last && last.sequence >= spool.state.nextSequence) spool.state.nextSequence = last.sequence + 1;
    spool.rejected = (await readdir(path.join(dir, "rejected"))).filter((n) => NAME.test(n)).sort();
    await writeFileAtomic(path.join(dir, "state.json"), JSON.stringify(spool.state));
    return spool;
  }

  /** The agent id persisted with this spool. */
  get agentId(): string {
    return this.state.agentId;
  }

  /** Pending batches, oldest first. */
  get entries(): readonly SpoolEntry[] {
    return this.pending;
  }

  /** Number of pending batches. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Bytes of pending batches. */
  get pendingBytes(): number {
    return this.pendingBytesTotal;
  }

  /** Number of rejected batches kept. */
  get rejectedCount(): number {
    return this.rejected.length;
  }

  /** Reserves the next sequence numbers, durably, so a restart never reuses them. */
  async reserveSequences(n: number): Promise<number> {
    const first = this.state.nextSequence;
    this.state.nextSequence += n;
    await writeFileAtomic(path.join(this.dir, "state.json"), JSON.stringify(this.state));
    return first;
  }

  /**
   * Adds a batch durably; if the spool is over a cap, deletes the oldest batches
   * and returns how many (the caller counts them as spoolCap drops).
   */
  async put(sequence: number, batchId: string, gz: Uint8Array): Promise<number> {
    const name = `${String(sequence).padStart(12, "0")}-${batchId}.json.gz`;
    await writeFileAtomic(path.join(this.dir, "pending", name), gz);
    this.pending.push({ name, sequence, batchId, bytes: gz.byteLength });
    this.pendingBytesTotal += gz.byteLength;
    let evicted = 0;
    while (this.pending.length > 1 && (this.pending.length > this.maxFiles || this.pendingBytesTotal > this.maxBytes)) {
      await this.remove(this.pending[0]!);
      evicted++;
    }
    return evicted;
  }

  /** Reads a pending batch's bytes. */
  read(entry: SpoolEntry): Promise<Buffer> {
    return readFile(path.join(this.dir, "pending", entry.name));
  }

  /** Deletes an acknowledged batch. */
  async ack(entry: SpoolEntry): Promise<void> {
    await this.remove(entry);
  }

  /** Moves a batch the portal refused to rejected/, beside a file giving the reason. */
  async reject(entry: SpoolEntry, reason: Record<string, unknown>): Promise<void> {
    const rejectedDir = path.join(this.dir, "rejected");
    await writeFileAtomic(path.join(rejectedDir, `${entry.name}.reason.json`), JSON.stringify({ ...reason, at: new Date().toISOString() }, null, 2));
    await rename(path.join(this.dir, "pending", entry.name), path.join(rejectedDir, entry.name));
    await fsyncDir(rejectedDir);
    this.drop(entry);
    this.rejected.push(entry.name);
    while (this.rejected.length > this.maxRejected) {
      const old = this.rejected.shift()!;
      await rm(path.join(rejectedDir, old), { force: true });
      await rm(path.join(rejectedDir, `${old}.reason.json`), { force: true });
    }
  }

  private async remove(entry: SpoolEntry): Promise<void> {
    await rm(path.join(this.dir, "pending", entry.name), { force: true });
    this.drop(entry);
  }

  private drop(entry: SpoolEntry): void {
    const i = this.pending.indexOf(entry);
    if (i >= 0) {
      this.pending.splice(i, 1);
      this.pendingBytesTotal -= entry.bytes;
    }
  }
}
