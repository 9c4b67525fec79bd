/**
 * A PostgreSQL server the fault suite can stop and start again on the same data folder
 * and port (db/testing/postgres-server.ts starts one that only stops for good).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { findPostgresBinaries, freePort, isAlive, postmasterPid } from "@/db/testing/postgres-server.ts";

export { findPostgresBinaries };

/** A PostgreSQL server that survives its own restarts. */
export interface RestartablePostgres {
  /** URL of the server's `postgres` database. */
  url: string;
  /** Stops the server (fast shutdown: open connections are cut). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data folder. */
  start(): Promise<void>;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server and removes its folder. */
  cleanup(): Promise<void>;
}

/** initdb into a temporary folder and start postgres on a free loopback port (as `postgres` under root). */
export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const bin = findPostgresBinaries();
  if (!bin) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  const dir = mkdtempSync(path.join(os.tmpdir(), "meshport-faults-pg-"));
  const dataDir = path.join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (file: string, args: string[]) =>
    asRoot ? { file: "runuser", args: ["-u", "postgres", "--", file, ...args] } : { file, args };
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const init = run(path.join(bin, "initdb"), ["-D", dataDir, "-U", "meshport", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  execFileSync(init.file, init.args, { stdio: "pipe" });
  const port = await freePort();
  const url = `postgres://meshport@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | null = null;
  let stderr = "";

  const start = async () => {
    const command = run(path.join(bin, "postgres"), [
      "-D", dataDir,
      "-p", String(port),
      "-k", dir,
      "-c", "listen_addresses=127.0.0.1",
      // Durable commits: the suite checks what survives a crash, so fsync stays as in production.
      "-c", "max_connections=200",
    ]);
    const started = spawn(command.file, command.args, { stdio: ["ignore", "ignore", "pipe"] });
    child = started;
    started.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`postgres exited: ${stderr}`);
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  const stop = async () => {
    // Signal the postmaster itself: under root it runs behind runuser, which does not forward signals.
    const pid = postmasterPid(dataDir);
    if (pid) {
      process.kill(pid, "SIGINT");
      const deadline = Date.now() + 15_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
    const c = child as ChildProcess | null;
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (c.kill("SIGKILL"), resolve()), 5_000);
        c.once("exit", () => (clearTimeout(timer), resolve()));
      });
    }
    child = null;
  };

  await start();
  return {
    url,
    start,
    stop,
    async createDatabase(name: string) {
      if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const target = new URL(url);
      target.pathname = `/${name}`;
      return target.toString();
    },
    async cleanup() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

