// A parse worker: plain JavaScript so that plain Node.js runs it as it is, in `next start`, the CLI and tests.
// It loads the TypeScript contract engine from source through tsx (a runtime dependency, as for bin/), warms the
// parser up once, then parses one upload per message. Results are plain data (structured-cloneable).
import { isMainThread, parentPort } from "node:worker_threads";
import { register as registerTsx } from "tsx/esm/api";

if (isMainThread || !parentPort) throw new Error("lib/parse-pool/worker.mjs runs as a worker thread of the parse pool.");
const port = parentPort;

registerTsx();
const { parseContract } = await import("../../registry/parse/index.ts");

// The first parse builds the Spectral ruleset and compiles schemas (one to three seconds): pay it before any
// upload is timed against the budget.
const WARM_UP = "asyncapi: 3.0.0\ninfo:\n  title: Warm-up\n  version: 1.0.0\nchannels:\n  c:\n    address: c\n";
await parseContract(WARM_UP).catch(() => undefined);

port.on("message", async (message) => {
  const { id, upload, options } = message;
  try {
    const result = await parseContract(upload, options);
    port.postMessage({ type: "result", id, result });
  } catch (error) {
    port.postMessage({ type: "failed", id, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
port.postMessage({ type: "ready" });
