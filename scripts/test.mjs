// The whole test suite, as CI runs it: type-check, lint, unit and integration tests
// (PGlite and PostgreSQL), then a production build: the fault suite breaks it on purpose
// (kills, outages, hostile input), and Playwright drives it in Chromium.
import { spawnSync } from "node:child_process";

const steps = [
  ["type-check", "npx", ["tsc", "--noEmit", "-p", "."]],
  ["lint", "npx", ["eslint", "--max-warnings", "0", "."]],
  ["unit tests", "npx", ["vitest", "run", "--project", "unit"]],
  ["integration tests", "npx", ["vitest", "run", "--project", "integration"]],
  ["production build", "npm", ["run", "build"]],
  ["fault suite", "npx", ["vitest", "run", "--project", "faults"]],
  ["end-to-end tests", "npx", ["playwright", "test"]],
];

const only = process.argv.slice(2);
const results = [];
for (const [name, command, args] of steps) {
  if (only.length && !only.some((o) => name.startsWith(o))) continue;
  console.log(`\n=== ${name}: ${command} ${args.join(" ")}`);
  const started = Date.now();
  const run = spawnSync(command, args, { stdio: "inherit", env: process.env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  results.push({ name, ok: run.status === 0, seconds });
  if (run.status !== 0) break;
}

console.log("\n=== summary");
for (const r of results) console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name} (${r.seconds} s)`);
const failed = results.filter((r) => !r.ok).length;
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
