import { createHmac } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request as playwrightRequest, type APIRequestContext, type Page, type TestInfo } from "@playwright/test";
import mqtt from "mqtt";
import { AdminPage, DEMO_ADMIN, expect, test } from "./fixtures.ts";

/*
 * The change review, end to end: an editor proposes a breaking change to line-sensors, sees the consumers it
 * breaks (one declared by its contract, one only observed by the agent on the broker) and the reviewer teams;
 * a consumer-team reviewer asks for changes on one finding; a revision; approvals publish it. An admin
 * overrides another request with a reason. A webhook receiver gets every event signed and in order, and the
 * audit report shows it all and exports it.
 */

const PASSWORD = process.env.MESHPORT_DEMO_PASSWORD || "e2e-demo-password";
const EDDIE = { email: "eddie@meshport.demo", password: PASSWORD };
const RITA = { email: "rita@meshport.demo", password: PASSWORD };
const CARL = { name: "Carl Consumer", email: "carl@meshport.demo", password: "carl-consumer-password" };

async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  mkdirSync("e2e/artifacts", { recursive: true });
  const path = `e2e/artifacts/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

/** line-sensors as the demo publishes it, with its temperature payload changed by `edit`. */
function lineSensors(version: string, edit: (text: string) => string): string {
  const text = readFileSync("demo/contracts/line-sensors@2.0.0.yaml", "utf8").replace("  version: 2.0.0", `  version: ${version}`);
  const changed = edit(text);
  if (changed === text) throw new Error("the edit changed nothing");
  return changed;
}

/** Renames the temperature `value` to `celsius`: every consumer reading `value` breaks. */
const renameValue = (text: string) => text.replace("required: [lineId, sensorId, timestamp, value]", "required: [lineId, sensorId, timestamp, celsius]").replace("        value:\n          type: number\n          description: Measured temperature", "        celsius:\n          type: number\n          description: Measured temperature");
/** Keeps `value` and adds a required `celsius` beside it. */
const addCelsius = (text: string) =>
  text
    .replace("required: [lineId, sensorId, timestamp, value]", "required: [lineId, sensorId, timestamp, value, celsius]")
    .replace("        value:\n          type: number", "        celsius:\n          type: number\n          description: Measured temperature, in degrees Celsius, for new readers.\n        value:\n          type: number");

const HISTORIAN = [
  "asyncapi: 3.0.0",
  "info: { title: Temperature historian, version: 1.0.0, description: Keeps every line temperature for ten years. }",
  "channels:",
  "  temperatures:",
  "    address: plant/{line}/temperature",
  "    parameters: { line: { description: The line } }",
  "    messages: { reading: { name: reading, payload: { type: object, properties: { value: { type: number } } } } }",
  "operations:",
  "  storeTemperatures: { action: receive, channel: { $ref: '#/channels/temperatures' } }",
  "",
].join("\n");

interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: string;
}

test("a breaking change is reviewed by the teams it breaks, revised, approved and published; webhooks and the audit report follow", async ({ page, signInPage, baseURL }, testInfo) => {
  test.setTimeout(240_000);
  // A loopback webhook receiver.
  const deliveries: Delivery[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      deliveries.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/meshport`;

  // The admin prepares the mesh over the API: a consumer team with a reviewer, two consumer applications.
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  const adminPage = new AdminPage(page);
  await adminPage.open();
  const token = await adminPage.createToken(`e2e-reviews-${Date.now()}`, ["admin"]);
  const api: APIRequestContext = await playwrightRequest.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
  const ok = async (response: Promise<import("@playwright/test").APIResponse>) => {
    const r = await response;
    expect(r.status(), await r.text()).toBeLessThan(300);
    return r.json();
  };
  const hook = await ok(api.post("/api/v1/webhooks", { data: { name: "Review bot", url: hookUrl, events: ["*"] } }));
  const secret: string = hook.secret;
  expect(secret.length).toBeGreaterThanOrEqual(16);
  await ok(api.post("/api/v1/teams", { data: { slug: "maintenance", name: "Maintenance" } }));
  await ok(api.post("/api/v1/admin/users", { data: { ...CARL, role: "reviewer" } }));
  await ok(api.put("/api/v1/teams/maintenance/members", { data: { email: CARL.email, role: "member" } }));
  // Rita reviews for the owning team too.
  await ok(api.put("/api/v1/teams/plant-operations/members", { data: { email: RITA.email, role: "member" } }));
  await ok(api.post("/api/v1/applications", { data: { slug: "temperature-historian", name: "Temperature historian", team: "maintenance" } }));
  await ok(api.post("/api/v1/applications/temperature-historian/versions", { data: HISTORIAN, headers: { "content-type": "application/yaml" } }));
  await ok(api.post("/api/v1/applications", { data: { slug: "energy-historian", name: "Energy historian", team: "maintenance" } }));
  await ok(api.patch("/api/v1/applications/energy-historian", { data: { clientIdPatterns: ["energy-historian-*"] } }));

  // A client of the energy historian subscribes on the plant broker; it has no contract, the agent sees it.
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${process.env.MESHPORT_E2E_MQTT_PORT}`, { clientId: "energy-historian-7", protocolVersion: 4 });
  try {
    await client.subscribeAsync("plant/+/temperature", { qos: 0 });
    await expect(async () => {
      await page.goto("/brokers/plant-eu");
      await expect(page.getByTestId("broker-topics")).toContainText("energy-historian-7", { timeout: 1000 });
    }).toPass({ timeout: 90_000 });
  } finally {
    await client.endAsync();
  }
  await signInPage.signOut();

  // The editor proposes the breaking change and sees whom it breaks.
  await signInPage.signIn(EDDIE.email, EDDIE.password);
  await page.goto("/catalog/line-sensors/publish");
  await page.getByLabel("AsyncAPI document (YAML or JSON)").fill(lineSensors("3.0.0", renameValue));
  await expect(page.getByTestId("live-evaluation")).toContainText("incompatible");
  await page.getByLabel("Title").fill("Temperatures in celsius");
  await page.getByRole("button", { name: "Submit for review" }).click();
  await expect(page).toHaveURL(/\/reviews\/\d+$/);
  const requestUrl = new URL(page.url()).pathname;
  await expect(page.getByTestId("cr-state")).toHaveText(/open/i);
  const impact = page.getByTestId("cr-impact");
  await expect(impact.getByTestId("impact-app-temperature-historian")).toContainText(/declared/i);
  await expect(impact.getByTestId("impact-app-energy-historian")).toContainText(/observed/i);
  await expect(impact.getByTestId("impact-app-energy-historian")).toContainText("energy-historian-7");
  const reviewers = page.getByTestId("cr-reviewers");
  await expect(reviewers.getByTestId("reviewer-plant-operations")).toBeVisible();
  await expect(reviewers.getByTestId("reviewer-maintenance")).toBeVisible();
  await snapshot(page, testInfo, "30-change-request-impact");
  await signInPage.signOut();

  // The consumer team's reviewer asks for changes on one finding.
  await signInPage.signIn(CARL.email, CARL.password);
  await expect(page.getByTestId("inbox-count")).toBeVisible();
  await page.goto("/reviews?view=waiting");
  await page.getByTestId("reviews-list").getByRole("link", { name: /Temperatures in celsius/ }).click();
  const decision = page.getByTestId("decision-form");
  const finding = decision.getByLabel("Finding");
  const options = await finding.locator("option").allTextContents();
  const removed = options.find((o) => /value/.test(o) && /remov/i.test(o)) ?? options[1]!;
  await finding.selectOption({ label: removed });
  await decision.getByLabel("Comment").fill("The historian reads `value`; keep it for a while.");
  await decision.getByRole("button", { name: "Request changes" }).click();
  await expect(page.getByTestId("cr-state")).toHaveText(/changes requested/i);
  await expect(page.getByTestId("cr-conversation")).toContainText("keep it for a while");
  await snapshot(page, testInfo, "31-changes-requested");
  await signInPage.signOut();

  // The author submits a revision that keeps `value`.
  await signInPage.signIn(EDDIE.email, EDDIE.password);
  await page.goto(requestUrl);
  const revise = page.getByTestId("revise-form");
  await revise.getByLabel("Contract").fill(lineSensors("3.0.0", addCelsius));
  await revise.getByRole("button", { name: "Submit revision" }).click();
  await expect(page.getByTestId("cr-state")).toHaveText(/open/i);
  await expect(page.getByTestId("cr-conversation")).toContainText(/revis/i);
  await signInPage.signOut();

  // Both teams approve; the last approval publishes.
  for (const reviewer of [RITA, CARL]) {
    await signInPage.signIn(reviewer.email, reviewer.password);
    await page.goto(requestUrl);
    await page.getByTestId("decision-form").getByRole("button", { name: "Approve" }).click();
    await expect(page.getByTestId("cr-reviewers")).toContainText(reviewer.email);
    if (reviewer !== CARL) await signInPage.signOut();
  }
  await expect(page.getByTestId("cr-state")).toHaveText(/published/i);
  await snapshot(page, testInfo, "32-published-by-approval");
  await page.goto("/catalog/line-sensors");
  await expect(page.getByTestId("versions-table")).toContainText("3.0.0");
  await signInPage.signOut();

  // Another request, overridden by the admin with a written reason.
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
  const other = await ok(
    api.post("/api/v1/applications/line-sensors/change-requests", { data: { files: { "asyncapi.yaml": lineSensors("4.0.0", (t) => addCelsius(t).replace("        celsius:\n          type: number", "        celsius:\n          type: string")) }, title: "Celsius as text" } }),
  );
  await page.goto(other.changeRequest.url);
  await page.getByTestId("override-form").getByLabel("Reason").fill("Plant shutdown tonight: the historian team agreed by phone.");
  await page.getByTestId("override-form").getByRole("button", { name: "Publish with override" }).click();
  await expect(page.getByTestId("cr-state")).toHaveText(/published/i);
  await expect(page.getByTestId("cr-conversation")).toContainText("agreed by phone");
  await page.goto("/catalog/line-sensors/versions/4.0.0");
  await expect(page.getByText("agreed by phone")).toBeVisible();
  await snapshot(page, testInfo, "33-override");

  // The webhook got every event, signed, in the order they happened.
  const types = () => deliveries.map((d) => JSON.parse(d.body).type as string);
  await expect.poll(() => types().filter((t) => t === "review.published").length, { timeout: 30_000 }).toBe(2);
  const reviewEvents = types().filter((t) => t.startsWith("review."));
  expect(reviewEvents.slice(0, 2)).toEqual(["review.requested", "review.changes_requested"]);
  expect(reviewEvents.indexOf("review.approved")).toBeLessThan(reviewEvents.indexOf("review.published"));
  for (const d of deliveries) {
    const timestamp = String(d.headers["x-meshport-timestamp"]);
    const expected = `sha256=${createHmac("sha256", secret).update(`${timestamp}.${d.body}`).digest("hex")}`;
    expect(d.headers["x-meshport-signature"]).toBe(expected);
  }
  const times = deliveries.map((d) => Date.parse(JSON.parse(d.body).occurredAt));
  expect([...times].sort((a, b) => a - b)).toEqual(times);

  // The audit report shows the review and exports it.
  await page.goto("/audit");
  const filters = page.getByTestId("audit-filters");
  await filters.getByLabel("Application").fill("line-sensors");
  await filters.getByRole("button").first().click();
  await expect(page.locator("body")).toContainText("change_request.request_changes");
  await expect(page.locator("body")).toContainText("change_request.override");
  await snapshot(page, testInfo, "34-audit-report");
  const csvHref = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
  const csv = await page.request.get(csvHref!);
  expect(csv.status()).toBe(200);
  const text = await csv.text();
  expect(text).toContain("change_request.approve");
  expect(text).toContain("contract.publish");
  await api.dispose();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});
