import { mkdirSync } from "node:fs";
import { DEMO_ADMIN, expect, test } from "./fixtures.ts";

test("the demo agent reports live topics, producers and consumers from the embedded broker", async ({ page, signInPage }, testInfo) => {
  test.setTimeout(120_000);
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  // The agent reports every couple of seconds in the e2e server; wait for its first batches.
  await expect(async () => {
    await page.goto("/brokers");
    await expect(page.getByTestId("broker-status-plant-eu")).toHaveText("online", { timeout: 1000 });
  }).toPass({ timeout: 90_000 });
  // The demo declares its brokers with names; the list links each to its page.
  await expect(page.getByRole("link", { name: "Lyon plant broker" })).toHaveAttribute("href", "/brokers/plant-eu");
  const topics = page.getByTestId("broker-topics");
  await expect(async () => {
    await page.goto("/brokers/plant-eu");
    await expect(topics).toContainText("temperature", { timeout: 1000 });
    await expect(topics).toContainText("line-sensors-gw-1", { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  // The demo's drift is visible: a topic no contract documents.
  await expect(topics).toContainText("plant/debug/raw");
  await expect(topics.getByText("undocumented").first()).toBeVisible();
  mkdirSync("e2e/artifacts", { recursive: true });
  await page.screenshot({ path: "e2e/artifacts/20-broker-topics.png", fullPage: true });
  await testInfo.attach("20-broker-topics", { path: "e2e/artifacts/20-broker-topics.png", contentType: "image/png" });
});
