import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { request as playwrightRequest, type APIRequestContext, type APIResponse, type Page, type TestInfo } from "@playwright/test";
import mqtt, { type MqttClient } from "mqtt";
import { startMosquitto, type Mosquitto } from "../agents/testing/mosquitto.ts";
import { AdminPage, DEMO_ADMIN, expect, test } from "./fixtures.ts";

/*
 * Drift, end to end: a real Mosquitto, a real agent process reporting to the portal, publishers and consumers that
 * follow their contracts and others that break them in every drift kind. Each finding appears with its kind and
 * evidence; a fixed payload resolves its finding; the topology shows declared, observed and both edges; an
 * undocumented topic is imported into the catalog as a change request.
 */

const BROKER = "drift-mosquitto";

function sensors(version: string, units: string[]): string {
  return [
    "asyncapi: 3.0.0",
    `info: { title: Drift sensors, version: ${version}, description: Site sensors. }`,
    "channels:",
    "  readings:",
    "    address: drift/{site}/reading",
    "    parameters: { site: { description: The site } }",
    "    messages:",
    "      reading:",
    "        name: reading",
    "        payload:",
    "          type: object",
    "          required: [value, unit]",
    "          properties:",
    "            value: { type: number }",
    `            unit: { type: string, enum: [${units.join(", ")}] }`,
    "  statuses:",
    "    address: drift/{site}/status",
    "    parameters: { site: { description: The site } }",
    "    messages: { status: { name: status, payload: { type: object, required: [state], properties: { state: { type: string } } } } }",
    "  alarms:",
    "    address: drift/{site}/alarm",
    "    parameters: { site: { description: The site } }",
    "    messages: { alarm: { name: alarm, payload: { type: object, properties: { code: { type: integer } } } } }",
    "operations:",
    "  sendReadings: { action: send, channel: { $ref: '#/channels/readings' } }",
    "  sendStatuses: { action: send, channel: { $ref: '#/channels/statuses' } }",
    "  sendAlarms: { action: send, channel: { $ref: '#/channels/alarms' } }",
    "",
  ].join("\n");
}

const DASHBOARD = [
  "asyncapi: 3.0.0",
  "info: { title: Drift dashboard, version: 1.0.0, description: Shows the readings. }",
  "channels:",
  "  readings:",
  "    address: drift/{site}/reading",
  "    parameters: { site: { description: The site } }",
  "    messages: { reading: { name: reading, payload: { type: object, properties: { value: { type: number } } } } }",
  "operations:",
  "  showReadings: { action: receive, channel: { $ref: '#/channels/readings' } }",
  "",
].join("\n");

interface Finding {
  id: string;
  rule: string;
  status: string;
  broker: { id: string } | null;
  template: string | null;
  channel: string | null;
  application: { slug: string } | null;
  applicationSlug?: string | null;
  clientId: string | null;
}

const appOf = (f: Finding) => f.application?.slug ?? f.applicationSlug ?? null;

async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  mkdirSync("e2e/artifacts", { recursive: true });
  const file = `e2e/artifacts/${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

/** A client that publishes one payload per second on a topic until stopped. */
async function publisher(url: string, clientId: string, topic: string, payload: () => unknown): Promise<{ client: MqttClient; set: (next: () => unknown) => void }> {
  const client = await mqtt.connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 500 });
  let make = payload;
  const timer = setInterval(() => client.publish(topic, JSON.stringify(make()), { qos: 0 }), 500);
  client.on("end", () => clearInterval(timer));
  return { client, set: (next) => (make = next) };
}

test("the agent's observations are judged against the contracts: every drift kind, resolution, topology and import", async ({ page, signInPage, baseURL }, testInfo) => {
  test.setTimeout(300_000);
  const clients: MqttClient[] = [];
  let broker: Mosquitto | null = null;
  let agent: ChildProcess | null = null;
  try {
    broker = await startMosquitto();

    await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
    const adminPage = new AdminPage(page);
    await adminPage.open();
    const adminToken = await adminPage.createToken(`e2e-drift-${Date.now()}`, ["admin"]);
    const api: APIRequestContext = await playwrightRequest.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${adminToken}` } });
    const ok = async (response: Promise<APIResponse>) => {
      const r = await response;
      expect(r.status(), await r.text()).toBeLessThan(300);
      return r.json();
    };

    // The contracts: sensors send readings, statuses and alarms; the dashboard receives readings.
    await ok(api.post("/api/v1/teams", { data: { slug: "drift-ops", name: "Drift operations" } }));
    await ok(api.post("/api/v1/applications", { data: { slug: "drift-sensors", name: "Drift sensors", team: "drift-ops", clientIdPatterns: ["drift-sensor-*"] } }));
    await ok(api.post("/api/v1/applications", { data: { slug: "drift-dashboard", name: "Drift dashboard", team: "drift-ops", clientIdPatterns: ["drift-dashboard-*"] } }));
    await ok(api.post("/api/v1/applications/drift-sensors/versions", { data: sensors("1.0.0", ["C", "F"]), headers: { "content-type": "application/yaml" } }));
    // A draft 1.1.0 adds kelvin: a sensor already sending kelvin follows only the newer version.
    await ok(api.post("/api/v1/applications/drift-sensors/versions", { data: { files: { "asyncapi.yaml": sensors("1.1.0", ["C", "F", "K"]) }, state: "draft" } }));
    await ok(api.post("/api/v1/applications/drift-dashboard/versions", { data: DASHBOARD, headers: { "content-type": "application/yaml" } }));

    // A real agent process on the broker, bound to it.
    const agentToken = (await ok(api.post("/api/v1/admin/tokens", { data: { name: `drift-agent-${Date.now()}`, scopes: ["agent:report"], brokers: BROKER } }))).secret as string;
    const spool = mkdtempSync(path.join(os.tmpdir(), "meshport-e2e-agent-"));
    agent = spawn(
      process.execPath,
      ["bin/meshport-agent.mjs", "--broker", broker.url, "--broker-id", BROKER, "--portal", baseURL!, "--broker-log", broker.logFile, "--interval", "2", "--spool", spool, "--log-level", "warn"],
      { env: { ...process.env, MESHPORT_AGENT_TOKEN: agentToken }, stdio: ["ignore", "inherit", "inherit"] },
    );

    // Site names, not ids: each site stays its own topic template (the agent collapses id-like levels).
    // The agent learns subscriptions from the broker's log as they happen: wait until it reports before clients subscribe.
    await expect(async () => {
      const body = await ok(api.get("/api/v1/brokers"));
      expect(JSON.stringify(body)).toContain(BROKER);
    }).toPass({ timeout: 60_000, intervals: [1_000] });
    const url = broker.url;
    // Following the contracts.
    const good = () => ({ value: 21.5, unit: "C" });
    clients.push((await publisher(url, "drift-sensor-1", "drift/lyon/reading", good)).client);
    clients.push((await publisher(url, "drift-sensor-1-status", "drift/lyon/status", () => ({ state: "ok" }))).client);
    const dashboard = await mqtt.connectAsync(url, { clientId: "drift-dashboard-1", protocolVersion: 4 });
    clients.push(dashboard);
    await dashboard.subscribeAsync("drift/+/reading", { qos: 0 });
    // Breaking them, one drift kind each.
    const bad = await publisher(url, "drift-sensor-2", "drift/nantes/reading", () => ({ value: "hot", unit: "C" }));
    clients.push(bad.client);
    clients.push((await publisher(url, "drift-sensor-3", "drift/lille/reading", () => ({ value: 294, unit: "K" }))).client);
    clients.push((await publisher(url, "drift-sensor-4", "drift/brest/status", () => ({ state: "ok", battery: 80 }))).client);
    clients.push((await publisher(url, "drift-sensor-6", "drift/debug/dump", () => ({ raw: "0xdeadbeef", seq: 1 }))).client);
    clients.push((await publisher(url, "drift-dashboard-2", "drift/paris/reading", good)).client);
    clients.push((await publisher(url, "rogue-tool", "drift/rouen/reading", good)).client);
    const listener = await mqtt.connectAsync(url, { clientId: "drift-sensor-5", protocolVersion: 4 });
    clients.push(listener);
    await listener.subscribeAsync("drift/+/status", { qos: 0 });

    const expected: Array<{ rule: string; match: (f: Finding) => boolean; label: string }> = [
      { rule: "PAYLOAD_SCHEMA_VIOLATION", label: "drift/nantes/reading fails the reading schema", match: (f) => f.template === "drift/nantes/reading" && appOf(f) === "drift-sensors" },
      { rule: "VERSION_SKEW", label: "drift/lille/reading follows the 1.1.0 draft only", match: (f) => f.template === "drift/lille/reading" && appOf(f) === "drift-sensors" },
      { rule: "UNDOCUMENTED_FIELD", label: "battery on drift/brest/status", match: (f) => f.template === "drift/brest/status" && appOf(f) === "drift-sensors" },
      { rule: "UNDOCUMENTED_TOPIC", label: "drift/debug/dump", match: (f) => f.template === "drift/debug/dump" },
      { rule: "UNDECLARED_PRODUCER", label: "drift-sensors publishes on drift/debug/dump", match: (f) => f.template === "drift/debug/dump" && appOf(f) === "drift-sensors" },
      { rule: "UNDECLARED_PRODUCER", label: "the dashboard publishes readings", match: (f) => f.template === "drift/paris/reading" && appOf(f) === "drift-dashboard" },
      { rule: "UNDECLARED_CONSUMER", label: "drift-sensor-5 subscribes to statuses", match: (f) => appOf(f) === "drift-sensors" && (f.template ?? "").endsWith("/status") },
      { rule: "UNKNOWN_CLIENT", label: "rogue-tool", match: (f) => f.clientId === "rogue-tool" },
      { rule: "SILENT_CHANNEL", label: "nothing on drift/{site}/alarm", match: (f) => f.channel === "drift/{site}/alarm" && appOf(f) === "drift-sensors" },
    ];
    const findings = async (): Promise<Finding[]> => {
      const body = await ok(api.get(`/api/v1/drift/findings?status=open&limit=200`));
      return (body.findings ?? body.items ?? []) as Finding[];
    };
    await expect(async () => {
      const open = await findings();
      const missing = expected.filter((e) => !open.some((f) => f.rule === e.rule && e.match(f))).map((e) => `${e.rule}: ${e.label}`);
      const seen = open.filter((f) => f.broker?.id === BROKER || f.channel?.startsWith("drift/")).map((f) => `${f.rule} ${f.template ?? ""} ${f.channel ?? ""} ${appOf(f) ?? ""} ${f.clientId ?? ""}`);
      expect(missing, `findings not open yet; open on ${BROKER}: ${seen.join(" | ")}`).toEqual([]);
    }).toPass({ timeout: 90_000, intervals: [2_000] });

    // Nothing is flagged for what follows the contracts.
    const open = await findings();
    const ours = open.filter((f) => f.broker?.id === BROKER || f.channel?.startsWith("drift/"));
    // (drift-sensor-5 listening on the statuses is the one finding those topics carry.)
    const wrong = ours.filter((f) => (["drift/lyon/reading", "drift/lyon/status"].includes(f.template ?? "") && f.rule !== "UNDECLARED_CONSUMER") || f.clientId === "drift-sensor-1" || f.clientId === "drift-dashboard-1");
    expect(wrong.map((f) => `${f.rule} ${f.template ?? f.clientId}`)).toEqual([]);
    // Precision over this broker: every finding is one we expect.
    const unexpected = ours.filter((f) => !expected.some((e) => e.rule === f.rule && e.match(f)));
    expect(unexpected.map((f) => `${f.rule} ${f.template ?? ""} ${f.channel ?? ""} ${f.clientId ?? ""}`)).toEqual([]);

    const field = open.find((f) => f.rule === "UNDOCUMENTED_FIELD" && f.template === "drift/brest/status")!;
    const fieldDetail = await ok(api.get(`/api/v1/drift/findings/${field.id}`));
    expect(JSON.stringify(fieldDetail)).toContain("/battery");

    // The dashboard shows them, the violation with its failing path.
    await page.goto("/drift");
    await expect(page.getByTestId("drift-summary")).toBeVisible();
    await expect(page.getByTestId("drift-summary-PAYLOAD_SCHEMA_VIOLATION")).toBeVisible();
    await expect(page.getByTestId("drift-trend")).toBeVisible();
    await snapshot(page, testInfo, "40-drift-dashboard");
    const violation = open.find((f) => f.rule === "PAYLOAD_SCHEMA_VIOLATION" && f.template === "drift/nantes/reading")!;
    await page.goto(`/drift/${violation.id}`);
    await expect(page.getByTestId("drift-finding")).toContainText("/value must be number");
    await expect(page.getByTestId("drift-evidence")).toContainText("/value");
    await expect(page.getByTestId("drift-evidence")).toContainText("hot");
    await snapshot(page, testInfo, "41-drift-violation");

    // The sensor is fixed: its finding resolves.
    bad.set(good);
    await expect(async () => {
      const body = await ok(api.get(`/api/v1/drift/findings/${violation.id}`));
      expect((body.finding ?? body).status).toBe("resolved");
    }).toPass({ timeout: 60_000, intervals: [2_000] });
    await page.goto(`/drift/${violation.id}`);
    await expect(page.getByTestId("drift-history")).toContainText(/resolved/i);

    // The topology: declared and observed edges, and both.
    const graph = (await ok(api.get(`/api/v1/topology?prefix=drift/`))).topology;
    const states = new Set<string>((graph.edges ?? []).map((e: { state?: string; data?: { state?: string } }) => e.state ?? e.data?.state));
    expect([...states].sort()).toEqual(expect.arrayContaining(["both", "declared", "observed"]));
    await page.goto(`/topology?prefix=drift/`);
    await expect(page.getByTestId("topology-graph")).toBeVisible();
    await expect(page.getByTestId("topology-legend")).toBeVisible();
    await expect(page.locator('[data-testid^="topology-node-application-"]').first()).toBeVisible({ timeout: 20_000 });
    await snapshot(page, testInfo, "42-topology");

    // Import the undocumented topic into the catalog: a change request for the sensors.
    const undocumented = open.find((f) => f.rule === "UNDOCUMENTED_TOPIC" && f.template === "drift/debug/dump")!;
    await page.goto(`/drift/${undocumented.id}`);
    const form = page.getByTestId("drift-import");
    await form.getByLabel("Application", { exact: true }).selectOption("drift-sensors");
    await form.getByRole("button", { name: "Open a change request" }).click();
    await expect(page).toHaveURL(/\/reviews\/\d+$/, { timeout: 30_000 });
    await expect(page.locator("body")).toContainText("drift/debug/dump");
    await snapshot(page, testInfo, "43-drift-import-change-request");
  } finally {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    agent?.kill("SIGTERM");
    await broker?.cleanup();
  }
});
