/** The change request page as its readers see it: what a real request's data renders, and which forms each reader gets. */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { beforeAll, describe, expect, it } from "vitest";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam, setTeamMember } from "@/lib/accounts/teams.ts";
import { createFirstAdmin, createUser } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { requestDiff } from "@/lib/reviews/page-data.ts";
import { getChangeRequest, listChangeRequests } from "@/lib/reviews/queries.ts";
import { commentOnChangeRequest, decideChangeRequest, openChangeRequest, overrideChangeRequest } from "@/lib/reviews/requests.ts";
import { ChangeRequestContent } from "./[number]/request-view.tsx";
import { findingKey, findingOptions, parseFindingKey, type ReviewsFilters, type ReviewsView } from "./format.ts";
import { ReviewsContent } from "./list-view.tsx";

function sensors(version: string, valueType: string): string {
  return [
    "asyncapi: 3.0.0",
    `info: { title: Line sensors, version: '${version}', description: Temperatures }`,
    "channels:",
    "  temperature:",
    "    address: plant/{lineId}/temperature",
    "    parameters: { lineId: { description: The line } }",
    "    messages:",
    "      reading:",
    "        name: reading",
    "        contentType: application/json",
    `        payload: { type: object, properties: { value: { type: ${valueType} } } }`,
    "operations:",
    "  sendReading: { action: send, channel: { $ref: '#/channels/temperature' } }",
    "",
  ].join("\n");
}

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

const user = (u: { id: string; email: string; name: string }, role: "admin" | "reviewer" | "editor"): Principal => ({ kind: "user", id: u.id, email: u.email, name: u.name, role });

/** The test ids of the rendered page, in order. */
const testIds = (html: string) => [...html.matchAll(/data-testid="([^"]+)"/g)].map((m) => m[1]!);

describeEachBackend("change request page", () => {
  let admin: Principal;
  let author: Principal;
  let consumer: Principal;

  beforeAll(async () => {
    admin = user(await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: "correct horse battery" }), "admin");
    const make = async (name: string, role: "reviewer" | "editor") => user(await createUser(admin, { name, email: `${name.toLowerCase()}@example.com`, password: "correct horse battery", role }), role);
    author = await make("Eve", "editor");
    consumer = await make("Carl", "reviewer");
    await createTeam(admin, { slug: "plant-ops", name: "Plant Ops" });
    await createTeam(admin, { slug: "maintenance", name: "Maintenance" });
    await setTeamMember(admin, "plant-ops", { email: "eve@example.com" });
    await setTeamMember(admin, "maintenance", { email: "carl@example.com" });
    await createApplication(admin, { slug: "line-sensors", name: "Line sensors", team: "plant-ops" });
    await createApplication(admin, { slug: "machine-monitor", name: "Machine monitor", team: "maintenance" });
    await publishVersion(admin, "line-sensors", { files: { "asyncapi.yaml": sensors("1.0.0", "number") } });
    await publishVersion(admin, "machine-monitor", { files: { "asyncapi.yaml": MONITOR } });
  });

  const render = async (reader: Principal, number: number) => {
    const request = await getChangeRequest(reader, String(number));
    const diff = await requestDiff(reader, request);
    return { request, diff, html: renderToStaticMarkup(createElement(ChangeRequestContent, { request, diff })) };
  };

  it("shows a breaking request with its diff and findings, the affected consumer, the reviewers and the conversation", async () => {
    const opened = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("2.0.0", "string") }, title: "Temperatures as text" });
    const number = opened.changeRequest.number;
    const before = await getChangeRequest(consumer, String(number));
    const options = findingOptions(before.current.evaluation);
    expect(options.length).toBeGreaterThan(1);
    const finding = parseFindingKey(options[1]!.value)!;
    await commentOnChangeRequest(consumer, String(number), { body: "Our dashboards parse numbers.", finding });

    const { html, diff, request } = await render(consumer, number);
    const ids = testIds(html);
    for (const id of ["cr-state", "cr-application", "cr-author", "cr-revisions", "revision-1", "cr-evaluation", "cr-compatibility", "cr-blockers", "cr-diff", "cr-finding", "cr-impact", "impact-app-machine-monitor", "cr-reviewers", "reviewer-plant-ops", "reviewer-maintenance", "cr-conversation", "event-finding", "decision-form", "comment-form"]) {
      expect(ids, id).toContain(id);
    }
    // A consumer reviewer decides and comments; the author's forms are not theirs.
    for (const id of ["revise-form", "withdraw-form", "publish-form", "override-form", "reject-form", "impact-none"]) expect(ids, id).not.toContain(id);
    expect(html).toMatch(/data-testid="cr-state">open</);
    expect(html).toMatch(/data-testid="cr-compatibility">breaking</);
    for (const e of request.events) expect(ids).toContain(`event-${e.id}`);
    // The finding is beside a changed line, and the comment names it.
    expect(diff.baseline).toBe("1.0.0");
    expect(diff.lines.some((l) => l.kind !== "same" && l.findings.some((f) => f.rule === finding.rule))).toBe(true);
    expect(html).toContain(`On <code>${finding.rule}`);
    expect(html).toContain(`value="${findingKey(finding).replaceAll('"', "&quot;")}"`);
    expect(html).toMatch(/data-testid="impact-app-machine-monitor"[\s\S]*consumer[\s\S]*breaking[\s\S]*declared/);
  });

  it("gives the author the revise and withdraw forms, prefilled with the current document, and no decision", async () => {
    const { changeRequest } = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("2.0.0", "integer") } });
    const { html } = await render(author, changeRequest.number);
    const ids = testIds(html);
    expect(ids).toEqual(expect.arrayContaining(["revise-form", "withdraw-form", "comment-form"]));
    expect(ids).not.toContain("decision-form");
    expect(html).toContain("value: { type: integer }");
  });

  it("links a published request to its version and shows the override's reason", async () => {
    const { changeRequest } = await openChangeRequest(author, "line-sensors", { files: { "asyncapi.yaml": sensors("2.0.0", "boolean") } });
    await overrideChangeRequest(admin, String(changeRequest.number), { reason: "Release train leaves today; consumers agreed offline." });
    const { html } = await render(admin, changeRequest.number);
    expect(html).toMatch(/data-testid="cr-state">published</);
    expect(html).toContain('href="/catalog/line-sensors/versions/2.0.0"');
    expect(html).toContain("Reason: Release train leaves today; consumers agreed offline.");
    expect(testIds(html)).not.toContain("override-form");
  });

  it("lists what waits for a consumer reviewer until they decide", async () => {
    const waiting = await listChangeRequests(consumer, { view: "waiting" });
    expect(waiting.requests.length).toBeGreaterThan(0);
    const first = waiting.requests[0]!;
    await decideChangeRequest(consumer, String(first.number), { decision: "request_changes", body: "Keep numbers." });
    const { html } = await render(consumer, first.number);
    expect(html).toMatch(/data-testid="cr-state">changes requested</);
    expect(html).toMatch(/data-testid="reviewer-maintenance"[\s\S]*?changes requested/);
  });

  const list = async (reader: Principal, view: ReviewsView, filters: ReviewsFilters = {}) => {
    const { requests, nextBefore } = await listChangeRequests(reader, { view, ...filters, limit: 2 });
    return renderToStaticMarkup(createElement(ReviewsContent, { view, filters, before: undefined, requests, nextBefore, applications: [{ slug: "line-sensors", name: "Line sensors" }], teams: [] }));
  };

  it("lists the requests of a view as rows, pages them, and says truthfully what is empty", async () => {
    const mine = await list(author, "mine");
    const rows = testIds(mine).filter((id) => id.startsWith("review-row-"));
    expect(rows).toHaveLength(2);
    expect(mine).toContain("Older →");
    expect(mine).toMatch(/data-testid="review-row-\d+"[\s\S]*?Line sensors[\s\S]*?data-testid="review-state">[a-z ]+<[\s\S]*?data-testid="review-breaking"/);
    expect(testIds(mine)).toEqual(expect.arrayContaining(["reviews-filters", "reviews-list"]));
    const none = await list(author, "all", { app: "machine-monitor" });
    expect(testIds(none)).toContain("reviews-empty");
    expect(none).toContain("No change request matches these filters");
    expect(none).not.toContain('data-testid="reviews-list"');
    // The author waits for nobody's review of their own requests.
    expect(await list(author, "waiting")).toContain("Nothing waits for your review");
  });
});

describe("finding keys in the page", () => {
  it("are read back as the services take them", () => {
    expect(parseFindingKey(findingKey({ rule: "CHANNEL_REMOVED", path: "/channels/a", baseline: "1.0.0" }))).toEqual({ rule: "CHANNEL_REMOVED", path: "/channels/a", baseline: "1.0.0" });
  });
});
