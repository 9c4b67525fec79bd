#!/usr/bin/env node
// Launches the broker agent (agents/cli.ts) without a build step.
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
const { main } = await import("../agents/cli.ts");
process.exitCode = await main(process.argv);
