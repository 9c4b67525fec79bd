/** Subjects from contracts: a release writes one governed subject per message of a channel and part. */
import { and, asc, desc, eq, inArray } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { application, auditEntry, contractVersion, flow, registrySchema, registrySubject, registrySubjectVersion, team } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication, updateApplication } from "@/lib/catalog/applications.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { newId } from "@/lib/ids.ts";
import { registrySchemaHash, JSON_SCHEMA_FORMAT, canonicalJson } from "@/registry/index.ts";
import { parseSchema, SCHEMA_TYPE_FORMATS } from "@/registry/schematypes/index.ts";
import { registerSchema } from "./api.ts";
import { backfillRegistrySubjects, linkSubjectToChannel, setSubjectOwner, unlinkSubject } from "./contracts.ts";

interface Msg {
  key: string;
  payload: string;
  headers?: string;
  kafkaKey?: string;
  format?: string;
}

/** A 3.0 contract: channel address → messages (YAML flow text schemas); every channel is sent on. */
function doc(title: string, version: string, channels: Record<string, Msg[]>, description = "A contract", action: "send" | "receive" = "send"): string {
  const lines = ["asyncapi: 3.0.0", `info: { title: ${title}, version: ${version}, description: ${description} }`, "channels:"];
  const ids = Object.keys(channels).map((_, i) => `c${i}`);
  Object.entries(channels).forEach(([address, messages], i) => {
    lines.push(`  ${ids[i]}:`, `    address: '${address}'`, "    messages:");
    for (const m of messages) {
      lines.push(`      ${m.key}:`, `        name: ${m.key}`, "        contentType: application/json");
      if (m.format) lines.push(`        payload: { schemaFormat: '${m.format}', schema: ${m.payload} }`);
      else lines.push(`        payload: ${m.payload}`);
      if (m.headers) lines.push(`        headers: ${m.headers}`);
      if (m.kafkaKey) lines.push(`        bindings: { kafka: { key: ${m.kafkaKey}, bindingVersion: '0.5.0' } }`);
    }
  });
  lines.push("operations:");
  ids.forEach((id, i) => lines.push(`  op${i}:`, `    action: ${action}`, `    channel: { $ref: '#/channels/${id}' }`));
  return lines.join("\n") + "\n";
}

const ORDER = "{ type: object, properties: { id: { type: string } }, additionalProperties: false }";
const ORDER_V2 = "{ type: object, properties: { id: { type: string }, note: { type: string } }, additionalProperties: false }";
const REFUND = "{ type: object, properties: { amount: { type: number } }, additionalProperties: false }";
const HEADERS = "{ type: object, properties: { trace: { type: string } } }";

const jsonId = async (db: ReturnType<typeof dbOf>, yamlSchema: object) => {
  const [row] = await db.select({ id: registrySchema.id }).from(registrySchema).where(eq(registrySchema.hash, registrySchemaHash(JSON_SCHEMA_FORMAT, yamlSchema)));
  return row?.id;
};
const dbOf = (h: () => { db: unknown }) => h().db as import("@/db/client.ts").Database;

describeEachBackend("registry: subjects from contracts", ({ handle }) => {
  let admin: Principal;
  const system = systemPrincipal("test");
  const db = () => dbOf(handle);
  let shopId: string;
  let otherId: string;

  const publish = (app: string, text: string, state: "released" | "draft" = "released", principal: Principal = system) =>
    publishVersion(principal, app, { files: { "asyncapi.yaml": text }, state });

  /** Subject name → [version, schema id] of its live versions, for the given names. */
  async function versionsOf(names: string[]): Promise<Record<string, Array<[number, number]>>> {
    const rows = await db()
      .select({ name: registrySubject.name, version: registrySubjectVersion.version, schemaId: registrySubjectVersion.schemaId })
      .from(registrySubjectVersion)
      .innerJoin(registrySubject, eq(registrySubject.id, registrySubjectVersion.subjectId))
      .where(inArray(registrySubject.name, names))
      .orderBy(asc(registrySubject.name), asc(registrySubjectVersion.version));
    const out: Record<string, Array<[number, number]>> = {};
    for (const r of rows) (out[r.name] ??= []).push([r.version, r.schemaId]);
    return out;
  }

  const subject = async (name: string) => (await db().select().from(registrySubject).where(eq(registrySubject.name, name)))[0];
  const lastAudit = async (action: string) => (await db().select().from(auditEntry).where(eq(auditEntry.action, action)).orderBy(desc(auditEntry.seq)).limit(1))[0];

  beforeAll(async () => {
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: a.id, email: a.email, name: a.name, role: "admin" };
    shopId = (await createTeam(admin, { slug: "shop", name: "Shop" })).id;
    otherId = (await createTeam(admin, { slug: "other", name: "Other" })).id;
  });

  describe("a release", () => {
    const v1 = () =>
      doc("Orders", "1.0.0", {
        "shop/orders": [{ key: "orderPlaced", payload: ORDER, headers: HEADERS }],
        "shop/refunds": [
          { key: "refundIssued", payload: REFUND },
          { key: "refundDenied", payload: "{ type: object, properties: { reason: { type: string } } }" },
        ],
      });

    it("writes one governed subject per message and part, version 1 with the flow's schema ids, audited with the publish", async () => {
      await createApplication(admin, { slug: "orders", name: "Orders", team: "shop" });
      const published = await publish("orders", v1());
      const names = ["shop/orders-orderPlaced", "shop/orders-orderPlaced-headers", "shop/refunds-refundDenied", "shop/refunds-refundIssued"];
      const versions = await versionsOf(names);
      expect(Object.keys(versions).sort()).toEqual(names);
      const flows = await db().select().from(flow).where(eq(flow.versionId, published.version.id));
      const placed = flows.find((f) => f.messageKey === "orderPlaced")!;
      expect(versions["shop/orders-orderPlaced"]).toEqual([[1, placed.payloadSchemaId]]);
      expect(versions["shop/orders-orderPlaced-headers"]).toEqual([[1, placed.headersSchemaId]]);
      expect(versions["shop/refunds-refundIssued"]).toEqual([[1, flows.find((f) => f.messageKey === "refundIssued")!.payloadSchemaId]]);
      const row = (await subject("shop/orders-orderPlaced-headers"))!;
      expect(row).toMatchObject({ governed: true, channel: "shop/orders", messageKey: "orderPlaced", part: "headers" });
      const [version] = await db().select().from(contractVersion).where(eq(contractVersion.id, published.version.id));
      expect(version!.subjectsRegisteredAt).not.toBeNull();
      const [sv] = await db().select().from(registrySubjectVersion).where(eq(registrySubjectVersion.subjectId, row.id));
      expect(sv).toMatchObject({ contractVersionId: published.version.id, compatibility: "BACKWARD", registeredByLabel: "test" });
      const audit = (await lastAudit("contract.publish"))!;
      expect(audit.details).toMatchObject({ application: "orders", subjectCount: 4, subjectVersionsAdded: 4 });
      expect(audit.details.subjects).toContainEqual({ subject: "shop/orders-orderPlaced", version: 1, id: placed.payloadSchemaId });
    });

    it("appends a version only to the subject whose schema changed, under the application's mode", async () => {
      await updateApplication(admin, "orders", { compatibilityMode: "BACKWARD_TRANSITIVE" });
      const text = v1().replace("version: 1.0.0", "version: 1.1.0").replace(ORDER, ORDER_V2);
      await publish("orders", text);
      const versions = await versionsOf(["shop/orders-orderPlaced", "shop/orders-orderPlaced-headers", "shop/refunds-refundIssued"]);
      expect(versions["shop/orders-orderPlaced"]!.map(([v]) => v)).toEqual([1, 2]);
      expect(versions["shop/orders-orderPlaced"]![1]![1]).toBe(await jsonId(db(), { type: "object", properties: { id: { type: "string" }, note: { type: "string" } }, additionalProperties: false }));
      expect(versions["shop/orders-orderPlaced-headers"]).toHaveLength(1);
      expect(versions["shop/refunds-refundIssued"]).toHaveLength(1);
      const row = (await subject("shop/orders-orderPlaced"))!;
      const [latest] = await db().select().from(registrySubjectVersion).where(and(eq(registrySubjectVersion.subjectId, row.id), eq(registrySubjectVersion.version, 2)));
      expect(latest!.compatibility).toBe("BACKWARD_TRANSITIVE");
      expect((await lastAudit("contract.publish"))!.details).toMatchObject({ subjectCount: 4, subjectVersionsAdded: 1 });
    });

    it("adds no version when a new release carries the same payloads", async () => {
      const before = await db().select().from(registrySubjectVersion);
      await publish("orders", v1().replace("version: 1.0.0", "version: 1.2.0").replace(ORDER, ORDER_V2).replace("description: A contract", "description: Reworded"));
      expect(await db().select().from(registrySubjectVersion)).toHaveLength(before.length);
      expect((await lastAudit("contract.publish"))!.details).toMatchObject({ subjectVersionsAdded: 0 });
    });

    it("refuses a release whose schema breaks a subject's own compatibility level, storing nothing of it", async () => {
      await db().update(registrySubject).set({ compatibility: "BACKWARD" }).where(eq(registrySubject.name, "shop/refunds-refundIssued"));
      const versionsBefore = await db().select().from(contractVersion);
      const subjectVersionsBefore = await db().select().from(registrySubjectVersion);
      const schemasBefore = await db().select().from(registrySchema);
      // A new major line: the contract allows the type change, the subject's own level does not.
      const breaking = v1().replace("version: 1.0.0", "version: 2.0.0").replace(REFUND, "{ type: object, properties: { amount: { type: string } }, additionalProperties: false }");
      await expect(publish("orders", breaking)).rejects.toMatchObject({ code: "conflict:subject_incompatible", message: expect.stringMatching(/shop\/refunds-refundIssued.*BACKWARD/) });
      expect(await db().select().from(contractVersion)).toHaveLength(versionsBefore.length);
      expect(await db().select().from(registrySubjectVersion)).toHaveLength(subjectVersionsBefore.length);
      expect(await db().select().from(registrySchema)).toHaveLength(schemasBefore.length);
      // A compatible change passes the same level and is checked under it.
      const compatible = v1().replace("version: 1.0.0", "version: 1.3.0").replace(ORDER, ORDER_V2).replace(REFUND, "{ type: object, properties: { amount: { type: number }, currency: { type: string } }, additionalProperties: false }");
      await publish("orders", compatible);
      const row = (await subject("shop/refunds-refundIssued"))!;
      const [v2] = await db().select().from(registrySubjectVersion).where(and(eq(registrySubjectVersion.subjectId, row.id), eq(registrySubjectVersion.version, 2)));
      expect(v2!.compatibility).toBe("BACKWARD");
    });

    it("refuses a subject another sender governs with another schema, naming both applications", async () => {
      await createApplication(admin, { slug: "copycat", name: "Copycat", team: "other" });
      await expect(publish("copycat", doc("Copycat", "1.0.0", { "shop/orders": [{ key: "orderPlaced", payload: ORDER }] }))).rejects.toMatchObject({
        code: "conflict:subject_governed",
        message: expect.stringMatching(/governed by the contract of application orders.*copycat/),
      });
      expect(await db().select().from(contractVersion).where(eq(contractVersion.applicationId, (await appId("copycat"))!))).toHaveLength(0);
      // A second sender that agrees on the schema shares the subject, which stays with the first.
      const before = await versionsOf(["shop/orders-orderPlaced"]);
      await publish("copycat", doc("Copycat", "1.0.0", { "shop/orders": [{ key: "orderPlaced", payload: ORDER_V2 }] }));
      expect(await versionsOf(["shop/orders-orderPlaced"])).toEqual(before);
      expect((await subject("shop/orders-orderPlaced"))!.applicationId).toBe(await appId("orders"));
    });
  });

  it("leaves a sender's subject to it when an application only reads the message, and passes a reader's subject to the sender", async () => {
    // The sender's schema is checked against the reader's version it takes over: a closed empty object evolves to ORDER.
    const reading = doc("Reader", "1.0.0", { "shop/orders": [{ key: "orderPlaced", payload: "{ type: object }" }], "fresh/topic": [{ key: "tick", payload: "{ type: object, additionalProperties: false }" }] }, "Reads", "receive");
    await createApplication(admin, { slug: "reader", name: "Reader", team: "other" });
    const before = await versionsOf(["shop/orders-orderPlaced"]);
    await publish("reader", reading);
    expect(await versionsOf(["shop/orders-orderPlaced"])).toEqual(before);
    expect((await subject("shop/orders-orderPlaced"))!.applicationId).toBe(await appId("orders"));
    // The reader declared a topic nobody sends yet: it governs that subject until a sender releases it.
    expect((await subject("fresh/topic-tick"))!.applicationId).toBe(await appId("reader"));
    await createApplication(admin, { slug: "ticker", name: "Ticker", team: "shop" });
    await publish("ticker", doc("Ticker", "1.0.0", { "fresh/topic": [{ key: "tick", payload: ORDER }] }));
    expect((await subject("fresh/topic-tick"))!.applicationId).toBe(await appId("ticker"));
    expect((await versionsOf(["fresh/topic-tick"]))["fresh/topic-tick"]!.map(([v]) => v)).toEqual([1, 2]);
    // A reader's later release leaves the sender's subject alone.
    await publish("reader", reading.replace("version: 1.0.0", "version: 1.0.1").replace("description: Reads", "description: Reads more"));
    expect((await subject("fresh/topic-tick"))!.applicationId).toBe(await appId("ticker"));
    expect((await versionsOf(["fresh/topic-tick"]))["fresh/topic-tick"]).toHaveLength(2);
  });

  const appRow = async (slug: string) => (await db().select().from(application).where(eq(application.slug, slug)))[0];
  const appId = async (slug: string) => (await appRow(slug))?.id;

  it("names subjects by topic, with the message when a channel carries several, and writes Kafka key subjects", async () => {
    await createApplication(admin, { slug: "payments", name: "Payments", team: "shop", subjectNaming: "topic" });
    await publish(
      "payments",
      doc("Payments", "1.0.0", {
        payments: [{ key: "paid", payload: ORDER, kafkaKey: "{ type: string }", headers: HEADERS }],
        "payments.failed": [
          { key: "declined", payload: REFUND },
          { key: "expired", payload: REFUND, kafkaKey: "{ type: integer }" },
        ],
      }),
    );
    const versions = await versionsOf(["payments-value", "payments-key", "payments-headers", "payments.failed-declined-value", "payments.failed-expired-value", "payments.failed-expired-key"]);
    expect(Object.keys(versions).sort()).toEqual(["payments-headers", "payments-key", "payments-value", "payments.failed-declined-value", "payments.failed-expired-key", "payments.failed-expired-value"]);
    expect(versions["payments-key"]![0]![1]).toBe(await jsonId(db(), { type: "string" }));
    expect((await subject("payments-key"))!.part).toBe("key");
    // The same refund schema in two subjects: one global id.
    expect(versions["payments.failed-declined-value"]![0]![1]).toBe(versions["payments.failed-expired-value"]![0]![1]);
  });

  it("names subjects by record: the Avro full name and the JSON Schema title", async () => {
    await createApplication(admin, { slug: "ledger", name: "Ledger", team: "shop" });
    await updateApplication(admin, "ledger", { subjectNaming: "record" });
    expect((await lastAudit("application.update"))!.details).toMatchObject({ application: "ledger", before: { subjectNaming: null }, after: { subjectNaming: "record" } });
    const avro = "{ type: record, name: Entry, namespace: com.shop.ledger, fields: [ { name: id, type: string } ] }";
    await publish(
      "ledger",
      doc("Ledger", "1.0.0", {
        "ledger/entries": [{ key: "entry", payload: avro, format: "application/vnd.apache.avro;version=1.9.0" }],
        "ledger/closed": [{ key: "closed", payload: "{ title: LedgerClosed, type: object }" }, { key: "untitled", payload: "{ type: object, properties: { day: { type: string } } }" }],
      }),
    );
    const versions = await versionsOf(["com.shop.ledger.Entry", "LedgerClosed", "ledger/closed-untitled"]);
    expect(Object.keys(versions).sort()).toEqual(["LedgerClosed", "com.shop.ledger.Entry", "ledger/closed-untitled"]);
    const [entrySchema] = await db().select().from(registrySchema).where(eq(registrySchema.id, versions["com.shop.ledger.Entry"]![0]![1]));
    expect(entrySchema!.format).toContain("avro");
  });

  it("gives a draft no subjects until it is released", async () => {
    await createApplication(admin, { slug: "drafts", name: "Drafts", team: "shop" });
    const draft = await publish("drafts", doc("Drafts", "1.0.0", { "drafts/x": [{ key: "x", payload: ORDER }] }), "draft");
    expect(await subject("drafts/x-x")).toBeUndefined();
    expect(draft.version.subjectsRegisteredAt).toBeNull();
    await setVersionState(admin, "drafts", "1.0.0", { state: "released" });
    expect(await versionsOf(["drafts/x-x"])).toEqual({ "drafts/x-x": [[1, await jsonId(db(), { type: "object", properties: { id: { type: "string" } }, additionalProperties: false })]] });
    expect((await lastAudit("contract.release"))!.details).toMatchObject({ application: "drafts", subjectCount: 1 });
    // Deprecating keeps them.
    await setVersionState(admin, "drafts", "1.0.0", { state: "deprecated", reason: "old" });
    expect((await subject("drafts/x-x"))!.deletedAt).toBeNull();
  });

  /** A direct subject (as the registry API registers it) with one JSON (or Avro) version. */
  async function directSubject(name: string, schema: object, teamId: string | null, deleted = false, format = JSON_SCHEMA_FORMAT): Promise<{ id: string; schemaId: number }> {
    const hash = registrySchemaHash(format, schema);
    await db().insert(registrySchema).values({ hash, format, canonical: canonicalJson(schema) }).onConflictDoNothing();
    const [s] = await db().select().from(registrySchema).where(eq(registrySchema.hash, hash));
    const id = newId("subj");
    await db().insert(registrySubject).values({ id, name, teamId, deletedAt: deleted ? new Date() : null });
    await db().insert(registrySubjectVersion).values({ subjectId: id, version: 1, schemaId: s!.id, compatibility: "BACKWARD", registeredByLabel: "api", deletedAt: deleted ? new Date() : null });
    return { id, schemaId: s!.id };
  }

  it("takes over a direct subject of the same name, keeping its versions, and revives a soft-deleted one", async () => {
    const kept = await directSubject("stock/levels-level", { type: "object", additionalProperties: false }, shopId);
    await directSubject("stock/levels-level-headers", { type: "object", properties: { trace: { type: "string" } } }, null, true);
    await createApplication(admin, { slug: "stock", name: "Stock", team: "shop" });
    await publish("stock", doc("Stock", "1.0.0", { "stock/levels": [{ key: "level", payload: ORDER, headers: HEADERS }] }));
    const row = (await subject("stock/levels-level"))!;
    expect(row).toMatchObject({ id: kept.id, governed: true, applicationId: (await appRow("stock"))!.id, channel: "stock/levels", messageKey: "level", part: "payload" });
    const versions = await versionsOf(["stock/levels-level", "stock/levels-level-headers"]);
    expect(versions["stock/levels-level"]!.map(([v]) => v)).toEqual([1, 2]);
    expect(versions["stock/levels-level"]![0]![1]).toBe(kept.schemaId);
    // The soft-deleted subject lives again; its deleted version keeps its number, the release adds the next one.
    const headers = (await subject("stock/levels-level-headers"))!;
    expect(headers.deletedAt).toBeNull();
    expect(versions["stock/levels-level-headers"]!.map(([v]) => v)).toEqual([1, 2]);
    expect((await lastAudit("contract.publish"))!.details).toMatchObject({ subjectsTakenOver: ["stock/levels-level", "stock/levels-level-headers"] });
  });

  it("does not take over a direct subject another team owns", async () => {
    await directSubject("mine/x-x", { type: "object" }, otherId);
    await createApplication(admin, { slug: "mine", name: "Mine", team: "shop" });
    const shopToken: Principal = { kind: "token", id: "tok_shop", name: "shop-ci", scopes: ["contracts:write"], teamId: shopId, createdBy: null };
    await expect(publish("mine", doc("Mine", "1.0.0", { "mine/x": [{ key: "x", payload: ORDER }] }), "released", shopToken)).rejects.toMatchObject({ code: "conflict:subject_owned" });
    expect((await subject("mine/x-x"))!.governed).toBe(false);
  });

  const shopToken = (): Principal => ({ kind: "token", id: "tok_shop", name: "shop-ci", scopes: ["contracts:write"], teamId: shopId, createdBy: null });

  it("lets only an admin's release take over a direct subject no team owns; a reader leaves it be", async () => {
    await directSubject("nobody/x-x", { type: "object", additionalProperties: false }, null);
    await createApplication(admin, { slug: "nobodys", name: "Nobodys", team: "shop" });
    const sending = doc("Nobodys", "1.0.0", { "nobody/x": [{ key: "x", payload: ORDER }] });
    await expect(publish("nobodys", sending, "released", shopToken())).rejects.toMatchObject({ code: "conflict:subject_owned", message: expect.stringMatching(/nobody\/x-x.*no team owns/) });
    expect((await subject("nobody/x-x"))!.governed).toBe(false);
    await createApplication(admin, { slug: "nobodyreader", name: "Nobody reader", team: "shop" });
    await publish("nobodyreader", doc("Nobody reader", "1.0.0", { "nobody/x": [{ key: "x", payload: ORDER }] }, "Reads", "receive"), "released", shopToken());
    expect((await subject("nobody/x-x"))!).toMatchObject({ governed: false, applicationId: null });
    expect((await versionsOf(["nobody/x-x"]))["nobody/x-x"]).toHaveLength(1);
    await publish("nobodys", sending, "released", admin);
    expect((await subject("nobody/x-x"))!).toMatchObject({ governed: true, applicationId: await appId("nobodys") });
    expect((await lastAudit("contract.publish"))!.details).toMatchObject({ subjectsTakenOver: ["nobody/x-x"] });
  });

  it("takes over a subject that has only configuration, keeping it, whoever owns it", async () => {
    // As PUT /config/{subject} leaves it before any schema: a row of another team with a level and no versions.
    await db().insert(registrySubject).values({ id: newId("subj"), name: "configured/x-x", teamId: otherId, compatibility: "FULL", mode: "READWRITE" });
    await db().insert(registrySubject).values({ id: newId("subj"), name: "configured/x-x-headers", teamId: null, compatibility: "NONE" });
    await createApplication(admin, { slug: "configured", name: "Configured", team: "shop" });
    await publish("configured", doc("Configured", "1.0.0", { "configured/x": [{ key: "x", payload: ORDER, headers: HEADERS }] }), "released", shopToken());
    expect((await subject("configured/x-x"))!).toMatchObject({ governed: true, applicationId: await appId("configured"), compatibility: "FULL", mode: "READWRITE", teamId: otherId });
    expect((await subject("configured/x-x-headers"))!).toMatchObject({ governed: true, compatibility: "NONE" });
    expect((await versionsOf(["configured/x-x"]))["configured/x-x"]!.map(([v]) => v)).toEqual([1]);
  });

  it("checks a release against the versions of a taken-over subject under its level, and refuses another schema type", async () => {
    // No level of its own: the application's mode (BACKWARD) still applies to versions the registry API wrote.
    await directSubject("taken/x-x", { type: "object" }, shopId);
    await createApplication(admin, { slug: "taken", name: "Taken", team: "shop" });
    const before = await db().select().from(registrySubjectVersion);
    await expect(publish("taken", doc("Taken", "1.0.0", { "taken/x": [{ key: "x", payload: ORDER }] }))).rejects.toMatchObject({
      code: "conflict:subject_incompatible",
      message: expect.stringMatching(/taken\/x-x.*BACKWARD/),
    });
    expect(await db().select().from(registrySubjectVersion)).toHaveLength(before.length);
    expect((await subject("taken/x-x"))!.governed).toBe(false);
    // An Avro subject cannot take a JSON Schema, even under NONE.
    await directSubject("typed/x-x", { type: "record", name: "X", fields: [] }, shopId, false, SCHEMA_TYPE_FORMATS.AVRO);
    await createApplication(admin, { slug: "typed", name: "Typed", team: "shop", compatibilityMode: "NONE" });
    await expect(publish("typed", doc("Typed", "1.0.0", { "typed/x": [{ key: "x", payload: "{ type: object }" }] }))).rejects.toMatchObject({
      code: "conflict:subject_incompatible",
      message: expect.stringMatching(/typed\/x-x.*AVRO schema, the new schema is JSON/),
    });
    // A compatible schema is taken in, and the next release of the same contract is checked again.
    await publish("taken", doc("Taken", "1.0.0", { "taken/x": [{ key: "x", payload: "{ type: object, description: Taken }" }] }));
    expect((await versionsOf(["taken/x-x"]))["taken/x-x"]!.map(([v]) => v)).toEqual([1, 2]);
    await expect(publish("taken", doc("Taken", "2.0.0", { "taken/x": [{ key: "x", payload: "{ type: object, properties: { id: { type: integer } } }" }] }))).rejects.toMatchObject({
      code: "conflict:subject_incompatible",
    });
  });

  it("appends nothing when a release reverts to a schema an earlier live version holds", async () => {
    await createApplication(admin, { slug: "reverts", name: "Reverts", team: "shop" });
    const at = (version: string, payload: string) => doc("Reverts", version, { "reverts/x": [{ key: "x", payload }] });
    await publish("reverts", at("1.0.0", ORDER));
    await publish("reverts", at("1.1.0", ORDER_V2));
    const before = await versionsOf(["reverts/x-x"]);
    expect(before["reverts/x-x"]!.map(([v]) => v)).toEqual([1, 2]);
    // A new major line back to the first schema: Confluent answers with the version that holds it.
    await publish("reverts", at("2.0.0", ORDER));
    expect(await versionsOf(["reverts/x-x"])).toEqual(before);
    expect((await lastAudit("contract.publish"))!.details).toMatchObject({ subjectVersionsAdded: 0, subjects: [{ subject: "reverts/x-x", version: 1, id: before["reverts/x-x"]![0]![1] }] });
  });

  it("gives a contract's Avro schema, in any Avro format, the id the registry API registers it under", async () => {
    await createApplication(admin, { slug: "avros", name: "Avros", team: "shop" });
    const schema = "{ type: record, name: Reading, namespace: com.avros, fields: [ { name: value, type: double } ] }";
    await publish("avros", doc("Avros", "1.0.0", { "avros/r": [{ key: "r", payload: schema, format: "application/vnd.apache.avro+yaml;version=1.10.0" }] }));
    const [[version, id]] = (await versionsOf(["avros/r-r"]))["avros/r-r"]! as [[number, number]];
    expect(version).toBe(1);
    const [stored] = await db().select().from(registrySchema).where(eq(registrySchema.id, id));
    expect(stored!.format).toBe(SCHEMA_TYPE_FORMATS.AVRO);
    const text = JSON.stringify({ type: "record", name: "Reading", namespace: "com.avros", fields: [{ name: "value", type: "double" }] });
    const parsed = parseSchema({ schemaType: "AVRO", schema: text, references: [] });
    expect(parsed.ok && parsed.schema.hash).toBe(stored!.hash);
    // An auto-registering serializer of the same schema gets the same id, and the subject no new version.
    expect(await registerSchema(admin, "avros/r-r", { schema: text }, {})).toEqual({ id });
    expect((await versionsOf(["avros/r-r"]))["avros/r-r"]).toHaveLength(1);
  });

  it("refuses a release whose subject name would pass 255 characters", async () => {
    await createApplication(admin, { slug: "longnames", name: "Long names", team: "shop" });
    await expect(publish("longnames", doc("Long", "1.0.0", { [`long/${"a".repeat(250)}`]: [{ key: "m", payload: ORDER }] }))).rejects.toMatchObject({
      code: "invalid_input:subject_name",
      message: expect.stringMatching(/channel long\/a+, message m/),
    });
  });

  it("backfills the subjects of versions stored without them, oldest first", async () => {
    const orders = (await appRow("orders"))!;
    const subjectsBefore = await versionsOf(["shop/orders-orderPlaced", "shop/refunds-refundIssued", "shop/orders-orderPlaced-headers"]);
    await db().delete(registrySubject).where(eq(registrySubject.applicationId, orders.id));
    await db().update(contractVersion).set({ subjectsRegisteredAt: null }).where(eq(contractVersion.applicationId, orders.id));
    const errors: string[] = [];
    const done = await backfillRegistrySubjects(db(), { batchSize: 2, onError: (id) => errors.push(id) });
    expect(errors).toEqual([]);
    expect(done).toBe(4);
    const after = await versionsOf(["shop/orders-orderPlaced", "shop/refunds-refundIssued", "shop/orders-orderPlaced-headers"]);
    // Version numbers and ids as the releases wrote them (1.0.0, 1.1.0, 1.2.0, 1.3.0 in order).
    expect(after).toEqual(subjectsBefore);
    expect(await db().select().from(contractVersion).where(and(eq(contractVersion.applicationId, orders.id)))).toSatisfy((rows: Array<{ subjectsRegisteredAt: Date | null }>) => rows.every((r) => r.subjectsRegisteredAt !== null));
    expect(await backfillRegistrySubjects(db())).toBe(0);
  });

  describe("linking direct subjects", () => {
    const shopEditor = (): Principal => ({ kind: "token", id: "tok_shop", name: "shop-ci", scopes: ["contracts:write"], teamId: shopId, createdBy: null });
    const otherEditor = (): Principal => ({ kind: "token", id: "tok_other", name: "other-ci", scopes: ["contracts:write"], teamId: otherId, createdBy: null });
    const reader = (): Principal => ({ kind: "token", id: "tok_read", name: "reader", scopes: ["read"], teamId: shopId, createdBy: null });

    it("links a team's direct subject to a channel of its application's current contract, and unlinks it", async () => {
      await directSubject("orders-avro-value", { type: "object" }, shopId);
      await expect(linkSubjectToChannel(reader(), { subject: "orders-avro-value", application: "orders", channel: "shop/orders", messageKey: "orderPlaced" })).rejects.toMatchObject({ kind: "forbidden" });
      await expect(linkSubjectToChannel(otherEditor(), { subject: "orders-avro-value", application: "orders", channel: "shop/orders", messageKey: "orderPlaced" })).rejects.toMatchObject({ kind: "forbidden" });
      await expect(linkSubjectToChannel(shopEditor(), { subject: "orders-avro-value", application: "orders", channel: "shop/nowhere", messageKey: "orderPlaced" })).rejects.toMatchObject({ kind: "invalid_input" });
      await expect(linkSubjectToChannel(shopEditor(), { subject: "orders-avro-value", application: "orders", channel: "shop/orders", messageKey: "nothing" })).rejects.toMatchObject({ kind: "invalid_input" });
      await expect(linkSubjectToChannel(shopEditor(), { subject: "shop/orders-orderPlaced", application: "orders", channel: "shop/orders", messageKey: "orderPlaced" })).rejects.toMatchObject({ code: "conflict:subject_governed" });
      expect(await linkSubjectToChannel(shopEditor(), { subject: "orders-avro-value", application: "orders", channel: "shop/orders", messageKey: "orderPlaced" })).toEqual({
        subject: "orders-avro-value",
        application: "orders",
        channel: "shop/orders",
        messageKey: "orderPlaced",
        part: "payload",
      });
      const row = (await subject("orders-avro-value"))!;
      expect(row).toMatchObject({ governed: false, applicationId: (await appRow("orders"))!.id, channel: "shop/orders", messageKey: "orderPlaced", part: "payload" });
      expect((await lastAudit("registry.subject.link"))!.details).toMatchObject({ subject: "orders-avro-value", application: "orders", after: { channel: "shop/orders" } });
      // Linked to a shop application: another team cannot unlink it.
      await expect(unlinkSubject(otherEditor(), { subject: "orders-avro-value" })).rejects.toMatchObject({ kind: "forbidden" });
      await unlinkSubject(shopEditor(), { subject: "orders-avro-value" });
      expect((await subject("orders-avro-value"))!).toMatchObject({ applicationId: null, channel: null, messageKey: null, part: null });
      expect((await lastAudit("registry.subject.unlink"))!.details).toMatchObject({ subject: "orders-avro-value", application: "orders" });
    });

    it("lets only admins link an unowned subject and choose a subject's team", async () => {
      await directSubject("unowned-value", { type: "object" }, null);
      await expect(linkSubjectToChannel(shopEditor(), { subject: "unowned-value", application: "orders", channel: "shop/orders", messageKey: "orderPlaced" })).rejects.toMatchObject({ kind: "forbidden" });
      await expect(setSubjectOwner(shopEditor(), { subject: "unowned-value", team: "shop" })).rejects.toMatchObject({ kind: "forbidden" });
      await setSubjectOwner(admin, { subject: "unowned-value", team: "shop" });
      const [owner] = await db().select({ slug: team.slug }).from(team).where(eq(team.id, (await subject("unowned-value"))!.teamId!));
      expect(owner!.slug).toBe("shop");
      expect((await lastAudit("registry.subject.owner"))!.details).toMatchObject({ subject: "unowned-value", before: { team: null }, after: { team: "shop" } });
      await linkSubjectToChannel(shopEditor(), { subject: "unowned-value", application: "orders", channel: "shop/orders", messageKey: "orderPlaced", part: "headers" });
      await expect(setSubjectOwner(admin, { subject: "shop/orders-orderPlaced", team: "other" })).rejects.toMatchObject({ code: "conflict:subject_governed" });
      await expect(setSubjectOwner(admin, { subject: "nobody", team: null })).rejects.toMatchObject({ kind: "not_found" });
    });
  });
});
