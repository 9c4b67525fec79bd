import { gzipSync } from "node:zlib";
import { count, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { auditEntry, brokerTopic, ingestBatch, observation } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { getBroker, listBrokers } from "@/lib/brokers/brokers.ts";
import * as ingestRoute from "@/app/api/v1/ingest/reports/route.ts";
import { gz, report, topic } from "./report-fixtures.ts";

function post(token: string, body: Buffer | string, headers: Record<string, string> = {}) {
  return ingestRoute.POST(
    new Request("http://localhost:3000/api/v1/ingest/reports", {
      method: "POST",
      body: typeof body === "string" ? body : new Uint8Array(body),
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    }),
    { params: Promise.resolve({}) },
  );
}

describeEachBackend("agent report ingest", ({ handle }) => {
  let agentToken: string;
  let readToken: string;
  let adminToken: string;
  let admin: Principal;
  // Recent windows: reports older than the retention are refused.
  const now = Date.now();
  const at = (offsetSeconds: number) => new Date(now + offsetSeconds * 1000).toISOString();

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    agentToken = (await createToken(admin, { name: "agent", scopes: ["agent:report"], brokers: "plant-eu" })).secret;
    readToken = (await createToken(admin, { name: "reader", scopes: ["read"] })).secret;
    adminToken = (await createToken(admin, { name: "admin", scopes: ["admin"] })).secret;
  });

  const batches = async () => (await handle().db.select({ n: count() }).from(ingestBatch))[0]!.n;

  it("accepts a gzip report, registers the broker, and merges the topic picture", async () => {
    const first = report(1, [topic("plant/{p1}/temperature", 10)], at(-20), at(-10));
    const response = await post(agentToken, gz(first), { "content-encoding": "gzip" });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: true, duplicate: false, batchId: first.batchId });
    const [row] = await handle().db.select().from(brokerTopic);
    expect(row).toMatchObject({ brokerId: "plant-eu", template: "plant/{p1}/temperature", totalMessages: 10, contentKind: "json" });
    expect(row!.producers.map((p) => p.clientId)).toEqual(["line-sensor-1"]);
    expect(row!.consumers).toMatchObject([{ clientId: "line-monitor", filter: "plant/+/temperature" }]);
    const registered = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "broker.register"));
    expect(registered).toHaveLength(1);
  });

  it("counts a replayed batch once, even when replays race", async () => {
    const second = report(2, [topic("plant/{p1}/temperature", 7)], at(-10), at(0));
    const body = gz(second);
    const answers = await Promise.all([1, 2, 3].map(() => post(agentToken, body, { "content-encoding": "gzip" })));
    const outcomes = await Promise.all(answers.map((a) => a.json() as Promise<{ duplicate: boolean }>));
    expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    const [row] = await handle().db.select().from(brokerTopic);
    expect(row!.totalMessages).toBe(17);
    expect(row!.lastRatePerSecond).toBe(0.7);
    expect(await handle().db.select({ n: count() }).from(observation)).toEqual([{ n: 2 }]);
  });

  it("adds a late, older batch to the totals without moving the current picture back", async () => {
    const late = report(0, [topic("plant/{p1}/temperature", 3, { ratePerSecond: 99, content: { kind: "text", json: 0, text: 3, binary: 0, empty: 0 } })], at(-40), at(-30));
    expect((await post(agentToken, JSON.stringify(late))).status).toBe(202);
    const [row] = await handle().db.select().from(brokerTopic);
    expect(row).toMatchObject({ totalMessages: 20, lastRatePerSecond: 0.7, contentKind: "json" });
  });

  it("refuses malformed reports with 422 and writes nothing", async () => {
    const before = await batches();
    const bad = { ...report(3, [topic("x", 1)], at(-5), at(0)), batchId: "not-a-uuid" };
    const response = await post(agentToken, gz(bad), { "content-encoding": "gzip" });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: { code: string; details: { fieldErrors: Record<string, string[]> } } };
    expect(body.error.code).toBe("invalid_input:agent_report");
    expect(Object.keys(body.error.details.fieldErrors)).toContain("batchId");
    expect((await post(agentToken, "{not json")).status).toBe(422);
    expect((await post(agentToken, Buffer.from("not gzip"), { "content-encoding": "gzip" })).status).toBe(422);
    const backwards = report(3, [], at(0), at(-10));
    expect((await post(agentToken, JSON.stringify(backwards))).status).toBe(422);
    const ancient = report(3, [], "2020-01-01T00:00:00.000Z", "2020-01-01T00:00:10.000Z");
    expect((await post(agentToken, JSON.stringify(ancient))).status).toBe(422);
    expect(await batches()).toBe(before);
  });

  it("refuses a gzip bomb with 413 before inflating it all", async () => {
    const bomb = gzipSync(Buffer.alloc(40 * 1024 * 1024, 32));
    expect(bomb.byteLength).toBeLessThan(100_000);
    expect((await post(agentToken, bomb, { "content-encoding": "gzip" })).status).toBe(413);
  });

  it("accepts reports only from agent tokens", async () => {
    const body = JSON.stringify(report(4, [], at(-5), at(0)));
    expect((await post(readToken, body)).status).toBe(403);
    expect((await post(adminToken, body)).status).toBe(403);
    expect((await post("mpt_" + "x".repeat(43), body)).status).toBe(401);
  });

  it("lists the broker as online with its topics and rate", async () => {
    const [b] = await listBrokers(admin);
    expect(b).toMatchObject({ id: "plant-eu", status: "online", topicCount: 1, agentVersion: "0.1.0", droppedTotal: 6 });
    expect(b!.ratePerSecond).toBeCloseTo(0.7);
    const details = await getBroker(admin, "plant-eu");
    expect(details.topics).toHaveLength(1);
    expect((await listBrokers(admin, now + 3_600_000))[0]!.status).toBe("stale");
  });
});
