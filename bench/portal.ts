import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort } from "../db/testing/postgres-server.ts";

/** A production portal started for a benchmark, with a token of the given scopes. */
export interface BenchPortal {
  base: string;
  token: string;
  /** the server's process id (its CPU can be read from /proc) */
  pid: number;
  stop(): Promise<void>;
}

/** How a benchmark's portal is started. */
export interface BenchPortalOptions {
  /** taskset's core list to pin the server to (null or absent: unpinned) */
  cpus?: string | null;
  /** extra options for the server's node (`--cpu-prof`, which NODE_OPTIONS does not take) */
  nodeArgs?: string[];
}

/** Builds the portal once when no build exists. */
export function ensureBuild(): void {
  if (existsSync(".next/BUILD_ID")) return;
  const build = spawnSync(process.execPath, ["node_modules/next/dist/bin/next", "build"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("next build failed");
}

async function waitForHealth(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("the portal exited during start-up");
    try {
      if ((await fetch(`${base}/api/v1/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the portal did not become healthy");
}

/**
 * Migrates the database named by `env`, creates a token with the CLI (before the server
 * opens the database: PGlite has one writer), then starts the portal's server on a free port: `bin/meshport-portal.mjs`
 * as `npm start` runs it, or bare `next start` on the same build (the baseline of the edge benchmark).
 */
export async function startBenchPortal(
  env: Record<string, string>,
  scopes: string[],
  server: "portal" | "next" = "portal",
  options: BenchPortalOptions = {},
): Promise<BenchPortal> {
  const cli = (args: string[]) =>
    execFileSync(process.execPath, ["bin/meshport.mjs", ...args], { env: { ...process.env, ...env }, encoding: "utf8" }).trim();
  cli(["db", "migrate"]);
  const token = cli(["token", "create", "--name", `bench-${Date.now()}`, "--scope", ...scopes, "--quiet"]);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Node runs the server directly (not through npx), so stopping the child stops the server; taskset, when
  // pinning, replaces itself with it (same process).
  const args = server === "portal" ? ["bin/meshport-portal.mjs"] : ["node_modules/next/dist/bin/next", "start", "-p", String(port), "-H", "127.0.0.1"];
  const node = [process.execPath, ...(options.nodeArgs ?? []), ...args];
  const [command, commandArgs] = options.cpus ? ["taskset", ["-c", options.cpus, ...node]] : [node[0]!, node.slice(1)];
  const child = spawn(command, commandArgs, {
    stdio: "ignore",
    env: { ...process.env, ...env, NODE_ENV: "production", MESHPORT_URL: base, PORT: String(port), MESHPORT_HOST: "127.0.0.1" },
  });
  await waitForHealth(base, child);
  return {
    base,
    token,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
