/**
 * Starts a real Mosquitto broker for tests and the benchmark, on a free
 * loopback port, with the configuration documented in agents/README.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import os from "node:os";
import path from "node:path";

/** Where Debian installs the broker. */
export const MOSQUITTO_BIN = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].find((p) => existsSync(p)) ?? null;

/** A running Mosquitto. */
export interface Mosquitto {
  url: string;
  port: number;
  /** the broker's log file (log_type all) */
  logFile: string;
  dir: string;
  /** Stops the broker (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Starts it again on the same port and log file. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  cleanup(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    sock.once("connect", () => (sock.destroy(), resolve(true)));
    sock.once("error", () => (sock.destroy(), resolve(false)));
    sock.connect(port, "127.0.0.1");
  });
}

/** A bridge section (`connection`) to another broker on loopback. */
export interface MosquittoBridge {
  /** the connection's name */
  name: string;
  /** port of the remote broker on 127.0.0.1 */
  port: number;
  /** client id the bridge connects to the remote with (`remote_clientid`) */
  clientId: string;
  /** `topic` lines: `orders/# out 1`, `commands/# in 1` */
  topics: string[];
  /** publish the bridge's state on `$SYS/broker/connection/<id>/state` (default true; aedes refuses `$SYS` publishes) */
  notifications?: boolean;
}

/**
 * Starts Mosquitto; `logAll` false leaves out the debug file log (for throughput
 * measurements); `acl` lines become its ACL file; `bridge` adds a bridge section that
 * connects this broker to another one (Mosquitto sets the bridge bit in its CONNECT).
 */
export async function startMosquitto(options: { logAll?: boolean; acl?: string[]; bridge?: MosquittoBridge } = {}): Promise<Mosquitto> {
  if (!MOSQUITTO_BIN) throw new Error("mosquitto is not installed (apt-get install mosquitto)");
  const dir = mkdtempSync(path.join(os.tmpdir(), "meshport-mosquitto-"));
  const port = await freePort();
  const logFile = path.join(dir, "mosquitto.log");
  const conf = path.join(dir, "mosquitto.conf");
  const lines = [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "persistence false",
    "log_dest topic",
    ...(options.logAll === false ? ["log_type error", "log_type warning", "log_type notice", "log_type information", "log_type subscribe", "log_type unsubscribe"] : [`log_dest file ${logFile}`, "log_type all"]),
    // As root Mosquitto drops to the `mosquitto` user, which cannot write our temp directory.
    ...(process.getuid?.() === 0 ? ["user root"] : []),
    // Unbounded queues: a benchmark subscriber that falls behind must not lose messages.
    "max_queued_messages 0",
  ];
  if (options.acl) {
    writeFileSync(path.join(dir, "acl"), options.acl.join("\n") + "\n");
    lines.push(`acl_file ${path.join(dir, "acl")}`);
  }
  if (options.bridge) {
    const b = options.bridge;
    lines.push(
      `connection ${b.name}`,
      `address 127.0.0.1:${b.port}`,
      `remote_clientid ${b.clientId}`,
      "bridge_protocol_version mqttv311",
      "try_private true",
      "cleansession true",
      "start_type automatic",
      "restart_timeout 1",
      `notifications ${b.notifications === false ? "false" : "true"}`,
      ...b.topics.map((t) => `topic ${t}`),
    );
  }
  writeFileSync(conf, lines.join("\n") + "\n");
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(MOSQUITTO_BIN, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(port))) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = async () => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    logFile,
    dir,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    cleanup: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
