/** Change review through its public entry points: the API routes and the commands the pages call. */
import { and, eq, inArray } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as appChangeRequestsRoute from "@/app/api/v1/applications/[app]/change-requests/route.ts";
import * as versionsRoute from "@/app/api/v1/applications/[app]/versions/route.ts";
import * as changeRequestRoute from "@/app/api/v1/change-requests/[number]/route.ts";
import * as reviewsRoute from "@/app/api/v1/change-requests/[number]/reviews/route.ts";
import * as revisionsRoute from "@/app/api/v1/change-requests/[number]/revisions/route.ts";
import * as overrideRoute from "@/app/api/v1/change-requests/[number]/override/route.ts";
import { auditEntry, changeRequest, contractVersion, notification, registrySubjectVersion, reviewEvent } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam, setTeamMember } from "@/lib/accounts/teams.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication, updateApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { COMPATIBILITY_MODES } from "@/registry/index.ts";
import { listChangeRequests, getChangeRequest, waitingCount } from "./queries.ts";
import { commentOnChangeRequest, decideChangeRequest, openChangeRequest, publishChangeRequest, rejectChangeRequest, reviseChangeRequest, withdrawChangeRequest } from "./requests.ts";

/** A sensor contract: it sends readings on `plant/{lineId}/temperature` with `value` of the given type. */
function sensors(version: string, valueType: string, extra = "", description = "Temperatures of the lines"): string {
  return [
    "asyncapi: 3.0.0",
    `info: { title: Line sensors, version: '${version}', description: ${description} }`,
    "channels:",
    "  temperature:",
    "    address: plant/{lineId}/temperature",
    "    parameters: { lineId: { description: The line } }",
    "    messages:",
    "      reading:",
    "        name: reading",
    "        contentType: application/json",
    `        payload: { type: object, properties: { value: { type: ${valueType} }${extra} } }`,
    "operations:",
    "  sendReading: { action: send, channel: { $ref: '#/channels/temperature' } }",
    "",
  ].join("\n");
}

/** A consumer contract receiving what the sensors send, under another parameter name. */
const MONITOR = [
  "asyncapi: 3.0.0",
  "info: { title: Machine monitor, version: 1.0.0 }",
  "channels:",
  "  temps:",
  "    address: plant/{line}/temperature",
  "    messages: { reading: { name: reading, payload: { type: object } } }",
  "operations:",
  "  readTemps: { action: receive, channel: { $ref: '#/channels/temps' } }",
  "",
].join("\n");

const user = (u: { id: string; email: string; name: string }, role: "admin" | "reviewer" | "editor" | "viewer"): Principal => ({ kind: "user", id: u.id, email: u.email, name: u.name, role });

describeEachBackend("change review", ({ handle }) => {
  let admin: Principal;
  let author: Principal;
  let ownerReviewer: Principal;
  let consumerReviewer: Principal;
  let outsider: Principal;
  let ciToken: string;
  const db = () => handle().db;

  beforeAll(async () => {
    const a = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" });
    admin = user(a, "admin");
    const make = async (name: string, role: "reviewer" | "editor") => user(await createUser(admin, { name, email: `${name.toLowerCase()}@example.com`, password: "correct horse battery", role }), role);
    author = await make("Eve", "editor");
    ownerReviewer = await make("Rita", "reviewer");
    consumerReviewer = await make("Carl", "reviewer");
    outsider = await make("Otto", "reviewer");
    await createTeam(admin, { slug: "plant-ops", name: "Plant Ops" });
    await createTeam(admin, { slug: "maintenance", name: "Maintenance" });
    await createTeam(admin, { slug: "elsewhere", name: "Elsewhere" });
    await setTeamMember(admin, "plant-ops", { email: "eve@example.com" });
    await setTeamMember(admin, "plant-ops", { email: "rita@example.com" });
    await setTeamMember(admin, "maintenance", { email: "carl@example.com" });
    await setTeamMember(admin, "elsewhere", { email: "otto@example.com" });
    await createApplication(admin, { slug: "line-sensors", name: "Line sensors", team: "plant-ops" });
    await createApplication(admin, { slug: "machine-monitor", name: "Machine monitor", team: "maintenance" });
    await publishVersion(admin, "line-sensors", { files: { "asyncapi.yaml": sensors("1.0.0", "number") } });
    await publishVersion(admin, "machine-monitor", { files: { "asyncapi.yaml": MONITOR } });
    ciToken = (await createToken(admin, { name: "ci", scopes: ["contracts:write"], teamSlug: "plant-ops" })).secret;
  });

  const bearer = { authorization: "", "content-type": "application/json" };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each route types its own params
  const post = async (route: { POST: (r: Request, c: { params: Promise<any> }) => Promise<Response> }, path: string, params: Record<string, string>, body: unknown) => {
    const response = await route.POST(new Request(`http://localhost:3000/api/v1/${path}`, { method: "POST", body: JSON.stringify(body), headers: { ...bearer, authorization: `Bearer ${ciToken}` } }), { params: Promise.resolve(params) });
    return { status: response.status, body: await response.json() };
  };

  it("answers a direct publish of a breaking change 409 with the report and where to open a change request, in every mode that calls it breaking", async () => {
    for (const mode of COMPATIBILITY_MODES) {
      await updateApplication(admin, "line-sensors", { compatibilityMode: mode });
      // value: number → string breaks readers and writers alike, except under NONE.
      const { status, body } = await post(versionsRoute, "applications/line-sensors/versions", { app: "line-sensors" }, { files: { "asyncapi.yaml": sensors("2.0.0", "string") } });
      if (mode === "NONE") {
        expect(status, mode).toBe(201);
        // Undo the publish whole: the registry versions it released go with it.
        const released = db().select({ id: contractVersion.id }).from(contractVersion).where(eq(contractVersion.version, "2.0.0"));
        await db().delete(registrySubjectVersion).where(inArray(registrySubjectVersion.contractVersionId, released));
        await db().delete(contractVersion).where(and(eq(contractVersion.version, "2.0.0")));
        continue;
      }
      expect({ mode, status, code: body.error.code }).toEqual({ mode, status: 409, code: "conflict:review_required" });
      expect(body.error.details.changeRequestsUrl).toBe("/api/v1/applications/line-sensors/change-requests");
      expect(body.error.details.report.compatible).toBe(false);
      // As a minor version it is incompatible outright, and says where reviews are opened too.
      const minor = await post(versionsRoute, "applications/line-sensors/versions", { app: "line-sensors" }, { files: { "asyncapi.yaml": sensors("1.1.0", "string") } });
      expect({ mode, status: minor.status }).toEqual({ mode, status: 409 });
      expect(["conflict:incompatible", "conflict:semver"]).toContain(minor.body.error.code);
      expect(minor.body.error.details.changeRequestsUrl).toBe("/api/v1/applications/line-sensors/change-requests");
    }
    await updateApplication(admin, "line-sensors", { compatibilityMode: "BACKWARD" });
    expect(await db().select().from(contractVersion).where(eq(contractVersion.version, "2.0.0"))).toEqual([]);
  });

  it("asks for a change request for every change when the review policy says review, and for the release of a breaking draft", async () => {
    await updateApplication(admin, "line-sensors", { reviewPolicy: "review" });
    const compatible = await post(versionsRoute, "applications/line-sensors/versions", { app: "line-sensors" }, { files: { "asyncapi.yaml": sensors("1.0.1", "number", "", "Temperatures of every line") } });
    expect(compatible.status).toBe(409);
    expect(compatible.body.error.code).toBe("conflict:review_required");
    await updateApplication(admin, "line-sensors", { reviewPolicy: "direct" });
  });

  let number: number;

  it("opens a change request with its evaluation, the affected consumer and the reviewer teams", async () => {
    const api = await post(appChangeRequestsRoute, "applications/line-sensors/change-requests", { app: "line-sensors" }, { files: { "asyncapi.yaml": sensors("2.0.0", "string") }, title: "From CI" });
    expect(api.status).toBe(201);
    expect(api.body.changeRequest).toMatchObject({ state: "open", url: `/reviews/${api.body.changeRequest.number}` });
    await withdrawChangeRequest(author, String(api.body.changeRequest.number), {});

    const body = JSON.parse(JSON.stringify(await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("2.0.0", "string") }, title: "Temperatures as text" })));
    number = body.changeRequest.number;
    expect(body.changeRequest).toMatchObject({ state: "open", revision: 1, url: `/reviews/${number}` });
    expect(body.evaluation.report.compatible).toBe(false);
    expect(body.evaluation.suggestedVersion).toBe("2.0.0");
    expect(body.impact.applications.map((a: { application: { slug: string }; role: string; breaking: boolean }) => [a.application.slug, a.role, a.breaking])).toEqual([["machine-monitor", "consumer", true]]);
    const teams = body.reviewers.map((r: { teamSlug: string; reason: string; requiredApprovals: number }) => [r.teamSlug, r.reason, r.requiredApprovals]);
    expect(teams).toEqual([["plant-ops", "owner", 1], ["maintenance", "consumer", 1]]);
    // The consumer team's reviewer is told.
    const inbox = await db().select().from(notification).where(eq(notification.userId, consumerReviewer.id));
    expect(inbox.map((n) => n.kind)).toContain("review.requested");
    const waiting = await listChangeRequests(consumerReviewer, { view: "waiting" });
    expect(waiting.requests.map((r) => r.number)).toContain(number);
    // The header's count is over the same rows, counted in the database.
    expect(await waitingCount(consumerReviewer)).toBe(waiting.requests.length);
  });

  it("refuses decisions from the author and from people outside the reviewer teams", async () => {
    await expect(decideChangeRequest(outsider, String(number), { decision: "approve" })).rejects.toMatchObject({ status: 403, code: "forbidden:not_reviewer" });
    await expect(decideChangeRequest(author, String(number), { decision: "approve" })).rejects.toMatchObject({ status: 403 });
    // Only the owning team speaks for the proposal.
    await expect(reviseChangeRequest(outsider, String(number), { files: { "asyncapi.yaml": sensors("2.0.0", "boolean") } })).rejects.toMatchObject({ status: 403 });
    await expect(withdrawChangeRequest(consumerReviewer, String(number), {})).rejects.toMatchObject({ status: 403 });
    // Refused before the upload is read: an outsider costs no parse, whatever they send.
    await expect(reviseChangeRequest(outsider, String(number), { files: { "asyncapi.yaml": "asyncapi: [" } })).rejects.toMatchObject({ status: 403 });
    await expect(openChangeRequest(outsider, "line-sensors", "not even an upload")).rejects.toMatchObject({ status: 403 });
    const own = await openChangeRequest(ownerReviewer, "line-sensors", { files: { "asyncapi.yaml": sensors("2.0.0", "string", "", "Mine") } });
    await expect(decideChangeRequest(ownerReviewer, String(own.changeRequest.number), { decision: "approve" })).rejects.toMatchObject({ code: "forbidden:own_request" });
    await withdrawChangeRequest(ownerReviewer, String(own.changeRequest.number), {});
  });

  it("takes a request for changes on one finding, a revision that resets the reviews, and publishes on the last approval", async () => {
    const view = await getChangeRequest(consumerReviewer, String(number));
    const finding = view.current.evaluation.report!.findings.find((f) => f.verdict === "breaking")!;
    const asked = await decideChangeRequest(consumerReviewer, String(number), { decision: "request_changes", body: "We parse value as a number.", finding: { rule: finding.rule, path: finding.currentPath ?? null } });
    expect(asked.changeRequest.state).toBe("changes_requested");
    expect((await db().select().from(notification).where(eq(notification.userId, author.id))).map((n) => n.kind)).toContain("review.changes_requested");
    await commentOnChangeRequest(author, String(number), { body: "Fair: keeping a number and adding text alongside." });

    // The author answers with a revision (through the API, as CI would).
    const revised = await post(revisionsRoute, `change-requests/${number}/revisions`, { number: String(number) }, { files: { "asyncapi.yaml": sensors("2.0.0", "integer") } });
    expect(revised.status).toBe(201);
    expect(revised.body.changeRequest).toMatchObject({ state: "open", revision: 2 });

    const first = await decideChangeRequest(ownerReviewer, String(number), { decision: "approve" });
    expect(first.changeRequest.state).toBe("open");
    expect(first.status!.teams.map((t) => t.state)).toEqual(["approved", "pending"]);
    const last = await decideChangeRequest(consumerReviewer, String(number), { decision: "approve", body: "Integers we can read." });
    expect(last.changeRequest).toMatchObject({ state: "published", publishedVersion: "2.0.0" });

    // The author hears of the approval, then of the publish, in that order.
    const told = (await db().select().from(notification).where(eq(notification.userId, author.id)).orderBy(notification.id)).filter((x) => x.link === `/reviews/${number}`).map((x) => x.kind);
    expect(told.filter((k) => k === "review.approved" || k === "review.published")).toEqual(["review.approved", "review.published"]);
    const [version] = await db().select().from(contractVersion).where(eq(contractVersion.version, "2.0.0"));
    const [request] = await db().select().from(changeRequest).where(eq(changeRequest.number, number));
    expect(version!.changeRequestId).toBe(request!.id);
    // The decision and the publish are recorded together, in order.
    const entries = await db().select().from(auditEntry).orderBy(auditEntry.seq);
    const tail = entries.slice(-2).map((e) => [e.action, e.details.application, e.details.changeRequestId ?? null]);
    expect(tail).toEqual([["change_request.approve", "line-sensors", null], ["contract.publish", "line-sensors", request!.id]]);
    const kinds = (await db().select().from(reviewEvent).where(eq(reviewEvent.changeRequestId, request!.id)).orderBy(reviewEvent.id)).map((e) => e.kind);
    expect(kinds).toEqual(["opened", "changes_requested", "comment", "revised", "approved", "approved", "published"]);
    // Closed: nothing more can change.
    await expect(reviseChangeRequest(author, String(number), { files: { "asyncapi.yaml": sensors("2.0.1", "integer") } })).rejects.toMatchObject({ code: "conflict:change_request_closed" });
  });

  it("judges an approved request again when its baseline moved, and does not publish what no longer fits", async () => {
    await updateApplication(admin, "line-sensors", { reviewPolicy: "review" });
    const a = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("2.0.1", "integer", "", "Temperatures in kelvin") } });
    const b = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("2.0.1", "integer", "", "Temperatures in celsius") } });
    const publishedB = await decideChangeRequest(ownerReviewer, String(b.changeRequest.number), { decision: "approve" });
    expect(publishedB.changeRequest.state).toBe("published");
    // A is judged against 2.0.1 now: its version is taken.
    const approvedA = await decideChangeRequest(ownerReviewer, String(a.changeRequest.number), { decision: "approve" });
    expect(approvedA.changeRequest.state).toBe("approved");
    const view = await getChangeRequest(author, String(a.changeRequest.number));
    expect(view.events.map((e) => e.kind)).toEqual(["opened", "approved", "reevaluated", "publish_blocked"]);
    expect(view.current.evaluation.baseline).toBe("2.0.1");
    expect(view.can.publish).toBe(true);
    // Publishing again answers why it still cannot, and keeps what it found (no rollback of the judgement).
    const again = await publishChangeRequest(author, String(a.changeRequest.number), {});
    expect(again.changeRequest.state).toBe("approved");
    expect(again.blocked).toMatch(/2\.0\.1/);
    expect((await getChangeRequest(author, String(a.changeRequest.number))).events.map((e) => e.kind).slice(-1)).toEqual(["publish_blocked"]);
    // Acting on a revision that is no longer the current one is refused.
    await expect(reviseChangeRequest(author, String(a.changeRequest.number), { files: { "asyncapi.yaml": sensors("2.0.2", "integer", "", "Temperatures in kelvin") }, baseRevision: 7 })).rejects.toMatchObject({ code: "conflict:stale_revision" });
    // A revision with the right number clears it; the approvals start over.
    const revised = await reviseChangeRequest(author, String(a.changeRequest.number), { files: { "asyncapi.yaml": sensors("2.0.2", "integer", "", "Temperatures in kelvin") } });
    expect(revised.changeRequest.state).toBe("open");
    await expect(decideChangeRequest(ownerReviewer, String(a.changeRequest.number), { decision: "approve", revision: 1 })).rejects.toMatchObject({ code: "conflict:stale_revision" });
    expect((await decideChangeRequest(ownerReviewer, String(a.changeRequest.number), { decision: "approve", revision: 2 })).changeRequest).toMatchObject({ state: "published", publishedVersion: "2.0.2" });
    await updateApplication(admin, "line-sensors", { reviewPolicy: "direct" });
  });

  it("refuses a decision from whoever submitted a revision, and asks a consumer that appeared after the request opened", async () => {
    const opened = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("3.0.0", "string", "", "Readings as text") } });
    const n = String(opened.changeRequest.number);
    // Rita revises, so she cannot approve what she submitted.
    await reviseChangeRequest(ownerReviewer, n, { files: { "asyncapi.yaml": sensors("3.0.0", "string", "", "Readings as text and revised") } });
    await expect(decideChangeRequest(ownerReviewer, n, { decision: "approve" })).rejects.toMatchObject({ code: "forbidden:own_request" });
    await withdrawChangeRequest(author, n, {});

    // A new consumer team appears after the request opened: the last approval does not publish, it asks them too.
    await createTeam(admin, { slug: "archive", name: "Archive" });
    await setTeamMember(admin, "archive", { email: "otto@example.com" });
    const late = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("3.0.0", "string", "", "Readings as text and late") } });
    const m = String(late.changeRequest.number);
    await decideChangeRequest(consumerReviewer, m, { decision: "approve" });
    await createApplication(admin, { slug: "archiver", name: "Archiver", team: "archive" });
    await publishVersion(admin, "archiver", { files: { "asyncapi.yaml": MONITOR.replace("Machine monitor", "Archiver") } });
    const last = await decideChangeRequest(ownerReviewer, m, { decision: "approve" });
    expect(last.changeRequest.state).toBe("open");
    expect(last.blocked).toMatch(/more reviews/);
    const view = await getChangeRequest(outsider, m);
    expect(view.reviewers.map((r) => [r.team.slug, r.state]).sort()).toEqual([["archive", "pending"], ["maintenance", "approved"], ["plant-ops", "approved"]]);
    expect((await db().select().from(notification).where(eq(notification.userId, outsider.id))).map((x) => x.title)).toContain(`#${m} "Line sensors 3.0.0" on line-sensors now also needs your team's review.`);
    expect((await db().select().from(notification).where(eq(notification.userId, author.id))).filter((x) => x.kind === "review.approved" && x.link === `/reviews/${m}`)).toEqual([]);
    await withdrawChangeRequest(author, m, {});
  });

  it("lets an admin publish without the approvals for a written reason, shown on the version", async () => {
    const opened = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("3.0.0", "boolean") } });
    const n = String(opened.changeRequest.number);
    const asEditor = await post(overrideRoute, `change-requests/${n}/override`, { number: n }, { reason: "Hotfix the plant needs tonight" });
    expect(asEditor.status).toBe(403);
    const { overrideChangeRequest } = await import("./requests.ts");
    await expect(overrideChangeRequest(admin, n, { reason: "short" })).rejects.toMatchObject({ status: 422 });
    const done = await overrideChangeRequest(admin, n, { reason: "Hotfix the plant needs tonight" });
    expect(done.changeRequest).toMatchObject({ state: "published", publishedVersion: "3.0.0" });
    const [version] = await db().select().from(contractVersion).where(eq(contractVersion.version, "3.0.0"));
    expect(version).toMatchObject({ overrideReason: "Hotfix the plant needs tonight", overrideByLabel: "ada@example.com" });
    const actions = (await db().select().from(auditEntry).orderBy(auditEntry.seq)).slice(-2).map((e) => e.action);
    expect(actions).toEqual(["change_request.override", "contract.publish"]);
  });

  it("closes requests by rejection or withdrawal, and refuses an invalid document storing nothing", async () => {
    const one = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("4.0.0", "string") } });
    await expect(rejectChangeRequest(consumerReviewer, String(one.changeRequest.number), { reason: "no" })).rejects.toMatchObject({ status: 403 });
    expect((await rejectChangeRequest(ownerReviewer, String(one.changeRequest.number), { reason: "Not this way." })).changeRequest.state).toBe("rejected");
    await expect(decideChangeRequest(ownerReviewer, String(one.changeRequest.number), { decision: "approve" })).rejects.toMatchObject({ code: "conflict:change_request_closed" });
    const two = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("4.0.0", "string") } });
    expect((await withdrawChangeRequest(author, String(two.changeRequest.number), {})).changeRequest.state).toBe("withdrawn");

    const before = (await db().select().from(changeRequest)).length;
    const invalid = await post(appChangeRequestsRoute, "applications/line-sensors/change-requests", { app: "line-sensors" }, { files: { "asyncapi.yaml": "asyncapi: 3.0.0\ninfo: { title: x }\n" } });
    expect(invalid.status).toBe(422);
    expect((await db().select().from(changeRequest)).length).toBe(before);
  });

  it("serves the request page's data over the API", async () => {
    const response = await changeRequestRoute.GET(new Request(`http://localhost:3000/api/v1/change-requests/${number}?files=false`, { headers: { authorization: `Bearer ${ciToken}` } }), { params: Promise.resolve({ number: String(number) }) });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ number, state: "published", publishedVersion: "2.0.0", application: { slug: "line-sensors" } });
    expect(body.current.files).toBeUndefined();
    const missing = await changeRequestRoute.GET(new Request("http://localhost:3000/api/v1/change-requests/999999", { headers: { authorization: `Bearer ${ciToken}` } }), { params: Promise.resolve({ number: "999999" }) });
    expect(missing.status).toBe(404);
    void reviewsRoute;
  });

  describe("lifecycle", () => {
    it("tells the consumer teams when a version they read is deprecated", async () => {
      await setVersionState(admin, "line-sensors", "1.0.0", { state: "deprecated", reason: "Use 2.x" });
      const inbox = await db().select().from(notification).where(eq(notification.userId, consumerReviewer.id));
      expect(inbox.map((n) => n.kind)).toContain("version.deprecated");
    });
  });
});


