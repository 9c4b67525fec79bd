import { and, asc, count, eq, isNull, sql } from "drizzle-orm";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client.ts";
import { migrationsDir } from "@/db/config.ts";
import { application, contractVersion, flow, registrySchema } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { newId } from "@/lib/ids.ts";
import { canonicalJson, JSON_SCHEMA_FORMAT, parseContract, registrySchemaHash } from "@/registry/index.ts";
import { createApplication } from "./applications.ts";
import { backfillFlows, channelParticipants, flowsOfVersion } from "./flows.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";

const READING = { type: "object", required: ["value"], properties: { value: { type: "number" }, lineId: { type: "string" } } };
const HEADERS = { type: "object", properties: { traceId: { type: "string" } } };

/** An AsyncAPI 3.0 contract: channels by address, each with the actions the application takes on it. */
function doc(title: string, version: string, channels: Array<{ address: string; actions: Array<"send" | "receive">; payload?: object }>): string {
  const lines = [`asyncapi: 3.0.0`, `info: { title: ${title}, version: ${version} }`, `channels:`];
  const ops = [`operations:`];
  channels.forEach((c, i) => {
    const params = [...c.address.matchAll(/\{([^}]+)\}/g)].map((m) => `${m[1]}: {}`);
    lines.push(
      `  ch${i}:`,
      `    address: '${c.address}'`,
      ...(params.length ? [`    parameters: { ${params.join(", ")} }`] : []),
      `    messages:`,
      `      msg${i}:`,
      `        name: Message${i}`,
      `        headers: ${JSON.stringify(HEADERS)}`,
      `        payload: ${JSON.stringify(c.payload ?? READING)}`,
    );
    for (const action of c.actions) ops.push(`  ${action}${i}:`, `    action: ${action}`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return [...lines, ...(ops.length > 1 ? ops : [])].join("\n") + "\n";
}

describeEachBackend("flows", ({ handle }) => {
  const actor = systemPrincipal("test");
  const db = () => handle().db;
  const schemaCount = async () => (await db().select({ n: count() }).from(registrySchema))[0]!.n;
  const versionId = async (version: string, slug: string) => {
    const [row] = await db()
      .select({ id: contractVersion.id })
      .from(contractVersion)
      .innerJoin(application, eq(application.id, contractVersion.applicationId))
      .where(and(eq(contractVersion.version, version), eq(application.slug, slug)));
    return row!.id;
  };

  beforeAll(async () => {
    await createTeam(actor, { slug: "plant-ops", name: "Plant Ops" });
    await createTeam(actor, { slug: "insights", name: "Insights" });
    await createApplication(actor, { slug: "line-sensors", name: "Line sensors", team: "plant-ops" });
    await createApplication(actor, { slug: "dashboard", name: "Dashboard", team: "insights" });
    await createApplication(actor, { slug: "prototype", name: "Prototype", team: "insights" });
  });

  it("stores the flows and schemas of a published version, with actions and schema ids", async () => {
    const published = await publishVersion(actor, "line-sensors", {
      files: {
        "asyncapi.yaml": doc("Line sensors", "1.0.0", [
          { address: "plant/{lineId}/temperature", actions: ["send"] },
          { address: "plant/{lineId}/command", actions: ["receive"], payload: { type: "string" } },
          // No operation: declared, but no flow.
          { address: "plant/unused", actions: [], payload: { type: "integer" } },
        ]),
      },
    });
    expect(published.created).toBe(true);
    const flows = await flowsOfVersion(db(), published.version.id);
    expect(flows.map((f) => [f.channel, f.action, f.messageKey])).toEqual([
      ["plant/{lineId}/command", "receive", "Message1"],
      ["plant/{lineId}/temperature", "send", "Message0"],
    ]);
    const [reading] = await db().select().from(registrySchema).where(eq(registrySchema.hash, registrySchemaHash(JSON_SCHEMA_FORMAT, READING)));
    expect(reading).toMatchObject({ format: JSON_SCHEMA_FORMAT, canonical: canonicalJson(READING) });
    expect(flows[1]!.payloadSchemaId).toBe(reading!.id);
    const [headers] = await db().select().from(registrySchema).where(eq(registrySchema.hash, registrySchemaHash(JSON_SCHEMA_FORMAT, HEADERS)));
    // One headers schema for both messages: the same content has the same id everywhere.
    expect(flows.map((f) => f.headersSchemaId)).toEqual([headers!.id, headers!.id]);
    // Every schema of the version is registered, the unused channel's too: reading, string, integer, headers.
    expect(await schemaCount()).toBe(4);
    const [version] = await db().select().from(contractVersion).where(eq(contractVersion.id, published.version.id));
    expect(version!.flowsDerivedAt).toBeInstanceOf(Date);
    // The jsonb columns are typed: no cast needed to read the contract.
    expect(version!.contract.channels["plant/{lineId}/temperature"]?.address).toBe("plant/{lineId}/temperature");
  });

  it("reuses the schema id of an identical payload in a later version", async () => {
    const before = (await flowsOfVersion(db(), await versionId("1.0.0", "line-sensors"))).find((f) => f.action === "send")!;
    const published = await publishVersion(actor, "line-sensors", {
      files: {
        "asyncapi.yaml": doc("Line sensors", "1.1.0", [
          // Same schema, keys in another order.
          { address: "plant/{lineId}/temperature", actions: ["send"], payload: { properties: { lineId: { type: "string" }, value: { type: "number" } }, required: ["value"], type: "object" } },
          { address: "plant/{lineId}/command", actions: ["receive"], payload: { type: "string" } },
          { address: "plant/unused", actions: [], payload: { type: "integer" } },
          { address: "plant/{lineId}/humidity", actions: ["send"], payload: { type: "object", properties: { percent: { type: "number" } } } },
        ]),
      },
    });
    const flows = await flowsOfVersion(db(), published.version.id);
    const temperature = flows.find((f) => f.channel === "plant/{lineId}/temperature")!;
    expect(temperature.payloadSchemaId).toBe(before.payloadSchemaId);
    expect(temperature.headersSchemaId).toBe(before.headersSchemaId);
    expect(flows.find((f) => f.channel === "plant/{lineId}/humidity")!.payloadSchemaId).not.toBe(before.payloadSchemaId);
    // Only the humidity payload is new.
    expect(await schemaCount()).toBe(5);
  });

  it("answers who sends and who receives a channel from the current versions' flows", async () => {
    await publishVersion(actor, "dashboard", {
      files: {
        "asyncapi.yaml": doc("Dashboard", "1.0.0", [
          // Another parameter name: the same channel.
          { address: "plant/{line}/temperature", actions: ["receive"] },
          { address: "plant/{line}/command", actions: ["send"], payload: { type: "string" } },
        ]),
      },
    });
    // A draft is a proposal: it neither sends nor receives yet.
    await publishVersion(actor, "prototype", {
      state: "draft",
      files: { "asyncapi.yaml": doc("Prototype", "0.1.0", [{ address: "plant/{lineId}/temperature", actions: ["send", "receive"] }]) },
    });
    const { producers, consumers } = await channelParticipants(actor, "plant/{lineId}/temperature");
    expect(producers.map((p) => [p.application.slug, p.version, p.address, p.messages])).toEqual([
      ["line-sensors", "1.1.0", "plant/{lineId}/temperature", ["Message0"]],
    ]);
    expect(consumers.map((p) => [p.application.slug, p.team.name, p.address])).toEqual([["dashboard", "Insights", "plant/{line}/temperature"]]);
    const command = await channelParticipants(actor, "plant/{lineId}/command");
    expect(command.producers.map((p) => p.application.slug)).toEqual(["dashboard"]);
    expect(command.consumers.map((p) => p.application.slug)).toEqual(["line-sensors"]);
    // A declared channel without operations has no participants; a concrete topic finds its template.
    expect(await channelParticipants(actor, "plant/unused")).toEqual({ producers: [], consumers: [] });
    expect((await channelParticipants(actor, "plant/line-4/temperature")).producers.map((p) => p.application.slug)).toEqual(["line-sensors"]);
  });

  it("backfills the flows of versions stored without them, once, however many instances run it", async () => {
    // As a build before the flow table stored it: the version row only.
    const parsed = await parseContract(doc("Prototype", "0.2.0", [{ address: "plant/{lineId}/pressure", actions: ["send"], payload: READING }]));
    const [app] = await db().select().from(application).where(eq(application.slug, "prototype"));
    const id = newId("ver");
    await db().insert(contractVersion).values({
      id,
      applicationId: app!.id,
      version: "0.2.0",
      major: 0,
      minor: 2,
      patch: 0,
      state: "released",
      files: { "asyncapi.yaml": "older build" },
      rootFile: "asyncapi.yaml",
      asyncapiVersion: "3.0.0",
      contract: parsed.contract!,
      contentHash: "sha256:older",
      publishedById: "old",
      publishedByLabel: "old",
    });
    expect(await flowsOfVersion(db(), id)).toEqual([]);
    expect(await db().select({ id: contractVersion.id }).from(contractVersion).where(isNull(contractVersion.flowsDerivedAt))).toEqual([{ id }]);

    // Two instances starting together: one derives the version, the other finds it done.
    const [a, b] = await Promise.all([backfillFlows(db()), backfillFlows(db())]);
    expect(a + b).toBe(1);
    const flows = await flowsOfVersion(db(), id);
    expect(flows.map((f) => [f.channel, f.action])).toEqual([["plant/{lineId}/pressure", "send"]]);
    const before = (await flowsOfVersion(db(), await versionId("1.0.0", "line-sensors"))).find((f) => f.action === "send")!;
    expect(flows[0]!.payloadSchemaId).toBe(before.payloadSchemaId);
    expect(await backfillFlows(db())).toBe(0);
    expect((await channelParticipants(actor, "plant/{id}/pressure")).producers.map((p) => `${p.application.slug} ${p.version}`)).toEqual(["prototype 0.2.0"]);
    const all = await db().select().from(flow).orderBy(asc(flow.versionId));
    expect(new Set(all.map((f) => `${f.versionId} ${f.channel} ${f.action} ${f.messageKey}`)).size).toBe(all.length);
  });

  it("reports a version it cannot derive, derives the others, and tries it again at the next start", async () => {
    const [app] = await db().select().from(application).where(eq(application.slug, "prototype"));
    const parsed = await parseContract(doc("Prototype", "0.3.0", [{ address: "plant/{lineId}/flow", actions: ["receive"] }]));
    const base = { applicationId: app!.id, minor: 0, patch: 0, state: "released" as const, files: {}, rootFile: "asyncapi.yaml", asyncapiVersion: "3.0.0", publishedById: "old", publishedByLabel: "old" };
    const broken = newId("ver");
    const good = newId("ver");
    await db().insert(contractVersion).values([
      // Not a contract: what a damaged or hand-edited row might hold.
      { ...base, id: broken, version: "0.3.0", major: 0, minor: 3, contract: { title: "broken" } as never, contentHash: "sha256:broken" },
      { ...base, id: good, version: "0.4.0", major: 0, minor: 4, contract: parsed.contract!, contentHash: "sha256:good" },
    ]);
    const errors: string[] = [];
    expect(await backfillFlows(db(), { batchSize: 1, onError: (id) => errors.push(id) })).toBe(1);
    expect(errors).toEqual([broken]);
    expect((await flowsOfVersion(db(), good)).map((f) => f.channel)).toEqual(["plant/{lineId}/flow"]);
    expect(await flowsOfVersion(db(), broken)).toEqual([]);
    const [row] = await db().select({ at: contractVersion.flowsDerivedAt }).from(contractVersion).where(eq(contractVersion.id, broken));
    expect(row!.at).toBeNull();
  });
});

describe("flows of a database migrated from before the flow table", () => {
  it("keeps the stored versions through the migration, and the backfill derives their flows", async () => {
    // The migrations folder as an older build shipped it: everything before 0003_flows.
    const older = mkdtempSync(path.join(tmpdir(), "meshport-migrations-"));
    const current = migrationsDir();
    cpSync(current, older, { recursive: true });
    const journalPath = path.join(older, "meta", "_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: Array<{ tag: string }> };
    const cut = journal.entries.findIndex((e) => e.tag === "0003_flows");
    journal.entries = journal.entries.slice(0, cut);
    writeFileSync(journalPath, JSON.stringify(journal));
    const previous = process.env.MESHPORT_MIGRATIONS_DIR;
    const handle = await openDatabase({ driver: "pglite", dataDir: null });
    try {
      process.env.MESHPORT_MIGRATIONS_DIR = older;
      await handle.migrate();
      await expect(handle.db.select().from(flow)).rejects.toThrow();
      const parsed = await parseContract(doc("Old", "1.0.0", [{ address: "old/{id}/events", actions: ["send"] }]));
      // The columns an older build wrote (no lint_policy, lint or flows_derived_at yet).
      await handle.db.execute(sql`insert into team (id, slug, name) values ('team_old', 'old', 'Old')`);
      await handle.db.execute(sql`insert into application (id, slug, name, team_id) values ('app_old', 'old-app', 'Old app', 'team_old')`);
      await handle.db.execute(sql`insert into contract_version
        (id, application_id, version, major, minor, patch, state, files, root_file, asyncapi_version, contract, content_hash, published_by_id, published_by_label)
        values ('ver_old', 'app_old', '1.0.0', 1, 0, 0, 'released', '{}'::jsonb, 'asyncapi.yaml', '3.0.0', ${JSON.stringify(parsed.contract)}::jsonb, 'sha256:old', 'old', 'old')`);

      // The new build starts: its migrations, then the backfill.
      process.env.MESHPORT_MIGRATIONS_DIR = current;
      await handle.migrate();
      expect(await flowsOfVersion(handle.db, "ver_old")).toEqual([]);
      expect(await backfillFlows(handle.db)).toBe(1);
      expect((await flowsOfVersion(handle.db, "ver_old")).map((f) => [f.channel, f.action])).toEqual([["old/{id}/events", "send"]]);
      expect(await backfillFlows(handle.db)).toBe(0);
    } finally {
      if (previous === undefined) delete process.env.MESHPORT_MIGRATIONS_DIR;
      else process.env.MESHPORT_MIGRATIONS_DIR = previous;
      await handle.close();
      rmSync(older, { recursive: true, force: true });
    }
  });
});
