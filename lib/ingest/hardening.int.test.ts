import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { count, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { MAX_COUNT, type AgentReport } from "@/agents/protocol.ts";
import * as channelsRoute from "@/app/api/v1/ingest/channels/route.ts";
import * as ingestRoute from "@/app/api/v1/ingest/reports/route.ts";
import { apiToken, auditEntry, broker, brokerTopic, ingestBatch } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { ingestReport } from "./reports.ts";
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

type ErrorBody = { error: { code: string; message: string; details?: { fieldErrors?: Record<string, string[]>; formErrors?: string[] } } };

describeEachBackend("agent report ingest: what an attacker sends", ({ handle }) => {
  let plantEu: string;
  let plants: string;
  let anyBroker: string;
  let legacy: string;
  let reader: string;
  let admin: Principal;
  const now = Date.now();
  const at = (offsetSeconds: number) => new Date(now + offsetSeconds * 1000).toISOString();
  const fresh = (brokerId = "plant-eu", topics = [topic("plant/{p1}/temperature", 10)]) => report(1, topics, at(-20), at(-10), brokerId);

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    plantEu = (await createToken(admin, { name: "agent-eu", scopes: ["agent:report"], brokers: "plant-eu" })).secret;
    plants = (await createToken(admin, { name: "agent-plants", scopes: ["agent:report"], brokers: "plant-*" })).secret;
    anyBroker = (await createToken(admin, { name: "agent-any", scopes: ["agent:report"], brokers: "*" })).secret;
    const old = await createToken(admin, { name: "agent-legacy", scopes: ["agent:report"], brokers: "plant-eu" });
    // A token from before bindings, left unbound by the migration.
    await handle().db.update(apiToken).set({ brokerBinding: null }).where(eq(apiToken.id, old.token.id));
    legacy = old.secret;
    reader = (await createToken(admin, { name: "reader", scopes: ["read"] })).secret;
    expect((await post(plantEu, JSON.stringify(fresh()))).status).toBe(202);
  });

  const brokerIds = async () => (await handle().db.select({ id: broker.id }).from(broker).orderBy(broker.id)).map((b) => b.id);
  const batchCount = async () => (await handle().db.select({ n: count() }).from(ingestBatch))[0]!.n;
  const plantEuRow = async () => (await handle().db.select().from(broker).where(eq(broker.id, "plant-eu")))[0]!;

  it("refuses a report for a broker the token is not bound to, and leaves that broker alone", async () => {
    const before = await plantEuRow();
    const hijack = { ...fresh("plant-eu"), agent: { ...fresh().agent, id: "evil-agent", hostname: "evil" } };
    const refused = await post(plants.replace(/.$/, "x"), JSON.stringify(hijack));
    expect(refused.status).toBe(401);
    const elsewhere = await post(plantEu, JSON.stringify({ ...hijack, broker: { ...hijack.broker, id: "warehouse-us" } }));
    expect(elsewhere.status).toBe(403);
    const body = (await elsewhere.json()) as ErrorBody;
    expect(body.error.code).toBe("forbidden:broker_binding");
    expect(body.error.message).toContain("warehouse-us");
    expect(body.error.message).toContain("plant-eu");
    const pattern = await post(plants, JSON.stringify({ ...hijack, broker: { ...hijack.broker, id: "site-plant-eu" } }));
    expect(pattern.status).toBe(403);
    expect(await brokerIds()).toEqual(["plant-eu"]);
    expect((await plantEuRow()).agentId).toBe(before.agentId);
  });

  it("accepts a report for any broker matching the token's pattern", async () => {
    expect((await post(plants, JSON.stringify(fresh("plant-us")))).status).toBe(202);
    expect(await brokerIds()).toEqual(["plant-eu", "plant-us"]);
  });

  it("refuses unbound agent tokens with a message saying how to fix it", async () => {
    const response = await post(legacy, JSON.stringify(fresh()));
    expect(response.status).toBe(403);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe("forbidden:broker_binding");
    expect(body.error.message).toMatch(/not bound to any broker.*token bound to plant-eu/);
  });

  it("refuses broker ids that a declared broker could not have", async () => {
    for (const id of ["Plant EU", "../etc", "x".repeat(150), "plant--eu", " plant-eu"]) {
      const before = await batchCount();
      const response = await post(anyBroker, JSON.stringify({ ...fresh(), broker: { ...fresh().broker, id } }));
      expect(response.status, id).toBe(422);
      expect(Object.keys(((await response.json()) as ErrorBody).error.details!.fieldErrors!)).toEqual(["broker.id"]);
      expect(await batchCount()).toBe(before);
    }
    expect(await brokerIds()).toEqual(["plant-eu", "plant-us"]);
  });

  it("requires the agent:report scope for the channel list too", async () => {
    const get = (token: string) =>
      channelsRoute.GET(new Request("http://localhost:3000/api/v1/ingest/channels", { headers: { authorization: `Bearer ${token}` } }), {
        params: Promise.resolve({}),
      });
    expect((await get(reader)).status).toBe(403);
    expect((await get(plantEu)).status).toBe(200);
  });

  it("answers a batch id replayed with another broker id as a duplicate and changes nothing", async () => {
    const original = fresh("plant-eu");
    expect((await post(anyBroker, JSON.stringify(original))).status).toBe(202);
    const before = await plantEuRow();
    const audit = (await handle().db.select({ n: count() }).from(auditEntry))[0]!.n;
    const replay: AgentReport = { ...original, broker: { ...original.broker, id: "replayed-broker" }, agent: { ...original.agent, id: "other" } };
    const response = await post(anyBroker, JSON.stringify(replay));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ duplicate: true });
    expect(await brokerIds()).toEqual(["plant-eu", "plant-us"]);
    expect((await plantEuRow()).lastReportAt).toEqual(before.lastReportAt);
    expect((await handle().db.select({ n: count() }).from(auditEntry))[0]!.n).toBe(audit);
  });

  it("leaves exactly one effect when copies of a batch race, even naming different new brokers", async () => {
    const first = fresh("racing-one");
    const copies = [first, first, { ...first, broker: { ...first.broker, id: "racing-two" } }, { ...first, broker: { ...first.broker, id: "racing-three" } }];
    const answers = await Promise.all(copies.map((c) => post(anyBroker, gz(c), { "content-encoding": "gzip" })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 202]);
    const racing = (await brokerIds()).filter((id) => id.startsWith("racing-"));
    expect(racing).toHaveLength(1);
    expect((await handle().db.select({ n: count() }).from(ingestBatch).where(eq(ingestBatch.batchId, first.batchId)))[0]!.n).toBe(1);
    const registered = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "broker.register"));
    expect(registered.filter((e) => e.targetId.startsWith("racing-"))).toHaveLength(1);
  });

  it("refuses times in the future, naming the field, and keeps the broker's picture", async () => {
    const before = await plantEuRow();
    const cases: Array<[string, AgentReport]> = [
      ["window.end", report(5, [], at(-10), "2999-01-01T00:00:00.000Z")],
      ["agent.startedAt", { ...fresh(), agent: { ...fresh().agent, startedAt: at(3_600) } }],
      ["topics.0.lastSeen", fresh("plant-eu", [topic("a/b", 1, { lastSeen: "2999-01-01T00:00:00.000Z" })])],
      ["topics.0.firstSeen", fresh("plant-eu", [topic("a/b", 1, { firstSeen: at(3_600) })])],
      [
        "topics.1.samples.0.at",
        fresh("plant-eu", [topic("a/b", 1), topic("a/c", 1, { samples: [{ ...topic("x", 1).samples[0]!, at: "2999-01-01T00:00:00.000Z" }] })]),
      ],
    ];
    for (const [field, body] of cases) {
      const response = await post(plantEu, JSON.stringify(body));
      expect(response.status, field).toBe(422);
      const error = ((await response.json()) as ErrorBody).error;
      expect(Object.keys(error.details!.fieldErrors!), field).toEqual([field]);
      expect(error.message).toContain(field);
    }
    // A little skew is fine: agent clocks are never exact.
    expect((await post(plantEu, JSON.stringify(report(6, [], at(-10), at(60))))).status).toBe(202);
    expect((await plantEuRow()).lastWindowEnd!.getTime()).toBeLessThanOrEqual(Math.max(before.lastWindowEnd!.getTime(), now + 60_000));
  });

  it("refuses numbers and strings its columns cannot hold, with the field named", async () => {
    const big = (extra: Parameters<typeof topic>[2], field: string) => [fresh("plant-eu", [topic("n/m", 1, extra)]), field] as const;
    const cases = [
      big({ maxSize: 2 ** 31 }, "topics.0.maxSize"),
      big({ distinctTopics: 2 ** 31 }, "topics.0.distinctTopics"),
      big({ messages: MAX_COUNT + 1 }, "topics.0.messages"),
      big({ bytes: 1e300 }, "topics.0.bytes"),
      big({ template: "t/".repeat(5_000) }, "topics.0.template"),
      big({ topics: [{ topic: "é".repeat(600), messages: 1 }] }, "topics.0.topics.0.topic"),
      big({ producers: [{ clientId: "c".repeat(300), messages: 1, bytes: 1 }] }, "topics.0.producers.0.clientId"),
      big({ consumers: [{ clientId: "c", filter: "f/".repeat(600), qos: 0 }] }, "topics.0.consumers.0.filter"),
      [{ ...fresh(), agent: { ...fresh().agent, hostname: "h".repeat(300) } }, "agent.hostname"],
      [{ ...fresh(), broker: { ...fresh().broker, url: "mqtt://" + "h".repeat(600) } }, "broker.url"],
      [{ ...fresh(), sequence: 2 ** 60 }, "sequence"],
    ] as const;
    const before = await batchCount();
    for (const [body, field] of cases) {
      const response = await post(plantEu, JSON.stringify(body));
      expect(response.status, field).toBe(422);
      expect(Object.keys(((await response.json()) as ErrorBody).error.details!.fieldErrors!), field).toContain(field);
    }
    expect(await batchCount()).toBe(before);
  });

  it("saturates accumulating totals instead of overflowing", async () => {
    const huge = () =>
      ({
        ...fresh("plant-eu", [topic("sat/{p1}", MAX_COUNT, { bytes: MAX_COUNT, producers: [{ clientId: "p", messages: MAX_COUNT, bytes: MAX_COUNT }] })]),
        drops: { topicCap: MAX_COUNT, templateCap: MAX_COUNT, sampleCap: 0, clientCap: 0, spoolCap: 0, malformed: 0 },
      }) satisfies AgentReport;
    for (let i = 0; i < 3; i++) expect((await post(plantEu, JSON.stringify(huge()))).status).toBe(202);
    const [row] = await handle().db.select().from(brokerTopic).where(eq(brokerTopic.template, "sat/{p1}"));
    expect(row).toMatchObject({ totalMessages: MAX_COUNT, totalBytes: MAX_COUNT });
    expect(row!.producers[0]!.messages).toBe(MAX_COUNT);
    expect((await plantEuRow()).droppedTotal).toBe(MAX_COUNT);
  });

  it("merges a template that appears twice in one batch", async () => {
    const twice = fresh("plant-eu", [
      topic("dup/{p1}", 3, { producers: [{ clientId: "a", messages: 3, bytes: 300 }], firstSeen: at(-19) }),
      topic("dup/{p1}", 4, { producers: [{ clientId: "b", messages: 4, bytes: 400 }], firstSeen: at(-18), minSize: 10 }),
    ]);
    expect((await post(plantEu, JSON.stringify(twice))).status).toBe(202);
    const [row] = await handle().db.select().from(brokerTopic).where(eq(brokerTopic.template, "dup/{p1}"));
    expect(row).toMatchObject({ totalMessages: 7, totalBytes: 700 });
    expect(row!.firstSeen.toISOString()).toBe(at(-19));
    expect(row!.producers.map((p) => p.clientId).sort()).toEqual(["a", "b"]);
  });

  it("refuses text PostgreSQL cannot store", async () => {
    for (const body of [
      fresh("plant-eu", [topic("nul/x", 1, { samples: [{ ...topic("x", 1).samples[0]!, encoding: "text", payload: "a\u0000b" }] })]),
      fresh("plant-eu", [topic("sur/x", 1, { schema: { type: "object", properties: { ["k\ud800"]: {} } } })]),
    ]) {
      expect((await post(plantEu, JSON.stringify(body))).status).toBe(422);
    }
  });

  it("answers pathological bodies quickly with a small 422", async () => {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    const emptyTopics = JSON.stringify({ ...fresh(), topics: Array.from({ length: 2_000 }, () => ({})) });
    const manyTopics = JSON.stringify({ ...fresh(), topics: Array.from({ length: 200_000 }, () => ({})) });
    const nestedEmpty = JSON.stringify({
      ...fresh(),
      topics: Array.from({ length: 2_000 }, () => ({ topics: Array.from({ length: 50 }, () => ({})), producers: Array.from({ length: 100 }, () => ({})) })),
    });
    const deepSchema = JSON.stringify(fresh("plant-eu", [topic("s/x", 1, { schema: JSON.parse("{\"a\":".repeat(50) + "{}" + "}".repeat(50)) })]));
    const wideSchema = JSON.stringify(fresh("plant-eu", [topic("s/y", 1, { schema: Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`k${i}`, {}])) })]));
    for (const body of [deep, emptyTopics, manyTopics, nestedEmpty, deepSchema, wideSchema, JSON.stringify({ a: { b: Array.from({ length: 3_000 }, () => 1) } })]) {
      const response = await post(plantEu, gzipSync(Buffer.from(body)), { "content-encoding": "gzip" });
      expect(response.status).toBe(422);
      const text = await response.text();
      expect(text.length).toBeLessThan(16_000);
      expect((JSON.parse(text) as ErrorBody).error.code).toMatch(/^invalid_input/);
    }
  });

  it("applies the same rules to a report handed to the service directly", async () => {
    const system = systemPrincipal("test");
    await expect(ingestReport(system, { ...fresh(), window: { start: at(-10), end: "2999-01-01T00:00:00.000Z" } })).rejects.toMatchObject({ kind: "invalid_input" });
    await expect(ingestReport(system, "[".repeat(10_000) + "]".repeat(10_000))).rejects.toMatchObject({ kind: "invalid_input" });
    const bound = { kind: "token", id: "tok_unknown", name: "ghost", scopes: ["agent:report"], teamId: null, createdBy: null } as const;
    await expect(ingestReport({ ...bound, scopes: [...bound.scopes] }, { ...fresh(), batchId: randomUUID() })).rejects.toMatchObject({ code: "forbidden:broker_binding" });
  });
});
