#!/usr/bin/env node
// `npm run bench -- NAME`: runs a benchmark under bench/ through tsx.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

// Benchmarks seed data through lib/, whose modules are marked server-only for Next.js.
register(
  "data:text/javascript," +
    encodeURIComponent(
      "export async function resolve(s, c, next) { return s === 'server-only' ? { url: 'data:text/javascript,', shortCircuit: true } : next(s, c); }",
    ),
);
registerTsx();
const { main } = await import("../bench/run.ts");
process.exitCode = await main(process.argv.slice(2));
