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

test("after sign-in, a next parameter never leads to another site", async ({ page, signInPage, baseURL }) => {
  const portal = new URL(baseURL!).origin;
  for (const next of ["/\\evil.example", "//evil.example/catalog", "/\t/evil.example", "https://evil.example/"]) {
    await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
    const form = page.getByTestId("sign-in-form");
    await form.getByLabel("Email").fill(DEMO_ADMIN.email);
    await form.getByLabel("Password").fill(DEMO_ADMIN.password);
    await form.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("current-user")).toBeVisible();
    expect(new URL(page.url()).origin, next).toBe(portal);
    expect(new URL(page.url()).pathname, next).not.toContain("evil.example");
    await signInPage.signOut();
  }
  // A path of the portal's own is followed.
  await page.goto(`/sign-in?next=${encodeURIComponent("/audit?action=session.sign_out")}`);
  const form = page.getByTestId("sign-in-form");
  await form.getByLabel("Email").fill(DEMO_ADMIN.email);
  await form.getByLabel("Password").fill(DEMO_ADMIN.password);
  await form.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/audit\?action=session\.sign_out$/);
  // The sign-outs above are in the audit log, by the admin.
  await expect(page.getByTestId("audit-table")).toContainText(DEMO_ADMIN.email);
});

test("on the account page a person changes their name and password, each audited", async ({ page, signInPage, adminPage }, testInfo) => {
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  await adminPage.open();
  const person = { name: "Olga Owner", email: `olga-${Date.now()}@example.com`, password: "first-password-1", role: "editor" };
  await adminPage.createAccount(person);
  await signInPage.signOut();

  await signInPage.signIn(person.email, person.password);
  await page.getByTestId("account-link").click();
  await expect(page.getByRole("heading", { name: "Your account", level: 1 })).toBeVisible();
  await expect(page.getByTestId("account-facts")).toContainText(person.email);

  const profile = page.getByTestId("profile-form");
  await profile.getByLabel("Name").fill("Olga O. Owner");
  await profile.getByRole("button", { name: "Save name" }).click();
  await expect(profile.getByRole("status")).toHaveText("Name saved.");
  await expect(page.getByTestId("account-link")).toHaveText("Olga O. Owner");

  const password = page.getByTestId("password-form");
  await password.getByLabel("Current password").fill("not-my-password");
  await password.getByLabel("New password", { exact: true }).fill("second-password-2");
  await password.getByLabel("New password again").fill("second-password-2");
  await password.getByRole("button", { name: "Change password" }).click();
  await expect(password.getByText("The current password is wrong.").first()).toBeVisible();

  await password.getByLabel("Current password").fill(person.password);
  await password.getByLabel("New password", { exact: true }).fill("second-password-2");
  await password.getByLabel("New password again").fill("second-password-2");
  await password.getByRole("button", { name: "Change password" }).click();
  await expect(password.getByRole("status")).toContainText("Password changed");
  await snapshot(page, testInfo, "07-account-page");

  // This session stays; the old password no longer works, the new one does.
  await page.reload();
  await expect(page.getByTestId("current-user")).toBeVisible();
  await signInPage.signOut();
  await page.goto("/sign-in");
  const signIn = page.getByTestId("sign-in-form");
  await signIn.getByLabel("Email").fill(person.email);
  await signIn.getByLabel("Password").fill(person.password);
  await signIn.getByRole("button", { name: "Sign in" }).click();
  await expect(signIn.getByRole("alert")).toContainText("Wrong email or password");
  await signInPage.signIn(person.email, "second-password-2");
  await signInPage.signOut();

  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  for (const action of ["account.profile_update", "account.password_change", "session.sign_in_failed"]) {
    await page.goto(`/audit?action=${action}`);
    await expect(page.getByTestId("audit-table"), action).toContainText(person.email.split("@")[0]!);
  }
  const changes = page.getByTestId("audit-chain-status");
  await expect(changes).toContainText("Hash chain intact");
});

test("repeated failed sign-ins for one account are slowed down, on the form and the API alike", async ({ page, baseURL }) => {
  // An account nobody has: the limit counts per email whether or not it exists.
  const target = `locked-${Date.now()}@example.com`;
  const form = page.getByTestId("sign-in-form");
  const attempt = async (password: string) => {
    // A fresh page per attempt: the alert seen is this attempt's answer.
    await page.goto("/sign-in");
    await form.getByLabel("Email").fill(target);
    await form.getByLabel("Password").fill(password);
    await form.getByRole("button", { name: "Sign in" }).click();
  };
  // The default limit per account is 10 failed attempts per 15 minutes.
  for (let n = 1; n <= 10; n += 1) {
    await attempt(`guess number ${n}`);
    await expect(form.getByRole("alert")).toContainText("Wrong email or password");
  }
  await attempt("guess number 11");
  await expect(form.getByRole("alert")).toContainText("Too many sign-in attempts");

  // The API shares the count, and a claimed X-Forwarded-For changes nothing.
  const api = await page.request.post("/api/auth/sign-in/email", {
    headers: { origin: new URL(baseURL!).origin, "x-forwarded-for": "203.0.113.9" },
    data: { email: target, password: "guess number 12" },
  });
  expect(api.status()).toBe(429);
  expect(Number(api.headers()["retry-after"])).toBeGreaterThan(0);

  // Endpoints the portal does not use are not there.
  for (const path of ["/api/auth/list-sessions", "/api/auth/sign-up/email", "/api/auth/delete-user", "/api/auth/change-email"]) {
    const response = path === "/api/auth/list-sessions" ? await page.request.get(path) : await page.request.post(path, { data: {} });
    expect(response.status(), path).toBe(404);
  }
});
