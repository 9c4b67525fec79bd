/**
 * Agents report through outages: the database (PostgreSQL stopped, or the PGlite portal killed)
 * goes away while an agent reports, and the broker restarts while it observes. Batches spool,
 * replay and count once: the portal's message totals equal what was published, exactly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeEach, expect, it } from "vitest";
import { MOSQUITTO_BIN, startMosquitto, type Mosquitto } from "@/agents/testing/mosquitto.ts";
import {
  bootstrapAccounts,
  createAgentToken,
  createPortal,
  describeEachBackend,
  eventually,
  freshBackend,
  logsOnFailure,
  recordedMessages,
  removeBackend,
  startAgentProcess,
  stopAllAgents,
  stopAllPortals,
  stopPostgresServer,
  type AgentProcess,
  type Backend,
  type Portal,
} from "./harness.ts";

const TOPICS = ["counted/line1/temperature", "counted/line2/temperature", "counted/line3/pressure", "counted/line4/flow"];
/** Not counted: tells when the agent observes again. */
const PROBE_TOPIC = "probe/reconnected";
/** A few report windows (the agent reports every second): long enough for a replay to be counted twice, were it to be. */
const SETTLE_MS = 3_000;

afterAll(async () => {
  await stopAllAgents();
  await stopAllPortals();
  await stopPostgresServer();
});

describeEachBackend("agents through outages", (kind) => {
  let backend: Backend | null;
  let portal: Portal;
  let adminToken: string;
  let broker: Mosquitto;
  let agent: AgentProcess;
  let publisher: MqttClient;
  let spool: string;
  let brokerId: string;
  let published: number;

  beforeEach(async ({ skip, task }) => {
    if (!MOSQUITTO_BIN) {
      if (process.env.CI) throw new Error("mosquitto is not installed (apt-get install mosquitto)");
      return skip("mosquitto is not installed");
    }
    backend = await freshBackend(kind);
    if (!backend) return skip("PostgreSQL is not installed");
    ({ adminToken } = bootstrapAccounts(backend));
    portal = await createPortal(backend);
    await portal.start();
    broker = await startMosquitto();
    brokerId = `faults-${task.id.replace(/[^a-z0-9]/gi, "").slice(-8).toLowerCase()}`;
    const token = await createAgentToken(portal.url, adminToken, brokerId);
    spool = mkdtempSync(path.join(os.tmpdir(), "meshport-faults-spool-"));
    agent = await startAgentProcess({ broker: broker.url, brokerId, portal: portal.url, token, spool });
    publisher = await mqtt.connectAsync(broker.url, { clientId: "faults-publisher", reconnectPeriod: 200 });
    published = 0;
  });

  afterEach(async () => {
    await publisher?.endAsync(true);
    await agent?.stop();
    await portal?.stop();
    await broker?.cleanup();
    if (spool) rmSync(spool, { recursive: true, force: true });
    if (backend) removeBackend(backend);
  });

  /** Publishes `n` messages over the topics, QoS 1 (each acknowledged by the broker), spread over `overMs`. */
  async function publish(n: number, overMs = 1_000, topics = TOPICS): Promise<void> {
    for (let i = 0; i < n; i++) {
      await publisher.publishAsync(topics[i % topics.length]!, JSON.stringify({ i, value: i * 0.5 }), { qos: 1 });
      if (topics === TOPICS) published++;
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, overMs / (n / 10)));
    }
  }

  async function countedTotal(): Promise<number> {
    // The agent may collapse levels into templates (`counted/{p1}/temperature`): add up by prefix.
    const recorded = await recordedMessages(portal.url, adminToken, brokerId);
    return [...recorded].reduce((sum, [template, messages]) => sum + (template.startsWith("counted/") ? messages : 0), 0);
  }

  /** Waits until the portal counts every published message, then checks that a few windows later it still counts each once. */
  async function expectCountedOnce(): Promise<void> {
    const total = await eventually(
      `the portal to count ${published} messages`,
      async () => {
        const counted = await countedTotal();
        return counted >= published ? counted : undefined;
      },
      120_000,
      500,
    );
    expect(total, "messages counted (more than published: a batch counted twice)").toBe(published);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    expect(await countedTotal()).toBe(published);
  }

  it("spools while the database is gone, replays when it is back, and counts every message once", async () => {
    logsOnFailure();
    await publish(200);
    await expectCountedOnce();

    // PostgreSQL: the server stops under a running portal. PGlite lives in the portal: the portal dies.
    if (backend!.server) await backend!.server.stop();
    else await portal.kill();
    await publish(300, 3_000);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    if (backend!.server) await backend!.server.start();
    else await portal.start();

    await publish(200);
    await expectCountedOnce();
  });

  it("reconnects after the broker restarts and counts what is published after it", async () => {
    logsOnFailure();
    await publish(100);
    await expectCountedOnce();

    await broker.restart();
    // The agent has re-subscribed once a probe message on another topic reaches the portal.
    await eventually(
      "the agent to observe again after the broker restart",
      async () => {
        await publish(1, 0, [PROBE_TOPIC]);
        const recorded = await recordedMessages(portal.url, adminToken, brokerId);
        return [...recorded.keys()].some((template) => template.startsWith("probe/")) ? true : undefined;
      },
      60_000,
      1_000,
    );

    await publish(150);
    await expectCountedOnce();
  });
});
