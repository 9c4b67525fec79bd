// Starts a production build of the portal for end-to-end tests: a fresh data folder,
// demo mode with a known password, on the port Playwright waits for. With DATABASE_URL
// set, it runs on a scratch database created on that server and dropped afterwards.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { runPortal } from "./portal-process.mjs";

const port = process.env.PORT || "3210";
if (!existsSync(path.join(process.env.MESHPORT_DIST_DIR || ".next", "BUILD_ID"))) {
  const build = spawnSync("npx", ["next", "build"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

async function adminQuery(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

let scratchUrl;
let dropScratch = async () => undefined;
if (process.env.DATABASE_URL) {
  const name = `meshport_e2e_${randomBytes(5).toString("hex")}`;
  await adminQuery(process.env.DATABASE_URL, `CREATE DATABASE ${name}`);
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  scratchUrl = url.toString();
  dropScratch = () => adminQuery(process.env.DATABASE_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), "meshport-e2e-"));
const mqttPort = process.env.MESHPORT_E2E_MQTT_PORT || await new Promise((resolve) => {
  const probe = net.createServer().listen(0, "127.0.0.1", () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(String(free)));
  });
});
const portal = runPortal({
  port,
  host: "127.0.0.1",
  env: {
    ...process.env,
    ...(scratchUrl ? { DATABASE_URL: scratchUrl } : {}),
    NODE_ENV: "production",
    MESHPORT_DATA_DIR: dataDir,
    MESHPORT_DEMO: "1",
    MESHPORT_DEMO_PASSWORD: process.env.MESHPORT_DEMO_PASSWORD || "e2e-demo-password",
    MESHPORT_DEMO_MQTT_PORT: mqttPort,
    MESHPORT_DEMO_REPORT_SECONDS: "2",
    MESHPORT_URL: `http://127.0.0.1:${port}`,
    // The tests' webhook receivers listen on loopback, and should not wait long for a retry.
    MESHPORT_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    MESHPORT_WEBHOOK_POLL_MS: "200",
    MESHPORT_WEBHOOK_BACKOFF_MS: "500",
    // Drift: a channel is silent after 30 s without traffic, and the sweep looks every 5 s.
    MESHPORT_DRIFT_SILENT_AFTER_SECONDS: "30",
    MESHPORT_DRIFT_SWEEP_SECONDS: "5",
  },
});
portal.on("exit", () => void dropScratch());
