import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isMeshportError } from "@/lib/errors.ts";
import { DEFAULT_LIMITS } from "@/registry/parse/index.ts";
import { generateContract } from "@/registry/testing/generate.ts";
import { isRefusal, ParsePool } from "./pool.ts";

// Behaviour only: these tests assert answers, diagnostic codes and worker counts, never how long anything took
// (performance is measured by the benchmarks). Where a time budget is involved, the inputs are chosen one to two
// orders of magnitude away from it on either side, so that neither a faster engine nor a loaded machine changes
// the outcome.

const WORKER = path.join(process.cwd(), "lib", "parse-pool", "worker.mjs");

const SMALL = `asyncapi: 3.0.0
info:
  title: Small
  version: 1.2.3
channels:
  readings:
    address: plant/readings
    messages:
      reading:
        payload:
          type: object
          properties:
            value:
              type: number
`;

/**
 * A valid contract just under the 5 MB upload limit (1,900 channels): a full parse takes over a second here, and
 * loading its YAML alone takes well over 100 ms, against the 50 ms budget of {@link TIGHT_BUDGET_MS}, whereas
 * {@link SMALL} takes about a millisecond.
 */
const LARGE = generateContract({ channels: 1_900 });

/** The budget that times {@link LARGE} out (set for that upload only where small ones are parsed beside it). */
const TIGHT_BUDGET_MS = 50;

/** `levels` anchors of `width` aliases each. */
function bomb(levels: number, width: number): string {
  const lines = [`l0: &l0 [${Array(width).fill("lol").join(", ")}]`];
  for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(", ")}]`);
  return `asyncapi: 3.0.0\ninfo:\n  title: Bomb\n  version: 1.0.0\nchannels: {}\ncomponents:\n  schemas:\n${lines.map((l) => `    ${l}\n`).join("")}`;
}

/**
 * A valid contract whose message example is an alias bomb of `levels` sequences of `width` aliases. YAML loading,
 * the limits' measure and validation all see the aliases by reference (an example payload is checked for its type
 * only), but normalising copies the example into plain JSON: `width^(levels-1)` arrays, about 2.4 million (some
 * 300 MB of heap) for 8 × 8 and twenty million (over 2 GB) for 9 × 8.
 */
function exampleBomb(levels: number, width: number): string {
  const lines = [`l0: &l0 [${Array(width).fill("lol").join(", ")}]`];
  for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(", ")}]`);
  return (
    "asyncapi: 3.0.0\ninfo:\n  title: Example bomb\n  version: 1.0.0\nchannels:\n  c:\n    address: c\n    messages:\n      m:\n" +
    "        payload:\n          type: object\n        examples:\n          - name: bomb\n            payload:\n" +
    lines.map((l) => `              ${l}\n`).join("")
  );
}

/** Limits that let any alias bomb through to the engine. */
const PERMISSIVE = { limits: { maxNodes: 1e9, aliasExpansionAllowance: 1e9, maxAliasExpansion: 1e9 } };

/** Marks promises as handled, so that a failed assertion (and the pool's close) reports no unhandled rejections besides. */
function settleQuietly(...promises: Promise<unknown>[]): void {
  for (const promise of promises) promise.catch(() => undefined);
}

/** The error a rejected promise carries, or undefined when it resolved. */
function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

it("the large contract is within the upload limit, so it is parsed rather than refused for its size", () => {
  expect(Buffer.byteLength(LARGE)).toBeLessThan(DEFAULT_LIMITS.maxBytes);
  expect(Buffer.byteLength(LARGE)).toBeGreaterThan(DEFAULT_LIMITS.maxBytes * 0.9);
});

describe("parse pool", { timeout: 60_000 }, () => {
  // A budget no upload here comes near: these tests are about answers, not time.
  const pool = new ParsePool({ size: 2, maxQueue: 4, timeoutMs: 120_000 });
  beforeAll(() => pool.whenReady(), 120_000);
  afterAll(() => pool.close());

  it("parses an upload in a worker thread into plain data", async () => {
    const result = await pool.parse({ "asyncapi.yaml": SMALL });
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(result.contract).toMatchObject({ title: "Small", version: "1.2.3" });
    expect(result.contract?.channels["plant/readings"]?.messages.reading?.payload).toEqual({ type: "object", properties: { value: { type: "number" } } });
    expect(pool.stats()).toMatchObject({ workers: 2, busy: 0, queued: 0 });
  });

  it("refuses an alias bomb in the worker with the engine's diagnostic", async () => {
    const result = await pool.parse(bomb(9, 9));
    expect(result.contract).toBeUndefined();
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: "alias-bomb", severity: "error" })]);
    expect(isRefusal(result.diagnostics[0]!)).toBe(true);
    expect(pool.stats()).toMatchObject({ workers: 2, busy: 0, queued: 0 });
  });

  it("parses a large contract in full when the budget allows it", async () => {
    const result = await pool.parse(LARGE);
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(Object.keys(result.contract?.channels ?? {})).toHaveLength(1_900);
  });
});

describe("parse pool limits", { timeout: 120_000 }, () => {
  it("terminates a worker over the time budget, answers parse-timeout, and keeps serving with a new worker", async () => {
    // Only the large upload gets the tight budget: the small ones keep one they cannot miss, even on a loaded machine.
    const pool = new ParsePool({ size: 2, maxQueue: 4, timeoutMs: 120_000 });
    try {
      await pool.whenReady();
      const slow = pool.parse(LARGE, {}, { timeoutMs: TIGHT_BUDGET_MS });
      const meanwhile = pool.parse(SMALL);
      settleQuietly(slow, meanwhile);
      // Both uploads are in flight at once, one in each worker: the small one does not wait for the large one.
      expect(pool.stats()).toMatchObject({ workers: 2, busy: 2, queued: 0 });
      expect((await meanwhile).contract?.title).toBe("Small");

      const refused = await slow;
      expect(refused.contract).toBeUndefined();
      expect(refused.diagnostics).toEqual([
        expect.objectContaining({ code: "parse-timeout", severity: "error", file: "asyncapi.yaml", message: expect.stringContaining("longer than 0.1 s") }),
      ]);
      expect(isRefusal(refused.diagnostics[0]!)).toBe(true);

      // The worker that ran over was terminated and replaced at once; once the replacement is ready, both serve.
      expect(pool.stats()).toMatchObject({ workers: 2, busy: 0 });
      await pool.whenReady();
      expect(pool.stats()).toMatchObject({ workers: 2, ready: 2, busy: 0, queued: 0 });
      const both = [pool.parse(SMALL), pool.parse(SMALL)];
      expect(pool.stats()).toMatchObject({ busy: 2, queued: 0 });
      for (const result of await Promise.all(both)) expect(result.contract?.title).toBe("Small");
      expect(pool.stats()).toMatchObject({ workers: 2, ready: 2, busy: 0, queued: 0 });
    } finally {
      await pool.close();
    }
  });

  it("applies the pool's own time budget to uploads that set none", async () => {
    const pool = new ParsePool({ size: 1, maxQueue: 1, timeoutMs: TIGHT_BUDGET_MS });
    try {
      await pool.whenReady();
      const refused = await pool.parse({ "large.yaml": LARGE });
      expect(refused.diagnostics).toEqual([
        expect.objectContaining({ code: "parse-timeout", severity: "error", file: "large.yaml", message: expect.stringContaining("longer than 0.1 s") }),
      ]);
      expect(pool.stats()).toMatchObject({ workers: 1, busy: 0, queued: 0 });
    } finally {
      await pool.close();
    }
  });

  it("refuses work beyond its bounded queue as busy (503), and serves the queue in order", async () => {
    // The refusal does not depend on time: no answer can arrive before this synchronous code yields.
    const pool = new ParsePool({ size: 1, maxQueue: 1, timeoutMs: 120_000 });
    try {
      await pool.whenReady();
      const running = pool.parse(LARGE);
      const queued = pool.parse(SMALL);
      settleQuietly(running, queued);
      expect(pool.stats()).toMatchObject({ workers: 1, busy: 1, queued: 1 });
      const refused = await rejection(pool.parse(SMALL));
      expect(isMeshportError(refused) && refused.status).toBe(503);
      expect(isMeshportError(refused) && refused.code).toBe("unavailable:parser_busy");
      expect(pool.stats()).toMatchObject({ workers: 1, busy: 1, queued: 1 });

      expect((await running).contract?.title).toBe("Generated plant telemetry");
      expect((await queued).contract?.title).toBe("Small");
      expect(pool.stats()).toMatchObject({ workers: 1, busy: 0, queued: 0 });
      // Room again once the queue has drained.
      expect((await pool.parse(SMALL)).contract?.title).toBe("Small");
    } finally {
      await pool.close();
    }
  });

  it("answers parse-memory when a worker runs out of its heap limit, and keeps serving with a new worker", async () => {
    // A worker needs about 55 MB of heap once the engine is loaded and warm; 128 MB leaves it room for any ordinary
    // upload, while normalising the example bomb needs over 2 GB.
    const pool = new ParsePool({ size: 1, maxQueue: 1, timeoutMs: 120_000, maxOldGenerationSizeMb: 128 });
    try {
      await pool.whenReady();
      expect((await pool.parse(SMALL)).contract?.title).toBe("Small");
      const result = await pool.parse(exampleBomb(9, 8), PERMISSIVE);
      expect(result.contract).toBeUndefined();
      expect(result.diagnostics).toEqual([expect.objectContaining({ code: "parse-memory", severity: "error", message: expect.stringContaining("128 MB") })]);
      expect(isRefusal(result.diagnostics[0]!)).toBe(true);
      expect(pool.stats().workers).toBe(1);
      expect((await pool.parse(SMALL)).contract?.title).toBe("Small");
    } finally {
      await pool.close();
    }
  });

  it("rejects, instead of respawning forever, when the worker script cannot load", async () => {
    const pool = new ParsePool({ size: 1, workerFile: path.join(process.cwd(), "lib", "parse-pool", "missing.mjs") });
    try {
      await expect(pool.parse(SMALL)).rejects.toThrow(/cannot start/);
    } finally {
      await pool.close();
    }
  });
});

describe("the worker script under plain Node.js", { timeout: 90_000 }, () => {
  it("loads the engine and parses a document, as in production", async () => {
    // A separate `node` process, started outside the test runner's module loader, from an unrelated directory.
    const script = `
      import { Worker } from "node:worker_threads";
      const worker = new Worker(${JSON.stringify(WORKER)}, { execArgv: [] });
      worker.on("error", (error) => { console.error(error); process.exit(2); });
      worker.on("message", (message) => {
        if (message.type === "ready") worker.postMessage({ id: 7, upload: { "asyncapi.yaml": ${JSON.stringify(SMALL)} }, options: {} });
        else { console.log(JSON.stringify(message)); void worker.terminate(); }
      });
    `;
    const cwd = mkdtempSync(path.join(os.tmpdir(), "meshport-worker-"));
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd, timeout: 60_000 });
    const message = JSON.parse(stdout) as { type: string; id: number; result: { contract?: { title: string } } };
    expect(message).toMatchObject({ type: "result", id: 7, result: { contract: { title: "Small" } } });
  });
});
