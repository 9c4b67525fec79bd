/** Publish, the evaluate endpoint and the diff page all decide through one evaluation of the change. */
import { eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import * as evaluateRoute from "@/app/api/v1/applications/[app]/evaluate/route.ts";
import * as documentRoute from "@/app/api/v1/applications/[app]/versions/[version]/document/route.ts";
import * as versionsRoute from "@/app/api/v1/applications/[app]/versions/route.ts";
import { contractVersion, flow } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication, updateApplication } from "@/lib/catalog/applications.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { COMPATIBILITY_MODES, MODE_POLICIES } from "@/registry/index.ts";
import { openChangeRequest, overrideChangeRequest } from "@/lib/reviews/requests.ts";
import { diffVersions } from "./diff.ts";

const URL_BASE = "http://localhost:3000/api/v1/applications";

/** A one-channel 3.0 contract whose order payload is `payload` (YAML flow text). */
function orders(version: string, payload: string): string {
  return [
    "asyncapi: 3.0.0",
    `info: { title: Orders, version: ${version}, description: Orders placed in the shop, x-owner: shop }`,
    "channels:",
    "  placed:",
    "    address: shop/{shopId}/orders/placed",
    "    parameters: { shopId: { description: The shop } }",
    "    description: Orders as they are placed",
    "    messages:",
    "      orderPlaced:",
    "        name: orderPlaced",
    "        summary: An order was placed",
    "        contentType: application/json",
    `        payload: ${payload}`,
    "operations:",
    "  sendOrderPlaced:",
    "    action: send",
    "    summary: Publishes placed orders",
    "    channel: { $ref: '#/channels/placed' }",
    "",
  ].join("\n");
}

const STRICT = "{ type: object, properties: { id: { type: string } }, required: [id], additionalProperties: false }";

describeEachBackend("contracts: evaluate, then commit", ({ handle }) => {
  let admin: Principal;
  let token: string;

  beforeAll(async () => {
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: a.id, email: a.email, name: a.name, role: "admin" };
    await createTeam(admin, { slug: "shop", name: "Shop" });
    await createApplication(admin, { slug: "orders", name: "Orders", team: "shop" });
    await updateApplication(admin, "orders", { compatibilityMode: "FULL" });
    token = (await createToken(admin, { name: "ci", scopes: ["contracts:write"], teamSlug: "shop" })).secret;
  });

  const call = (route: typeof versionsRoute | typeof evaluateRoute, path: string, body: string) =>
    route.POST(new Request(`${URL_BASE}/orders/${path}`, { method: "POST", body, headers: { authorization: `Bearer ${token}`, "content-type": "application/yaml" } }), {
      params: Promise.resolve({ app: "orders" }),
    });

  it("stores lint findings, flows and the report with the version", async () => {
    const response = await call(versionsRoute, "versions", orders("1.0.0", STRICT));
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(body.lint.map((f: { rule: string }) => f.rule)).toContain("MESSAGE_EXAMPLE_MISSING");
    const [row] = await handle().db.select().from(contractVersion).where(eq(contractVersion.version, "1.0.0"));
    expect(row!.lint!.map((f) => f.rule)).toContain("MESSAGE_EXAMPLE_MISSING");
    expect(await handle().db.select().from(flow).where(eq(flow.versionId, row!.id))).toHaveLength(1);
  });

  it("evaluates a payload relaxed to {} as a change FULL refuses, and a publish refuses it the same way", async () => {
    const evaluation = (await (await call(evaluateRoute, "evaluate", orders("1.1.0", "{}"))).json()).evaluation;
    expect(evaluation).toMatchObject({ baseline: "1.0.0", suggestedBump: "major", suggestedVersion: "2.0.0" });
    expect(evaluation.report.semver).toBe("minor");
    expect(evaluation.blockers.map((b: { kind: string }) => b.kind)).toEqual(["incompatible"]);
    const refused = await call(versionsRoute, "versions", orders("1.1.0", "{}"));
    expect(refused.status).toBe(409);
    const error = (await refused.json()).error;
    expect(error.details.blockers).toEqual(evaluation.blockers);
    expect(error.details.report.findings.length).toBeGreaterThan(0);
    // Nothing was stored.
    expect(await handle().db.select().from(contractVersion)).toHaveLength(1);
  });

  it("publishes the relaxation as a new major version through a change request, and the diff page judges it as the publish did", async () => {
    const direct = await call(versionsRoute, "versions", orders("2.0.0", "{}"));
    expect(direct.status).toBe(409);
    expect((await direct.json()).error.code).toBe("conflict:review_required");
    const opened = await openChangeRequest(admin, "orders", { files: { "asyncapi.yaml": orders("2.0.0", "{}") } });
    expect((await overrideChangeRequest(admin, String(opened.changeRequest.number), { reason: "Relaxing the order schema for every reader" })).changeRequest.state).toBe("published");
    const diff = await diffVersions(admin, "orders", "1.0.0", "2.0.0");
    expect(diff.report.compatible).toBe(false);
    expect(diff.evaluation).toMatchObject({ newMajor: true, baseline: "1.0.0" });
    // As the publish judged it: nothing but the review it went through.
    expect(diff.evaluation.blockers.map((b) => b.kind)).toEqual(["review"]);
  });

  it("blocks on lint once the application says so", async () => {
    await updateApplication(admin, "orders", { lintPolicy: "block" });
    const evaluation = (await (await call(evaluateRoute, "evaluate", orders("2.1.0", "{ description: Anything goes }"))).json()).evaluation;
    expect(evaluation.blockers.map((b: { kind: string }) => b.kind)).toContain("lint");
    expect((await call(versionsRoute, "versions", orders("2.1.0", "{ description: Anything goes }"))).status).toBe(409);
    await updateApplication(admin, "orders", { lintPolicy: null });
    expect((await call(versionsRoute, "versions", orders("2.1.0", "{ description: Anything goes }"))).status).toBe(201);
  });

  it("downloads every published version in every format, with the upload's own limits, and own files only", async () => {
    // 1,100 aliases of one example: within the upload limits, beyond a YAML reader's default alias cap.
    const examples = ["        examples:", "          - &example { name: first, payload: { id: a-1 } }", ...Array.from({ length: 1100 }, () => "          - *example")];
    const text = orders("3.0.0", "{}").replace("        contentType: application/json\n", `        contentType: application/json\n${examples.join("\n")}\n`);
    expect((await call(versionsRoute, "versions", text)).status).toBe(201);
    const download = (format: string, file = "") =>
      documentRoute.GET(new Request(`${URL_BASE}/orders/versions/3.0.0/document?format=${format}${file}`, { headers: { authorization: `Bearer ${token}` } }), {
        params: Promise.resolve({ app: "orders", version: "3.0.0" }),
      });
    for (const format of ["original", "yaml", "json"]) {
      const response = await download(format);
      expect(response.status, format).toBe(200);
      expect((await response.text()).length).toBeGreaterThan(1000);
    }
    const json = JSON.parse(await (await download("json")).text());
    expect(json.channels.placed.messages.orderPlaced.examples).toHaveLength(1101);
    for (const file of ["__proto__", "constructor", "toString"]) expect((await download("original", `&file=${file}`)).status, file).toBe(404);
    expect((await download("xml")).status).toBe(422);
  });

  it("evaluates through the endpoint in every mode: {} after a strict payload is refused exactly where FORWARD is checked", async () => {
    await createApplication(admin, { slug: "orders-modes", name: "Orders (modes)", team: "shop" });
    const post = (route: typeof versionsRoute | typeof evaluateRoute, path: string, body: string) =>
      route.POST(new Request(`${URL_BASE}/orders-modes/${path}`, { method: "POST", body, headers: { authorization: `Bearer ${token}`, "content-type": "application/yaml" } }), {
        params: Promise.resolve({ app: "orders-modes" }),
      });
    // Its own channel: the registry subject of `orders`' channel belongs to the application that sends it.
    const own = (version: string, payload: string) => orders(version, payload).replaceAll("orders/placed", "orders/modes");
    expect((await post(versionsRoute, "versions", own("1.0.0", STRICT))).status).toBe(201);
    for (const mode of COMPATIBILITY_MODES) {
      await updateApplication(admin, "orders-modes", { compatibilityMode: mode });
      const evaluation = (await (await post(evaluateRoute, "evaluate", own("1.1.0", "{}"))).json()).evaluation;
      const refused = MODE_POLICIES[mode].forward;
      expect(evaluation.report.compatible, mode).toBe(!refused);
      expect(evaluation.blockers.map((b: { kind: string }) => b.kind), mode).toEqual(refused ? ["incompatible"] : []);
      expect(evaluation.suggestedVersion, mode).toBe(refused ? "2.0.0" : "1.1.0");
    }
  });

  it("bounds version numbers by their integer columns: the largest is judged, one more is refused with 422", async () => {
    const largest = (await (await call(evaluateRoute, "evaluate", orders("2147483647.0.0", "{ description: Anything goes }"))).json()).evaluation;
    expect(largest).toMatchObject({ version: "2147483647.0.0", newMajor: true, blockers: [] });
    const over = await call(evaluateRoute, "evaluate", orders("2147483648.0.0", "{ description: Anything goes }"));
    expect((await over.json()).evaluation.versionFindings.map((f: { code: string }) => f.code)).toEqual(["not-semver"]);
    const publishOver = await call(versionsRoute, "versions", orders("2147483648.0.0", "{ description: Anything goes }"));
    expect(publishOver.status).toBe(422);
    // The version field itself is bounded too: 100 characters are read, 101 are refused before any parse.
    const long = JSON.stringify({ files: { "asyncapi.yaml": orders("9.0.0", "{}") }, version: "9.0.0-" + "a".repeat(94) });
    const longer = JSON.stringify({ files: { "asyncapi.yaml": orders("9.0.0", "{}") }, version: "9.0.0-" + "a".repeat(95) });
    const json = (body: string) =>
      evaluateRoute.POST(new Request(`${URL_BASE}/orders/evaluate`, { method: "POST", body, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }), {
        params: Promise.resolve({ app: "orders" }),
      });
    expect((await json(long)).status).toBe(200);
    expect((await json(longer)).status).toBe(422);
  });
});
