import { mkdirSync } from "node:fs";
import type { Page, TestInfo } from "@playwright/test";
import { DEMO_ADMIN, expect, test } from "./fixtures.ts";

async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  mkdirSync("e2e/artifacts", { recursive: true });
  const path = `e2e/artifacts/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

// The demo's line sensors send temperature readings; their contract governs this subject (`<address>-<message>`).
const DEMO_APP = "Line Sensors Gateway";
const DEMO_CHANNEL = "plant/{lineId}/temperature";
const DEMO_SUBJECT = `${DEMO_CHANNEL}-temperatureReading`;

test("the Registry lists a demo application's subjects; a subject shows its versions and schema ids; the id page lists the subject", async ({ page, signInPage }, testInfo) => {
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Registry", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Registry", level: 1 })).toBeVisible();
  await expect(page.getByTestId("registry-empty")).toHaveCount(0);
  await expect(page.getByTestId("registry-base-url")).toContainText("/api/schema-registry");

  const filters = page.getByTestId("registry-filters");
  await filters.getByLabel("Name contains").fill(DEMO_CHANNEL);
  await filters.getByLabel("Kind").selectOption("governed");
  await filters.getByRole("button", { name: "Filter" }).click();
  const row = page.locator(`[data-testid="registry-subject-row"][data-subject="${DEMO_SUBJECT}"]`);
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute("data-kind", "governed");
  await expect(row.getByTestId("registry-governed-by")).toContainText(DEMO_APP);
  await expect(row.getByTestId("registry-schema-id")).toHaveText(/^#\d+$/);
  await snapshot(page, testInfo, "registry-10-subjects");

  await row.getByTestId("registry-subject-link").click();
  await expect(page.getByTestId("subject-title")).toContainText(DEMO_SUBJECT);
  await expect(page.getByTestId("subject-kind")).toContainText("governed by a contract");
  await expect(page.getByTestId("subject-usage")).toContainText(DEMO_APP);
  const versions = page.getByTestId("subject-version-row");
  expect(await versions.count()).toBeGreaterThan(0);
  await expect(page.getByTestId("subject-schema")).toContainText('"properties"');
  const latestId = ((await versions.first().getByTestId("subject-version-schema-id").textContent()) ?? "").trim();
  expect(latestId).toMatch(/^#\d+$/);
  await snapshot(page, testInfo, "registry-20-subject");

  await versions.first().getByTestId("subject-version-schema-id").click();
  await expect(page.getByTestId("schema-title")).toHaveText(`Schema ${latestId}`);
  await expect(page.getByTestId("schema-type")).toHaveText("JSON");
  await expect(page.locator(`[data-testid="schema-subject"][data-subject="${DEMO_SUBJECT}"]`)).toBeVisible();
  await expect(page.getByTestId("schema-flows")).toContainText(DEMO_APP);
  await snapshot(page, testInfo, "registry-30-schema-id");

  // The catalog's message page names its subject and links to it.
  await page.goto(`/catalog/line-sensors/message/temperatureReading?channel=${encodeURIComponent(DEMO_CHANNEL)}`);
  await page.getByTestId("message-subjects").getByRole("link", { name: DEMO_SUBJECT }).click();
  await expect(page.getByTestId("subject-title")).toContainText(DEMO_SUBJECT);

  const missing = await page.goto("/registry/subjects/no-such-subject-anywhere");
  expect(missing?.status()).toBe(404);
  const missingId = await page.goto("/registry/schemas/2147483647");
  expect(missingId?.status()).toBe(404);
});

test("a schema registered over the API with a token shows on the Registry page as a direct subject", async ({ page, signInPage, adminPage }, testInfo) => {
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  await adminPage.open();
  const token = await adminPage.createToken(`e2e-registry-${Date.now()}`, ["admin"]);
  const subject = `e2e-orders-${Date.now()}-value`;
  const schema = { title: "Order", type: "object", properties: { orderId: { type: "string" } }, required: ["orderId"] };

  // What a Confluent client sends: Basic auth with the token as the password.
  const response = await page.request.post(`/api/schema-registry/subjects/${encodeURIComponent(subject)}/versions`, {
    headers: {
      authorization: `Basic ${Buffer.from(`meshport:${token}`).toString("base64")}`,
      "content-type": "application/vnd.schemaregistry.v1+json",
    },
    data: JSON.stringify({ schemaType: "JSON", schema: JSON.stringify(schema) }),
  });
  expect(response.status()).toBe(200);
  const { id } = (await response.json()) as { id: number };
  expect(Number.isInteger(id)).toBe(true);

  await page.goto(`/registry?kind=direct&text=${encodeURIComponent(subject)}`);
  const row = page.locator(`[data-testid="registry-subject-row"][data-subject="${subject}"]`);
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute("data-kind", "direct");
  await expect(row.getByTestId("registry-governed-by")).toHaveText("direct");
  await expect(row.getByTestId("registry-schema-id")).toHaveText(`#${id}`);
  await expect(row).toContainText("JSON");
  await snapshot(page, testInfo, "registry-40-direct-subject");

  await row.getByTestId("registry-subject-link").click();
  await expect(page.getByTestId("subject-kind")).toHaveText("direct");
  await expect(page.locator('[data-testid="subject-version-row"][data-version="1"]')).toBeVisible();
  await expect(page.getByTestId("subject-schema")).toContainText('"orderId"');
  await expect(page.getByTestId("subject-history")).toContainText("registry.schema.register");
  await expect(page.getByTestId("subject-link-form")).toBeVisible();

  await page.goto(`/registry/schemas/${id}`);
  await expect(page.locator(`[data-testid="schema-subject"][data-subject="${subject}"]`)).toBeVisible();

  // A contract's subject, its name holding `/` (sent as %2F), read and auto-registered as a serializer does.
  const auth = { authorization: `Basic ${Buffer.from(`meshport:${token}`).toString("base64")}`, "content-type": "application/vnd.schemaregistry.v1+json" };
  const governed = `/api/schema-registry/subjects/${encodeURIComponent("plant/{lineId}/temperature-temperatureReading")}`;
  const latest = await page.request.get(`${governed}/versions/latest`, { headers: auth });
  expect(latest.status()).toBe(200);
  expect(latest.headers()["content-type"]).toContain("application/vnd.schemaregistry.v1+json");
  const version = (await latest.json()) as { subject: string; id: number; version: number; schema: string };
  expect(version.subject).toBe("plant/{lineId}/temperature-temperatureReading");
  const again = await page.request.post(`${governed}/versions`, { headers: auth, data: JSON.stringify({ schemaType: "JSON", schema: version.schema }) });
  expect(await again.json()).toEqual({ id: version.id });
  const changed = await page.request.post(`${governed}/versions`, {
    headers: auth,
    data: JSON.stringify({ schemaType: "JSON", schema: JSON.stringify({ type: "object", properties: { other: { type: "string" } } }) }),
  });
  expect(changed.status()).toBe(409);
  expect(((await changed.json()) as { message: string }).message).toContain("governed by the contract");
});
