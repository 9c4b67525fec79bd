import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { openDatabase, type DatabaseHandle } from "../db/client.ts";
import { application, broker, brokerTopic, contractVersion, flow, team } from "../db/schema.ts";
import { ensureBuild, startBenchPortal } from "./portal.ts";
import { median, round } from "./stats.ts";

const APPS = 1_000;
const CHANNELS_PER_APP = 5;
const TEAMS = 25;
const BROKERS = 3;
/** Observed templates: one in three channels, with their producer and consumer clients, plus undocumented ones. */
const OBSERVED_EVERY = 3;
const UNDOCUMENTED = 200;
const RUNS = 7;
const BROWSER_RUNS = 5;
const EMAIL = "bench@meshport.example";
const PASSWORD = "bench-topology-password-1";

const DOMAINS = ["plant", "orders", "warehouse", "shipments", "quality", "energy", "billing", "fleet", "hr", "maintenance"];

/** Fills a migrated database: 1,000 applications with 5,000 channels, each sent by its owner and received by the next one, and what three brokers observed. */
export async function seedTopologyMesh(handle: DatabaseHandle): Promise<{ apps: number; channels: number; flows: number; observed: number; seconds: number }> {
  const started = performance.now();
  const { db } = handle;
  await db.insert(team).values(Array.from({ length: TEAMS }, (_, i) => ({ id: `team_${i}`, slug: `team-${i}`, name: `Team ${i}` })));
  await db.insert(broker).values(Array.from({ length: BROKERS }, (_, i) => ({ id: `site-${i}`, name: `Site ${i}` })));
  const address = (app: number, c: number) => `${DOMAINS[app % DOMAINS.length]}/{id}/s${app}/c${c}`;
  let flows = 0;
  const batch = 100;
  const pending: Array<{ versionId: string; channel: string; action: "send" | "receive"; messageKey: string }> = [];
  for (let start = 0; start < APPS; start += batch) {
    const apps = [];
    const versions = [];
    const rows = [];
    for (let i = start; i < Math.min(APPS, start + batch); i++) {
      apps.push({ id: `app_${i}`, slug: `service-${i}`, name: `Service ${i}`, teamId: `team_${i % TEAMS}`, domain: DOMAINS[i % DOMAINS.length]!, clientIdPatterns: [`service-${i}-*`] });
      versions.push({
        id: `ver_${i}`, applicationId: `app_${i}`, version: "1.0.0", major: 1, minor: 0, patch: 0, state: "released" as const,
        files: { "asyncapi.yaml": "generated" }, rootFile: "asyncapi.yaml", asyncapiVersion: "3.0.0",
        contract: { asyncapi: "3.0.0", title: `Service ${i}`, version: "1.0.0", owners: [], tags: [], servers: {}, channels: {}, operations: {}, securitySchemes: {} },
        contentHash: `sha256:${randomUUID()}`, publishedById: "bench", publishedByLabel: "bench",
      });
      for (let c = 0; c < CHANNELS_PER_APP; c++) {
        rows.push({ versionId: `ver_${i}`, channel: address(i, c), action: "send" as const, messageKey: `m${c}` });
        // The next application consumes it.
        const reader = (i + 1) % APPS;
        rows.push({ versionId: `ver_${reader}`, channel: address(i, c), action: "receive" as const, messageKey: `m${c}` });
      }
    }
    await db.insert(application).values(apps);
    await db.insert(contractVersion).values(versions);
    pending.push(...rows);
    flows += rows.length;
  }
  // Flows reference versions of the next batch too: insert them once every version exists.
  for (let r = 0; r < pending.length; r += 2000) await db.insert(flow).values(pending.slice(r, r + 2000));
  const now = new Date();
  const topics = [];
  for (let i = 0; i < APPS; i++) {
    for (let c = 0; c < CHANNELS_PER_APP; c++) {
      if ((i * CHANNELS_PER_APP + c) % OBSERVED_EVERY !== 0) continue;
      const concrete = address(i, c).replace("{id}", "x-1");
      topics.push({
        brokerId: `site-${i % BROKERS}`, template: address(i, c).replace("{id}", "{p1}"), firstSeen: now, lastSeen: now, totalMessages: 100, totalBytes: 10_000,
        lastRatePerSecond: 1, lastWindowEnd: now, contentKind: "json", distinctTopics: 1, topics: [{ topic: concrete, messages: 100 }], samples: [],
        producers: [{ clientId: `service-${i}-1`, lastSeen: now.toISOString() }],
        consumers: [{ clientId: `service-${(i + 1) % APPS}-1`, filter: "#", lastSeen: now.toISOString() }],
      });
    }
  }
  for (let u = 0; u < UNDOCUMENTED; u++) {
    topics.push({
      brokerId: `site-${u % BROKERS}`, template: `debug/{p1}/u${u}`, firstSeen: now, lastSeen: now, totalMessages: 5, totalBytes: 500,
      lastRatePerSecond: 0.1, lastWindowEnd: now, contentKind: "json", distinctTopics: 1, topics: [{ topic: `debug/a/u${u}`, messages: 5 }], samples: [],
      producers: [{ clientId: `stray-${u}`, lastSeen: now.toISOString() }], consumers: [],
    });
  }
  for (let r = 0; r < topics.length; r += 500) await db.insert(brokerTopic).values(topics.slice(r, r + 500));
  return { apps: APPS, channels: APPS * CHANNELS_PER_APP, flows, observed: topics.length, seconds: round((performance.now() - started) / 1000, 1) };
}
async function signIn(base: string): Promise<{ header: string; cookies: Array<{ name: string; value: string }> }> {
  const response = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
    redirect: "manual",
  });
  if (!response.ok) throw new Error(`sign-in answered ${response.status}`);
  const pairs = response.headers.getSetCookie().map((c) => c.split(";")[0]!);
  if (pairs.length === 0) throw new Error("sign-in set no cookie");
  return { header: pairs.join("; "), cookies: pairs.map((p) => ({ name: p.slice(0, p.indexOf("=")), value: p.slice(p.indexOf("=") + 1) })) };
}

/** Server response times of one URL: the first request (layout not cached) and the median of the rest. */
async function timeServer(url: string, headers: Record<string, string>): Promise<{ firstMs: number; medianMs: number; bytes: number; runs: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers, redirect: "manual" });
    const body = await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    times.push(performance.now() - started);
    bytes = body.byteLength;
  }
  return { firstMs: round(times[0]!), medianMs: round(median(times.slice(1))), bytes, runs: times.length };
}

/** Time from navigation to the first graph node drawn by the browser, in a fresh context each run. */
async function timeFirstRender(base: string, cookies: Array<{ name: string; value: string }>, pathAndQuery: string, drawn = '[data-testid="topology-graph"] .react-flow__node'): Promise<{ medianMs: number; runs: number[]; nodesDrawn: number }> {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const runs: number[] = [];
  let nodesDrawn = 0;
  try {
    for (let i = 0; i < BROWSER_RUNS; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await context.addCookies(cookies.map((c) => ({ ...c, url: base })));
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`${base}${pathAndQuery}`, { waitUntil: "commit" });
      await page.locator(drawn).first().waitFor({ state: "visible", timeout: 120_000 });
      runs.push(round(performance.now() - started));
      nodesDrawn = await page.locator(drawn).count();
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return { medianMs: round(median(runs)), runs, nodesDrawn };
}

/**
 * The topology page on a mesh of 1,000 applications and 5,000 channels (PGlite): server response time of
 * /topology (grouped automatically, one team open, ungrouped and capped), of the JSON and SVG exports, and the
 * first render of the graph in headless Chromium.
 */
export async function measureTopologyPage(): Promise<Record<string, unknown>> {
  ensureBuild();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "meshport-bench-topology-"));
  const env = { MESHPORT_DATA_DIR: dataDir, DATABASE_URL: "" };
  try {
    const handle = await openDatabase({ driver: "pglite", dataDir: path.join(dataDir, "pglite") });
    await handle.migrate();
    const seeded = await seedTopologyMesh(handle);
    await handle.close();
    // The account is made before the portal opens the database (PGlite has one writer).
    execFileSync(process.execPath, ["bin/meshport.mjs", "admin", "create", "--email", EMAIL, "--name", "Bench", "--password-stdin"], {
      env: { ...process.env, ...env },
      input: `${PASSWORD}\n`,
      encoding: "utf8",
    });
    const portal = await startBenchPortal(env, ["read"]);
    try {
      const session = await signIn(portal.base);
      const cookie = { cookie: session.header };
      const bearer = { authorization: `Bearer ${portal.token}` };
      const server = {
        // Baseline in the same run: the catalog's list page over the same 1,000 applications.
        catalogBaseline: await timeServer(`${portal.base}/catalog`, cookie),
        pageGrouped: await timeServer(`${portal.base}/topology`, cookie),
        pageTeamOpen: await timeServer(`${portal.base}/topology?group=team&expand=team:team-3`, cookie),
        pageUngroupedCapped: await timeServer(`${portal.base}/topology?group=none`, cookie),
        pageTeamFilter: await timeServer(`${portal.base}/topology?team=team-3&group=none`, cookie),
        json: await timeServer(`${portal.base}/api/v1/topology`, bearer),
        svg: await timeServer(`${portal.base}/api/v1/topology.svg`, bearer),
      };
      const graph = (await (await fetch(`${portal.base}/api/v1/topology`, { headers: bearer })).json()) as { topology: { nodes: unknown[]; edges: unknown[]; truncated: boolean; grouping: string | null } };
      const browser = {
        grouped: await timeFirstRender(portal.base, session.cookies, "/topology"),
        teamOpen: await timeFirstRender(portal.base, session.cookies, "/topology?group=team&expand=team:team-3"),
        catalogBaseline: await timeFirstRender(portal.base, session.cookies, "/catalog", '[data-testid="applications-table"] tbody tr'),
      };
      return {
        seeded,
        graph: { nodes: graph.topology.nodes.length, edges: graph.topology.edges.length, grouping: graph.topology.grouping, truncated: graph.topology.truncated },
        server,
        browser,
      };
    } finally {
      await portal.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
