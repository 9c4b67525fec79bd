import { beforeAll, expect, it } from "vitest";
import {
  application,
  broker,
  brokerTopic,
  contractVersion,
  flow,
  registryConfig,
  registrySchema,
  registrySchemaReference,
  registrySubject,
  registrySubjectVersion,
  team,
} from "@/db/schema.ts";
import { eq } from "drizzle-orm";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { recordAudit } from "@/lib/audit/record.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import type { Contract } from "@/registry/types.ts";
import { SCHEMA_TYPE_FORMATS } from "@/registry/schematypes/index.ts";
import { containsPattern, REGISTRY_MAX_PAGE, REGISTRY_PAGE_SIZE, registryOverview, schemaDetail, subjectDetail, subjectsOfMessage } from "./views.ts";

const CHANNEL = "ovens/{ovenId}/heat";

describeEachBackend("registry views", ({ handle }) => {
  const actor = systemPrincipal("test");
  const db = () => handle().db;
  const ids: Record<string, number> = {};

  async function schemaRow(key: string, format: string, canonical: string, references: Array<{ name: string; subject: string; version: number }> = []) {
    const [row] = await db().insert(registrySchema).values({ hash: `sha256:${key}`, format, canonical, references }).returning({ id: registrySchema.id });
    ids[key] = row!.id;
    return row!.id;
  }

  async function subjectRow(id: string, name: string, extra: Partial<typeof registrySubject.$inferInsert>, versions: Array<{ schema: string; deleted?: boolean; contractVersionId?: string }>) {
    await db().insert(registrySubject).values({ id, name, ...extra });
    let n = 0;
    for (const v of versions) {
      n += 1;
      await db()
        .insert(registrySubjectVersion)
        .values({
          subjectId: id,
          version: n,
          schemaId: ids[v.schema]!,
          compatibility: "BACKWARD",
          registeredByLabel: "ci-token",
          contractVersionId: v.contractVersionId ?? null,
          deletedAt: v.deleted ? new Date() : null,
        });
    }
  }

  beforeAll(async () => {
    await createTeam(actor, { slug: "bakery", name: "Bakery" });
    await createTeam(actor, { slug: "pastry", name: "Pastry" });
    await createApplication(actor, { slug: "oven-controller", name: "Oven controller", team: "bakery" });
    const [app] = await db().select({ id: application.id }).from(application).where(eq(application.slug, "oven-controller"));
    const [pastry] = await db().select({ id: team.id }).from(team).where(eq(team.slug, "pastry"));
    await db().update(application).set({ compatibilityMode: "FULL" }).where(eq(application.id, app!.id));
    await db()
      .insert(contractVersion)
      .values({
        id: "cv-oven-1",
        applicationId: app!.id,
        version: "1.0.0",
        major: 1,
        minor: 0,
        patch: 0,
        files: {},
        rootFile: "asyncapi.yaml",
        asyncapiVersion: "3.0.0",
        contract: {} as Contract,
        contentHash: "h1",
        publishedById: "test",
        publishedByLabel: "test",
      });

    await schemaRow("heat1", "application/schema+json;version=draft-07", '{"properties":{"c":{"type":"number"}},"type":"object"}');
    await schemaRow("heat2", "application/schema+json;version=draft-07", '{"properties":{"c":{"type":"number"},"f":{"type":"number"}},"type":"object"}');
    await schemaRow("avro", SCHEMA_TYPE_FORMATS.AVRO, '{"name":"Loaf","type":"record","fields":[{"name":"weight","type":"int"}]}');
    await schemaRow("proto", SCHEMA_TYPE_FORMATS.PROTOBUF, 'syntax = "proto3";\nmessage Crumb { int32 size = 1; }\n');
    await schemaRow("refs", SCHEMA_TYPE_FORMATS.AVRO, '{"name":"Tray","type":"record","fields":[{"name":"loaf","type":"Loaf"}]}', [
      { name: "Loaf", subject: "loaves_value", version: 1 },
    ]);
    await db().insert(registrySchemaReference).values({ schemaId: ids.refs!, position: 0, name: "Loaf", subject: "loaves_value", version: 1 });

    await subjectRow(
      "s-heat",
      `${CHANNEL}-HeatReading`,
      { governed: true, applicationId: app!.id, channel: CHANNEL, messageKey: "HeatReading", part: "payload" },
      [{ schema: "heat1", contractVersionId: "cv-oven-1" }, { schema: "heat2" }],
    );
    await subjectRow("s-loaves", "loaves_value", { teamId: pastry!.id, compatibility: "NONE" }, [{ schema: "avro" }]);
    await subjectRow("s-crumbs", "crumbs-value", { applicationId: app!.id, channel: CHANNEL, messageKey: "HeatReading", part: "key" }, [{ schema: "proto" }]);
    await subjectRow("s-trays", "trays_value", {}, [{ schema: "refs" }]);
    await subjectRow("s-gone", "gone-value", { deletedAt: new Date() }, [{ schema: "heat1", deleted: true }]);
    // Configured before its first schema: no version, never listed.
    await db().insert(registrySubject).values({ id: "s-empty", name: "empty-value", compatibility: "FULL" });

    await db().insert(flow).values({ versionId: "cv-oven-1", channel: CHANNEL, action: "send", messageKey: "HeatReading", payloadSchemaId: ids.heat1!, headersSchemaId: ids.avro! });
    await db().insert(registryConfig).values({ id: 1, compatibility: "FORWARD", mode: "READWRITE" }).onConflictDoUpdate({ target: registryConfig.id, set: { compatibility: "FORWARD" } });

    await db().insert(broker).values({ id: "bakery-broker", name: "Bakery broker" });
    const now = new Date();
    await db()
      .insert(brokerTopic)
      .values({
        brokerId: "bakery-broker",
        template: "ovens/{id}/heat",
        channel: { address: CHANNEL, application: "oven-controller", contractVersion: "1.0.0" },
        firstSeen: now,
        lastSeen: now,
        totalMessages: 3,
        totalBytes: 30,
        lastRatePerSecond: 1,
        lastWindowEnd: now,
        contentKind: "json",
        distinctTopics: 1,
        topics: [],
        samples: [],
        producers: [{ clientId: "oven-7", lastSeen: now.toISOString() }],
        consumers: [{ clientId: "dash", lastSeen: now.toISOString() }],
      });

    await handle().db.transaction(async (tx) => {
      await recordAudit(tx, actor, { action: "registry.config.set", targetType: "registry_subject", targetId: "s-loaves", details: { subject: "loaves_value", before: null, after: "NONE" } });
      await recordAudit(tx, actor, { action: "registry.schema.register", targetType: "registry_subject", targetId: "s-loaves", details: { subject: "loaves_value", version: 1 } });
      await recordAudit(tx, actor, { action: "registry.schema.register", targetType: "registry_subject", targetId: "s-trays", details: { subject: "trays_value", version: 1 } });
    });
  });

  it("lists the subjects with versions, their latest version, id, type, kind and effective compatibility", async () => {
    const overview = await registryOverview(actor, {});
    expect(overview.subjects.map((s) => s.name)).toEqual(["crumbs-value", "loaves_value", `${CHANNEL}-HeatReading`, "trays_value"]);
    expect(overview.total).toBe(4);
    expect(overview.global).toEqual({ compatibility: "FORWARD", compatibilityConfigured: true, mode: "READWRITE" });
    const heat = overview.subjects.find((s) => s.name.startsWith(CHANNEL))!;
    expect(heat).toMatchObject({
      kind: "governed",
      schemaType: "JSON",
      latestVersion: 2,
      latestSchemaId: ids.heat2,
      application: { slug: "oven-controller" },
      team: { slug: "bakery" },
      compatibility: { level: "FULL", source: "application", inherited: true },
    });
    expect(overview.subjects.find((s) => s.name === "loaves_value")).toMatchObject({
      kind: "direct",
      schemaType: "AVRO",
      team: { slug: "pastry" },
      compatibility: { level: "NONE", source: "subject", inherited: false },
    });
    expect(overview.subjects.find((s) => s.name === "trays_value")!.compatibility).toEqual({ level: "FORWARD", source: "global", inherited: true });
    // Linked: the application's team owns it.
    expect(overview.subjects.find((s) => s.name === "crumbs-value")).toMatchObject({ kind: "linked", schemaType: "PROTOBUF", team: { slug: "bakery" } });
    expect(overview.subjects.find((s) => s.name === "trays_value")!.team).toBeNull();
  });

  it("filters by name (literally), kind, schema type, team and soft-deleted", async () => {
    const names = async (filters: object) => (await registryOverview(actor, filters)).subjects.map((s) => s.name);
    expect(await names({ text: "LOAVES" })).toEqual(["loaves_value"]);
    // `_` is a character, not a wildcard: "s_v" matches nothing although "es-v" would match "s-v" under LIKE.
    expect(await names({ text: "s_v" })).toEqual(["loaves_value", "trays_value"]);
    expect(await names({ text: "mb_v" })).toEqual([]);
    expect(await names({ text: "%" })).toEqual([]);
    expect(await names({ kind: "governed" })).toEqual([`${CHANNEL}-HeatReading`]);
    expect(await names({ kind: "direct" })).toEqual(["loaves_value", "trays_value"]);
    expect(await names({ kind: "linked" })).toEqual(["crumbs-value"]);
    expect(await names({ schemaType: "AVRO" })).toEqual(["loaves_value", "trays_value"]);
    expect(await names({ schemaType: "JSON" })).toEqual([`${CHANNEL}-HeatReading`]);
    expect(await names({ schemaType: "PROTOBUF" })).toEqual(["crumbs-value"]);
    expect(await names({ team: "bakery" })).toEqual(["crumbs-value", `${CHANNEL}-HeatReading`]);
    expect(await names({ team: "pastry" })).toEqual(["loaves_value"]);
    expect(await names({ deleted: true })).toEqual(["crumbs-value", "gone-value", "loaves_value", `${CHANNEL}-HeatReading`, "trays_value"]);
    const gone = (await registryOverview(actor, { deleted: true })).subjects.find((s) => s.name === "gone-value")!;
    expect(gone).toMatchObject({ deleted: true, latestVersion: 1 });
  });

  it("pages and bounds its input", async () => {
    const far = await registryOverview(actor, { page: 3 });
    expect(far).toMatchObject({ subjects: [], total: 4, page: 3, hasNext: false, pageSize: REGISTRY_PAGE_SIZE });
    await expect(registryOverview(actor, { page: REGISTRY_MAX_PAGE + 1 })).rejects.toMatchObject({ kind: "invalid_input" });
    await expect(registryOverview(actor, { page: 0 })).rejects.toMatchObject({ kind: "invalid_input" });
    await expect(registryOverview(actor, { text: "x".repeat(201) })).rejects.toMatchObject({ kind: "invalid_input" });
    await expect(registryOverview(actor, { kind: "other" })).rejects.toMatchObject({ kind: "invalid_input" });
    await expect(registryOverview(actor, { regex: ".*" })).rejects.toMatchObject({ kind: "invalid_input" });
  });

  it("pages past 50 subjects", async () => {
    for (let i = 0; i < REGISTRY_PAGE_SIZE; i += 1) {
      await subjectRow(`s-bulk-${i}`, `bulk-${String(i).padStart(2, "0")}`, {}, [{ schema: "heat1" }]);
    }
    const first = await registryOverview(actor, { text: "bulk-" });
    expect(first.subjects).toHaveLength(REGISTRY_PAGE_SIZE);
    expect(first).toMatchObject({ total: REGISTRY_PAGE_SIZE, hasNext: false });
    const all = await registryOverview(actor, {});
    expect(all.hasNext).toBe(true);
    const second = await registryOverview(actor, { page: 2 });
    expect(all.total).toBe(REGISTRY_PAGE_SIZE + 4);
    expect(second.subjects.map((s) => s.name)).toEqual(["crumbs-value", "loaves_value", `${CHANNEL}-HeatReading`, "trays_value"]);
    expect(second.hasNext).toBe(false);
  });

  it("shows a subject: versions newest first, the schema, where it is used and who produces it", async () => {
    const detail = await subjectDetail(actor, `${CHANNEL}-HeatReading`, {});
    expect(detail.kind).toBe("governed");
    expect(detail.versions.map((v) => [v.version, v.schemaId, v.contractVersion])).toEqual([
      [2, ids.heat2, null],
      [1, ids.heat1, "1.0.0"],
    ]);
    expect(detail.selected?.version).toBe(2);
    expect(detail.selected?.schema.text).toContain('\n  "properties": {');
    expect(detail.compatibility).toEqual({ level: "FULL", source: "application", inherited: true });
    expect(detail.mode).toEqual({ mode: "READWRITE", source: "global" });
    expect(detail.flows).toEqual([
      { application: { slug: "oven-controller", name: "Oven controller" }, version: "1.0.0", channel: CHANNEL, action: "send", messageKey: "HeatReading", part: "payload", schemaId: ids.heat1 },
    ]);
    expect(detail.producers).toEqual([expect.objectContaining({ clientId: "oven-7", brokerId: "bakery-broker", brokerName: "Bakery broker" })]);
    const first = await subjectDetail(actor, `${CHANNEL}-HeatReading`, { version: 1 });
    expect(first.selected).toMatchObject({ version: 1, schemaId: ids.heat1 });
  });

  it("shows references, referenced-by and the subject's history, newest first", async () => {
    const loaves = await subjectDetail(actor, "loaves_value", {});
    expect(loaves.referencedBy).toEqual([{ schemaId: ids.refs, subject: "trays_value", version: 1 }]);
    expect(loaves.history.map((h) => h.action)).toEqual(["registry.schema.register", "registry.config.set"]);
    expect(loaves.history[1]!.details).toMatchObject({ before: null, after: "NONE" });
    expect(loaves.flows).toEqual([expect.objectContaining({ part: "headers", schemaId: ids.avro })]);
    expect(loaves.producers).toEqual([]);
    expect(loaves.ownerTeam).toBe("pastry");
    const trays = await subjectDetail(actor, "trays_value", {});
    expect(trays.selected?.schema.references).toEqual([{ name: "Loaf", subject: "loaves_value", version: 1 }]);
    expect(trays.history).toHaveLength(1);
    const proto = await subjectDetail(actor, "crumbs-value", {});
    expect(proto.selected?.schema).toMatchObject({ schemaType: "PROTOBUF", text: 'syntax = "proto3";\nmessage Crumb { int32 size = 1; }\n' });
  });

  it("refuses unknown subjects, versions and ids as not found", async () => {
    await expect(subjectDetail(actor, "no-such-subject", {})).rejects.toMatchObject({ kind: "not_found" });
    await expect(subjectDetail(actor, "x".repeat(300), {})).rejects.toMatchObject({ kind: "not_found" });
    await expect(subjectDetail(actor, "loaves_value", { version: 9 })).rejects.toMatchObject({ kind: "not_found" });
    await expect(subjectDetail(actor, "loaves_value", { version: 2 ** 31 })).rejects.toMatchObject({ kind: "invalid_input" });
    await expect(schemaDetail(actor, 999_999)).rejects.toMatchObject({ kind: "not_found" });
    await expect(schemaDetail(actor, 2 ** 31)).rejects.toMatchObject({ kind: "not_found" });
    await expect(schemaDetail(actor, -1)).rejects.toMatchObject({ kind: "not_found" });
  });

  it("shows a schema id with every subject version holding it and the flows using it", async () => {
    const heat1 = await schemaDetail(actor, ids.heat1!);
    expect(heat1.schemaType).toBe("JSON");
    expect(heat1.subjects.filter((s) => !s.subject.startsWith("bulk-"))).toEqual([
      { subject: "gone-value", version: 1, deleted: true },
      { subject: `${CHANNEL}-HeatReading`, version: 1, deleted: false },
    ]);
    expect(heat1.flows).toHaveLength(1);
    const avro = await schemaDetail(actor, ids.avro!);
    expect(avro).toMatchObject({ schemaType: "AVRO", subjects: [{ subject: "loaves_value", version: 1, deleted: false }] });
    expect(avro.text).toContain('"name": "Loaf"');
  });

  it("lists a message's subjects", async () => {
    const subjects = await subjectsOfMessage(actor, "oven-controller", CHANNEL, "HeatReading");
    expect(subjects.map((s) => [s.name, s.part, s.kind, s.latestVersion])).toEqual([
      ["crumbs-value", "key", "linked", 1],
      [`${CHANNEL}-HeatReading`, "payload", "governed", 2],
    ]);
    expect(await subjectsOfMessage(actor, "oven-controller", CHANNEL, "Other")).toEqual([]);
    expect(await subjectsOfMessage(actor, "nobody", CHANNEL, "HeatReading")).toEqual([]);
  });
});

it("escapes the pattern characters of a search", () => {
  expect(containsPattern("a_b%c\\d")).toBe("%a\\_b\\%c\\\\d%");
});

describeEachBackend("registry views over released contracts", () => {
  const actor = systemPrincipal("test");
  const address = "mixers/{mixerId}/speed";
  const document = (version: string, rpm: object) =>
    [
      "asyncapi: 3.0.0",
      `info: { title: Mixer, version: ${version} }`,
      "channels:",
      "  speed:",
      `    address: '${address}'`,
      "    parameters: { mixerId: {} }",
      "    messages:",
      "      MixerSpeed:",
      `        payload: ${JSON.stringify({ type: "object", properties: { rpm } })}`,
      "operations:",
      "  sendSpeed:",
      "    action: send",
      "    channel: { $ref: '#/channels/speed' }",
      "",
    ].join("\n");

  it("shows the subjects a release writes, governed by its application, on the message and the subject pages", async () => {
    await createTeam(actor, { slug: "mixing", name: "Mixing" });
    await createApplication(actor, { slug: "mixer", name: "Mixer", team: "mixing" });
    await publishVersion(actor, "mixer", { files: { "asyncapi.yaml": document("1.0.0", { type: "number" }) } });
    await publishVersion(actor, "mixer", { files: { "asyncapi.yaml": document("1.1.0", { type: "number", description: "Revolutions a minute" }) } });
    const name = `${address}-MixerSpeed`;
    const overview = await registryOverview(actor, { kind: "governed", team: "mixing" });
    expect(overview.subjects.map((s) => [s.name, s.kind, s.application?.slug, s.schemaType, s.latestVersion])).toEqual([[name, "governed", "mixer", "JSON", 2]]);
    expect(await subjectsOfMessage(actor, "mixer", address, "MixerSpeed")).toEqual([expect.objectContaining({ name, kind: "governed", part: "payload", latestVersion: 2 })]);
    const detail = await subjectDetail(actor, name, {});
    expect(detail.versions.map((v) => v.contractVersion)).toEqual(["1.1.0", "1.0.0"]);
    expect(detail.flows.map((f) => [f.version, f.schemaId])).toEqual([
      ["1.1.0", detail.versions[0]!.schemaId],
      ["1.0.0", detail.versions[1]!.schemaId],
    ]);
    const schema = await schemaDetail(actor, detail.versions[0]!.schemaId);
    expect(schema.subjects).toEqual([{ subject: name, version: 2, deleted: false }]);
  });
});
