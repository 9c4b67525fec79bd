#!/usr/bin/env node
// Runs the CLI: the JavaScript build in dist/cli (made by `npm run build` or `node scripts/build-cli.mjs`) while it
// is newer than every source file it was built from, else the TypeScript sources through tsx (no build needed).
// MESHPORT_CLI=source or MESHPORT_CLI=built forces one of them.
import { BUILT_CLI, runsBuiltCli } from "./cli-build.mjs";

let main;
if (runsBuiltCli()) {
  ({ main } = await import(BUILT_CLI.href));
} else {
  const { register } = await import("node:module");
  const { register: registerTsx } = await import("tsx/esm/api");
  // lib/ marks its modules server-only for Next.js; the CLI is server-side too (the build stubs it likewise).
  register(
    "data:text/javascript," +
      encodeURIComponent(
        "export async function resolve(s, c, next) { return s === 'server-only' ? { url: 'data:text/javascript,', shortCircuit: true } : next(s, c); }",
      ),
  );
  registerTsx();
  ({ main } = await import("../cli/meshport.ts"));
}
process.exitCode = await main(process.argv);
