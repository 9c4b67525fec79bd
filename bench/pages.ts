import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, asc, eq } from "drizzle-orm";
import { openDatabase, type DatabaseHandle } from "../db/client.ts";
import { application, contractVersion, flow } from "../db/schema.ts";
import { createScratchDatabase, findPostgresBinaries, startTemporaryPostgres } from "../db/testing/postgres-server.ts";
import { seedCatalog } from "./catalog.ts";
import { ensureBuild, startBenchPortal, type BenchPortal } from "./portal.ts";
import type { BenchResult } from "./run.ts";
import { seedMesh } from "./seed-mesh.ts";
import { median, percentile, round } from "./stats.ts";

const WARM_UP_ROUNDS = 5;
const ROUNDS = Number(process.env.MESHPORT_BENCH_PAGES_ROUNDS ?? 60);
const TARGET_P95_MS = 100;
/** The pages to time (comma-separated names, such as `broker,application`); all when unset. */
const ONLY = process.env.MESHPORT_BENCH_PAGES_ONLY?.split(",").map((name) => name.trim()).filter(Boolean);
const PASSWORD = "bench-pages-password-1";
const NOUNS = ["temperature", "pressure", "status", "created", "alarm", "reading", "invoice", "inspection"];

// A fixed-seed generator keeps every run on the same requests.
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Signs in through the real email/password sign-in; returns the session cookie header. */
async function signIn(base: string, email: string): Promise<string> {
  const response = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email, password: PASSWORD }),
    redirect: "manual",
  });
  if (!response.ok) throw new Error(`sign-in of ${email} answered ${response.status}`);
  const pairs = response.headers.getSetCookie().map((c) => c.split(";")[0]!);
  if (pairs.length === 0) throw new Error("sign-in set no cookie");
  return pairs.join("; ");
}

/** Creates an account through the admin API (the token is admin-scoped). */
async function createAccount(portal: BenchPortal, email: string, role: "viewer" | "reviewer"): Promise<void> {
  const response = await fetch(`${portal.base}/api/v1/admin/users`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${portal.token}` },
    body: JSON.stringify({ name: `Bench ${role}`, email, password: PASSWORD, role }),
  });
  if (response.status !== 201) throw new Error(`creating ${email} answered ${response.status}: ${await response.text()}`);
}

interface PageKind {
  /** the account that opens it: audit needs a reviewer */
  as: "viewer" | "reviewer";
  url: () => string;
  /** text the whole page must hold, so an error page is not timed as a fast one */
  expect: string;
}

async function timeOne(url: string, cookie: string, expect: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { headers: { cookie }, redirect: "manual" });
  // The whole HTML, streamed parts included.
  const body = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  if (!body.includes(expect)) throw new Error(`${url} lacks ${JSON.stringify(expect)}`);
  return elapsed;
}

async function measure(label: string, env: Record<string, string>, handle: DatabaseHandle) {
  const catalog = await seedCatalog(handle);
  const mesh = await seedMesh(handle);
  // Channels to open: a sent channel of each of a few hundred applications.
  const channels = await handle.db
    .selectDistinctOn([application.slug], { slug: application.slug, channel: flow.channel })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .innerJoin(application, eq(application.id, contractVersion.applicationId))
    .where(and(eq(flow.action, "send")))
    .orderBy(asc(application.slug), asc(flow.channel))
    .limit(300);
  await handle.close();
  const portal = await startBenchPortal(env, ["admin"]);
  try {
    await createAccount(portal, "viewer@meshport.example", "viewer");
    await createAccount(portal, "reviewer@meshport.example", "reviewer");
    const cookies = { viewer: await signIn(portal.base, "viewer@meshport.example"), reviewer: await signIn(portal.base, "reviewer@meshport.example") };
    const random = seeded(5);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const base = portal.base;
    const allPages: Record<string, PageKind> = {
      catalog: { as: "viewer", url: () => `${base}/catalog?page=${1 + Math.floor(random() * 80)}`, expect: 'data-testid="applications-table"' },
      catalogFiltered: { as: "viewer", url: () => `${base}/catalog?team=team-${Math.floor(random() * 20)}`, expect: 'data-testid="applications-table"' },
      application: { as: "viewer", url: () => `${base}/catalog/service-${Math.floor(random() * catalog.apps)}`, expect: 'data-testid="application-name"' },
      channel: {
        as: "viewer",
        url: () => {
          const c = pick(channels);
          return `${base}/catalog/${c.slug}/channel/${encodeURIComponent(c.channel)}`;
        },
        expect: "</html>",
      },
      discover: { as: "viewer", url: () => `${base}/discover?q=${pick(NOUNS)}`, expect: "</html>" },
      brokers: { as: "viewer", url: () => `${base}/brokers`, expect: 'data-testid="brokers-table"' },
      broker: { as: "viewer", url: () => `${base}/brokers/site-${Math.floor(random() * mesh.brokers)}`, expect: "</html>" },
      audit: { as: "reviewer", url: () => `${base}/audit`, expect: 'data-testid="audit-table"' },
    };
    const unknown = ONLY?.filter((name) => !(name in allPages)) ?? [];
    if (unknown.length > 0) throw new Error(`MESHPORT_BENCH_PAGES_ONLY names no page ${unknown.join(", ")} (pages: ${Object.keys(allPages).join(", ")})`);
    const pages = ONLY ? Object.fromEntries(Object.entries(allPages).filter(([name]) => ONLY.includes(name))) : allPages;
    const times = Object.fromEntries(Object.keys(pages).map((k) => [k, [] as number[]]));
    const firstMs: Record<string, number> = {};
    // Warm-up, then every page in turn, round after round, so a slow moment of the machine hits them all alike.
    for (let r = 0; r < WARM_UP_ROUNDS + ROUNDS; r++) {
      for (const [name, page] of Object.entries(pages)) {
        const ms = await timeOne(page.url(), cookies[page.as], page.expect);
        if (r === 0) firstMs[name] = round(ms);
        if (r >= WARM_UP_ROUNDS) times[name]!.push(ms);
      }
    }
    const results = Object.fromEntries(
      Object.entries(times).map(([name, list]) => [name, { p50: round(median(list)), p95: round(percentile(list, 0.95)), max: round(Math.max(...list)), firstMs: firstMs[name], n: list.length }]),
    );
    return { label, seeded: { catalog, mesh }, results };
  } finally {
    await portal.stop();
  }
}

/**
 * The portal pages at the catalog benchmark's scale (2,000 applications, 20,000 channels, about 10,000 observed topics,
 * 30,000 audit entries): whole-HTML response times of each page, signed in through the real sign-in, requested
 * round-robin over loopback HTTP. On PostgreSQL (the target); on PGlite too with MESHPORT_BENCH_PAGES_PGLITE=1.
 */
export async function run(): Promise<BenchResult> {
  ensureBuild();
  const runs = [];
  if (process.env.MESHPORT_BENCH_PAGES_PGLITE === "1") {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "meshport-bench-pages-"));
    try {
      const handle = await openDatabase({ driver: "pglite", dataDir: path.join(dataDir, "pglite") });
      await handle.migrate();
      runs.push(await measure("pglite", { MESHPORT_DATA_DIR: dataDir, DATABASE_URL: "" }, handle));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (findPostgresBinaries()) {
    const server = await startTemporaryPostgres();
    const scratchDir = mkdtempSync(path.join(os.tmpdir(), "meshport-bench-pages-"));
    try {
      const scratch = await createScratchDatabase(server.url, "meshport_bench_pages");
      const handle = await openDatabase({ driver: "postgres", url: scratch.url });
      await handle.migrate();
      runs.push(await measure("postgres", { DATABASE_URL: scratch.url, MESHPORT_DATA_DIR: scratchDir }, handle));
    } finally {
      await server.stop();
      rmSync(scratchDir, { recursive: true, force: true });
    }
  }
  const summary = [`pages: ${WARM_UP_ROUNDS} warm-up rounds, then ${ROUNDS} round-robin rounds of every page, whole HTML over loopback HTTP, signed in (audit as a reviewer, the rest as a viewer)`];
  for (const r of runs) {
    summary.push(
      `${r.label}: ${r.seeded.catalog.apps} applications, ${r.seeded.catalog.channels} channels, ${r.seeded.mesh.topics} observed topics on ${r.seeded.mesh.brokers} brokers, ${r.seeded.mesh.auditEntries} audit entries (seeded in ${r.seeded.catalog.seconds + r.seeded.mesh.seconds} s)`,
    );
    for (const [name, t] of Object.entries(r.results)) {
      const verdict = r.label === "postgres" ? `  target p95 < ${TARGET_P95_MS} ms ${t.p95 < TARGET_P95_MS ? "met" : "MISSED"}` : "";
      summary.push(`  ${name.padEnd(16)} p50 ${t.p50} ms  p95 ${t.p95} ms  max ${t.max} ms  first ${t.firstMs} ms${verdict}`);
    }
  }
  return { name: "pages", summary, figures: { targetP95Ms: TARGET_P95_MS, rounds: ROUNDS, warmUpRounds: WARM_UP_ROUNDS, runs }, ...(ONLY ? { partial: true } : {}) };
}
