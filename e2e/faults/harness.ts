/**
 * The fault suite's harness: real portal processes from a production build, on PGlite or a
 * PostgreSQL server, started, stopped, killed and restarted by the tests; accounts and tokens;
 * the database opened directly (with the portal down) to check what a crash left behind.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, type WriteStream } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, onTestFailed } from "vitest";
import { freePort } from "@/db/testing/postgres-server.ts";
import { findPostgresBinaries, startRestartablePostgres, type RestartablePostgres } from "./postgres.ts";

export { freePort };

/** The repository root: the portal and the CLIs run from there. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The build folder the portal serves (`MESHPORT_DIST_DIR`, default `.next`); refuses to go on without a build. */
export function distDir(): string {
  const dir = process.env.MESHPORT_DIST_DIR || ".next";
  if (!existsSync(path.join(ROOT, dir, "BUILD_ID"))) {
    throw new Error(
      `The fault suite runs a production build, and ${dir}/BUILD_ID is missing. ` +
        `Run \`npm run build\` first (or build into another folder with MESHPORT_DIST_DIR=… npx next build and set MESHPORT_DIST_DIR).`,
    );
  }
  return dir;
}

/** Where the portals' whole output is written, one file per portal. */
export const LOG_DIR = path.join(ROOT, "e2e", "artifacts", "faults");

const AUTH_SECRET = "fault-suite-secret-0123456789abcdef0123456789";
export const ADMIN_EMAIL = "faults@example.com";
export const ADMIN_PASSWORD = "fault suite password 1";

/** Where a portal keeps its data: a PGlite data folder, or a database on a PostgreSQL server. */
export interface Backend {
  kind: "pglite" | "postgres";
  /** Secrets and, on PGlite, the database. */
  dataDir: string;
  /** Set on PostgreSQL. */
  databaseUrl?: string;
  /** The PostgreSQL server, when the backend is one (so a test can stop and start it). */
  server?: RestartablePostgres;
}

/** The environment a portal or CLI process of this backend runs with. */
function backendEnv(backend: Backend): NodeJS.ProcessEnv {
  const inherited: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // Whatever the parent was given for its own database must not leak into the processes under test.
    if (value !== undefined && key !== "DATABASE_URL" && key !== "MESHPORT_DEMO" && !key.startsWith("VITEST")) inherited[key] = value;
  }
  return {
    ...inherited,
    NODE_ENV: "production",
    MESHPORT_DATA_DIR: backend.dataDir,
    MESHPORT_AUTH_SECRET: AUTH_SECRET,
    ...(backend.databaseUrl ? { DATABASE_URL: backend.databaseUrl } : {}),
  };
}

/** Runs `bin/meshport.mjs` against the backend and returns its standard output. */
export function meshportCli(backend: Backend, args: string[], input?: string): string {
  const run = spawnSync(process.execPath, ["bin/meshport.mjs", ...args], {
    cwd: ROOT,
    env: backendEnv(backend),
    input,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`meshport ${args.join(" ")} failed (${run.status}): ${run.stderr}${run.stdout}`);
  return run.stdout;
}

/** The first admin and an admin token, created with the CLI (with the portal stopped, as PGlite requires). */
export interface Bootstrap {
  adminToken: string;
}

/** Creates the first admin account and an admin-scoped token on a fresh backend. */
export function bootstrapAccounts(backend: Backend): Bootstrap {
  meshportCli(backend, ["admin", "create", "--email", ADMIN_EMAIL, "--name", "Fault Suite", "--password-stdin"], `${ADMIN_PASSWORD}\n`);
  const adminToken = meshportCli(backend, ["token", "create", "--name", "faults-admin", "--scope", "admin", "--quiet"]).trim();
  return { adminToken };
}

/** A fresh PGlite backend in a temporary folder. */
export function pgliteBackend(): Backend {
  return { kind: "pglite", dataDir: mkdtempSync(path.join(os.tmpdir(), "meshport-faults-")) };
}

/** A fresh database on the server. */
export async function postgresBackend(server: RestartablePostgres): Promise<Backend> {
  const name = `faults_${randomBytes(5).toString("hex")}`;
  return { kind: "postgres", dataDir: mkdtempSync(path.join(os.tmpdir(), "meshport-faults-")), databaseUrl: await server.createDatabase(name), server };
}

/** Removes the backend's temporary folder (the PostgreSQL server goes with its suite). */
export function removeBackend(backend: Backend): void {
  rmSync(backend.dataDir, { recursive: true, force: true });
}

/** A portal process under test. */
export interface Portal {
  url: string;
  port: number;
  backend: Backend;
  /** Starts it (again) on the same port and backend, and waits until it answers. */
  start(): Promise<void>;
  /** SIGKILL: no chance to finish anything. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** Whether the process is running. */
  running(): boolean;
  /** The last lines of its output (all runs). */
  logs(): string;
  /** The file holding its whole output. */
  logFile: string;
}

const portals = new Set<Portal>();

/** A portal on a free port (not started). */
export async function createPortal(backend: Backend, extraEnv: Record<string, string> = {}): Promise<Portal> {
  const dist = distDir();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Kept after the run (e2e/artifacts is where CI collects what tests leave behind).
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `portal-${backend.kind}-${port}.log`);
  let log: WriteStream | null = null;
  let child: ChildProcess | null = null;
  let tail = "";
  const record = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-20_000);
    log?.write(chunk);
  };
  const isRunning = () => !!child && child.exitCode === null && child.signalCode === null;
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => c.once("exit", () => resolve()));

  const portal: Portal = {
    url,
    port,
    backend,
    running: isRunning,
    logs: () => tail,
    logFile,
    async start() {
      if (isRunning()) throw new Error("the portal is already running");
      log ??= createWriteStream(logFile, { flags: "a" });
      const started = spawn(process.execPath, ["bin/meshport-portal.mjs"], {
        cwd: ROOT,
        env: {
          ...backendEnv(backend),
          PORT: String(port),
          MESHPORT_HOST: "127.0.0.1",
          MESHPORT_URL: url,
          MESHPORT_DIST_DIR: dist,
          ...extraEnv,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      started.stdout?.on("data", record);
      started.stderr?.on("data", record);
      await waitForHealth(url, () => !isRunning(), () => tail);
    },
    async kill() {
      const c = child;
      if (!c || !isRunning()) return;
      c.kill("SIGKILL");
      await exited(c);
    },
    async stop() {
      const c = child;
      if (!c || !isRunning()) return;
      c.kill("SIGTERM");
      const timer = setTimeout(() => c.kill("SIGKILL"), 15_000);
      await exited(c);
      clearTimeout(timer);
    },
  };
  portals.add(portal);
  return portal;
}

/** Stops the portals a test file started and forgets them. */
export async function stopAllPortals(): Promise<void> {
  await Promise.all([...portals].map((p) => p.stop()));
  portals.clear();
}

/** Waits until `/api/v1/health` answers 200. */
export async function waitForHealth(url: string, gone: () => boolean, logs: () => string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone()) throw new Error(`the portal exited during start-up:\n${logs()}`);
    try {
      const response = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the portal at ${url} did not become healthy within ${timeoutMs} ms:\n${logs()}`);
}

/** Prints every portal's recent output when the current test fails. Call inside a test or beforeEach. */
export function logsOnFailure(): void {
  onTestFailed(() => {
    for (const portal of portals) {
      console.error(`\n--- portal ${portal.url} (${portal.backend.kind}), whole output in ${portal.logFile} ---\n${portal.logs()}`);
    }
    for (const agent of agents) console.error(`\n--- agent ${agent.metricsUrl} output ---\n${agent.logs()}`);
  });
}

/** An answer of the portal, with its body parsed when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

/** One request; never throws on an HTTP status. */
export async function request(
  base: string,
  pathAndQuery: string,
  init: RequestInit & { token?: string; cookie?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const { token, cookie, timeoutMs = 60_000, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  if (cookie) headers.set("cookie", cookie);
  const response = await fetch(`${base}${pathAndQuery}`, { ...rest, headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** A JSON request that must succeed with one of `expected`; returns the parsed body. */
export async function api<T = Record<string, unknown>>(
  base: string,
  method: string,
  pathAndQuery: string,
  token: string,
  body?: unknown,
  expected: number[] = [200, 201, 202],
): Promise<T> {
  const answer = await request(base, pathAndQuery, {
    method,
    token,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
  });
  if (!expected.includes(answer.status)) throw new Error(`${method} ${pathAndQuery} answered ${answer.status}: ${answer.text.slice(0, 2000)}`);
  return answer.body as T;
}

/** Signs the admin in through the portal's auth endpoint and returns the session cookie. */
export async function signIn(base: string, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<string> {
  const response = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email, password }),
    redirect: "manual",
  });
  if (!response.ok) throw new Error(`sign-in answered ${response.status}: ${await response.text()}`);
  const cookies = response.headers.getSetCookie().map((c) => c.split(";")[0]!);
  if (!cookies.length) throw new Error("sign-in set no cookie");
  return cookies.join("; ");
}

/** Creates a team and registers an application for it. */
export async function createApplication(base: string, adminToken: string, slug: string, team = "faults"): Promise<void> {
  await api(base, "POST", "/api/v1/teams", adminToken, { slug: team, name: "Fault suite" }, [201, 409]);
  await api(base, "POST", "/api/v1/applications", adminToken, { slug, name: slug, team });
}

/**
 * Creates an agent-report token for one broker. When the token input asks for a broker binding
 * (a field naming the broker), the refusal names the field and the token is created with it.
 */
export async function createAgentToken(base: string, adminToken: string, brokerId: string): Promise<string> {
  const input = { name: `agent-${brokerId}`, scopes: ["agent:report"] };
  const first = await request(base, "/api/v1/admin/tokens", {
    method: "POST",
    token: adminToken,
    body: JSON.stringify(input),
    headers: { "content-type": "application/json" },
  });
  if (first.status === 201) return (first.body as { secret: string }).secret;
  const fieldErrors = (first.body as { error?: { details?: { fieldErrors?: Record<string, unknown> } } })?.error?.details?.fieldErrors ?? {};
  const field = Object.keys(fieldErrors).find((key) => /broker/i.test(key));
  if (first.status !== 422 || !field) throw new Error(`token creation answered ${first.status}: ${first.text.slice(0, 2000)}`);
  const created = await api<{ secret: string }>(base, "POST", "/api/v1/admin/tokens", adminToken, { ...input, [field]: brokerId });
  return created.secret;
}

/** Queries on a backend's database, opened directly. */
export type Query = <T extends Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

/**
 * Opens the backend's database directly for `body`'s queries. On PGlite only while no portal holds
 * the data folder (one writer): the fault tests look between a kill and the restart.
 */
export async function withDatabase<R>(backend: Backend, body: (query: Query) => Promise<R>): Promise<R> {
  if (backend.databaseUrl) {
    const client = new pg.Client({ connectionString: backend.databaseUrl });
    await client.connect();
    try {
      return await body(async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[]);
    } finally {
      await client.end();
    }
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const db = new PGlite(path.join(backend.dataDir, "pglite"));
  try {
    await db.waitReady;
    return await body(async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.query<T>(sql, params)).rows);
  } finally {
    await db.close();
  }
}

/** A PostgreSQL server shared by one test file; null when PostgreSQL is not installed (outside CI). */
let sharedServer: Promise<RestartablePostgres | null> | null = null;
export function postgresServer(): Promise<RestartablePostgres | null> {
  sharedServer ??= (async () => {
    if (!findPostgresBinaries()) {
      const message = "PostgreSQL is not installed: the fault suite runs on PGlite only (apt-get install postgresql).";
      if (process.env.CI) throw new Error(message);
      console.warn(`\n!!! ${message}\n`);
      return null;
    }
    return startRestartablePostgres();
  })();
  return sharedServer;
}

/** Stops the shared PostgreSQL server, if one was started. */
export async function stopPostgresServer(): Promise<void> {
  const server = await sharedServer;
  sharedServer = null;
  await server?.cleanup();
}

/** Runs `body` once per backend kind: PGlite always, PostgreSQL when installed (always in CI). */
export function describeEachBackend(name: string, body: (kind: Backend["kind"]) => void): void {
  describe.each(["pglite", "postgres"] as const)(`${name} (%s)`, (kind) => body(kind));
}

/** A fresh backend of the kind; null when it cannot run here (PostgreSQL missing outside CI). */
export async function freshBackend(kind: Backend["kind"]): Promise<Backend | null> {
  distDir(); // no build, no point in setting anything up
  if (kind === "pglite") return pgliteBackend();
  const server = await postgresServer();
  return server ? postgresBackend(server) : null;
}

/** Waits until `check` returns a value other than undefined, or fails with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ""}`);
}

/** A broker agent process (bin/meshport-agent.mjs) under test. */
export interface AgentProcess {
  /** `/readyz` and `/metrics` of the agent. */
  metricsUrl: string;
  stop(): Promise<void>;
  logs(): string;
}

const agents = new Set<AgentProcess>();

/** Starts the real agent CLI against a broker and a portal, reporting every second, and waits until it is subscribed. */
export async function startAgentProcess(options: { broker: string; brokerId: string; portal: string; token: string; spool: string }): Promise<AgentProcess> {
  const metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      "bin/meshport-agent.mjs",
      "--broker", options.broker,
      "--broker-id", options.brokerId,
      "--portal", options.portal,
      "--spool", options.spool,
      "--interval", "1",
      "--metrics-port", String(metricsPort),
      "--log-level", "info",
    ],
    { cwd: ROOT, env: { ...process.env, MESHPORT_AGENT_TOKEN: options.token }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let tail = "";
  const record = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-20_000));
  child.stdout.on("data", record);
  child.stderr.on("data", record);
  const agent: AgentProcess = {
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    logs: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  agents.add(agent);
  await eventually(
    "the agent to subscribe to the broker",
    async () => {
      if (child.exitCode !== null) throw new Error(`the agent exited: ${tail}`);
      return (await fetch(`${agent.metricsUrl}/readyz`)).ok ? true : undefined;
    },
    60_000,
  );
  return agent;
}

/** Stops the agents a test file started. */
export async function stopAllAgents(): Promise<void> {
  await Promise.all([...agents].map((a) => a.stop()));
  agents.clear();
}

/** The messages the portal has recorded per topic template of a broker (0 when the broker is unknown yet). */
export async function recordedMessages(base: string, token: string, brokerId: string): Promise<Map<string, number>> {
  const answer = await request(base, `/api/v1/brokers/${encodeURIComponent(brokerId)}?limit=500`, { token, timeoutMs: 10_000 });
  if (answer.status === 404) return new Map();
  if (answer.status !== 200) throw new Error(`GET broker answered ${answer.status}: ${answer.text.slice(0, 500)}`);
  const { topics } = answer.body as { topics: Array<{ template: string; totalMessages: number }> };
  return new Map(topics.map((t) => [t.template, Number(t.totalMessages)]));
}
