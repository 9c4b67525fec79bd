// Starts a production build of the portal for end-to-end tests: a fresh data folder,
// demo mode with a known password, on the port Playwright waits for.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const port = process.env.PORT || "3210";
if (!existsSync(".next/BUILD_ID")) {
  const build = spawnSync("npx", ["next", "build"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const dataDir = mkdtempSync(path.join(os.tmpdir(), "meshport-e2e-"));
const child = spawn("npx", ["next", "start", "-p", port, "-H", "127.0.0.1"], {
  stdio: "inherit",
  env: {
    ...process.env,
    NODE_ENV: "production",
    MESHPORT_DATA_DIR: dataDir,
    MESHPORT_DEMO: "1",
    MESHPORT_DEMO_PASSWORD: process.env.MESHPORT_DEMO_PASSWORD || "e2e-demo-password",
    MESHPORT_URL: `http://127.0.0.1:${port}`,
  },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
