import { count, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import * as versionsRoute from "@/app/api/v1/applications/[app]/versions/route.ts";
import * as applicationRoute from "@/app/api/v1/applications/[app]/route.ts";
import * as applicationsRoute from "@/app/api/v1/applications/route.ts";
import * as systemsRoute from "@/app/api/v1/systems/route.ts";
import * as systemRoute from "@/app/api/v1/systems/[slug]/route.ts";
import { application, applicationSystem, auditEntry, contractVersion, system } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam, setTeamMember } from "@/lib/accounts/teams.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication, getApplication, listApplications, updateApplication } from "@/lib/catalog/applications.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { applicationMesh } from "@/lib/catalog/mesh.ts";
import { searchCatalog } from "@/lib/catalog/search.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { createSystem, deleteSystem, getSystem, listSystems, updateSystem } from "./systems.ts";

/** An AsyncAPI 3.0 contract sending or receiving one channel, with the given lines under `info`. */
function contract(version: string, action: "send" | "receive", address: string, info: string[] = []): string {
  return [
    "asyncapi: 3.0.0",
    "info:",
    "  title: Integration",
    `  version: ${version}`,
    ...info.map((l) => `  ${l}`),
    "channels:",
    "  orders:",
    `    address: '${address}'`,
    "    messages:",
    "      order:",
    "        name: Order",
    "        payload: { type: object, properties: { id: { type: string } } }",
    "operations:",
    "  op:",
    `    action: ${action}`,
    "    channel: { $ref: '#/channels/orders' }",
    "",
  ].join("\n");
}

const BASE = "http://localhost:3000/api/v1";

describeEachBackend("systems", ({ handle }) => {
  let admin: Principal;
  let editor: Principal;
  let outsider: Principal;
  let erpToken: string;
  let crmToken: string;

  beforeAll(async () => {
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: a.id, email: a.email, name: a.name, role: "admin" };
    await createTeam(admin, { slug: "erp-team", name: "ERP team" });
    await createTeam(admin, { slug: "crm-team", name: "CRM team" });
    const e = await createUser(admin, { name: "Eddie", email: "eddie@example.com", password: "correct horse battery", role: "editor" });
    editor = { kind: "user", id: e.id, email: e.email, name: e.name, role: "editor" };
    await setTeamMember(admin, "erp-team", { email: e.email });
    const o = await createUser(admin, { name: "Olga", email: "olga@example.com", password: "correct horse battery", role: "editor" });
    outsider = { kind: "user", id: o.id, email: o.email, name: o.name, role: "editor" };
    await setTeamMember(admin, "crm-team", { email: o.email });
    erpToken = (await createToken(admin, { name: "erp-ci", scopes: ["contracts:write"], teamSlug: "erp-team" })).secret;
    crmToken = (await createToken(admin, { name: "crm-ci", scopes: ["contracts:write"], teamSlug: "crm-team" })).secret;
    await createApplication(editor, { slug: "erp-orders", name: "ERP orders", team: "erp-team" });
    await createApplication(outsider, { slug: "crm-sync", name: "CRM sync", team: "crm-team" });
  });

  function publish(app: string, body: string, token: string) {
    return versionsRoute.POST(
      new Request(`${BASE}/applications/${app}/versions`, { method: "POST", body, headers: { authorization: `Bearer ${token}`, "content-type": "application/yaml" } }),
      { params: Promise.resolve({ app }) },
    );
  }

  const audits = async (action: string) => (await handle().db.select().from(auditEntry).where(eq(auditEntry.action, action))).map((r) => r.details as Record<string, unknown>);
  const rows = async (table: typeof system | typeof contractVersion | typeof applicationSystem) => (await handle().db.select({ n: count() }).from(table))[0]!.n;

  it("refuses a publish with an invalid extension, naming the field, and stores nothing", async () => {
    const auditsBefore = (await handle().db.select({ n: count() }).from(auditEntry))[0]!.n;
    const bad = await publish("erp-orders", contract("1.0.0", "send", "erp/orders", ["x-meshport-kind: source-integration", "x-meshport-systems:", "  - { name: SAP S/4HANA, type: mainframe }"]), erpToken);
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { error: { code: string; message: string; details: { fieldErrors: Record<string, string[]> } } };
    expect(body.error.code).toBe("invalid_input:contract");
    expect(Object.keys(body.error.details.fieldErrors)).toEqual(["info.x-meshport-systems.0.type"]);
    expect(body.error.message).toContain("info.x-meshport-systems");
    const noRole = await publish("erp-orders", contract("1.0.0", "send", "erp/orders", ["x-meshport-kind: service", "x-meshport-systems: [Ledger]"]), erpToken);
    expect(noRole.status).toBe(422);
    expect(Object.keys(((await noRole.json()) as { error: { details: { fieldErrors: object } } }).error.details.fieldErrors)).toEqual(["info.x-meshport-systems.0.role"]);
    expect(await rows(contractVersion)).toBe(0);
    expect(await rows(system)).toBe(0);
    expect((await handle().db.select({ n: count() }).from(auditEntry))[0]!.n).toBe(auditsBefore);
  });

  it("sets the kind and systems from the first publish carrying the extensions, audited, systems owned by the team", async () => {
    const first = await publish(
      "erp-orders",
      contract("1.0.0", "send", "erp/orders/{id}", [
        "x-meshport-kind: source-integration",
        "x-meshport-systems:",
        "  - SAP S/4HANA",
        "  - { name: Order archive, type: file-store, role: target, description: Nightly export }",
      ]),
      erpToken,
    );
    expect(first.status).toBe(201);
    const found = await getApplication(admin, "erp-orders");
    expect(found.application).toMatchObject({ kind: "source-integration", kindSource: "contract" });
    expect(found.systems.map((s) => [s.name, s.role, s.type])).toEqual([
      ["SAP S/4HANA", "source", "other"],
      ["Order archive", "target", "file-store"],
    ]);
    const [sap] = await handle().db.select().from(system).where(eq(system.name, "SAP S/4HANA"));
    expect(sap).toMatchObject({ slug: "sap-s-4hana" });
    expect((await getSystem(admin, "sap-s-4hana")).system.team?.slug).toBe("erp-team");
    const created = await audits("system.create");
    expect(created.map((d) => d.name).sort()).toEqual(["Order archive", "SAP S/4HANA"]);
    expect(created[0]).toMatchObject({ application: "erp-orders", from: "contract", version: "1.0.0", team: "erp-team" });
    const [set] = await audits("application.kind.set");
    expect(set).toMatchObject({
      application: "erp-orders",
      source: "contract",
      before: { kind: null, systems: [] },
      after: { kind: "source-integration", kindSource: "contract" },
    });
  });

  it("finds an existing system by name (whatever its case) from another team's contract, and keeps its owner", async () => {
    const res = await publish("crm-sync", contract("1.0.0", "receive", "erp/orders/{id}", ["x-meshport-kind: target-integration", "x-meshport-systems: [sap s/4hana, { name: Salesforce, type: crm }]"]), crmToken);
    expect(res.status).toBe(201);
    const crm = await getApplication(admin, "crm-sync");
    expect(crm.systems.map((s) => `${s.slug}:${s.role}`)).toEqual(["salesforce:target", "sap-s-4hana:target"]);
    expect((await getSystem(admin, "sap-s-4hana")).system.team?.slug).toBe("erp-team");
    expect((await getSystem(admin, "salesforce")).system).toMatchObject({ type: "crm", team: { slug: "crm-team" } });
  });

  it("shows a system's integrations and the events that flow out of it and into it", async () => {
    const sap = await getSystem(admin, "sap-s-4hana");
    expect(sap.integrations.source.map((i) => i.application.slug)).toEqual(["erp-orders"]);
    expect(sap.integrations.target.map((i) => i.application.slug)).toEqual(["crm-sync"]);
    expect(sap.events.out.map((e) => `${e.application.slug} ${e.channel} ${e.messageKey}`)).toEqual(["erp-orders erp/orders/{id} Order"]);
    expect(sap.events.in.map((e) => `${e.application.slug} ${e.channel}`)).toEqual(["crm-sync erp/orders/{id}"]);
    const archive = await getSystem(admin, "order-archive");
    // A target of a source integration: nothing it receives, so nothing flows in.
    expect(archive.events.in).toEqual([]);
  });

  it("filters the application list by kind and system, combined with the team, and lists kinds and systems", async () => {
    const slugs = async (input: Record<string, unknown>) => (await listApplications(admin, input)).applications.map((a) => a.slug);
    expect(await slugs({ kind: "source-integration" })).toEqual(["erp-orders"]);
    expect(await slugs({ system: "sap-s-4hana" })).toEqual(["crm-sync", "erp-orders"]);
    expect(await slugs({ system: "sap-s-4hana", team: "crm-team" })).toEqual(["crm-sync"]);
    expect(await slugs({ system: "salesforce", kind: "source-integration" })).toEqual([]);
    await expect(listApplications(admin, { kind: "microservice" })).rejects.toMatchObject({ status: 422 });
    const res = await applicationsRoute.GET(new Request(`${BASE}/applications?kind=target-integration`, { headers: { authorization: `Bearer ${crmToken}` } }), {
      params: Promise.resolve({}),
    });
    const body = (await res.json()) as { applications: Array<{ slug: string; kind: string; systems: Array<{ slug: string; role: string }> }> };
    expect(body.applications).toEqual([expect.objectContaining({ slug: "crm-sync", kind: "target-integration", systems: expect.arrayContaining([expect.objectContaining({ slug: "salesforce", role: "target" })]) })]);
  });

  it("lists services with the applications whose kind nobody said", async () => {
    await createApplication(editor, { slug: "plain-service", name: "Plain service", team: "erp-team" });
    const listed = await listApplications(admin, { kind: "service" });
    expect(listed.applications.map((a) => [a.slug, a.kind])).toEqual([["plain-service", "service"]]);
  });

  it("lets the team set kind and systems in the portal (audited with before and after); a later contract wins", async () => {
    await expect(updateApplication(outsider, "erp-orders", { kind: "gateway" })).rejects.toMatchObject({ status: 403 });
    await expect(updateApplication(editor, "erp-orders", { kind: "service", systems: ["Ledger"] })).rejects.toMatchObject({ status: 422 });
    const res = await applicationRoute.PATCH(
      new Request(`${BASE}/applications/erp-orders`, {
        method: "PATCH",
        body: JSON.stringify({ kind: "gateway", systems: [{ name: "Ledger", role: "source", type: "database" }], description: "Orders from the ERP" }),
        headers: { authorization: `Bearer ${erpToken}`, "content-type": "application/json" },
      }),
      { params: Promise.resolve({ app: "erp-orders" }) },
    );
    expect(res.status).toBe(200);
    const found = await getApplication(admin, "erp-orders");
    expect(found.application).toMatchObject({ kind: "gateway", kindSource: "portal", description: "Orders from the ERP" });
    expect(found.systems.map((s) => s.name)).toEqual(["Ledger"]);
    const set = (await audits("application.kind.set")).at(-1)!;
    expect(set).toMatchObject({ source: "portal", before: { kind: "source-integration" }, after: { kind: "gateway", kindSource: "portal", systems: [{ name: "Ledger", role: "source" }] } });
    // The same again changes nothing and records nothing.
    const before = (await audits("application.kind.set")).length;
    await updateApplication(editor, "erp-orders", { kind: "gateway", systems: [{ name: "ledger", role: "source" }] });
    expect((await audits("application.kind.set")).length).toBe(before);

    // A version without the extensions leaves what the portal said.
    expect((await publish("erp-orders", contract("1.1.0", "send", "erp/orders/{id}", ["x-meshport-kind: source-integration", "x-meshport-systems: [SAP S/4HANA]"]), erpToken)).status).toBe(201);
    expect((await getApplication(admin, "erp-orders")).application).toMatchObject({ kind: "source-integration", kindSource: "contract" });
    await updateApplication(editor, "erp-orders", { kind: "gateway" });
    expect((await publish("erp-orders", contract("1.2.0", "send", "erp/orders/{id}").replace("title: Integration", "title: Integration of orders"), erpToken)).status).toBe(201);
    const after = await getApplication(admin, "erp-orders");
    expect(after.application).toMatchObject({ kind: "gateway", kindSource: "portal" });
    expect(after.systems.map((s) => s.name)).toEqual(["SAP S/4HANA"]);
  });

  it("applies a draft's extensions when it is released, not before", async () => {
    const draft = await versionsRoute.POST(
      new Request(`${BASE}/applications/crm-sync/versions?state=draft`, {
        method: "POST",
        body: contract("1.1.0", "receive", "erp/orders/{id}", ["x-meshport-kind: target-integration", "x-meshport-systems: [HubSpot]"]),
        headers: { authorization: `Bearer ${crmToken}`, "content-type": "application/yaml" },
      }),
      { params: Promise.resolve({ app: "crm-sync" }) },
    );
    expect(draft.status).toBe(201);
    expect((await getApplication(admin, "crm-sync")).systems.map((s) => s.name)).toEqual(["Salesforce", "SAP S/4HANA"]);
    await setVersionState(outsider, "crm-sync", "1.1.0", { state: "released" });
    expect((await getApplication(admin, "crm-sync")).systems.map((s) => s.name)).toEqual(["HubSpot"]);
  });

  it("creates, edits and deletes systems for the owning team or admins, audited", async () => {
    await expect(createSystem(outsider, { name: "Warehouse DB", team: "erp-team" })).rejects.toMatchObject({ status: 403 });
    await expect(createSystem(editor, { name: "Warehouse DB", team: null })).rejects.toMatchObject({ status: 403 });
    await expect(createSystem(editor, { name: "x".repeat(101), team: "erp-team" })).rejects.toMatchObject({ status: 422 });
    await expect(createSystem(editor, { name: "Warehouse", team: "erp-team", description: "d".repeat(2001) })).rejects.toMatchObject({ status: 422 });
    const res = await systemsRoute.POST(
      new Request(`${BASE}/systems`, { method: "POST", body: JSON.stringify({ name: "Warehouse DB", type: "database", team: "erp-team" }), headers: { authorization: `Bearer ${erpToken}`, "content-type": "application/json" } }),
      { params: Promise.resolve({}) },
    );
    expect(res.status).toBe(201);
    expect(((await res.json()) as { system: { slug: string } }).system.slug).toBe("warehouse-db");
    await expect(createSystem(admin, { name: "warehouse db", team: null })).rejects.toMatchObject({ status: 409 });
    await expect(updateSystem(outsider, "warehouse-db", { description: "Mine now" })).rejects.toMatchObject({ status: 403 });
    await expect(updateSystem(editor, "warehouse-db", { name: "SAP S/4HANA" })).rejects.toMatchObject({ status: 409 });
    await updateSystem(editor, "warehouse-db", { description: "Stock levels", type: "scm" });
    const [upd] = (await audits("system.update")).slice(-1);
    expect(upd).toMatchObject({ system: "warehouse-db", before: { type: "database", description: "" }, after: { type: "scm", description: "Stock levels" } });
    const unowned = await createSystem(admin, { name: "Mainframe", team: null });
    await expect(updateSystem(editor, unowned.slug, { type: "erp" })).rejects.toMatchObject({ status: 403 });

    // A connected system cannot go.
    const refused = await systemRoute.DELETE(new Request(`${BASE}/systems/sap-s-4hana`, { method: "DELETE", headers: { authorization: `Bearer ${erpToken}` } }), {
      params: Promise.resolve({ slug: "sap-s-4hana" }),
    });
    expect(refused.status).toBe(409);
    const error = ((await refused.json()) as { error: { code: string; details: { applications: string[] } } }).error;
    expect(error).toMatchObject({ code: "conflict:system_connected", details: { applications: ["erp-orders"] } });
    await expect(deleteSystem(outsider, "warehouse-db", undefined)).rejects.toMatchObject({ status: 403 });
    await deleteSystem(editor, "warehouse-db", undefined);
    expect(await handle().db.select().from(system).where(eq(system.slug, "warehouse-db"))).toEqual([]);
    expect((await audits("system.delete")).at(-1)).toMatchObject({ system: "warehouse-db", name: "Warehouse DB" });
  });

  it("lists systems by type and name with their connection counts", async () => {
    const all = await listSystems(admin, {});
    const sap = all.systems.find((s) => s.slug === "sap-s-4hana")!;
    expect([sap.sources, sap.targets]).toEqual([1, 0]);
    expect((await listSystems(admin, { type: "crm" })).systems.map((s) => s.slug)).toEqual(["salesforce"]);
    expect((await listSystems(admin, { q: "s/4" })).systems.map((s) => s.slug)).toEqual(["sap-s-4hana"]);
    expect((await listSystems(admin, { q: "%" })).systems).toEqual([]);
    const viaApi = await systemsRoute.GET(new Request(`${BASE}/systems?type=file-store`, { headers: { authorization: `Bearer ${crmToken}` } }), { params: Promise.resolve({}) });
    expect(((await viaApi.json()) as { systems: Array<{ slug: string }> }).systems.map((s) => s.slug)).toEqual(["order-archive"]);
    const rows = await handle().db.select().from(application).where(eq(application.slug, "erp-orders"));
    expect(rows[0]!.kind).toBe("gateway");
  });

  it("draws the flow systems → integration → channels → integrations → their systems, and says what the contract declares", async () => {
    const erp = await applicationMesh(admin, "erp-orders");
    expect(erp.sources.map((x) => x.name)).toEqual(["SAP S/4HANA"]);
    expect(erp.channels).toEqual([
      expect.objectContaining({
        action: "send",
        channel: "erp/orders/{id}",
        counterparts: [expect.objectContaining({ application: expect.objectContaining({ slug: "crm-sync", kind: "target-integration" }), systems: [expect.objectContaining({ name: "HubSpot", role: "target" })] })],
      }),
    ]);
    // Its current version carries no extension: the portal's setting stands.
    expect(erp.declared).toBeNull();
    const crm = await applicationMesh(admin, "crm-sync");
    expect(crm.channels[0]!.counterparts.map((c) => c.application.slug)).toEqual(["erp-orders"]);
    expect(crm.declared).toEqual({ version: "1.1.0", kind: true, systems: true });
  });

  it("finds systems by name in the catalog search", async () => {
    expect((await searchCatalog(admin, { q: "hubsp" })).systems.map((x) => x.slug)).toEqual(["hubspot"]);
    expect((await searchCatalog(admin, { q: "sap hana" })).systems.map((x) => x.slug)).toEqual(["sap-s-4hana"]);
    expect((await searchCatalog(admin, { q: "nothing-like-it" })).systems).toEqual([]);
  });

  it("answers bad input over the API with clear 4xx errors and changes nothing", async () => {
    const before = await rows(system);
    const readToken = (await createToken(admin, { name: "reader", scopes: ["read"] })).secret;
    const call = (method: string, path: string, body?: string, token = erpToken) =>
      new Request(`${BASE}${path}`, { method, ...(body !== undefined ? { body } : {}), headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
    expect((await systemsRoute.GET(call("GET", `/systems?q=${"x".repeat(101)}`), { params: Promise.resolve({}) })).status).toBe(422);
    expect((await systemsRoute.GET(call("GET", "/systems?type=mainframe"), { params: Promise.resolve({}) })).status).toBe(422);
    expect((await systemsRoute.POST(call("POST", "/systems", JSON.stringify({ name: 12, team: "erp-team" })), { params: Promise.resolve({}) })).status).toBe(422);
    expect((await systemsRoute.POST(call("POST", "/systems", "{not json"), { params: Promise.resolve({}) })).status).toBe(422);
    expect((await systemsRoute.POST(call("POST", "/systems", JSON.stringify({ name: "Reader's", team: "erp-team" }), readToken), { params: Promise.resolve({}) })).status).toBe(403);
    expect((await systemRoute.PATCH(call("PATCH", "/systems/salesforce", "{}"), { params: Promise.resolve({ slug: "salesforce" }) })).status).toBe(422);
    expect((await systemRoute.GET(call("GET", "/systems/no-such"), { params: Promise.resolve({ slug: "no-such" }) })).status).toBe(404);
    expect((await systemRoute.DELETE(call("DELETE", "/systems/salesforce", undefined, readToken), { params: Promise.resolve({ slug: "salesforce" }) })).status).toBe(403);
    const tooMany = JSON.stringify({ systems: Array.from({ length: 21 }, (_, i) => ({ name: `S${i}`, role: "source" })) });
    expect((await applicationRoute.PATCH(call("PATCH", "/applications/erp-orders", tooMany), { params: Promise.resolve({ app: "erp-orders" }) })).status).toBe(422);
    expect((await applicationRoute.PATCH(call("PATCH", "/applications/erp-orders", JSON.stringify({ kind: "robot" })), { params: Promise.resolve({ app: "erp-orders" }) })).status).toBe(422);
    expect(await rows(system)).toBe(before);
  });

  it("hands the word to the version that becomes current when the current one is retired", async () => {
    await createApplication(editor, { slug: "erp-lines", name: "ERP lines", team: "erp-team" });
    expect((await publish("erp-lines", contract("1.0.0", "send", "erp/lines", ["x-meshport-kind: target-integration", "x-meshport-systems: [HubSpot]"]), erpToken)).status).toBe(201);
    expect((await publish("erp-lines", contract("2.0.0", "send", "erp/lines", ["x-meshport-kind: source-integration", "x-meshport-systems: [Ledger]"]), erpToken)).status).toBe(201);
    let found = await getApplication(admin, "erp-lines");
    expect(found.application).toMatchObject({ kind: "source-integration", kindSource: "contract" });
    expect(found.systems.map((s) => s.name)).toEqual(["Ledger"]);
    await setVersionState(editor, "erp-lines", "2.0.0", { state: "retired", reason: "Gone" });
    found = await getApplication(admin, "erp-lines");
    expect(found.application).toMatchObject({ kind: "target-integration", kindSource: "contract" });
    expect(found.systems.map((s) => s.name)).toEqual(["HubSpot"]);
  });

  it("keeps an unset kind unset, and a kind's source, when only systems are set", async () => {
    await createApplication(editor, { slug: "erp-plain", name: "ERP plain", team: "erp-team" });
    await updateApplication(editor, "erp-plain", { systems: [{ name: "Ledger", role: "source" }] });
    let found = await getApplication(admin, "erp-plain");
    expect(found.application).toMatchObject({ kind: null, kindSource: null });
    expect(found.systems.map((s) => s.name)).toEqual(["Ledger"]);
    await updateApplication(editor, "erp-plain", { kind: "gateway" });
    expect((await publish("erp-plain", contract("1.0.0", "send", "erp/plain", ["x-meshport-systems: [{ name: SAP S/4HANA, role: source }]"]), erpToken)).status).toBe(201);
    found = await getApplication(admin, "erp-plain");
    expect(found.application).toMatchObject({ kind: "gateway", kindSource: "portal" });
    expect(found.systems.map((s) => s.name)).toEqual(["SAP S/4HANA"]);
  });

  it("gives systems with non-Latin names distinct slugs, past fifty of them", async () => {
    const slugs = new Set<string>();
    for (let i = 0; i < 55; i++) slugs.add((await createSystem(editor, { name: `システム${String.fromCharCode(0x3042 + i)}`, team: "erp-team" })).slug);
    expect(slugs.size).toBe(55);
    for (const slug of slugs) expect(slug).toMatch(/^system-[a-z0-9]{6}(-\d+)?$/);
  });
});
