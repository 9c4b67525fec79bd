/**
 * Starts a real RabbitMQ (Debian's rabbitmq-server 3.10) for tests and the benchmark, as a node of
 * its own: own node name, ports on loopback, its own port mapper (epmd) on a free port, and every
 * file (database, logs, configuration, plugins list, Erlang cookie) in a temp directory. The
 * system node (`rabbitmq-server` without this environment) is never started or touched.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./mosquitto.ts";

/** Where Debian installs the server scripts. */
export const RABBITMQ_BIN_DIR = ["/usr/lib/rabbitmq/bin"].find((d) => existsSync(path.join(d, "rabbitmq-server"))) ?? null;
const EPMD_BIN = ["/usr/bin/epmd", "/usr/lib/erlang/bin/epmd"].find((p) => existsSync(p)) ?? null;

/** A running RabbitMQ node. */
export interface RabbitMq {
  /** amqp://guest:guest@127.0.0.1:<port> (guest may log in over loopback) */
  url: string;
  /** http://127.0.0.1:<port> of the management API */
  managementUrl: string;
  port: number;
  managementPort: number;
  nodeName: string;
  dir: string;
  /** how long the node took to answer on its management API, in ms */
  startMs: number;
  /** Creates a vhost that guest may use (tests keep apart in vhosts of their own). */
  vhost(name: string, options?: { tracing?: boolean }): Promise<void>;
  /** Runs rabbitmqctl against this node (same environment); throws with its output when it fails. */
  ctl(...args: string[]): string;
  /** Calls the management API as guest; returns the status and the parsed body (null when none). */
  api(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Stops the node (rabbitmqctl stop), its port mapper, and removes its directory. */
  cleanup(): Promise<void>;
}

/** Starts a RabbitMQ node; the plugins are management and shovel (with its management pages). */
export async function startRabbitMq(options: { plugins?: string[] } = {}): Promise<RabbitMq> {
  if (!RABBITMQ_BIN_DIR || !EPMD_BIN) throw new Error("rabbitmq-server is not installed (apt-get install rabbitmq-server)");
  const started = Date.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), "meshport-rabbitmq-"));
  const [port, distPort, epmdPort, managementPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const nodeName = `meshport-${randomBytes(4).toString("hex")}@localhost`;
  const plugins = options.plugins ?? ["rabbitmq_management", "rabbitmq_shovel", "rabbitmq_shovel_management"];
  const home = path.join(dir, "home");
  mkdirSync(home);
  const configFile = path.join(dir, "rabbitmq.conf");
  writeFileSync(
    configFile,
    [
      `listeners.tcp.default = 127.0.0.1:${port}`,
      `management.tcp.port = ${managementPort}`,
      "management.tcp.ip = 127.0.0.1",
      // A temp directory on a small disk must not raise the free-disk alarm, which blocks publishers.
      "disk_free_limit.absolute = 1MB",
      // The management API lists new connections and consumers after a statistics interval (5 s by default).
      "collect_statistics_interval = 500",
      "",
    ].join("\n"),
  );
  writeFileSync(path.join(dir, "enabled_plugins"), `[${plugins.join(",")}].\n`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: "127.0.0.1",
    RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(dir, "log"),
    RABBITMQ_CONFIG_FILE: configFile,
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, "advanced.config"),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, "rabbitmq-env.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
    RABBITMQ_PID_FILE: path.join(dir, "rabbitmq.pid"),
    RABBITMQ_LOGS: path.join(dir, "log", "rabbit.log"),
  };
  delete env.RABBITMQ_ENABLED_PLUGINS;

  // Our own port mapper, in the foreground, so we stop exactly the one we started.
  const epmd = spawn(EPMD_BIN, ["-port", String(epmdPort), "-address", "127.0.0.1"], { env, stdio: "ignore" });
  const failed: { error: Error | null } = { error: null };
  epmd.on("error", (err) => (failed.error = err));
  let server: ChildProcess | null = null;
  const stopEpmd = async () => {
    if (epmd.pid === undefined || epmd.exitCode !== null || epmd.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => epmd.once("exit", () => resolve()));
    epmd.kill("SIGTERM");
    await exited;
  };
  const ctl = (...args: string[]): string => {
    const r = spawnSync(path.join(RABBITMQ_BIN_DIR, "rabbitmqctl"), ["-n", nodeName, ...args], { env, encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`rabbitmqctl ${args.join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const api = async (method: string, pathname: string, body?: unknown) => {
    const res = await fetch(managementUrl + pathname, {
      method,
      headers: { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
  };
  // rabbitmq-server is a script that runs the Erlang VM in the background and waits for it: killing
  // the script alone would leave the node running, so kill its whole process group and the VM itself.
  const killNode = (s: ChildProcess) => {
    const pids = [-(s.pid ?? 0)];
    try {
      pids.push(Number.parseInt(readFileSync(env.RABBITMQ_PID_FILE!, "utf8").trim(), 10));
    } catch {
      // no pid file yet: the VM has not started, or is in the group
    }
    for (const pid of pids) {
      if (!Number.isInteger(pid) || pid === 0) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  const cleanup = async () => {
    const s = server as ChildProcess | null;
    if (s && s.pid !== undefined && s.exitCode === null && s.signalCode === null) {
      const exited = new Promise<void>((resolve) => s.once("exit", () => resolve()));
      try {
        ctl("stop");
      } catch {
        killNode(s);
      }
      const timer = setTimeout(() => killNode(s), 15_000);
      await exited;
      clearTimeout(timer);
    }
    // The script may have gone while the VM lingers (killed from outside); make sure of both.
    if (s && s.pid !== undefined) {
      try {
        process.kill(-s.pid, "SIGKILL");
      } catch {
        // the group is empty: nothing left
      }
    }
    await stopEpmd();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Detached: a process group of its own, so cleanup can stop the VM the script runs.
    server = spawn(path.join(RABBITMQ_BIN_DIR, "rabbitmq-server"), [], { env, stdio: ["ignore", "ignore", "pipe"], detached: true });
    server.on("error", (err) => (failed.error = err));
    let stderr = "";
    server.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (failed.error) throw new Error(`cannot start rabbitmq: ${failed.error.message}`);
      if (server.exitCode !== null) throw new Error(`rabbitmq-server exited (${server.exitCode}): ${stderr}${tail(env.RABBITMQ_LOGS!)}`);
      if (Date.now() > deadline) throw new Error(`rabbitmq did not answer on ${managementUrl}: ${stderr}${tail(env.RABBITMQ_LOGS!)}`);
      const up = await api("GET", "/api/overview").then(
        (r) => r.status === 200,
        () => false,
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    managementUrl,
    port,
    managementPort,
    nodeName,
    dir,
    startMs: Date.now() - started,
    ctl,
    api,
    vhost: async (name, vhostOptions = {}) => {
      const v = encodeURIComponent(name);
      const created = await api("PUT", `/api/vhosts/${v}`, { tracing: vhostOptions.tracing ?? false });
      if (created.status >= 300) throw new Error(`cannot create vhost ${name}: ${created.status}`);
      const granted = await api("PUT", `/api/permissions/${v}/guest`, { configure: ".*", write: ".*", read: ".*" });
      if (granted.status >= 300) throw new Error(`cannot grant vhost ${name} to guest: ${granted.status}`);
    },
    cleanup,
  };
}

function tail(file: string): string {
  try {
    return `\n${readFileSync(file, "utf8").slice(-2_000)}`;
  } catch {
    return "";
  }
}
