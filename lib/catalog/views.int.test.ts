import { and, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { application, catalogEntry, contractVersion, flow, registrySchema } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { bumpCatalogGeneration } from "@/lib/drift/catalog.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { JSON_SCHEMA_FORMAT, registrySchemaHash } from "@/registry/index.ts";
import { createApplication } from "./applications.ts";
import { channelParticipants } from "./flows.ts";
import { participantsOf } from "./participants.ts";
import { searchCatalog } from "./search.ts";
import { applicationFlows, channelSchemas } from "./views.ts";

const READING = { type: "object", required: ["celsius"], properties: { celsius: { type: "number", description: "Kiln chamber temperature" } } };
const COMMAND = { type: "object", properties: { setpoint: { type: "number" } } };

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
      `        payload: ${JSON.stringify(c.payload ?? READING)}`,
    );
    for (const action of c.actions) ops.push(`  ${action}${i}:`, `    action: ${action}`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return [...lines, ...(ops.length > 1 ? ops : [])].join("\n") + "\n";
}

const TEMPERATURE = "kilns/{kilnId}/temperature";
const COMMANDS = "kilns/{kilnId}/command";

describeEachBackend("catalog read models on flow", ({ handle }) => {
  const actor = systemPrincipal("test");
  const db = () => handle().db;
  const versionId = async (slug: string, version: string) => {
    const [row] = await db()
      .select({ id: contractVersion.id })
      .from(contractVersion)
      .innerJoin(application, eq(application.id, contractVersion.applicationId))
      .where(and(eq(application.slug, slug), eq(contractVersion.version, version)));
    return row!.id;
  };
  const schemaId = async (schema: object) => {
    const [row] = await db().select({ id: registrySchema.id }).from(registrySchema).where(eq(registrySchema.hash, registrySchemaHash(JSON_SCHEMA_FORMAT, schema)));
    return row!.id;
  };
  const slugs = (list: Array<{ application: { slug: string } }>) => list.map((p) => p.application.slug);

  beforeAll(async () => {
    await createTeam(actor, { slug: "kiln-ops", name: "Kiln Ops" });
    await createTeam(actor, { slug: "insights", name: "Insights" });
    await createApplication(actor, { slug: "kiln-controller", name: "Kiln controller", team: "kiln-ops" });
    await createApplication(actor, { slug: "dashboard", name: "Dashboard", team: "insights" });
    await createApplication(actor, { slug: "historian", name: "Historian", team: "insights" });
    await publishVersion(actor, "kiln-controller", {
      files: {
        "asyncapi.yaml": doc("Kiln controller", "1.0.0", [
          { address: TEMPERATURE, actions: ["send"] },
          { address: COMMANDS, actions: ["receive"], payload: COMMAND },
          // Declared, used by no operation: no flow.
          { address: "kilns/{kilnId}/unused", actions: [], payload: { type: "integer" } },
        ]),
      },
    });
    await publishVersion(actor, "dashboard", {
      files: {
        "asyncapi.yaml": doc("Dashboard", "1.0.0", [
          { address: "kilns/{id}/temperature", actions: ["receive"] },
          { address: "kilns/{id}/command", actions: ["send"], payload: COMMAND },
        ]),
      },
    });
  });

  it("lists an application's sends and receives with the payload schemas' global ids", async () => {
    const { flows, truncated } = await applicationFlows(actor, "kiln-controller");
    expect(truncated).toBe(false);
    expect(flows.map((f) => [f.action, f.channel, f.messages.map((m) => m.key)])).toEqual([
      ["send", TEMPERATURE, ["Message0"]],
      ["receive", COMMANDS, ["Message1"]],
    ]);
    expect(flows[0]!.messages[0]!.payloadSchemaId).toBe(await schemaId(READING));
    expect(flows[1]!.messages[0]!.payloadSchemaId).toBe(await schemaId(COMMAND));
    expect(flows[0]!.operations).toEqual(["send0"]);
    const schemas = await channelSchemas(actor, "kiln-controller", TEMPERATURE);
    expect(schemas.get("Message0")).toMatchObject({ payloadSchemaId: await schemaId(READING), actions: ["send"] });
    // The unused channel's schema is registered, but no flow names it for this channel.
    expect((await channelSchemas(actor, "kiln-controller", "kilns/{kilnId}/unused")).size).toBe(0);
    await expect(applicationFlows(actor, "nobody")).resolves.toEqual({ flows: [], truncated: false });
  });

  it("reports who sends and who receives in search hits, from flow", async () => {
    const byTopic = (await searchCatalog(actor, { topic: "kilns/+/temperature" })).hits;
    expect(byTopic.map((h) => [h.application.slug, h.address, h.action])).toEqual([
      ["kiln-controller", TEMPERATURE, "send"],
      ["dashboard", "kilns/{id}/temperature", "receive"],
    ].sort((a, b) => a[1]!.localeCompare(b[1]!)));
    for (const hit of byTopic) {
      expect(slugs(hit.producers)).toEqual(["kiln-controller"]);
      expect(slugs(hit.consumers)).toEqual(["dashboard"]);
    }
    const field = (await searchCatalog(actor, { field: "setpoint" })).hits.find((h) => h.application.slug === "kiln-controller")!;
    expect(field).toMatchObject({ kind: "field", address: COMMANDS, action: "receive" });
    expect(slugs(field.producers)).toEqual(["dashboard"]);
    expect(slugs(field.consumers)).toEqual(["kiln-controller"]);
    const word = (await searchCatalog(actor, { q: "chamber" })).hits;
    expect(word.map((h) => `${h.application.slug} ${h.kind} ${h.action}`).sort()).toEqual(["dashboard field receive", "kiln-controller field send"]);
    // An application hit has no channel: nobody sends it.
    const app = (await searchCatalog(actor, { q: "kiln controller", kind: "application" })).hits[0]!;
    expect(app).toMatchObject({ action: null, producers: [], consumers: [] });
  });

  it("takes the current version of each application: drafts and retired versions send nothing", async () => {
    await publishVersion(actor, "historian", {
      state: "draft",
      files: { "asyncapi.yaml": doc("Historian", "0.1.0", [{ address: "kilns/{k}/temperature", actions: ["send", "receive"] }]) },
    });
    const draft = await channelParticipants(actor, TEMPERATURE);
    expect(slugs(draft.producers)).toEqual(["kiln-controller"]);
    expect(slugs(draft.consumers)).toEqual(["dashboard"]);
    await expect(applicationFlows(actor, "historian")).resolves.toEqual({ flows: [], truncated: false });

    await publishVersion(actor, "historian", {
      files: { "asyncapi.yaml": doc("Historian", "1.0.0", [{ address: "kilns/{k}/temperature", actions: ["receive"] }]) },
    });
    const hit = (await searchCatalog(actor, { topic: "kilns/k7/temperature" })).hits[0]!;
    expect(slugs(hit.consumers)).toEqual(["dashboard", "historian"]);

    await setVersionState(actor, "historian", "1.0.0", { state: "deprecated", reason: "Moving" });
    expect(slugs((await channelParticipants(actor, TEMPERATURE)).consumers)).toEqual(["dashboard", "historian"]);
    await setVersionState(actor, "historian", "1.0.0", { state: "retired", reason: "Gone" });
    expect(slugs((await channelParticipants(actor, TEMPERATURE)).consumers)).toEqual(["dashboard"]);
    await expect(applicationFlows(actor, "historian")).resolves.toEqual({ flows: [], truncated: false });
  });

  it("reads flow, not the stored contract or the index: removed flow rows disappear, a flow row added by hand appears", async () => {
    const id = await versionId("kiln-controller", "1.0.0");
    const saved = await db().select().from(flow).where(eq(flow.versionId, id));
    try {
      await db().delete(flow).where(eq(flow.versionId, id));
      // The contract JSON and the search index still say that it sends and receives.
      const [version] = await db().select({ contract: contractVersion.contract }).from(contractVersion).where(eq(contractVersion.id, id));
      expect(Object.keys(version!.contract.operations).length).toBeGreaterThan(0);
      expect((await db().select().from(catalogEntry).where(and(eq(catalogEntry.versionId, id), eq(catalogEntry.action, "send")))).length).toBeGreaterThan(0);

      expect(await applicationFlows(actor, "kiln-controller")).toEqual({ flows: [], truncated: false });
      expect((await channelSchemas(actor, "kiln-controller", TEMPERATURE)).size).toBe(0);
      expect(slugs((await channelParticipants(actor, TEMPERATURE)).producers)).toEqual([]);
      const hits = (await searchCatalog(actor, { topic: "kilns/+/temperature" })).hits;
      expect(hits.find((h) => h.application.slug === "kiln-controller")!.action).toBeNull();
      expect(hits.every((h) => h.producers.length === 0)).toBe(true);

      // A flow no contract declares: the pages list it all the same.
      const command = await schemaId(COMMAND);
      await db().insert(flow).values({ versionId: id, channel: "kilns/{kilnId}/alarm", action: "send", messageKey: "Ghost", payloadSchemaId: command, operations: ["byHand"] });
      // Flows are written by publish and the start-up backfill, which count a catalog generation; by hand, so does the test.
      await bumpCatalogGeneration(db());
      const { flows } = await applicationFlows(actor, "kiln-controller");
      expect(flows).toEqual([
        { action: "send", channel: "kilns/{kilnId}/alarm", messages: [{ key: "Ghost", payloadSchemaId: command, headersSchemaId: null }], operations: ["byHand"] },
      ]);
      expect((await channelSchemas(actor, "kiln-controller", "kilns/{kilnId}/alarm")).get("Ghost")?.payloadSchemaId).toBe(command);
      expect((await channelParticipants(actor, "kilns/k1/alarm")).producers.map((p) => [p.application.slug, p.messages])).toEqual([["kiln-controller", ["Ghost"]]]);
      // A search hit on another application's channel that the hand-made flow reaches names it as a sender.
      await db().insert(flow).values({ versionId: id, channel: "kilns/{x}/temperature", action: "send", messageKey: "Ghost", payloadSchemaId: command });
      await bumpCatalogGeneration(db());
      const dashboard = (await searchCatalog(actor, { topic: "kilns/+/temperature", kind: "channel" })).hits.find((h) => h.application.slug === "dashboard")!;
      expect(slugs(dashboard.producers)).toEqual(["kiln-controller"]);
    } finally {
      await db().delete(flow).where(eq(flow.versionId, id));
      await db().insert(flow).values(saved);
      await bumpCatalogGeneration(db());
    }
    expect((await applicationFlows(actor, "kiln-controller")).flows).toHaveLength(2);
  });

  it("bounds the participants per address, and says so", async () => {
    // Two consumers of the temperature channel: dashboard and, by hand, a second version-less reader.
    const all = (await participantsOf(db(), [TEMPERATURE, "kilns/k9/temperature", "nowhere/at/all"], 5)).get(TEMPERATURE)!;
    expect(slugs(all.consumers)).toEqual(["dashboard"]);
    expect(all.truncated).toBe(false);
    const kid = await versionId("kiln-controller", "1.0.0");
    await db().insert(flow).values({ versionId: kid, channel: TEMPERATURE, action: "receive", messageKey: "Loopback" });
    try {
      const capped = await participantsOf(db(), [TEMPERATURE, "kilns/k9/temperature"], 1);
      for (const found of capped.values()) {
        expect(slugs(found.consumers)).toEqual(["dashboard"]);
        expect(found.truncated).toBe(true);
        expect(slugs(found.producers)).toEqual(["kiln-controller"]);
      }
      expect(slugs((await participantsOf(db(), [TEMPERATURE], 2)).get(TEMPERATURE)!.consumers)).toEqual(["dashboard", "kiln-controller"]);
    } finally {
      await db().delete(flow).where(and(eq(flow.versionId, kid), eq(flow.messageKey, "Loopback")));
    }
  });

  it("matches templates literally around their parameters: LIKE wildcards in an address are text", async () => {
    const kid = await versionId("kiln-controller", "1.0.0");
    await db().insert(flow).values({ versionId: kid, channel: "kilns_a/{kilnId}/x%y", action: "send", messageKey: "Odd" });
    await bumpCatalogGeneration(db());
    try {
      expect(slugs((await channelParticipants(actor, "kilns_a/k1/x%y")).producers)).toEqual(["kiln-controller"]);
      expect(slugs((await channelParticipants(actor, "kilnsXa/k1/x%y")).producers)).toEqual([]);
      expect(slugs((await channelParticipants(actor, "kilns_a/k1/xzzy")).producers)).toEqual([]);
      expect(slugs((await channelParticipants(actor, "kilns_a/k1/more/x%y")).producers)).toEqual([]);
    } finally {
      await db().delete(flow).where(and(eq(flow.versionId, kid), eq(flow.messageKey, "Odd")));
    }
  });
});
