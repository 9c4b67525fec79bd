import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { request as playwrightRequest, type APIRequestContext, type APIResponse, type Page, type TestInfo } from "@playwright/test";
import amqp from "amqplib";
import { connect as natsConnect, type NatsConnection } from "nats";
import { startNatsServer, type NatsServer } from "../agents/testing/nats.ts";
import { startRabbitMq, type RabbitMq } from "../agents/testing/rabbitmq.ts";
import { AdminPage, DEMO_ADMIN, expect, test } from "./fixtures.ts";

/*
 * The mesh, end to end: beside the demo's MQTT brokers, a real NATS server and a real RabbitMQ node, each with a
 * real agent process of its kind reporting to the portal. The broker pages show each kind with its topics in its
 * own syntax, its clients, and what its agent cannot see.
 */

const NATS_BROKER = "e2e-nats";
const RABBIT_BROKER = "e2e-rabbit";

async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  mkdirSync("e2e/artifacts", { recursive: true });
  const file = `e2e/artifacts/${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

test("the broker pages show the MQTT, NATS and RabbitMQ brokers of a mesh with their topics and clients", async ({ page, signInPage, baseURL }, testInfo) => {
  test.setTimeout(300_000);
  let nats: NatsServer | null = null;
  let rabbit: RabbitMq | null = null;
  const agents: ChildProcess[] = [];
  const timers: NodeJS.Timeout[] = [];
  const natsClients: NatsConnection[] = [];
  const amqpConnections: amqp.ChannelModel[] = [];
  try {
    [nats, rabbit] = await Promise.all([startNatsServer(), startRabbitMq()]);
    // The firehose tracer tells the agent who publishes; an operator turns it on.
    rabbit.ctl("trace_on");

    await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);
    const adminPage = new AdminPage(page);
    await adminPage.open();
    const adminToken = await adminPage.createToken(`e2e-mesh-${Date.now()}`, ["admin"]);
    const api: APIRequestContext = await playwrightRequest.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${adminToken}` } });
    const ok = async (response: Promise<APIResponse>) => {
      const r = await response;
      expect(r.status(), await r.text()).toBeLessThan(300);
      return r.json();
    };
    const agentToken = async (broker: string) =>
      (await ok(api.post("/api/v1/admin/tokens", { data: { name: `agent-${broker}-${Date.now()}`, scopes: ["agent:report"], brokers: broker } }))).secret as string;
    const runAgent = async (broker: string, args: string[]) => {
      const spool = mkdtempSync(path.join(os.tmpdir(), "meshport-e2e-agent-"));
      const child = spawn(process.execPath, ["bin/meshport-agent.mjs", "--broker-id", broker, "--portal", baseURL!, "--interval", "2", "--spool", spool, "--log-level", "warn", ...args], {
        env: { ...process.env, MESHPORT_AGENT_TOKEN: await agentToken(broker) },
        stdio: ["ignore", "inherit", "inherit"],
      });
      agents.push(child);
    };
    await runAgent(NATS_BROKER, ["--kind", "nats", "--broker", nats.url, "--monitor", nats.monitorUrl]);
    await runAgent(RABBIT_BROKER, ["--kind", "amqp", "--broker", rabbit.url, "--management", rabbit.managementUrl, "--firehose"]);

    // NATS: a named publisher and a named subscriber with a wildcard.
    const natsPublisher = await natsConnect({ servers: nats.url, name: "orders-service" });
    const natsSubscriber = await natsConnect({ servers: nats.url, name: "billing-sync" });
    natsClients.push(natsPublisher, natsSubscriber);
    natsSubscriber.subscribe("orders.*.*.created");
    let n = 0;
    timers.push(setInterval(() => natsPublisher.publish(`orders.eu.${1000 + (n++ % 50)}.created`, JSON.stringify({ id: n, total: 12.5 })), 100));

    // RabbitMQ: a topic exchange, a queue bound with a binding key, a named consumer and a named publisher.
    const consumer = await amqp.connect(rabbit.url, { clientProperties: { connection_name: "crm-target" } });
    const publisher = await amqp.connect(rabbit.url, { clientProperties: { connection_name: "erp-source" } });
    amqpConnections.push(consumer, publisher);
    const consumerChannel = await consumer.createChannel();
    await consumerChannel.assertExchange("events", "topic", { durable: true });
    await consumerChannel.assertQueue("crm-inbox", { durable: true });
    await consumerChannel.bindQueue("crm-inbox", "events", "invoices.#");
    await consumerChannel.consume("crm-inbox", (msg) => msg && consumerChannel.ack(msg));
    const publisherChannel = await publisher.createChannel();
    let m = 0;
    timers.push(setInterval(() => publisherChannel.publish("events", `invoices.de.${5000 + (m++ % 50)}.issued`, Buffer.from(JSON.stringify({ id: m, amount: 99 }))), 100));

    // The Brokers page lists every kind.
    await expect(async () => {
      await page.goto("/brokers");
      for (const id of ["plant-eu", NATS_BROKER, RABBIT_BROKER]) await expect(page.getByTestId(`broker-status-${id}`)).toHaveText("online", { timeout: 1000 });
    }).toPass({ timeout: 120_000, intervals: [2_000] });
    const list = page.locator("main");
    await expect(list).toContainText("NATS");
    await expect(list).toContainText("RabbitMQ");
    await expect(list).toContainText("MQTT");
    await snapshot(page, testInfo, "70-mesh-brokers");

    // NATS: subjects collapse into templates in NATS syntax; the subscriber is listed with its filter; publishers are unknown.
    await expect(async () => {
      await page.goto(`/brokers/${NATS_BROKER}`);
      const topics = page.getByTestId("broker-topics");
      await expect(topics).toContainText("orders.eu.{", { timeout: 1000 });
      await expect(topics).toContainText("billing-sync", { timeout: 1000 });
    }).toPass({ timeout: 90_000, intervals: [2_000] });
    await expect(page.locator("main")).toContainText(/NATS does not tell|publishers? (are|is) unknown/i);
    await snapshot(page, testInfo, "71-nats-broker");

    // RabbitMQ: routing keys collapse, the consumer comes with its binding key, the publisher from the firehose.
    await expect(async () => {
      await page.goto(`/brokers/${RABBIT_BROKER}`);
      const topics = page.getByTestId("broker-topics");
      await expect(topics).toContainText("invoices.de.{", { timeout: 1000 });
      await expect(topics).toContainText("crm-target", { timeout: 1000 });
      await expect(topics).toContainText("erp-source", { timeout: 1000 });
    }).toPass({ timeout: 90_000, intervals: [2_000] });
    await expect(page.locator("main")).toContainText("crm-inbox");
    await expect(page.locator("main")).toContainText("events");
    await snapshot(page, testInfo, "72-rabbitmq-broker");
    await api.dispose();
  } finally {
    for (const t of timers) clearInterval(t);
    for (const a of agents) a.kill("SIGTERM");
    await Promise.all(natsClients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(amqpConnections.map((c) => c.close().catch(() => undefined)));
    await Promise.all([nats?.cleanup(), rabbit?.cleanup()]);
  }
});

test("the catalog shows micro-integrations, the systems they connect, and the demo's bridged brokers", async ({ page, signInPage }, testInfo) => {
  test.setTimeout(120_000);
  await signInPage.signIn(DEMO_ADMIN.email, DEMO_ADMIN.password);

  // Integrations by kind: the ERP source is listed among the sources, the CRM target is not.
  await page.goto("/catalog?kind=source-integration");
  const apps = page.getByTestId("applications-table");
  await expect(apps).toContainText("ERP Order Source");
  await expect(apps).not.toContainText("CRM Order Sync");
  await expect(apps.getByTestId("application-kind").first()).toContainText(/source/i);
  await snapshot(page, testInfo, "73-catalog-integrations");

  // The integration's page draws system → integration → channels → the integrations on the other side.
  await page.getByRole("link", { name: "ERP Order Source" }).first().click();
  const mesh = page.getByTestId("mesh");
  await expect(mesh).toContainText("SAP ERP");
  await expect(mesh).toContainText("CRM Order Sync");
  await expect(page.getByTestId("kind-declared")).toContainText("x-meshport-kind");
  await snapshot(page, testInfo, "74-integration-flow");

  // Systems are catalog entries of their own.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Systems", exact: true }).click();
  await expect(page.getByTestId("systems-table")).toContainText("Salesforce CRM");
  await page.getByTestId("systems-table").getByRole("link", { name: "SAP ERP" }).click();
  await expect(page.getByTestId("system-name")).toHaveText("SAP ERP");
  await expect(page.getByTestId("source-integrations")).toContainText("ERP Order Source");
  await expect(page.getByTestId("events-out")).not.toContainText("No events flow out of it.");
  await snapshot(page, testInfo, "75-system");

  // The demo is a mesh: cloud-core reports, and its page links it to plant-eu over the bridge.
  await expect(async () => {
    await page.goto("/brokers/cloud-core");
    await expect(page.locator("main")).toContainText("plant-eu", { timeout: 1000 });
    await expect(page.getByText("online").first()).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000, intervals: [2_000] });
  await snapshot(page, testInfo, "76-bridged-broker");
});
