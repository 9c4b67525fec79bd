import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** What a benchmark returns: its figures, printed and written to bench/results/NAME.json. */
export interface BenchResult {
  name: string;
  summary: string[];
  figures: Record<string, unknown>;
  /** Only some of its parts ran (chosen by the environment): written to NAME-partial.json, beside the full results. */
  partial?: boolean;
}

/** The results file of a benchmark's run: a partial run does not replace the full results. */
export function resultsFile(dir: string, result: BenchResult): string {
  return path.join(dir, `${result.name}${result.partial ? "-partial" : ""}.json`);
}

type Bench = () => Promise<BenchResult>;

const BENCHES: Record<string, { describe: string; load: () => Promise<Bench> }> = {
  engine: {
    describe: "contract engine: `meshport diff` as a process beside `node -e 0`, warm validate beside ajv, compare beside @asyncapi/diff, 2 MB whole check",
    load: async () => (await import("./engine.ts")).run,
  },
  catalog: {
    describe: "catalog search (text, topic filter, field) and list latency on 2,000 applications, PGlite and PostgreSQL",
    load: async () => (await import("./catalog.ts")).run,
  },
  agent: {
    describe: "broker agent throughput, CPU and peak RSS beside a bare MQTT subscriber; RSS with 100,000 topics",
    load: async () => (await import("./agent.ts")).run,
  },
  edge: {
    describe: "the portal's server (edge checks, client address) beside bare next start on ping and whoami; the bounded JSON parse beside JSON.parse",
    load: async () => (await import("./edge.ts")).run,
  },
  api: {
    describe: "authenticated API request (token lookup + whoami) against a constant JSON route, on PGlite and PostgreSQL",
    load: async () => (await import("./api.ts")).run,
  },
  reviews: {
    describe: "opening a change request (evaluation + impact) on 50 FULL_TRANSITIVE versions and 200 consumers beside the plain compare; webhook outbox deliveries/s beside raw POSTs",
    load: async () => (await import("./reviews.ts")).run,
  },
  drift: {
    describe: "drift engine: 1M topics against 10,000 templates and filters beside a RegExp loop, 1M payload checks beside ajv, one 2,000-template report against 10,000 channels",
    load: async () => (await import("./drift.ts")).run,
  },
  pages: {
    describe: "every portal page (catalog, application, channel, discover, brokers, broker, audit) at 2,000 applications, about 10,000 observed topics and 30,000 audit entries on PostgreSQL: p50/p95 against 100 ms",
    load: async () => (await import("./pages.ts")).run,
  },
  registry: {
    describe: "schema registry: GET /schemas/ids/{id} at 32 connections beside a constant route; registering a 50-field JSON and Avro schema on 100 FULL_TRANSITIVE versions beside one pairwise check and the engine",
    load: async () => (await import("./registry.ts")).run,
  },
};

/** Runs the named benchmarks (all when none is named); returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const names = args.filter((a) => !a.startsWith("-"));
  if (names.some((n) => !(n in BENCHES)) || args.includes("--help")) {
    console.log("usage: npm run bench -- [NAME…]\n");
    for (const [name, bench] of Object.entries(BENCHES)) console.log(`  ${name.padEnd(10)} ${bench.describe}`);
    return names.every((n) => n in BENCHES) ? 0 : 2;
  }
  const outDir = path.resolve("bench/results");
  mkdirSync(outDir, { recursive: true });
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    console.log(`\n=== bench ${name}`);
    const result = await (await BENCHES[name]!.load())();
    for (const line of result.summary) console.log(line);
    const file = resultsFile(outDir, result);
    writeFileSync(file, `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`);
    console.log(`results: ${path.relative(process.cwd(), file)}`);
  }
  return 0;
}
