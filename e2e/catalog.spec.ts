import { mkdirSync } from "node:fs";
import type { Page, TestInfo } from "@playwright/test";
import { DEMO_ADMIN, expect, test } from "./fixtures.ts";

async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  mkdirSync("e2e/artifacts", { recursive: true });
  const path = `e2e/artifacts/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

function contract(version: string, channels: string[]): string {
  return [
    "asyncapi: 3.0.0",
    "info:",
    "  title: Kiln Controller",
    `  version: ${version}`,
    "  description: Firing curves of the ceramic kilns, published by the kiln controllers.",
    "servers:",
    "  plant-eu: { host: 'localhost:1883', protocol: mqtt }",
    "channels:",
    ...channels.flatMap((name) => [
      `  ${name}:`,
      `    address: 'kilns/{kilnId}/${name}'`,
      "    parameters: { kilnId: { description: Kiln identifier } }",
      "    messages:",
      `      ${name}Message:`,
      `        name: ${name}Message`,
      "        payload:",
      "          type: object",
      "          additionalProperties: false",
      "          required: [kilnId, celsius]",
      "          properties:",
      "            kilnId: { type: string }",
      "            celsius: { type: number, description: Chamber temperature }",
    ]),
    "operations:",
    ...channels.flatMap((name) => [`  send${name}:`, "    action: send", `    channel: { $ref: '#/channels/${name}' }`]),
    "",
  ].join("\n");
}

test("a team publishes a contract, finds it, reads it, and is refused an incompatible version", async ({ page, signInPage }, testInfo) => {
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  const slug = `kiln-controller-${Date.now()}`;

  await page.goto("/catalog/new");
  const form = page.getByTestId("new-application-form");
  await form.getByLabel("Slug").fill(slug);
  await form.getByLabel("Name").fill("Kiln Controller");
  await form.getByLabel("Owning team").selectOption("plant-operations");
  await form.getByRole("button", { name: "Create application" }).click();
  await expect(page.getByTestId("application-name")).toHaveText("Kiln Controller");

  await page.getByRole("link", { name: "Publish a version" }).click();
  await page.getByLabel("AsyncAPI document (YAML or JSON)").fill(contract("1.0.0", ["firing", "door"]));
  await expect(page.getByTestId("live-validation")).toContainText("Valid");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByTestId("publish-result")).toContainText("Published version 1.0.0");
  await snapshot(page, testInfo, "10-published");

  await page.goto("/discover?q=firing+curves");
  await expect(page.getByTestId("search-results")).toContainText("Kiln Controller");
  await page.goto("/discover?topic=" + encodeURIComponent("kilns/+/firing"));
  const results = page.getByTestId("search-results");
  await expect(results).toContainText("kilns/{kilnId}/firing");
  await expect(results).not.toContainText("kilns/{kilnId}/door");
  await snapshot(page, testInfo, "11-topic-search");
  await results.getByRole("link", { name: "kilns/{kilnId}/firing" }).click();
  await expect(page.getByTestId("subscription-filter")).toHaveText("kilns/+/firing");

  await page.goto(`/catalog/${slug}/versions/1.0.0`);
  await expect(page.getByTestId("asyncapi-doc").getByText("Kiln Controller").filter({ visible: true }).first()).toBeVisible({ timeout: 30_000 });
  await snapshot(page, testInfo, "12-rendered-document");

  const download = await page.request.get(`/api/v1/applications/${slug}/versions/1.0.0/document?format=yaml`);
  expect(download.status()).toBe(200);
  expect(download.headers()["content-disposition"]).toContain(`${slug}-1.0.0.yaml`);
  expect(await download.text()).toContain("kilns/{kilnId}/firing");

  await page.goto(`/catalog/${slug}/publish`);
  await page.getByLabel("AsyncAPI document (YAML or JSON)").fill(contract("1.1.0", ["firing"]));
  // The live evaluation says what the publish will decide, before it is tried.
  const live = page.getByTestId("live-evaluation");
  await expect(live).toContainText("incompatible");
  await expect(live).toContainText("suggested version 2.0.0");
  await expect(page.getByTestId("live-blockers")).toContainText("Publish it as a new major version");
  await page.getByRole("button", { name: "Publish" }).click();
  const refusal = page.getByTestId("publish-error");
  await expect(refusal).toContainText("major");
  await expect(refusal).toContainText("CHANNEL_REMOVED");
  await snapshot(page, testInfo, "13-incompatible-refused");

  await page.goto(`/catalog/${slug}`);
  await expect(page.getByTestId("versions-table").locator("tbody tr")).toHaveCount(1);
});

test("the demo catalog shows versions, a deprecation and the diff with findings", async ({ page, signInPage }, testInfo) => {
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  await page.goto("/catalog/line-sensors/versions/1.0.0");
  await expect(page.getByTestId("deprecation-warning")).toBeVisible();
  await page.goto("/catalog/line-sensors/diff?from=1.1.0&to=2.0.0");
  await expect(page.getByTestId("diff-summary")).toContainText("incompatible");
  await expect(page.getByTestId("diff-lines")).toContainText("breaking");
  // 2.0.0 is a new major version: the compare page judges it as its publish did, accepted.
  await expect(page.getByTestId("diff-evaluation")).toContainText("2.0.0 would be accepted");
  await snapshot(page, testInfo, "14-diff");
  await page.goto("/discover?field=orderId");
  await expect(page.getByTestId("search-results")).toContainText("orderId");
});
