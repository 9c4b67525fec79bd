#!/usr/bin/env node
// Builds the broker agent into plain JavaScript: dist/agent/meshport-agent.mjs (+ chunks), run by
// bin/meshport-agent.mjs, or directly: `node dist/agent/meshport-agent.mjs --broker … --portal …`.
//
// The agent and its npm packages (mqtt, nats, amqplib, pino, prom-client, commander, zod) are bundled: one file to
// read and compile instead of hundreds of modules to resolve, and no TypeScript loader at run time. Each broker
// source stays a lazy chunk with its client library (agents/agent.ts and agents/cli.ts import them by `--kind`), so
// an MQTT agent never loads nats or amqplib, nor a NATS agent mqtt. Bundled rather than left to Node's resolver, the
// agent starts in half the time with 6 MB less RSS (measured here: ~450 ms to subscribed and 78 MB, against ~900 ms and
// 84 MB; through tsx 1.5 s and 110 MB).
//
// Also writes dist/agent/inputs.json, the source files the build read: bin/meshport-agent.mjs uses the build only
// while it is newer than every one of them and what it took from tsconfig.json is unchanged (else it runs the
// TypeScript sources through tsx). The build is written beside dist/agent and renamed into place once complete, so an
// agent running from the old build never finds its folder empty.
//
// Called by scripts/build-cli.mjs (so `npm run build` builds it); `node scripts/build-agent.mjs` builds only it.
// MESHPORT_AGENT_EXTERNAL=1 leaves the npm packages to Node's resolver instead (to compare RSS and start time);
// MESHPORT_AGENT_OUT=<dir> builds elsewhere than dist/agent (tests).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { contentDigests, removeLeftovers, replaceDir, stagingDir } from "../bin/build-current.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = path.resolve(ROOT, process.env.MESHPORT_AGENT_OUT || path.join("dist", "agent"));
const external = process.env.MESHPORT_AGENT_EXTERNAL === "1";

/**
 * The entry: agents/cli.ts's `main`, exported for bin/meshport-agent.mjs, and run when this file is the program
 * itself (`node dist/agent/meshport-agent.mjs …`).
 */
const ENTRY = `import "meshport-agent-heap";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
const { main } = await import("./agents/cli.ts");
export { main };
const self = fileURLToPath(import.meta.url);
let program = "";
try {
  program = process.argv[1] ? realpathSync(process.argv[1]) : "";
} catch {}
if (program === self) process.exitCode = await main(process.argv);
`;

/**
 * Evaluated before any other module of the agent (the entry imports it first): two heap settings V8 still reads after
 * start (the heap's sizes are fixed when it is set up, so only these can come from inside the program).
 *
 * - `--semi-space-growth-factor=1`: V8 doubles the young generation each time enough objects survive it, up to two
 *   16 MB semi-spaces; the agent's per-message garbage dies young and what survives (the window's topics, templates
 *   and schemas) is held for the window anyway, so that growth buys little. Measured at 100,000 topics: 94–99 MB peak
 *   RSS instead of 125–133 (collapsing), 136–150 instead of 163–166 (not collapsing).
 * - `--optimize-for-size`: the old generation grows by a conservative factor between full collections, so garbage
 *   promoted while a window fills is collected before it adds up. Measured at 100,000 topics that do not collapse:
 *   104–112 MB instead of 120–129, for about 20% more CPU in that run.
 *
 * CPU per message at 1,000 topics, the three in turn beside the bare subscriber over 5 rounds: 1.06 of it with
 * neither setting, 1.08 with the first, 1.07 with both (within the noise of the machine).
 *
 * A user who sizes the young generation or chooses the flag (on the command line or in NODE_OPTIONS) keeps their own.
 */
const HEAP = `import { setFlagsFromString } from "node:v8";
const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" ").replaceAll("_", "-");
if (!given.includes("semi-space")) setFlagsFromString("--semi-space-growth-factor=1");
if (!given.includes("optimize-for-size")) setFlagsFromString("--optimize-for-size");
`;

const entry = {
  name: "meshport-agent-entry",
  setup(b) {
    b.onResolve({ filter: /^meshport-agent-(entry|heap)$/ }, (args) => ({ path: args.path, namespace: "meshport-agent-entry" }));
    b.onLoad({ filter: /.*/, namespace: "meshport-agent-entry" }, (args) => ({
      contents: args.path === "meshport-agent-heap" ? HEAP : ENTRY,
      loader: "js",
      resolveDir: ROOT,
    }));
  },
};

/** With MESHPORT_AGENT_EXTERNAL=1: npm packages stay imports resolved by Node at run time. */
const packagesExternal = {
  name: "meshport-agent-external",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.kind === "entry-point" || args.path.startsWith("node:") ? undefined : { path: args.path, external: true }));
  },
};

const started = performance.now();
// Sources changed from now on are newer than the build, whether or not esbuild read them before the change.
const builtAt = Date.now();
const digests = contentDigests(ROOT);
const STAGING = stagingDir(OUT);
removeLeftovers(OUT);
rmSync(STAGING, { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { "meshport-agent": "meshport-agent-entry" },
  outdir: STAGING,
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  tsconfig: path.join(ROOT, "tsconfig.json"),
  // Bundled CommonJS modules call require() for Node built-ins: give each chunk a real one.
  banner: { js: "import { createRequire as __meshportRequire } from 'node:module'; const require = __meshportRequire(import.meta.url);" },
  plugins: [entry, ...(external ? [packagesExternal] : [])],
  metafile: true,
  // Minified, a smaller source to hold and parse: about 5 MB less RSS at start. Names are kept (error types in the
  // logs); `node --enable-source-maps` maps stack traces back to the sources.
  minify: true,
  keepNames: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
});

const inputs = Object.keys(result.metafile.inputs)
  .filter((file) => !file.includes("node_modules/") && !file.startsWith("(") && !/^[a-z-]+:/.test(file))
  .sort();
// A dependency upgrade changes the lockfile (the bundled copies are stale then too), and so does a change of the build.
// tsconfig.json (the `@/` paths) is judged by what esbuild reads of it, recorded in `digests`, not by its mtime.
inputs.push("package-lock.json", "tsconfig.json", "scripts/build-agent.mjs");
// Which chunk holds which lazily imported module, and the npm packages each output holds (a check that the broker
// client libraries stay in their own source's chunk).
const rel = (file) => path.relative(STAGING, path.resolve(ROOT, file)).split(path.sep).join("/");
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".mjs"));
const chunks = Object.fromEntries(outputs.filter(([, o]) => o.entryPoint).map(([file, o]) => [o.entryPoint, rel(file)]));
const packageOf = (input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
const packages = Object.fromEntries(
  outputs.map(([file, o]) => [rel(file), [...new Set(Object.keys(o.inputs).map(packageOf).filter(Boolean))].sort()]),
);
mkdirSync(STAGING, { recursive: true });
writeFileSync(path.join(STAGING, "inputs.json"), `${JSON.stringify({ builtAt, digests, external, inputs, chunks, packages }, null, 1)}\n`);
replaceDir(STAGING, OUT);
console.log(`built ${path.relative(ROOT, OUT) || "."}/meshport-agent.mjs from ${inputs.length - 3} source files in ${Math.round(performance.now() - started)} ms${external ? " (npm packages external)" : ""}`);
