#!/usr/bin/env node
// `npm run bench -- NAME`: runs a benchmark under bench/ through tsx.
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
const { main } = await import("../bench/run.ts");
process.exitCode = await main(process.argv.slice(2));
