import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));
const resolve = {
  alias: {
    "@/": root,
    // Next.js resolves this marker to an empty module on the server; tests run on the server too.
    "server-only": fileURLToPath(new URL("./scripts/empty-module.cjs", import.meta.url)),
  },
};

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: "unit",
          include: ["{registry,lib,db,app,agents,cli,bench,demo}/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "node_modules/**"],
          environment: "node",
        },
      },
      {
        resolve,
        test: {
          name: "integration",
          include: ["{lib,db,app,agents,cli,demo}/**/*.int.test.ts"],
          environment: "node",
          globalSetup: ["./db/testing/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        resolve,
        test: {
          // Production portal processes, killed and restarted on purpose (e2e/faults/harness.ts).
          name: "faults",
          include: ["e2e/faults/**/*.fault.ts"],
          environment: "node",
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
