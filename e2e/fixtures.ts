import { test as base, expect, type Page } from "@playwright/test";

/** The demo admin seeded by the e2e server. */
export const DEMO_ADMIN = { email: "admin@meshport.demo", password: process.env.MESHPORT_DEMO_PASSWORD || "e2e-demo-password" };

/** The sign-in page. */
export class SignInPage {
  constructor(private readonly page: Page) {}

  async signIn(email: string, password: string): Promise<void> {
    await this.page.goto("/sign-in");
    const form = this.page.getByTestId("sign-in-form");
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Password").fill(password);
    await form.getByRole("button", { name: "Sign in" }).click();
    await expect(this.page.getByTestId("current-user")).toBeVisible();
  }

  async signOut(): Promise<void> {
    await this.page.getByTestId("sign-out").click();
    await expect(this.page.getByTestId("sign-in-form")).toBeVisible();
  }
}

/** The Admin page: accounts and tokens. */
export class AdminPage {
  constructor(private readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Admin", exact: true }).click();
    await expect(this.page.getByRole("heading", { name: "Admin", level: 1 })).toBeVisible();
  }

  async createAccount(account: { name: string; email: string; password: string; role: string }): Promise<void> {
    const form = this.page.getByTestId("create-user-form");
    await form.getByLabel("Name").fill(account.name);
    await form.getByLabel("Email").fill(account.email);
    await form.getByLabel("Initial password").fill(account.password);
    await form.getByLabel("Role").selectOption(account.role);
    await form.getByRole("button", { name: "Create account" }).click();
    await expect(this.page.getByTestId(`user-row-${account.email}`)).toBeVisible();
  }

  async createToken(name: string, scopes: string[], brokers?: string): Promise<string> {
    const form = this.page.getByTestId("create-token-form");
    await form.getByLabel("Name").fill(name);
    if (brokers) await form.getByLabel("Brokers", { exact: false }).fill(brokers);
    for (const box of await form.getByRole("checkbox").all()) await box.uncheck();
    for (const scope of scopes) await form.getByRole("checkbox", { name: scope, exact: false }).first().check();
    await form.getByRole("button", { name: "Create token" }).click();
    const secret = (await this.page.getByTestId("token-secret").textContent())?.trim() ?? "";
    expect(secret).toMatch(/^mpt_/);
    return secret;
  }

  async revokeToken(name: string): Promise<void> {
    const row = this.page.getByTestId(`token-row-${name}`);
    await row.getByRole("button", { name: "Revoke" }).click();
    await expect(row).toContainText("revoked");
  }
}

export const test = base.extend<{ signInPage: SignInPage; adminPage: AdminPage }>({
  signInPage: async ({ page }, use) => use(new SignInPage(page)),
  adminPage: async ({ page }, use) => use(new AdminPage(page)),
});

export { expect };
