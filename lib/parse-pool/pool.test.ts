import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isMeshportError } from "@/lib/errors.ts";
import { isRefusal, ParsePool } from "./pool.ts";

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

/** `levels` anchors of `width` aliases each. */
function bomb(levels: number, width: number): string {
  const lines = [`l0: &l0 [${Array(width).fill("lol").join(", ")}]`];
  for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(", ")}]`);
  return `asyncapi: 3.0.0\ninfo:\n  title: Bomb\n  version: 1.0.0\nchannels: {}\ncomponents:\n  schemas:\n${lines.map((l) => `    ${l}\n`).join("")}`;
}

/** Options that let a 2.4-million-node alias bomb through to Spectral: a parse that takes well over 10 s. */
const SLOW = {
  upload: bomb(7, 8),
  options: { validation: "full" as const, limits: { aliasExpansionAllowance: 4_000_000, maxAliasExpansion: 1e9, fullValidationMaxNodes: 1e9 } },
};

/** Largest delay of a 20 ms timer on this thread while `work` runs: how long the event loop was blocked. */
async function loopLag<T>(work: Promise<T>): Promise<{ result: T; lagMs: number }> {
  let lagMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last - 20);
    last = now;
  }, 20);
  try {
    return { result: await work, lagMs };
  } finally {
    clearInterval(timer);
  }
}

describe("parse pool", { timeout: 60_000 }, () => {
  const pool = new ParsePool({ size: 2, maxQueue: 4, timeoutMs: 5_000 });
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
    const started = performance.now();
    const result = await pool.parse(bomb(9, 9));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(result.contract).toBeUndefined();
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: "alias-bomb", severity: "error" })]);
    expect(isRefusal(result.diagnostics[0]!)).toBe(true);
  });

  it("terminates a worker over the time budget, answers parse-timeout, and keeps serving with a new worker", async () => {
    const slow = pool.parse(SLOW.upload, SLOW.options);
    // The other worker answers meanwhile, and this thread is never blocked.
    const { result: small, lagMs } = await loopLag(pool.parse(SMALL));
    expect(small.contract?.title).toBe("Small");
    expect(lagMs).toBeLessThan(250);
    const started = performance.now();
    const refused = await slow;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(refused.contract).toBeUndefined();
    expect(refused.diagnostics).toEqual([
      expect.objectContaining({ code: "parse-timeout", severity: "error", file: "asyncapi.yaml", message: expect.stringContaining("longer than 5 s") }),
    ]);
    expect(isRefusal(refused.diagnostics[0]!)).toBe(true);
    const after = await pool.parse(SMALL);
    expect(after.contract?.title).toBe("Small");
    expect(pool.stats().workers).toBe(2);
  });
});

describe("parse pool limits", { timeout: 120_000 }, () => {
  it("refuses work beyond its bounded queue as busy (503)", async () => {
    const pool = new ParsePool({ size: 1, maxQueue: 1, timeoutMs: 5_000 });
    try {
      await pool.whenReady();
      const running = pool.parse(SLOW.upload, SLOW.options);
      const queued = pool.parse(SMALL);
      const refused = await pool.parse(SMALL).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isMeshportError(refused) && refused.status).toBe(503);
      expect((await running).diagnostics[0]?.code).toBe("parse-timeout");
      expect((await queued).contract?.title).toBe("Small");
    } finally {
      await pool.close();
    }
  });

  it("answers parse-memory when a worker runs out of its heap limit", async () => {
    const pool = new ParsePool({ size: 1, maxQueue: 1, timeoutMs: 60_000, maxOldGenerationSizeMb: 160 });
    try {
      const result = await pool.parse(bomb(8, 8), {
        validation: "full",
        limits: { maxNodes: 1e9, aliasExpansionAllowance: 1e9, maxAliasExpansion: 1e9, fullValidationMaxNodes: 1e9 },
      });
      expect(result.diagnostics).toEqual([expect.objectContaining({ code: "parse-memory", message: expect.stringContaining("160 MB") })]);
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
