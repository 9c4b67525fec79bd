import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { getDb } from "@/db/client.ts";
import { broker, brokerBridge } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { listBridges, listBrokers } from "@/lib/brokers/brokers.ts";
import { getApplication, listApplications } from "@/lib/catalog/applications.ts";
import { searchCatalog } from "@/lib/catalog/search.ts";
import { getChangeRequest, listChangeRequests } from "@/lib/reviews/queries.ts";
import { getSubjectVersion, listSubjects, listVersions } from "@/lib/schema-registry/api.ts";
import { getSystem, listSystems } from "@/lib/systems/systems.ts";
import { listTokens, principalForToken } from "@/lib/tokens/tokens.ts";
import { DEMO_APPLICATIONS } from "./contracts/index.ts";
import { DEMO_BROKERS } from "./mesh.ts";
import { ensureDemoAgentTokens, seedDemo } from "./seed.ts";

describeEachBackend("demo seed", () => {
  const reader = systemPrincipal("test");
  // A known password keeps the seed from writing one into the data folder.
  const previous = process.env.MESHPORT_DEMO_PASSWORD;
  const previousDataDir = process.env.MESHPORT_DATA_DIR;
  // The agents' tokens are written into the data folder: a scratch one.
  const scratch = mkdtempSync(path.join(os.tmpdir(), "meshport-demo-seed-"));
  beforeAll(() => {
    process.env.MESHPORT_DEMO_PASSWORD = "demo-password-for-tests";
    process.env.MESHPORT_DATA_DIR = scratch;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.MESHPORT_DEMO_PASSWORD;
    else process.env.MESHPORT_DEMO_PASSWORD = previous;
    if (previousDataDir === undefined) delete process.env.MESHPORT_DATA_DIR;
    else process.env.MESHPORT_DATA_DIR = previousDataDir;
    rmSync(scratch, { recursive: true, force: true });
  });

  it("seeds accounts, teams and the whole demo catalog through the publish checks, once", async () => {
    const first = await seedDemo();
    expect(first.seeded).toBe(true);
    const { total } = await listApplications(reader, { limit: 200 });
    expect(total).toBe(DEMO_APPLICATIONS.length);
    const lineSensors = await getApplication(reader, "line-sensors");
    expect(lineSensors.versions.map((v) => `${v.version}:${v.state}`)).toEqual(["2.0.0:released", "1.1.0:released", "1.0.0:deprecated"]);
    expect((await searchCatalog(reader, { topic: "plant/+/temperature" })).hits.length).toBeGreaterThan(0);
    expect((await searchCatalog(reader, { field: "orderId" })).hits.length).toBeGreaterThan(0);
    // One proposal waits for review by the teams it breaks: Plant Operations owns it, the Integration Platform consumes its alarms.
    const { requests } = await listChangeRequests(reader, { view: "all", state: "open" });
    expect(requests.map((r) => [r.application.slug, r.version, r.breaking, r.authorLabel])).toEqual([["machine-monitor", "2.0.0", true, "eddie@meshport.demo"]]);
    const request = await getChangeRequest(reader, String(requests[0]!.number));
    expect(request.reviewers.map((r) => r.team.slug).sort()).toEqual(["plant-operations", "platform"]);
    // The registry: the contracts' subjects came with their releases, and one subject was registered over the API.
    const subjects = await listSubjects(reader, {});
    expect(subjects).toContain("plant/{lineId}/temperature-temperatureReading");
    expect(await listVersions(reader, "erp.invoices-value", {})).toEqual([1, 2]);
    expect((await getSubjectVersion(reader, "erp.invoices-value", "latest", {})).schema).toContain("dueDate");
    expect((await seedDemo()).seeded).toBe(false);
  });

  it("seeds the mesh: two brokers and the bridge declared, an agent token bound to each, integrations with their kinds and systems", async () => {
    // The first test seeded; this one reads what the mesh part left.
    const brokers = await listBrokers(reader);
    expect(brokers.map((b) => b.id)).toEqual(expect.arrayContaining(["plant-eu", "cloud-core"]));
    expect((await listBridges(reader)).map((b) => [b.fromBrokerId, b.toBrokerId, b.topicFilter, b.direction])).toEqual([
      ["cloud-core", "plant-eu", "scm/#", "out"],
      ["plant-eu", "cloud-core", "erp/#", "out"],
    ]);

    await ensureDemoAgentTokens();
    const tokens = await listTokens(reader);
    for (const b of DEMO_BROKERS) {
      const secret = readFileSync(path.join(scratch, b.tokenFile), "utf8").trim();
      const principal = await principalForToken(secret);
      expect(principal?.kind, b.id).toBe("token");
      expect(tokens.find((t) => principal?.kind === "token" && t.id === principal.id)?.brokerBinding, b.id).toBe(b.id);
    }
    // Idempotent: the same secrets again.
    const before = DEMO_BROKERS.map((b) => readFileSync(path.join(scratch, b.tokenFile), "utf8"));
    await ensureDemoAgentTokens();
    expect(DEMO_BROKERS.map((b) => readFileSync(path.join(scratch, b.tokenFile), "utf8"))).toEqual(before);

    const kinds = await Promise.all(["erp-order-source", "scm-asn-source", "crm-order-sync", "analytics-ingest", "document-archive"].map(async (slug) => {
      const app = await getApplication(reader, slug);
      return [slug, app.kind, app.systems.map((s) => `${s.role}:${s.name}:${s.type}`)];
    }));
    expect(kinds).toEqual([
      ["erp-order-source", "source-integration", ["source:SAP ERP:erp"]],
      ["scm-asn-source", "source-integration", ["source:Supplier Network:scm"]],
      ["crm-order-sync", "target-integration", ["target:Salesforce CRM:crm"]],
      ["analytics-ingest", "target-integration", ["target:Analytics Lakehouse:analytics"]],
      ["document-archive", "target-integration", ["target:Document Archive:file-store"]],
    ]);
    const { systems } = await listSystems(reader, {});
    expect(systems.map((s) => [s.name, s.type, s.sources, s.targets])).toEqual([
      ["Analytics Lakehouse", "analytics", 0, 1],
      ["Document Archive", "file-store", 0, 1],
      ["Salesforce CRM", "crm", 0, 1],
      ["SAP ERP", "erp", 1, 0],
      ["Supplier Network", "scm", 1, 0],
    ]);
    // The ERP's events flow out of it through its source integration.
    const erp = await getSystem(reader, systems.find((s) => s.name === "SAP ERP")!.slug);
    expect(erp.integrations.source.map((i) => i.application.slug)).toEqual(["erp-order-source"]);
    expect(erp.events.out.map((e) => e.channel).sort()).toEqual(["erp/invoices/{invoiceId}/posted", "erp/orders/{salesOrderId}/confirmed"]);
  });

  it("gives a demo folder from before the mesh its second broker and the bridge, once", async () => {
    const db = await getDb();
    await db.delete(brokerBridge);
    await db.delete(broker).where(eq(broker.id, "cloud-core"));
    expect((await seedDemo()).seeded).toBe(false);
    expect((await listBrokers(reader)).map((b) => b.id)).toContain("cloud-core");
    expect((await listBridges(reader)).map((b) => b.topicFilter)).toEqual(["scm/#", "erp/#"]);
    expect((await listApplications(reader, { limit: 200 })).total).toBe(DEMO_APPLICATIONS.length);
    // A bridge removed afterwards stays removed.
    await db.delete(brokerBridge);
    await seedDemo();
    expect(await listBridges(reader)).toEqual([]);
  });
});
