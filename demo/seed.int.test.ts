import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { getApplication, listApplications } from "@/lib/catalog/applications.ts";
import { searchCatalog } from "@/lib/catalog/search.ts";
import { getChangeRequest, listChangeRequests } from "@/lib/reviews/queries.ts";
import { getSubjectVersion, listSubjects, listVersions } from "@/lib/schema-registry/api.ts";
import { DEMO_APPLICATIONS } from "./contracts/index.ts";
import { seedDemo } from "./seed.ts";

describeEachBackend("demo seed", () => {
  const reader = systemPrincipal("test");
  // A known password keeps the seed from writing one into the data folder.
  const previous = process.env.MESHPORT_DEMO_PASSWORD;
  beforeAll(() => {
    process.env.MESHPORT_DEMO_PASSWORD = "demo-password-for-tests";
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.MESHPORT_DEMO_PASSWORD;
    else process.env.MESHPORT_DEMO_PASSWORD = previous;
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
});
