import { and, asc, count, eq, isNull } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { application, contractVersion, flow, registrySchema } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { newId } from "@/lib/ids.ts";
import { canonicalJson, JSON_SCHEMA_FORMAT, parseContract, registrySchemaHash } from "@/registry/index.ts";
import { createApplication } from "./applications.ts";
import { backfillFlows, channelParticipants, flowsOfVersion } from "./flows.ts";
import { publishVersion } from "./publish.ts";

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
});
