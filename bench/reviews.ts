import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { asc, eq } from "drizzle-orm";
import { openDatabase, setDatabaseHandle, type DatabaseHandle } from "../db/client.ts";
import { application, broker, brokerTopic, team, teamMember, user, webhook, webhookDelivery, type Application } from "../db/schema.ts";
import { createTeam } from "../lib/accounts/teams.ts";
import { systemPrincipal, type Principal } from "../lib/auth/principal.ts";
import { createApplication } from "../lib/catalog/applications.ts";
import { storedVersionsOf } from "../lib/contracts/evaluate.ts";
import { publishVersion } from "../lib/contracts/publish.ts";
import { emitEvent } from "../lib/notifications/events.ts";
import { encryptWebhookSecret } from "../lib/notifications/secret.ts";
import { judgeProposal } from "../lib/reviews/evaluate.ts";
import { openChangeRequest } from "../lib/reviews/requests.ts";
import { compare, parseContract, type Contract } from "../registry/index.ts";
import { benchOutbox } from "./outbox.ts";
import type { BenchResult } from "./run.ts";
import { median, percentile, round } from "./stats.ts";

const VERSIONS = 50;
const BASE_CHANNELS = 10;
const CONSUMERS = 200;
const CONSUMER_TEAMS = 40;
/** Every OBSERVED_EVERY-th consumer is also seen on the broker, under its client-id pattern. */
const OBSERVED_EVERY = 4;
const NOISE_TOPICS = 300;
const WARMUP = 3;
const ROUNDS = 20;

const OUTBOX_DELIVERIES = 2_000;
const OUTBOX_LANES = [1, 10];
const OUTBOX_ROUNDS = 3;
/** Baseline rounds per case, half before the outbox bench and half after. */
const RAW_ROUNDS = 4;
const SECRET = "bench-webhook-secret-0123456789";

// --- Contracts -------------------------------------------------------------------------------------------------

interface ChannelSpec {
  address: string;
  action: "send" | "receive";
  valueType?: string;
}

/** An AsyncAPI 3.0 document: one message per channel, one operation per channel. */
function doc(title: string, version: string, channels: ChannelSpec[], description = ""): string {
  const lines = ["asyncapi: 3.0.0", `info: { title: '${title}', version: '${version}'${description ? `, description: '${description}'` : ""} }`, "channels:"];
  const ops = ["operations:"];
  for (const c of channels) {
    // Ids from the address: a channel keeps its id across versions whatever else comes and goes.
    const id = c.address.replace(/[^A-Za-z0-9]+/g, "_");
    const params = [...c.address.matchAll(/\{([^}]+)\}/g)].map((m) => `${m[1]}: { description: The ${m[1]} }`);
    lines.push(
      `  ${id}:`,
      `    address: '${c.address}'`,
      ...(params.length ? [`    parameters: { ${params.join(", ")} }`] : []),
      "    messages:",
      "      reading:",
      "        name: reading",
      "        contentType: application/json",
      `        payload: { type: object, properties: { value: { type: ${c.valueType ?? "number"} }, unit: { type: string } } }`,
    );
    ops.push(`  on_${id}: { action: ${c.action}, channel: { $ref: '#/channels/${id}' } }`);
  }
  return [...lines, ...ops, ""].join("\n");
}

const baseAddress = (k: number) => `plant/{lineId}/m${k}`;
const extraAddress = (i: number) => `plant/{lineId}/extra${i}`;

/** Version 1.i.0 of the owner: the base channels and i added ones (each step adds a channel: FULL-compatible). */
function ownerVersion(i: number): string {
  const channels: ChannelSpec[] = [
    ...Array.from({ length: BASE_CHANNELS }, (_, k) => ({ address: baseAddress(k), action: "send" as const })),
    ...Array.from({ length: i }, (_, j) => ({ address: extraAddress(j + 1), action: "send" as const })),
  ];
  return doc("Line sensors", `1.${i}.0`, channels, `Readings of the lines, step ${i}`);
}

/** The breaking proposal on top of the latest version: `value` becomes text on half the base channels, one channel goes. */
function proposal(version: string): string {
  const channels: ChannelSpec[] = [
    ...Array.from({ length: BASE_CHANNELS - 1 }, (_, k) => ({ address: baseAddress(k), action: "send" as const, valueType: k < BASE_CHANNELS / 2 ? "string" : "number" })),
    ...Array.from({ length: VERSIONS - 1 }, (_, j) => ({ address: extraAddress(j + 1), action: "send" as const })),
  ];
  return doc("Line sensors", version, channels, "Readings of the lines, as text");
}

/**
 * Consumer n receives three of the owner's channels: one under the same template, one under another parameter name
 * (template overlap), one concrete topic of a template; and sends on a channel of its own nobody else meets.
 */
function consumerDoc(n: number): string {
  return doc(`Consumer ${n}`, "1.0.0", [
    { address: baseAddress(n % BASE_CHANNELS), action: "receive" },
    { address: `plant/{line}/m${(n + 3) % BASE_CHANNELS}`, action: "receive" },
    { address: `plant/line-${n}/extra${1 + (n % (VERSIONS - 1))}`, action: "receive" },
    { address: `orders/{orderId}/c${n}`, action: "send" },
  ]);
}

async function contractOf(text: string): Promise<Contract> {
  const parsed = await parseContract({ "asyncapi.yaml": text });
  if (!parsed.contract || parsed.diagnostics.some((d) => d.severity === "error")) throw new Error(`bench contract does not parse: ${JSON.stringify(parsed.diagnostics)}`);
  return parsed.contract;
}

// --- Seeding ---------------------------------------------------------------------------------------------------

const slugOf = (n: number) => `consumer-${String(n).padStart(3, "0")}`;

/** The owner with 50 FULL_TRANSITIVE versions, 200 consumers through the services; people and observed clients by insert. */
async function seedReviews(handle: DatabaseHandle): Promise<{ author: Principal; seconds: Record<string, number> }> {
  const db = handle.db;
  const actor = systemPrincipal("bench");
  const seconds: Record<string, number> = {};
  let started = performance.now();
  const lap = (label: string) => {
    seconds[label] = round((performance.now() - started) / 1000, 1);
    started = performance.now();
  };

  await createTeam(actor, { slug: "plant-ops", name: "Plant Ops" });
  for (let t = 0; t < CONSUMER_TEAMS; t++) await createTeam(actor, { slug: `team-${t}`, name: `Team ${t}` });
  await createApplication(actor, { slug: "line-sensors", name: "Line sensors", team: "plant-ops", compatibilityMode: "FULL_TRANSITIVE", clientIdPatterns: ["sensor-*"] });
  for (let n = 0; n < CONSUMERS; n++) {
    await createApplication(actor, {
      slug: slugOf(n),
      name: `Consumer ${n}`,
      team: `team-${n % CONSUMER_TEAMS}`,
      clientIdPatterns: n % OBSERVED_EVERY === 0 ? [`cons-${n}-*`] : [],
    });
  }
  lap("applications");

  for (let i = 0; i < VERSIONS; i++) await publishVersion(actor, "line-sensors", { files: { "asyncapi.yaml": ownerVersion(i) } });
  lap("ownerVersions");
  for (let n = 0; n < CONSUMERS; n++) await publishVersion(actor, slugOf(n), { files: { "asyncapi.yaml": consumerDoc(n) } });
  lap("consumerVersions");

  // A maintainer per team, so the request has deciders to notify; the author writes for the owning team.
  const teams = await db.select({ id: team.id, slug: team.slug }).from(team).orderBy(asc(team.slug));
  const people = teams.map((t, i) => ({ id: `usr_bench_${i}`, name: `Maintainer ${t.slug}`, email: `maintainer-${t.slug}@example.com`, role: "reviewer" as const }));
  const authorRow = { id: "usr_bench_author", name: "Eve", email: "eve@example.com", role: "editor" as const };
  await db.insert(user).values([...people, authorRow]);
  const owner = teams.find((t) => t.slug === "plant-ops")!;
  await db.insert(teamMember).values([...teams.map((t, i) => ({ teamId: t.id, userId: people[i]!.id, role: "maintainer" as const })), { teamId: owner.id, userId: authorRow.id, role: "member" as const }]);

  // Observed clients: the owner's producers, a share of the consumers (by their patterns), unclaimed clients, and
  // topics of the same shape nobody's contract meets.
  await db.insert(broker).values({ id: "plant-1", name: "Plant 1" });
  const now = new Date();
  const at = now.toISOString();
  const topic = (template: string, consumers: Array<{ clientId: string; filter?: string }>, producers: string[]) => ({
    brokerId: "plant-1",
    template,
    firstSeen: now,
    lastSeen: now,
    totalMessages: 1_000,
    totalBytes: 100_000,
    lastRatePerSecond: 5,
    lastWindowEnd: now,
    contentKind: "json",
    distinctTopics: 12,
    topics: [],
    samples: [],
    producers: producers.map((clientId) => ({ clientId, lastSeen: at })),
    consumers: consumers.map((c) => ({ ...c, lastSeen: at })),
  });
  const observed = new Map<string, Array<{ clientId: string; filter?: string }>>();
  const see = (template: string, client: { clientId: string; filter?: string }) => observed.set(template, [...(observed.get(template) ?? []), client]);
  for (let n = 0; n < CONSUMERS; n += OBSERVED_EVERY) {
    const k = (n + 5) % BASE_CHANNELS;
    see(`plant/{p1}/m${k}`, { clientId: `cons-${n}-1`, filter: `plant/+/m${k}` });
    see(`plant/{p1}/extra${1 + ((n * 7) % (VERSIONS - 1))}`, { clientId: `cons-${n}-2`, filter: "plant/#" });
  }
  const rows = [];
  for (let k = 0; k < BASE_CHANNELS; k++) rows.push(topic(`plant/{p1}/m${k}`, [...(observed.get(`plant/{p1}/m${k}`) ?? []), { clientId: `mystery-${k}`, filter: "#" }], [`sensor-${k}`]));
  for (let i = 1; i < VERSIONS; i++) rows.push(topic(`plant/{p1}/extra${i}`, observed.get(`plant/{p1}/extra${i}`) ?? [], [`sensor-x${i}`]));
  for (let i = 0; i < NOISE_TOPICS; i++) rows.push(topic(`plant/{p1}/noise${i}`, [{ clientId: `cons-${(i * 4) % CONSUMERS}-9`, filter: `plant/+/noise${i}` }], [`other-${i}`]));
  for (let r = 0; r < rows.length; r += 100) await db.insert(brokerTopic).values(rows.slice(r, r + 100));
  lap("peopleAndObserved");

  return { author: { kind: "user", id: authorRow.id, email: authorRow.email, name: authorRow.name, role: "editor" }, seconds };
}

// --- Measuring -------------------------------------------------------------------------------------------------

interface Timing {
  p50: number;
  p95: number;
  n: number;
}

const timing = (samples: number[]): Timing => ({ p50: round(median(samples), 2), p95: round(percentile(samples, 0.95), 2), n: samples.length });

/** Runs the cases one after the other in each round (interleaved, so drift hits them alike); milliseconds per case. */
async function interleaved(cases: Record<string, () => Promise<unknown> | unknown>): Promise<Record<string, Timing>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      const started = performance.now();
      await fn();
      if (r >= WARMUP) samples[name]!.push(performance.now() - started);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, timing(v)]));
}

async function measureReviews() {
  const handle = await openDatabase({ driver: "pglite", dataDir: null });
  await handle.migrate();
  setDatabaseHandle(handle);
  try {
    const { author, seconds } = await seedReviews(handle);
    const db = handle.db;
    const [app] = await db.select().from(application).where(eq(application.slug, "line-sensors"));
    const owner = app as Application;
    const stored = await storedVersionsOf(db, owner.id);
    const byVersion = new Map(stored.map((v) => [v.version, v.contract]));
    const previous = byVersion.get(`1.${VERSIONS - 1}.0`)!;
    // Newest first, as the evaluation passes them.
    const earlier = Array.from({ length: VERSIONS - 1 }, (_, j) => byVersion.get(`1.${VERSIONS - 2 - j}.0`)!);
    // In the same line (1.x) the transitive mode reads every earlier version; a new major is judged against the latest alone.
    const sameLineText = proposal(`1.${VERSIONS}.0`);
    const majorText = proposal("2.0.0");
    const sameLine = await contractOf(sameLineText);
    const major = await contractOf(majorText);

    // What the proposals give, once, to show the impact has work to do.
    const j = await judgeProposal(db, owner, { contract: sameLine, diagnostics: [], version: `1.${VERSIONS}.0` });
    const jm = await judgeProposal(db, owner, { contract: major, diagnostics: [], version: "2.0.0" });
    const shape = (x: typeof j) => ({
      breaking: x.breaking,
      reportsAgainst: x.evaluation.against.length,
      findings: x.evaluation.against.reduce((n, b) => n + b.report.findings.length, 0),
      affectedApplications: x.impact.applications.length,
      affectedBreaking: x.impact.applications.filter((a) => a.breaking).length,
      observedEvidence: x.impact.applications.filter((a) => a.evidence.some((e) => e.kind === "observed")).length,
      unknownClients: x.impact.unknownClients.length,
      reviewerTeams: x.reviewers.length,
      truncated: x.impact.truncated,
    });
    const judged = { sameLine: shape(j), newMajor: shape(jm) };
    if (!j.breaking || judged.sameLine.affectedBreaking < CONSUMERS * 0.8) throw new Error(`the proposal should break most of the ${CONSUMERS} consumers: ${JSON.stringify(judged.sameLine)}`);

    let opened = 0;
    const open = async (text: string) => {
      const result = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": text }, title: `Bench ${opened++}` });
      if (result.changeRequest.state !== "open") throw new Error("the change request did not open");
    };
    const cases = await interleaved({
      compareTransitive: () => compare(previous, sameLine, { mode: "FULL_TRANSITIVE", against: earlier }),
      comparePrevious: () => compare(previous, major, { mode: "FULL_TRANSITIVE" }),
      judgeSameLine: () => judgeProposal(db, owner, { contract: sameLine, diagnostics: [], version: `1.${VERSIONS}.0` }),
      judgeNewMajor: () => judgeProposal(db, owner, { contract: major, diagnostics: [], version: "2.0.0" }),
      openSameLine: () => open(sameLineText),
      openNewMajor: () => open(majorText),
    });
    const ratio = (a: string, b: string) => round(cases[a]!.p50 / cases[b]!.p50, 1);
    const ratios = {
      judgeSameLineVsCompareTransitive: ratio("judgeSameLine", "compareTransitive"),
      openSameLineVsCompareTransitive: ratio("openSameLine", "compareTransitive"),
      judgeNewMajorVsComparePrevious: ratio("judgeNewMajor", "comparePrevious"),
      openNewMajorVsComparePrevious: ratio("openNewMajor", "comparePrevious"),
      compareTransitiveVsComparePrevious: ratio("compareTransitive", "comparePrevious"),
    };
    return { seeded: { versions: VERSIONS, consumers: CONSUMERS, observedConsumers: CONSUMERS / OBSERVED_EVERY, noiseTopics: NOISE_TOPICS, seconds }, judged, cases, ratios, changeRequestsOpened: opened };
  } finally {
    setDatabaseHandle(undefined);
    await handle.close();
  }
}

// --- Webhook outbox ----------------------------------------------------------------------------------------------

/** A loopback receiver that reads each body and answers 204 at once, as the outbox bench's does. */
async function startReceiver() {
  let received = 0;
  const server = http.createServer((request, response) => {
    request.on("data", () => {});
    request.on("end", () => {
      received++;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received: () => received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The bodies and headers the outbox would send for `total` events to `lanes` webhooks (the outbox bench's events), per webhook. */
async function outboxBodies(lanes: number, total: number): Promise<Array<Array<{ body: string; headers: Record<string, string> }>>> {
  const handle = await openDatabase({ driver: "pglite", dataDir: null });
  try {
    await handle.migrate();
    const db = handle.db;
    for (let n = 0; n < lanes; n++) {
      const id = `whk_bench_${n}`;
      await db.insert(webhook).values({ id, name: `Bench ${n}`, url: "http://127.0.0.1/hook", events: ["*"], secretCiphertext: encryptWebhookSecret(id, SECRET), createdById: "system:bench" });
    }
    const actor = systemPrincipal("bench");
    const events = Math.ceil(total / lanes);
    await db.transaction(async (tx) => {
      for (let n = 0; n < events; n++) await emitEvent(tx, { type: "review.published", summary: `Version ${n} published.`, link: `/reviews/${n}`, actor, teamIds: [], recipients: [], data: { n } });
    });
    const rows = await db.select().from(webhookDelivery).orderBy(asc(webhookDelivery.id));
    const byLane = new Map<string, Array<{ body: string; headers: Record<string, string> }>>();
    for (const row of rows) {
      const lane = byLane.get(row.webhookId) ?? [];
      lane.push({ body: JSON.stringify(row.payload), headers: { "content-type": "application/json", "x-meshport-event": row.eventType, "x-meshport-delivery": row.eventId } });
      byLane.set(row.webhookId, lane);
    }
    return [...byLane.values()];
  } finally {
    await handle.close();
  }
}

/** POSTs per second with plain fetch: one lane per webhook, each in order, lanes side by side; no database, no signing. */
async function rawPosts(url: string, lanes: Array<Array<{ body: string; headers: Record<string, string> }>>): Promise<number> {
  const started = performance.now();
  await Promise.all(
    lanes.map(async (rows) => {
      for (const row of rows) {
        const response = await fetch(url, { method: "POST", headers: row.headers, body: row.body });
        await response.arrayBuffer();
        if (response.status !== 204) throw new Error(`the receiver answered ${response.status}`);
      }
    }),
  );
  return lanes.reduce((n, l) => n + l.length, 0) / ((performance.now() - started) / 1000);
}

interface OutboxCase {
  webhooks: number;
  deliveries: number;
  deliveriesPerSecond: number;
  outboxRowsWrittenPerSecond: number;
}

/**
 * The outbox bench (deliverDue to a loopback receiver) on PGlite, with the baseline in the same run: fetch POSTs of
 * the same bodies to a receiver that answers alike, half the rounds before the outbox bench and half after.
 */
async function measureOutbox() {
  process.env.MESHPORT_AUTH_SECRET ||= randomBytes(32).toString("base64url");
  const receiver = await startReceiver();
  try {
    const bodies = new Map<number, Awaited<ReturnType<typeof outboxBodies>>>();
    for (const lanes of OUTBOX_LANES) bodies.set(lanes, await outboxBodies(lanes, OUTBOX_DELIVERIES));
    const raw = new Map<number, number[]>(OUTBOX_LANES.map((l) => [l, []]));
    const baselineRounds = async () => {
      for (const lanes of OUTBOX_LANES) raw.get(lanes)!.push(await rawPosts(receiver.url, bodies.get(lanes)!));
    };
    await rawPosts(receiver.url, bodies.get(OUTBOX_LANES[0]!)!.map((l) => l.slice(0, 200)));
    for (let r = 0; r < RAW_ROUNDS / 2; r++) await baselineRounds();
    const outbox = await benchOutbox({ deliveries: OUTBOX_DELIVERIES, webhooks: OUTBOX_LANES, rounds: OUTBOX_ROUNDS, backends: ["pglite"] });
    for (let r = 0; r < RAW_ROUNDS / 2; r++) await baselineRounds();
    const runs = outbox.figures.runs as Array<{ label: string; cases: OutboxCase[] }>;
    const cases = runs[0]!.cases.map((c) => {
      const rawPerSecond = median(raw.get(c.webhooks)!);
      return { ...c, rawFetchPerSecond: round(rawPerSecond, 0), ratio: round(c.deliveriesPerSecond / rawPerSecond, 3) };
    });
    return { received: receiver.received(), cases };
  } finally {
    await receiver.close();
  }
}

/** Change review: opening a change request (evaluation + impact) beside the plain compare; the webhook outbox beside raw POSTs. */
export async function run(): Promise<BenchResult> {
  const reviews = await measureReviews();
  const outbox = await measureOutbox();
  const c = reviews.cases;
  const line = (label: string, t: Timing, ratio = "") => `  ${label.padEnd(44)} p50 ${t.p50} ms  p95 ${t.p95} ms${ratio}`;
  const summary = [
    `change request on an application with ${VERSIONS} versions under FULL_TRANSITIVE and ${CONSUMERS} consumers (${CONSUMERS / OBSERVED_EVERY} also observed by client id), PGlite in memory; ${ROUNDS} interleaved rounds after ${WARMUP} warm-up`,
    `  seeded through the services in ${Object.values(reviews.seeded.seconds).reduce((a, b) => a + b, 0).toFixed(1)} s (${Object.entries(reviews.seeded.seconds).map(([k, v]) => `${k} ${v} s`).join(", ")})`,
    `  proposal 1.${VERSIONS}.0: ${reviews.judged.sameLine.reportsAgainst} reports, ${reviews.judged.sameLine.findings} findings, ${reviews.judged.sameLine.affectedApplications} affected applications (${reviews.judged.sameLine.observedEvidence} with observed evidence), ${reviews.judged.sameLine.unknownClients} unclaimed clients, ${reviews.judged.sameLine.reviewerTeams} reviewer teams`,
    line(`compare, FULL_TRANSITIVE against ${VERSIONS - 1} earlier`, c.compareTransitive!),
    line("compare, against the previous version only", c.comparePrevious!),
    line(`judgeProposal 1.${VERSIONS}.0 (transitive line)`, c.judgeSameLine!, ` (${reviews.ratios.judgeSameLineVsCompareTransitive}× transitive compare)`),
    line(`openChangeRequest 1.${VERSIONS}.0`, c.openSameLine!, ` (${reviews.ratios.openSameLineVsCompareTransitive}× transitive compare)`),
    line("judgeProposal 2.0.0 (new major: latest only)", c.judgeNewMajor!, ` (${reviews.ratios.judgeNewMajorVsComparePrevious}× previous-only compare)`),
    line("openChangeRequest 2.0.0", c.openNewMajor!, ` (${reviews.ratios.openNewMajorVsComparePrevious}× previous-only compare)`),
    `webhook outbox (bench/outbox.ts): ${OUTBOX_DELIVERIES} deliveries per round to a loopback receiver (204), median of ${OUTBOX_ROUNDS} rounds, PGlite in memory; baseline: fetch POSTs of the same bodies, one ordered lane per webhook, median of ${RAW_ROUNDS} rounds around it`,
    ...outbox.cases.map((o) => `  ${String(o.webhooks).padStart(3)} webhook(s): outbox ${o.deliveriesPerSecond} deliveries/s | raw fetch ${o.rawFetchPerSecond} POST/s | ratio ${o.ratio}`),
  ];
  return { name: "reviews", summary, figures: { reviews, outbox: { deliveriesPerRound: OUTBOX_DELIVERIES, rounds: OUTBOX_ROUNDS, ...outbox } } };
}
