/**
 * Starts a real nats-server for tests and the benchmark, on free loopback
 * ports, with the monitoring endpoint and (by default) JetStream in a temp
 * directory; and two servers linked by a route or a leafnode.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./mosquitto.ts";

/** Where Debian installs the server. */
export const NATS_SERVER_BIN = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"].find((p) => existsSync(p)) ?? null;

/** A running nats-server. */
export interface NatsServer {
  /** client URL, `nats://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** monitoring base URL, `http://127.0.0.1:PORT` */
  monitorUrl: string;
  monitorPort: number;
  /** the server's name (server_name) */
  name: string;
  dir: string;
  /** Stops the server (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and store. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  cleanup(): Promise<void>;
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** enable JetStream, stored in the server's temp directory (default true) */
  jetstream?: boolean;
  name?: string;
  /** extra lines of the configuration file (cluster, leafnodes blocks) */
  extra?: string[];
  /** largest amount buffered for a slow subscriber (bytes) before the server cuts it off */
  maxPending?: number;
  /** ports chosen beforehand (for servers that name each other) */
  port?: number;
  monitorPort?: number;
}

async function healthy(monitorUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts nats-server; resolves once its monitoring endpoint says it is healthy. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  if (!NATS_SERVER_BIN) throw new Error("nats-server is not installed (apt-get install nats-server)");
  const dir = mkdtempSync(path.join(os.tmpdir(), "meshport-nats-"));
  const port = options.port ?? (await freePort());
  const monitorPort = options.monitorPort ?? (await freePort());
  const name = options.name ?? `meshport-test-${port}`;
  const conf = path.join(dir, "nats.conf");
  const lines = [
    `server_name: "${name}"`,
    `listen: "127.0.0.1:${port}"`,
    `http: "127.0.0.1:${monitorPort}"`,
    ...(options.maxPending ? [`max_pending: ${options.maxPending}`] : []),
    ...(options.jetstream === false ? [] : [`jetstream {\n  store_dir: "${path.join(dir, "js")}"\n  max_memory_store: 64MB\n  max_file_store: 256MB\n}`]),
    ...(options.extra ?? []),
  ];
  writeFileSync(conf, lines.join("\n") + "\n");
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(NATS_SERVER_BIN, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
    const deadline = Date.now() + 15_000;
    while (!(await healthy(monitorUrl))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not answer on ${monitorUrl}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = async () => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl,
    monitorPort,
    name,
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

/** Two servers linked to each other. */
export interface NatsPair {
  /** route: the first cluster member; leafnode: the hub that accepts the leafnode */
  a: NatsServer;
  /** route: the second member; leafnode: the spoke that connects to the hub */
  b: NatsServer;
  cleanup(): Promise<void>;
}

/** Polls a monitoring path until the predicate holds on its JSON, or throws after the timeout. */
export async function waitForMonitor(monitorUrl: string, pathAndQuery: string, predicate: (body: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${monitorUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok && predicate((await res.json()) as Record<string, unknown>)) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${monitorUrl}${pathAndQuery}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts two servers (without JetStream) linked by a cluster route or a leafnode connection;
 * resolves once both ends report the link.
 */
export async function startNatsPair(link: "route" | "leafnode"): Promise<NatsPair> {
  const [portA, portB, linkA, linkB] = [await freePort(), await freePort(), await freePort(), await freePort()];
  let a: NatsServer;
  let b: NatsServer;
  if (link === "route") {
    const cluster = (own: number, other: number) => [`cluster {\n  name: "meshport-test"\n  listen: "127.0.0.1:${own}"\n  routes: ["nats-route://127.0.0.1:${other}"]\n}`];
    a = await startNatsServer({ jetstream: false, port: portA, name: `route-a-${portA}`, extra: cluster(linkA, linkB) });
    b = await startNatsServer({ jetstream: false, port: portB, name: `route-b-${portB}`, extra: cluster(linkB, linkA) }).catch(async (err) => {
      await a.cleanup();
      throw err;
    });
    const routed = (body: Record<string, unknown>) => Number(body.num_routes) >= 1;
    await Promise.all([waitForMonitor(a.monitorUrl, "/routez", routed), waitForMonitor(b.monitorUrl, "/routez", routed)]);
  } else {
    a = await startNatsServer({ jetstream: false, port: portA, name: `hub-${portA}`, extra: [`leafnodes {\n  listen: "127.0.0.1:${linkA}"\n}`] });
    b = await startNatsServer({
      jetstream: false,
      port: portB,
      name: `spoke-${portB}`,
      extra: [`leafnodes {\n  remotes: [{ url: "nats-leaf://127.0.0.1:${linkA}" }]\n  reconnect: 1\n}`],
    }).catch(async (err) => {
      await a.cleanup();
      throw err;
    });
    const linked = (body: Record<string, unknown>) => Number(body.leafnodes) >= 1;
    await Promise.all([waitForMonitor(a.monitorUrl, "/leafz", linked), waitForMonitor(b.monitorUrl, "/leafz", linked)]);
  }
  return {
    a,
    b,
    cleanup: async () => {
      await b.cleanup();
      await a.cleanup();
    },
  };
}
