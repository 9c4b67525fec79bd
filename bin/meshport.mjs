#!/usr/bin/env node
// Launches the TypeScript CLI without a build step.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

// lib/ marks its modules server-only for Next.js; the CLI is server-side too.
register(
  "data:text/javascript," +
    encodeURIComponent(
      "export async function resolve(s, c, next) { return s === 'server-only' ? { url: 'data:text/javascript,', shortCircuit: true } : next(s, c); }",
    ),
);
registerTsx();
const { main } = await import("../cli/meshport.ts");
process.exitCode = await main(process.argv);
