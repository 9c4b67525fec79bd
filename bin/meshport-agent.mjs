#!/usr/bin/env node
// Runs the broker agent: the JavaScript build in dist/agent (made by `npm run build` or `node scripts/build-agent.mjs`)
// while it is newer than every source file it was built from (tsconfig.json: while what the build took from it is
// unchanged), else the TypeScript sources (agents/cli.ts) through tsx.
// MESHPORT_AGENT=source or MESHPORT_AGENT=built forces one of them.
import { buildIsCurrent, runsBuild } from "./build-current.mjs";

const BUILT_AGENT = new URL("../dist/agent/meshport-agent.mjs", import.meta.url);

let main;
if (runsBuild(process.env.MESHPORT_AGENT, () => buildIsCurrent("dist/agent", BUILT_AGENT))) {
  ({ main } = await import(BUILT_AGENT.href));
} else {
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  ({ main } = await import("../agents/cli.ts"));
}
process.exitCode = await main(process.argv);
