import { mkdirSync } from "node:fs";
import type { Page, TestInfo } from "@playwright/test";
import { DEMO_ADMIN, expect, test } from "./fixtures.ts";

async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  mkdirSync("e2e/artifacts", { recursive: true });
  const path = `e2e/artifacts/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

test("an admin creates a viewer, who is refused the Admin page", async ({ page, signInPage, adminPage }, testInfo) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
  await snapshot(page, testInfo, "01-sign-in");

  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  await expect(page.getByTestId("current-role")).toHaveText("admin");
  for (const section of ["Catalog", "Discover", "Reviews", "Topology", "Drift", "Audit", "Admin"]) {
    await expect(page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: section })).toBeVisible();
  }
  await expect(page.getByTestId("applications-table")).toBeVisible();
  await snapshot(page, testInfo, "02-catalog-as-admin");

  await adminPage.open();
  const viewer = { name: "Vera Viewer", email: `vera-${Date.now()}@example.com`, password: "viewer-password-1", role: "viewer" };
  await adminPage.createAccount(viewer);
  await snapshot(page, testInfo, "03-admin-created-viewer");

  await signInPage.signOut();
  await signInPage.signIn(viewer.email, viewer.password);
  await expect(page.getByTestId("current-role")).toHaveText("viewer");
  await expect(page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Admin" })).toHaveCount(0);

  const response = await page.goto("/admin");
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId("forbidden")).toBeVisible();
  await snapshot(page, testInfo, "04-viewer-refused-admin");

  const api = await page.request.get("/api/v1/admin/users");
  expect(api.status()).toBe(403);
});

test("a token made in the UI works on the API until it is revoked", async ({ page, signInPage, adminPage }, testInfo) => {
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  await adminPage.open();
  const name = `ci-${Date.now()}`;
  const secret = await adminPage.createToken(name, ["contracts:write"]);
  await snapshot(page, testInfo, "05-token-shown-once");

  const whoami = await page.request.get("/api/v1/whoami", { headers: { authorization: `Bearer ${secret}` } });
  expect(whoami.status()).toBe(200);
  expect(await whoami.json()).toMatchObject({ kind: "token", name, scopes: ["contracts:write"] });

  await page.reload();
  await expect(page.getByTestId("token-secret")).toHaveCount(0);
  await adminPage.revokeToken(name);
  const after = await page.request.get("/api/v1/whoami", { headers: { authorization: `Bearer ${secret}` } });
  expect(after.status()).toBe(401);

  await page.getByRole("link", { name: "Audit" }).click();
  await expect(page.getByTestId("audit-chain-status")).toContainText("Hash chain intact");
  await expect(page.getByTestId("audit-table")).toContainText("token.revoke");
  await snapshot(page, testInfo, "06-audit");
});
