import "server-only";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { Diagnostic, ParseOptions, ParseResult, Upload } from "@/registry/index.ts";
import { LIMIT_CODES } from "@/registry/parse/index.ts";
import { MeshportError } from "@/lib/errors.ts";
import { findUnstorableInJson } from "@/lib/http/input.ts";

/**
 * A small pool of worker threads that parse and validate uploads, so that no document stalls the portal: each
 * upload gets a time budget (the worker is terminated when it runs over) and each worker a heap limit. The
 * engine is pure, so a worker parses exactly as the portal's own thread would; results are plain data.
 */

/** Settings of a {@link ParsePool}. */
export interface ParsePoolOptions {
  /** Worker threads; default `MESHPORT_PARSE_WORKERS` or 2. */
  size: number;
  /** Uploads waiting for a worker beyond those being parsed; more are refused as busy (503). */
  maxQueue: number;
  /** Time budget of one upload once a worker has it, in ms; default `MESHPORT_PARSE_TIMEOUT_MS` or 15 s. */
  timeoutMs: number;
  /** Heap limit of a worker (V8 old generation), in MB; default `MESHPORT_PARSE_MEMORY_MB` or 512. */
  maxOldGenerationSizeMb: number;
  /** The worker script; default `lib/parse-pool/worker.mjs` under the working directory (as `next start` runs). */
  workerFile: string;
}

/** Diagnostic codes of uploads the pool refused: over the time budget or the memory limit. */
export const POOL_LIMIT_CODES: readonly string[] = ["parse-timeout", "parse-memory"];

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Defaults, read from the environment when the pool is created. */
export function defaultPoolOptions(): ParsePoolOptions {
  return {
    size: Math.floor(envNumber("MESHPORT_PARSE_WORKERS", 2)),
    maxQueue: Math.floor(envNumber("MESHPORT_PARSE_QUEUE", 32)),
    timeoutMs: envNumber("MESHPORT_PARSE_TIMEOUT_MS", 15_000),
    maxOldGenerationSizeMb: envNumber("MESHPORT_PARSE_MEMORY_MB", 512),
    // Resolved at run time, not bundled: the script loads the engine from source (see worker.mjs).
    workerFile: path.join(/*turbopackIgnore: true*/ process.cwd(), "lib", "parse-pool", "worker.mjs"),
  };
}

/** Settings of one upload in {@link ParsePool.parse}. */
export interface ParseBudget {
  /**
   * This upload's time budget in ms, instead of the pool's `timeoutMs`. For tests: one upload can be timed out on a
   * budget far below any parse while the others keep a budget far above theirs, so neither outcome depends on speed.
   */
  timeoutMs?: number;
}

interface Task {
  upload: Upload;
  options: ParseOptions;
  timeoutMs: number;
  resolve: (result: ParseResult) => void;
  reject: (error: unknown) => void;
}

type WorkerMessage =
  | { type: "ready" }
  | { type: "result"; id: number; result: ParseResult }
  | { type: "failed"; id: number; message: string };

interface Slot {
  worker: Worker;
  ready: boolean;
  task?: Task & { id: number; timer: NodeJS.Timeout };
}

function firstFile(upload: Upload, options: ParseOptions): string {
  return options.root ?? (typeof upload === "string" ? "asyncapi.yaml" : (Object.keys(upload)[0] ?? ""));
}

function refusal(task: Task, code: string, message: string): ParseResult {
  const diagnostic: Diagnostic = { code, severity: "error", file: firstFile(task.upload, task.options), path: [], message };
  return { diagnostics: [diagnostic], validation: "full" };
}

/** A fixed set of parse workers with a bounded queue. */
export class ParsePool {
  readonly options: ParsePoolOptions;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private startupFailures = 0;
  private closed = false;

  constructor(options: Partial<ParsePoolOptions> = {}) {
    this.options = { ...defaultPoolOptions(), ...options };
  }

  /** Parses an upload in a worker. Bad input, a timeout or a memory blow-up yield diagnostics, not exceptions. */
  parse(upload: Upload, options: ParseOptions = {}, budget: ParseBudget = {}): Promise<ParseResult> {
    if (this.closed) return Promise.reject(new Error("The parse pool is closed."));
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(new MeshportError("unavailable", "The contract parser is busy; try again in a moment.", { subject: "parser_busy" }));
    }
    return new Promise<ParseResult>((resolve, reject) => {
      this.queue.push({ upload, options, timeoutMs: budget.timeoutMs ?? this.options.timeoutMs, resolve, reject });
      this.fill();
      this.pump();
    });
  }

  /** Starts the workers and resolves once every one of them has loaded the engine and warmed up. */
  async whenReady(): Promise<void> {
    this.fill();
    while (!this.closed && this.slots.some((s) => !s.ready)) {
      if (this.slots.length === 0) throw new Error("Parse workers cannot start.");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Workers started and ready, and uploads in flight or waiting (for health and tests). */
  stats(): { workers: number; ready: number; busy: number; queued: number } {
    return {
      workers: this.slots.length,
      ready: this.slots.filter((s) => s.ready).length,
      busy: this.slots.filter((s) => s.task).length,
      queued: this.queue.length,
    };
  }

  /** Terminates every worker; waiting uploads are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error("The parse pool is closed."));
    await Promise.all(this.slots.splice(0).map((slot) => this.stop(slot)));
  }

  private fill(): void {
    while (!this.closed && this.slots.length < this.options.size) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(/*turbopackIgnore: true*/ this.options.workerFile, {
      // A clean Node.js: no flags of the host process (test runners, --inspect, heap sizes) leak into workers.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb },
      stdout: false,
      stderr: false,
    });
    // Referenced while it starts (an upload may be waiting for it) and while it parses; idle, it never keeps the process alive.
    const slot: Slot = { worker, ready: false };
    worker.on("message", (message: WorkerMessage) => this.onMessage(slot, message));
    worker.on("error", (error) => this.onExit(slot, error));
    worker.on("exit", () => this.onExit(slot));
    return slot;
  }

  private onMessage(slot: Slot, message: WorkerMessage): void {
    if (message.type === "ready") {
      slot.ready = true;
      this.startupFailures = 0;
      this.pump();
      if (!slot.task) slot.worker.unref();
      return;
    }
    const task = slot.task;
    if (!task || task.id !== message.id) return;
    this.release(slot);
    if (message.type === "result") task.resolve(message.result);
    else task.reject(new Error(`Parse worker failed: ${message.message}`));
    this.pump();
  }

  /** A worker ended: by its heap limit, a crash, or our termination. Its upload gets an answer; a new worker takes its place. */
  private onExit(slot: Slot, error?: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    const task = slot.task;
    if (task) {
      this.release(slot);
      const outOfMemory = (error as { code?: string } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY";
      if (outOfMemory) {
        task.resolve(refusal(task, "parse-memory", `Parsing this document needed more than ${this.options.maxOldGenerationSizeMb} MB of memory; it was refused.`));
      } else {
        task.reject(new Error(`Parse worker stopped: ${error?.message ?? "exited"}`));
      }
    } else if (!slot.ready) {
      // A worker that never became ready: the script cannot load. Do not respawn forever.
      this.startupFailures++;
      if (this.startupFailures >= this.options.size) {
        const failure = new Error(`Parse workers cannot start (${this.options.workerFile}): ${error?.message ?? "exited"}`);
        for (const waiting of this.queue.splice(0)) waiting.reject(failure);
        return;
      }
    }
    this.fill();
    this.pump();
  }

  private release(slot: Slot): void {
    if (!slot.task) return;
    clearTimeout(slot.task.timer);
    slot.task = undefined;
    slot.worker.unref();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.task) continue;
      const task = this.queue.shift()!;
      const id = this.nextId++;
      const timer = setTimeout(() => this.timeOut(slot), task.timeoutMs);
      slot.task = { ...task, id, timer };
      // Keep the process alive while an upload is in flight (the CLI awaits it); idle workers never do.
      slot.worker.ref();
      slot.worker.postMessage({ id, upload: task.upload, options: task.options });
    }
  }

  /** Over the budget: the upload is refused, its worker terminated (whatever it is doing) and replaced. */
  private timeOut(slot: Slot): void {
    const task = slot.task;
    if (!task) return;
    this.release(slot);
    const seconds = Math.round(task.timeoutMs / 100) / 10;
    task.resolve(refusal(task, "parse-timeout", `Parsing this document took longer than ${seconds} s; it was refused. Large or deeply aliased documents can be split into several files.`));
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    void this.stop(slot);
    this.fill();
    this.pump();
  }

  private async stop(slot: Slot): Promise<void> {
    slot.ready = false;
    await slot.worker.terminate();
  }
}

const GLOBAL_KEY = Symbol.for("meshport.parsePool");

/** The process-wide pool (one per process, also across module reloads in development). */
export function parsePool(): ParsePool {
  const holder = globalThis as { [GLOBAL_KEY]?: ParsePool };
  return (holder[GLOBAL_KEY] ??= new ParsePool());
}

/** Installs another process-wide pool (tests: a shorter time budget); returns the one it replaces. */
export function replaceParsePool(pool: ParsePool | undefined): ParsePool | undefined {
  const holder = globalThis as { [GLOBAL_KEY]?: ParsePool };
  const previous = holder[GLOBAL_KEY];
  holder[GLOBAL_KEY] = pool;
  return previous;
}

/** Parses an upload in the process-wide worker pool; see {@link ParsePool.parse}. */
export async function parseInPool(upload: Upload, options: ParseOptions = {}): Promise<ParseResult> {
  const parsed = await parsePool().parse(upload, options);
  const nul = unstorableDiagnostic(parsed, Object.keys(upload)[0] ?? "");
  return nul ? { ...parsed, diagnostics: [...parsed.diagnostics, nul] } : parsed;
}

/**
 * An escape in the document (YAML `"\0"`, JSON `\u0000`) can put a NUL into the parsed contract, which PostgreSQL
 * jsonb cannot hold: an error diagnostic says where, so validation, evaluation and publish refuse it alike.
 */
function unstorableDiagnostic(parsed: ParseResult, firstFile: string): Diagnostic | null {
  const found = parsed.contract ? findUnstorableInJson(parsed.contract) : null;
  if (found === null) return null;
  const file = parsed.root ?? firstFile;
  if (found.reason === "nul") {
    return { code: "nul-character", severity: "error", message: `The contract holds a NUL character (U+0000) at ${found.path}, which cannot be stored.`, file, path: [] };
  }
  return { code: "lone-surrogate", severity: "error", message: `The contract holds a lone UTF-16 surrogate escape at ${found.path}, which is not text and cannot be stored.`, file, path: [] };
}

/** True when a diagnostic says the document was refused for its size or cost (alias bomb, time, memory) rather than judged. */
export function isRefusal(diagnostic: Diagnostic): boolean {
  return diagnostic.severity === "error" && (LIMIT_CODES.includes(diagnostic.code) || POOL_LIMIT_CODES.includes(diagnostic.code));
}
