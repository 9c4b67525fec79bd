#!/usr/bin/env node
// Builds the `meshport` CLI into plain JavaScript: dist/cli/meshport.mjs (+ chunks), run by bin/meshport.mjs; then
// the broker agent (scripts/build-agent.mjs: dist/agent, run by bin/meshport-agent.mjs).
//
// The contract engine and its npm dependencies (@asyncapi/parser, Spectral, ajv…) are bundled: one file to read and
// compile instead of hundreds of modules to resolve, and no TypeScript loader at start-up. Imports made for `db`,
// `admin` and `token` (portal services under lib/ and db/) stay lazy chunks, and the npm packages those reach (PGlite,
// pg, better-auth, Next.js…) stay external: they read files next to their own modules (WebAssembly, workers).
//
// The AsyncAPI document validators are compiled here, not in every CLI process: ajv standalone code of each supported
// version (registry/parse/schema-check.ts generates it from the parser's schemas with Spectral's ajv setup), bundled as
// one lazy chunk per version and handed to the CLI's main, which registers them with the engine.
//
// Also writes dist/cli/inputs.json, the source files the build read: bin/meshport.mjs uses the build only while it
// is newer than every one of them and what it took from tsconfig.json is unchanged (else it runs the TypeScript
// sources through tsx, as without a build). The build is written beside dist/cli and renamed into place once
// complete, so a CLI running from the old build can still import its lazy chunks.
//
// `npm run build` runs this after `next build`, which may rewrite tsconfig.json (its include list) on the way.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { tsImport } from "tsx/esm/api";
import { contentDigests, removeLeftovers, replaceDir, stagingDir } from "../bin/build-current.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = path.join(ROOT, "dist", "cli");
const EMPTY = path.join(ROOT, "scripts", "empty-module.cjs");

/** Source folders of the portal (not the engine): their npm imports are left to Node's resolver at run time. */
const PORTAL = ["lib", "db", "agents", "app"].map((dir) => path.join(ROOT, dir) + path.sep);
const PORTAL_COMMANDS = ["db.ts", "admin.ts"].map((file) => path.join(ROOT, "cli", "commands", file));

const isBare = (specifier) => !/^(\.|\/|node:|@\/)/.test(specifier) && !path.isAbsolute(specifier);

/** `server-only` is a no-op outside Next.js; portal packages stay external; everything else is bundled. */
const resolution = {
  name: "meshport-cli",
  setup(b) {
    b.onResolve({ filter: /^server-only$/ }, () => ({ path: EMPTY }));
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === "entry-point" || !isBare(args.path)) return undefined;
      const fromPortal = PORTAL.some((dir) => args.importer.startsWith(dir)) || PORTAL_COMMANDS.includes(args.importer);
      return fromPortal ? { path: args.path, external: true } : undefined;
    });
  },
};

/**
 * JSON files become `JSON.parse("…")` rather than object literals: V8 reads JSON text faster than the same data as
 * JavaScript, and @asyncapi/specs brings 2.3 MB of it (every AsyncAPI version's schema), all loaded with the parser.
 */
const jsonAsText = {
  name: "json-as-text",
  setup(b) {
    b.onLoad({ filter: /\.json$/ }, (args) => ({
      contents: `module.exports = JSON.parse(${JSON.stringify(JSON.stringify(JSON.parse(readFileSync(args.path, "utf8"))))});`,
      loader: "js",
    }));
  },
};

/**
 * The entry module: cli/meshport.ts, its `main` given the precompiled validators (`meshport-validators:VERSION`, each
 * loaded when a document of that version is first validated).
 */
function entryModule(versions) {
  const loaders = versions.map((v) => `  ${JSON.stringify(v)}: () => import(${JSON.stringify(`meshport-validators:${v}`)}),`).join("\n");
  return `import { main as run } from "./cli/meshport.ts";
export { buildProgram, EXIT } from "./cli/meshport.ts";
const validators = {
${loaders}
};
async function precompiledValidators(version) {
  const load = Object.hasOwn(validators, version) ? validators[version] : undefined;
  if (!load) return undefined;
  // A CommonJS module imported: its exports are the default export.
  const loaded = await load();
  const { resolved, unresolved } = loaded.default ?? loaded;
  return { resolved, unresolved };
}
export function main(argv) {
  return run(argv, { precompiledValidators });
}
`;
}

/** The entry and the standalone validator modules (CommonJS; their require()s of ajv's runtime are bundled). */
function precompiledValidators(codes, resolveDir) {
  return {
    name: "meshport-precompiled-validators",
    setup(b) {
      b.onResolve({ filter: /^meshport-entry$/ }, () => ({ path: "entry", namespace: "meshport-entry" }));
      b.onLoad({ filter: /.*/, namespace: "meshport-entry" }, () => ({ contents: entryModule([...codes.keys()]), loader: "js", resolveDir: ROOT }));
      b.onResolve({ filter: /^meshport-validators:/ }, (args) => ({ path: `validators-${args.path.slice("meshport-validators:".length)}`, namespace: "meshport-validators" }));
      b.onLoad({ filter: /.*/, namespace: "meshport-validators" }, (args) => ({ contents: codes.get(args.path.slice("validators-".length)), loader: "js", resolveDir }));
    },
  };
}

/**
 * @asyncapi/specs' index requires every version's schema (2.3 MB of JSON to parse) though the engine reads the
 * version list and at most a version or two: its properties become getters requiring each schema when first read
 * (same objects, same enumerable keys). Left as it is if its shape ever changes.
 */
const lazySpecs = {
  name: "lazy-asyncapi-specs",
  setup(b) {
    b.onLoad({ filter: /[\\/]@asyncapi[\\/]specs[\\/]index\.js$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      const eager = /^(\s*)('[^'\n]+'): (require\('\.\/schemas\/[^'\n]+\.json'\)),?$/gm;
      const requires = text.match(/require\(/g)?.length ?? 0;
      const getters = text.match(eager)?.length ?? 0;
      if (requires === 0 || getters !== requires) return undefined;
      return { contents: text.replace(eager, "$1get $2() { return $3; },"), loader: "js" };
    });
  },
};

const started = performance.now();
// Sources changed from now on are newer than the build, whether or not esbuild read them before the change.
const builtAt = Date.now();
const digests = contentDigests(ROOT);
const STAGING = stagingDir(OUT);
removeLeftovers(OUT);
rmSync(STAGING, { recursive: true, force: true });
const { SUPPORTED_VERSIONS } = await tsImport("../registry/parse/validate.ts", import.meta.url);
const { standaloneDocumentValidators, standaloneResolveDir } = await tsImport("../registry/parse/schema-check.ts", import.meta.url);
const codes = new Map();
for (const version of SUPPORTED_VERSIONS) {
  const code = await standaloneDocumentValidators(version);
  if (code === undefined) throw new Error(`no document schemas for AsyncAPI ${version}`);
  codes.set(version, code);
}
const compiledIn = performance.now() - started;
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { meshport: "meshport-entry" },
  outdir: STAGING,
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  tsconfig: path.join(ROOT, "tsconfig.json"),
  // jsonc-parser's `main` is a UMD build whose inner require() calls esbuild cannot follow; its ES build is equivalent.
  alias: { "jsonc-parser": "jsonc-parser/lib/esm/main.js" },
  // Bundled CommonJS modules call require() for Node built-ins: give each chunk a real one.
  banner: { js: "import { createRequire as __meshportRequire } from 'node:module'; const require = __meshportRequire(import.meta.url);" },
  plugins: [precompiledValidators(codes, standaloneResolveDir()), resolution, lazySpecs, jsonAsText],
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

const inputs = Object.keys(result.metafile.inputs)
  // Virtual modules (`namespace:path`) are made from the sources listed: the validators from registry/parse and the
  // parser's schemas (the lockfile).
  .filter((file) => !file.includes("node_modules/") && !file.startsWith("(") && !/^[a-z-]+:/.test(file))
  .sort();
// A dependency upgrade changes the lockfile (the bundled copies are stale then too), and so does a change of the build.
// tsconfig.json (the `@/` paths) is judged by what esbuild reads of it, recorded in `digests`, not by its mtime.
inputs.push("package-lock.json", "tsconfig.json", "scripts/build-cli.mjs");
// Which chunk holds which lazily imported module (the engine benchmark times the import of registry/index.ts).
const chunks = Object.fromEntries(
  Object.entries(result.metafile.outputs)
    .filter(([, output]) => output.entryPoint)
    .map(([file, output]) => [output.entryPoint, path.relative(STAGING, path.resolve(ROOT, file)).split(path.sep).join("/")]),
);
mkdirSync(STAGING, { recursive: true });
writeFileSync(path.join(STAGING, "inputs.json"), `${JSON.stringify({ builtAt, digests, inputs, chunks }, null, 1)}\n`);
replaceDir(STAGING, OUT);
console.log(
  `built dist/cli/meshport.mjs from ${inputs.length - 1} source files in ${Math.round(performance.now() - started)} ms ` +
    `(AsyncAPI validators of ${codes.size} versions compiled in ${Math.round(compiledIn)} ms)`,
);

// The broker agent is built with the CLI, so `npm run build` builds both.
await import("./build-agent.mjs");
