import { asc, count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as versionsRoute from "@/app/api/v1/applications/[app]/versions/route.ts";
import * as documentRoute from "@/app/api/v1/applications/[app]/versions/[version]/document/route.ts";
import * as applicationRoute from "@/app/api/v1/applications/[app]/route.ts";
import { auditEntry, contractVersion } from "@/db/schema.ts";
import { openChangeRequest, overrideChangeRequest } from "@/lib/reviews/requests.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam, setTeamMember } from "@/lib/accounts/teams.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import {
  approvalRuleOf,
  createApplication,
  defaultCompatibilityMode,
  getApplication,
  listApplications,
  modeKeepsGuarantees,
  reviewPolicyOf,
  updateApplication,
} from "./applications.ts";
import { COMPATIBILITY_MODES, MODE_POLICIES, type CompatibilityMode } from "@/registry/index.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { searchCatalog } from "./search.ts";

/** A small AsyncAPI 3.0 contract with the given channels (address → extra payload property). */
function contract(version: string, channels: Record<string, { extraRequired?: string }>): string {
  const lines = [`asyncapi: 3.0.0`, `info: { title: Line sensors, version: ${version}, description: Temperatures of the plant lines }`, `channels:`];
  const ops = [`operations:`];
  Object.entries(channels).forEach(([address, spec], i) => {
    lines.push(
      `  ch${i}:`,
      `    address: '${address}'`,
      ...(address.includes("{lineId}") ? [`    parameters: { lineId: { description: Production line } }`] : []),
      `    messages:`,
      `      reading${i}:`,
      `        name: Reading${i}`,
      `        summary: A temperature reading in degrees Celsius`,
      `        payload:`,
      `          type: object`,
      `          additionalProperties: false`,
      `          required: [lineId, value${spec.extraRequired ? `, ${spec.extraRequired}` : ""}]`,
      `          properties:`,
      `            lineId: { type: string, description: Production line id }`,
      `            value: { type: number, description: Degrees Celsius }`,
      ...(spec.extraRequired ? [`            ${spec.extraRequired}: { type: string }`] : []),
    );
    ops.push(`  send${i}:`, `    action: send`, `    channel: { $ref: '#/channels/ch${i}' }`);
  });
  return [...lines, ...ops].join("\n") + "\n";
}

const URL_BASE = "http://localhost:3000/api/v1/applications";

describeEachBackend("catalog", ({ handle }) => {
  let admin: Principal;
  let editor: Principal;
  let outsider: Principal;
  let teamToken: string;

  beforeAll(async () => {
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = { kind: "user", id: a.id, email: a.email, name: a.name, role: "admin" };
    await createTeam(admin, { slug: "plant-ops", name: "Plant Ops" });
    await createTeam(admin, { slug: "logistics", name: "Logistics" });
    const e = await createUser(admin, { name: "Eddie", email: "eddie@example.com", password: "correct horse battery", role: "editor" });
    editor = { kind: "user", id: e.id, email: e.email, name: e.name, role: "editor" };
    await setTeamMember(admin, "plant-ops", { email: e.email });
    const o = await createUser(admin, { name: "Olga", email: "olga@example.com", password: "correct horse battery", role: "editor" });
    outsider = { kind: "user", id: o.id, email: o.email, name: o.name, role: "editor" };
    await setTeamMember(admin, "logistics", { email: o.email });
    teamToken = (await createToken(admin, { name: "ci", scopes: ["contracts:write"], teamSlug: "plant-ops" })).secret;
  });

  function publish(body: string, query = "", token = teamToken) {
    return versionsRoute.POST(
      new Request(`${URL_BASE}/line-sensors/versions${query}`, {
        method: "POST",
        body,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/yaml" },
      }),
      { params: Promise.resolve({ app: "line-sensors" }) },
    );
  }

  const versions = async () => (await handle().db.select({ n: count() }).from(contractVersion))[0]!.n;

  it("registers applications for team members only", async () => {
    await createApplication(editor, { slug: "line-sensors", name: "Line sensors", team: "plant-ops", tags: ["iot"], domain: "manufacturing" });
    await expect(createApplication(outsider, { slug: "x-app", name: "X", team: "plant-ops" })).rejects.toMatchObject({ status: 403 });
    const viewer: Principal = { kind: "token", id: "t", name: "t", scopes: ["read"], teamId: null, createdBy: null };
    await expect(createApplication(viewer, { slug: "y-app", name: "Y", team: "plant-ops" })).rejects.toMatchObject({ status: 403 });
    await expect(createApplication(editor, { slug: "line-sensors", name: "Again", team: "plant-ops" })).rejects.toMatchObject({ status: 409 });
    expect((await listApplications(viewer, { team: "plant-ops" })).total).toBe(1);
  });

  it("publishes a first version, and returns it again for identical content", async () => {
    const doc = contract("1.0.0", { "plant/{lineId}/temperature": {} });
    const first = await publish(doc);
    expect(first.status).toBe(201);
    const created = (await first.json()) as { version: { id: string; version: string; state: string }; report: unknown };
    expect(created.version).toMatchObject({ version: "1.0.0", state: "released" });
    expect(created.report).toBeNull();
    const again = await publish(doc);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { version: { id: string } }).version.id).toBe(created.version.id);
    const renumbered = await publish(doc, "?version=1.0.1");
    expect(renumbered.status).toBe(200);
    expect(((await renumbered.json()) as { version: { version: string } }).version.version).toBe("1.0.0");
    expect(await versions()).toBe(1);
  });

  it("refuses an invalid document with diagnostics and stores nothing", async () => {
    const auditBefore = await handle().db.select({ n: count() }).from(auditEntry);
    const response = await publish("asyncapi: 3.0.0\ninfo: { title: broken }\nchannels: 12\n", "?version=1.1.0");
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: { details: { diagnostics: Array<{ severity: string }> } } };
    expect(body.error.details.diagnostics.some((d) => d.severity === "error")).toBe(true);
    expect(await versions()).toBe(1);
    expect(await handle().db.select({ n: count() }).from(auditEntry)).toEqual(auditBefore);
  });

  it("enforces version order and the bump the change needs", async () => {
    const withAlarms = contract("1.0.1", { "plant/{lineId}/temperature": {}, "plant/{lineId}/alarms": {} });
    const tooSmall = await publish(withAlarms);
    expect(tooSmall.status).toBe(409);
    const error = ((await tooSmall.json()) as { error: { code: string; details: { required: string } } }).error;
    expect(error).toMatchObject({ code: "conflict:semver", details: { required: "minor" } });
    expect((await publish(contract("0.9.0", { "plant/{lineId}/temperature": {} }))).status).toBe(409);
    expect((await publish(withAlarms, "?version=1.1.0")).status).toBe(201);
  });

  it("refuses a breaking change within a major version with the report, and accepts it as a new major", async () => {
    const removed = contract("1.2.0", { "plant/{lineId}/temperature": {} });
    const refused = await publish(removed);
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as { error: { code: string; details: { report: { findings: Array<{ rule: string; verdict: string }> } } } };
    expect(body.error.code).toBe("conflict:semver");
    expect(body.error.details.report.findings.some((f) => f.verdict === "breaking")).toBe(true);
    expect(await versions()).toBe(2);
    // As a new major version it needs a change request; an admin's override publishes it.
    const major = await publish(removed, "?version=2.0.0");
    expect(major.status).toBe(409);
    expect(((await major.json()) as { error: { code: string } }).error.code).toBe("conflict:review_required");
    const opened = await openChangeRequest(admin, "line-sensors", { files: { "asyncapi.yaml": removed }, version: "2.0.0" });
    const published = await overrideChangeRequest(admin, String(opened.changeRequest.number), { reason: "Temperature only from now on" });
    expect(published.changeRequest).toMatchObject({ state: "published", publishedVersion: "2.0.0" });
    const [row] = await handle().db.select().from(contractVersion).where(eq(contractVersion.version, "2.0.0"));
    expect(row!.changelog).toMatchObject({ semver: "major", compatible: false });
  });

  it("lets exactly one of two racing publishes of the same version win", async () => {
    const a = contract("2.1.0", { "plant/{lineId}/temperature": {}, "plant/{lineId}/humidity": {} });
    const b = contract("2.1.0", { "plant/{lineId}/temperature": {}, "plant/{lineId}/pressure": {} });
    const [ra, rb] = await Promise.all([publish(a), publish(b)]);
    expect([ra.status, rb.status].sort()).toEqual([201, 409]);
    const rows = await handle().db.select().from(contractVersion).where(eq(contractVersion.version, "2.1.0"));
    expect(rows).toHaveLength(1);
  });

  it("refuses a token of another team, and an editor outside the team", async () => {
    const other = (await createToken(admin, { name: "other", scopes: ["contracts:write"], teamSlug: "logistics" })).secret;
    expect((await publish(contract("3.0.0", {}), "", other)).status).toBe(403);
  });

  it("finds contracts by words, topic filters, concrete topics and fields", async () => {
    const hits = async (input: Parameters<typeof searchCatalog>[1]) => (await searchCatalog(admin, input)).hits;
    expect((await hits({ q: "line sens" })).some((h) => h.kind === "application" && h.application.slug === "line-sensors")).toBe(true);
    expect((await hits({ q: "celsius", kind: "message" })).length).toBeGreaterThan(0);
    const byFilter = await hits({ topic: "plant/+/temperature" });
    expect(byFilter.map((h) => h.address)).toEqual(["plant/{lineId}/temperature"]);
    const all = (await hits({ topic: "plant/#" })).map((h) => h.address);
    // The current version is 2.1.0: temperature plus whichever channel won the race.
    expect(all).toHaveLength(2);
    expect(all).toContain("plant/{lineId}/temperature");
    expect((await hits({ topic: "plant/line-4/temperature" })).map((h) => h.address)).toEqual(["plant/{lineId}/temperature"]);
    expect(await hits({ topic: "orders/#" })).toEqual([]);
    const fields = await hits({ field: "lineId" });
    expect(fields.every((h) => h.kind === "field" && h.action === "send")).toBe(true);
    expect(fields.length).toBeGreaterThan(0);
    await expect(searchCatalog(admin, { topic: "plant/#/x" })).rejects.toMatchObject({ status: 422 });
  });

  it("deprecates and retires versions with a reason, and re-indexes the current one", async () => {
    await expect(setVersionState(editor, "line-sensors", "2.1.0", { state: "deprecated" })).rejects.toMatchObject({ status: 422 });
    const current = (await getApplication(admin, "line-sensors")).versions[0]!;
    const deprecated = await setVersionState(editor, "line-sensors", current.version, { state: "deprecated", reason: "Use 3.x" });
    expect(deprecated.state).toBe("deprecated");
    await setVersionState(editor, "line-sensors", current.version, { state: "retired", reason: "Gone" });
    await expect(setVersionState(editor, "line-sensors", current.version, { state: "released" })).rejects.toMatchObject({ status: 409 });
    const app = await getApplication(admin, "line-sensors");
    expect(app.versions.find((v) => v.id === app.currentVersionId)?.version).toBe("2.0.0");
    expect((await searchCatalog(admin, { topic: "plant/+/humidity" })).hits).toEqual([]);
  });

  it("lets the team change the compatibility mode, audited; others are refused", async () => {
    const { updateApplication } = await import("./applications.ts");
    await expect(updateApplication(outsider, "line-sensors", { compatibilityMode: "NONE" })).rejects.toMatchObject({ status: 403 });
    await expect(updateApplication(editor, "line-sensors", { compatibilityMode: "SOMETIMES" as never })).rejects.toMatchObject({ status: 422 });
    const updated = await updateApplication(editor, "line-sensors", { compatibilityMode: "FULL_TRANSITIVE" });
    expect(updated.compatibilityMode).toBe("FULL_TRANSITIVE");
    expect((await getApplication(admin, "line-sensors")).mode).toBe("FULL_TRANSITIVE");
    const [entry] = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "application.update")).orderBy(asc(auditEntry.seq));
    expect(entry?.details).toMatchObject({ application: "line-sensors", before: { compatibilityMode: null }, after: { compatibilityMode: "FULL_TRANSITIVE" } });
  });

  it("keeps the governance settings: review policy, approval rule and client-id patterns, validated and audited", async () => {
    const { updateApplication, approvalRuleOf, reviewPolicyOf, createApplication } = await import("./applications.ts");
    const before = (await getApplication(admin, "line-sensors")).application;
    expect(reviewPolicyOf(before)).toBe("direct");
    expect(approvalRuleOf(before)).toEqual({ owner: 1, consumer: 1 });
    expect(approvalRuleOf({ approvalRule: { owner: 99, consumer: -1 } })).toEqual({ owner: 1, consumer: 1 });

    const refused = async (change: Record<string, unknown>, field: string) => {
      const error = await updateApplication(editor, "line-sensors", change as never).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 422 });
      expect(JSON.stringify((error as { details?: unknown }).details)).toContain(field);
    };
    await refused({ reviewPolicy: "sometimes" }, "reviewPolicy");
    await refused({ approvalRule: { owner: 11, consumer: 1 } }, "approvalRule");
    await refused({ approvalRule: { owner: 1.5 } }, "approvalRule");
    await refused({ approvalRule: { owner: 1, consumer: 1, admins: 2 } }, "approvalRule");
    await refused({ clientIdPatterns: Array.from({ length: 21 }, (_, i) => `client-${i}`) }, "clientIdPatterns");
    await refused({ clientIdPatterns: ["x".repeat(257)] }, "clientIdPatterns");
    await refused({ clientIdPatterns: [""] }, "clientIdPatterns");
    await refused({ clientIdPatterns: ["bad\u0007bell"] }, "clientIdPatterns");
    await expect(updateApplication(outsider, "line-sensors", { reviewPolicy: "review" })).rejects.toMatchObject({ status: 403 });
    // Nothing changed by the refusals.
    expect((await getApplication(admin, "line-sensors")).application).toMatchObject({ reviewPolicy: null, approvalRule: null, clientIdPatterns: [] });

    const updated = await updateApplication(editor, "line-sensors", {
      reviewPolicy: "review",
      approvalRule: { owner: 2 },
      clientIdPatterns: [" line-sensor-* ", "line-sensor-*", "gateway-**-eu", "line-sensor-*"],
    });
    expect(reviewPolicyOf(updated)).toBe("review");
    expect(approvalRuleOf(updated)).toEqual({ owner: 2, consumer: 1 });
    expect(updated.clientIdPatterns).toEqual(["line-sensor-*", "gateway-*-eu"]);
    const entries = await handle().db.select().from(auditEntry).where(eq(auditEntry.action, "application.update")).orderBy(asc(auditEntry.seq));
    expect(entries.at(-1)?.details).toEqual({
      application: "line-sensors",
      before: { reviewPolicy: null, approvalRule: null, clientIdPatterns: [] },
      after: { reviewPolicy: "review", approvalRule: { owner: 2, consumer: 1 }, clientIdPatterns: ["line-sensor-*", "gateway-*-eu"] },
    });
    // Back to the defaults: null review policy and rule, less strict, so an admin's to do.
    await expect(updateApplication(editor, "line-sensors", { reviewPolicy: null, approvalRule: null, clientIdPatterns: [] })).rejects.toMatchObject({
      status: 403,
      code: "forbidden:governance",
    });
    const reset = await updateApplication(admin, "line-sensors", { reviewPolicy: null, approvalRule: null, clientIdPatterns: [] });
    expect(reset).toMatchObject({ reviewPolicy: null, approvalRule: null, clientIdPatterns: [] });

    // Over the API: the settings with their defaults, and a refusal in the error shape.
    const call = (method: "GET" | "PATCH", body?: unknown) =>
      applicationRoute[method](
        new Request(`${URL_BASE}/line-sensors`, {
          method,
          headers: { authorization: `Bearer ${teamToken}`, "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
        { params: Promise.resolve({ app: "line-sensors" }) },
      );
    const got = (await (await call("GET")).json()) as { governance: unknown };
    expect(got.governance).toEqual({ reviewPolicy: "direct", approvalRule: { owner: 1, consumer: 1 }, clientIdPatterns: [] });
    const bad = await call("PATCH", { approvalRule: { owner: -1 } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    const patched = await call("PATCH", { reviewPolicy: "review", approvalRule: { consumer: 3 }, clientIdPatterns: ["sensor-*"] });
    expect(patched.status).toBe(200);
    const after = (await (await call("GET")).json()) as { governance: unknown };
    expect(after.governance).toEqual({ reviewPolicy: "review", approvalRule: { owner: 1, consumer: 3 }, clientIdPatterns: ["sensor-*"] });

    const created = await createApplication(editor, { slug: "line-gateway", name: "Line gateway", team: "plant-ops", reviewPolicy: "review", clientIdPatterns: ["gw-*", "gw-*"] });
    expect(created).toMatchObject({ reviewPolicy: "review", approvalRule: null, clientIdPatterns: ["gw-*"] });
  });

  describe("governance is made less strict by admins only", () => {
    const APP = "line-governed";
    type Change = Parameters<typeof updateApplication>[2];
    const STRICT: Change = { reviewPolicy: "review", approvalRule: { owner: 2, consumer: 2 }, lintPolicy: "block", compatibilityMode: "FULL" };
    const LAX: Change = { reviewPolicy: "direct", approvalRule: { owner: 0, consumer: 0 }, lintPolicy: "warn", compatibilityMode: "NONE" };
    let adminToken: string;
    let adminTokenPrincipal: Principal;
    let teamTokenPrincipal: Principal;

    beforeAll(async () => {
      await createApplication(editor, { slug: APP, name: "Line governed", team: "plant-ops" });
      adminToken = (await createToken(admin, { name: "ops", scopes: ["admin"] })).secret;
      const teamId = (await getApplication(admin, APP)).application.teamId;
      adminTokenPrincipal = { kind: "token", id: "t-admin", name: "ops", scopes: ["admin"], teamId: null, createdBy: admin.id };
      teamTokenPrincipal = { kind: "token", id: "t-team", name: "ci", scopes: ["contracts:write"], teamId, createdBy: admin.id };
    });

    const stored = async () => (await getApplication(admin, APP)).application;
    const audits = async () => (await handle().db.select({ n: count() }).from(auditEntry))[0]!.n;
    const patch = (token: string, body: unknown) =>
      applicationRoute.PATCH(
        new Request(`${URL_BASE}/${APP}`, {
          method: "PATCH",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
        { params: Promise.resolve({ app: APP }) },
      );

    /** The change is refused for the principal with the weakened settings named, and nothing changes. */
    async function refused(principal: Principal, change: Change, weakened: string[]) {
      const before = await stored();
      const auditBefore = await audits();
      const error = await updateApplication(principal, APP, change).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 403, code: "forbidden:governance", details: { weakened } });
      expect((error as Error).message).toMatch(/admin/);
      expect(await stored()).toEqual(before);
      expect(await audits()).toBe(auditBefore);
    }

    const WEAKENINGS: Array<{ change: Change; weakened: string[] }> = [
      { change: { approvalRule: { owner: 1, consumer: 2 } }, weakened: ["approvalRule.owner"] },
      { change: { approvalRule: { owner: 2, consumer: 0 } }, weakened: ["approvalRule.consumer"] },
      // A missing count is the default one, below the current two.
      { change: { approvalRule: { owner: 2 } as never }, weakened: ["approvalRule.consumer"] },
      { change: { approvalRule: null }, weakened: ["approvalRule.owner", "approvalRule.consumer"] },
      { change: { reviewPolicy: "direct" }, weakened: ["reviewPolicy"] },
      { change: { reviewPolicy: null }, weakened: ["reviewPolicy"] },
      { change: { lintPolicy: "warn" }, weakened: ["lintPolicy"] },
      { change: { lintPolicy: null }, weakened: ["lintPolicy"] },
      { change: { compatibilityMode: "NONE" }, weakened: ["compatibilityMode"] },
      { change: { compatibilityMode: "BACKWARD" }, weakened: ["compatibilityMode"] },
      // A harmless change alongside does not carry a weakening through.
      { change: { name: "Renamed", reviewPolicy: "direct", compatibilityMode: "FULL_TRANSITIVE" }, weakened: ["reviewPolicy"] },
    ];

    it("refuses each weakening to an editor and a team token, and lets an admin, an admin token or the system make it", async () => {
      const deciders = [admin, adminTokenPrincipal, systemPrincipal("ops")];
      for (const [i, { change, weakened }] of WEAKENINGS.entries()) {
        await updateApplication(admin, APP, STRICT);
        await refused(editor, change, weakened);
        await refused(teamTokenPrincipal, change, weakened);
        const made = await updateApplication(deciders[i % deciders.length]!, APP, change);
        const expected = { ...(change as object) } as Record<string, unknown>;
        if (expected.approvalRule) expected.approvalRule = { owner: 1, consumer: 1, ...(expected.approvalRule as object) };
        expect(made).toMatchObject(expected);
      }
    });

    it("refuses a weakening over the API in the error shape, and accepts it with an admin token", async () => {
      await updateApplication(admin, APP, STRICT);
      const response = await patch(teamToken, { approvalRule: { owner: 2, consumer: 0 } });
      expect(response.status).toBe(403);
      const body = (await response.json()) as { error: { code: string; message: string; details: { weakened: string[] } } };
      expect(body.error).toMatchObject({ code: "forbidden:governance", details: { weakened: ["approvalRule.consumer"] } });
      expect(body.error.message).toContain("consumer approvals");
      expect(approvalRuleOf(await stored())).toEqual({ owner: 2, consumer: 2 });
      const off = await patch(teamToken, { reviewPolicy: "direct" });
      expect(off.status).toBe(403);
      expect(reviewPolicyOf(await stored())).toBe("review");
      expect((await patch(adminToken, { approvalRule: { owner: 2, consumer: 0 }, reviewPolicy: "direct" })).status).toBe(200);
      expect(await stored()).toMatchObject({ reviewPolicy: "direct", approvalRule: { owner: 2, consumer: 0 } });
    });

    it("lets an editor keep or tighten every setting", async () => {
      await updateApplication(admin, APP, LAX);
      const steps: Change[] = [
        { approvalRule: { owner: 0, consumer: 0 } },
        { approvalRule: { owner: 0, consumer: 1 } },
        { approvalRule: { owner: 1, consumer: 1 } },
        // null is the default rule, one and one: the same as now.
        { approvalRule: null },
        { approvalRule: { owner: 3, consumer: 2 } },
        { reviewPolicy: "direct" },
        { reviewPolicy: "review" },
        { reviewPolicy: "review" },
        { lintPolicy: "warn" },
        { lintPolicy: "block" },
        { lintPolicy: "block" },
        { compatibilityMode: "BACKWARD" },
        { compatibilityMode: "FULL_TRANSITIVE" },
        { name: "Line governed, strict", clientIdPatterns: ["gov-*"], compatibilityMode: "FULL_TRANSITIVE", reviewPolicy: "review" },
      ];
      for (const change of steps) await updateApplication(editor, APP, change);
      expect(await stored()).toMatchObject({
        name: "Line governed, strict",
        reviewPolicy: "review",
        approvalRule: { owner: 3, consumer: 2 },
        lintPolicy: "block",
        compatibilityMode: "FULL_TRANSITIVE",
        clientIdPatterns: ["gov-*"],
      });
      // The same over the API with the team's token.
      expect((await patch(teamToken, { approvalRule: { owner: 4, consumer: 2 } })).status).toBe(200);
    });

    it("orders compatibility modes by the guarantees they keep, for every pair", async () => {
      // What a mode guarantees: each direction it checks, against the latest version, and against all when transitive.
      const guarantees = (mode: CompatibilityMode) => {
        const { backward, forward, transitive } = MODE_POLICIES[mode];
        const directions = [...(backward ? ["backward"] : []), ...(forward ? ["forward"] : [])];
        return new Set(directions.flatMap((d) => (transitive ? [`${d}:latest`, `${d}:all`] : [`${d}:latest`])));
      };
      const keeps = (from: CompatibilityMode, to: CompatibilityMode) => [...guarantees(from)].every((g) => guarantees(to).has(g));

      const expected = new Map<string, boolean>();
      for (const from of COMPATIBILITY_MODES) {
        for (const to of COMPATIBILITY_MODES) {
          await updateApplication(admin, APP, { compatibilityMode: from });
          const allowed = await updateApplication(editor, APP, { compatibilityMode: to }).then(
            () => true,
            (e: unknown) => {
              expect(e).toMatchObject({ status: 403, code: "forbidden:governance", details: { weakened: ["compatibilityMode"] } });
              return false;
            },
          );
          expect(allowed, `${from} → ${to}`).toBe(keeps(from, to));
          expect(modeKeepsGuarantees(from, to), `${from} → ${to}`).toBe(keeps(from, to));
          expect((await stored()).compatibilityMode).toBe(allowed ? to : from);
          if (!allowed) {
            await updateApplication(admin, APP, { compatibilityMode: to });
            expect((await stored()).compatibilityMode).toBe(to);
          }
          expected.set(`${from}>${to}`, allowed);
        }
      }
      // The guarantees themselves, spelled out.
      for (const mode of COMPATIBILITY_MODES) {
        expect(expected.get(`NONE>${mode}`)).toBe(true);
        expect(expected.get(`${mode}>${mode}`)).toBe(true);
        if (mode !== "NONE") expect(expected.get(`${mode}>NONE`)).toBe(false);
        expect(expected.get(`${mode}>FULL_TRANSITIVE`)).toBe(true);
      }
      expect(expected.get("BACKWARD>FULL")).toBe(true);
      expect(expected.get("FULL>BACKWARD")).toBe(false);
      expect(expected.get("BACKWARD>BACKWARD_TRANSITIVE")).toBe(true);
      expect(expected.get("BACKWARD_TRANSITIVE>BACKWARD")).toBe(false);
      expect(expected.get("BACKWARD>FORWARD")).toBe(false);
      expect(expected.get("FORWARD>BACKWARD")).toBe(false);
      expect(expected.get("FULL>FORWARD_TRANSITIVE")).toBe(false);
      expect(expected.get("FORWARD>FULL")).toBe(true);
      expect([...expected.values()].filter((v) => !v).length).toBeGreaterThan(10);
    });

    it("compares the portal default when the mode is cleared", async () => {
      const fallback = defaultCompatibilityMode();
      await updateApplication(admin, APP, { compatibilityMode: fallback });
      await updateApplication(editor, APP, { compatibilityMode: null });
      expect((await stored()).compatibilityMode).toBeNull();
      await updateApplication(editor, APP, { compatibilityMode: fallback });
      await updateApplication(admin, APP, { compatibilityMode: "FULL_TRANSITIVE" });
      if (fallback !== "FULL_TRANSITIVE") await refused(editor, { compatibilityMode: null }, ["compatibilityMode"]);
      await updateApplication(admin, APP, { compatibilityMode: "NONE" });
      await updateApplication(editor, APP, { compatibilityMode: null });
      expect((await stored()).compatibilityMode).toBeNull();
    });

    it("lets a team register an application with any settings", async () => {
      const created = await createApplication(editor, { slug: "line-lax", name: "Line lax", team: "plant-ops", compatibilityMode: "NONE", reviewPolicy: "direct", approvalRule: { owner: 0, consumer: 0 } });
      expect(created).toMatchObject({ compatibilityMode: "NONE", reviewPolicy: "direct", approvalRule: { owner: 0, consumer: 0 } });
    });
  });

  it("downloads a version as published, as YAML and as JSON", async () => {
    const get = (format: string) =>
      documentRoute.GET(
        new Request(`${URL_BASE}/line-sensors/versions/1.0.0/document?format=${format}`, { headers: { authorization: `Bearer ${teamToken}` } }),
        { params: Promise.resolve({ app: "line-sensors", version: "1.0.0" }) },
      );
    expect(await (await get("original")).text()).toContain("asyncapi: 3.0.0");
    const asJson = JSON.parse(await (await get("json")).text()) as { info: { version: string } };
    expect(asJson.info.version).toBe("1.0.0");
    expect((await get("yaml")).headers.get("content-type")).toBe("application/yaml");
  });
});
