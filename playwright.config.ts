import { defineConfig } from "@playwright/test";

const port = Number(process.env.MESHPORT_E2E_PORT || 3210);
const baseURL = `http://127.0.0.1:${port}`;
// The demo's embedded broker listens here, so tests can connect clients of their own to it.
process.env.MESHPORT_E2E_MQTT_PORT ||= String(port + 1);

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  reporter: [["list"], ["html", { outputFolder: "playwright-report", open: "never" }]],
  use: {
    baseURL,
    screenshot: "on",
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium; nothing is downloaded. The flags keep it off the (closed) network.
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: {
    command: "node scripts/e2e-server.mjs",
    url: `${baseURL}/api/v1/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: { PORT: String(port), MESHPORT_E2E_MQTT_PORT: process.env.MESHPORT_E2E_MQTT_PORT },
  },
});
