import "server-only";
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Transaction } from "@/db/client.ts";
import {
  application,
  changeRequest,
  changeRequestReviewer,
  changeRequestRevision,
  reviewEvent,
  team,
  teamMember,
  user,
  type Application,
  type ChangeRequest,
  type ChangeRequestState,
  type ReviewEvent,
} from "@/db/schema.ts";
import { blockersBeyondReview, type ChangeEvaluation } from "@/registry/index.ts";
import type { Impact } from "@/registry/impact/index.ts";
import { assertCan, can } from "@/lib/auth/permissions.ts";
import { assertWritesForTeam } from "@/lib/catalog/applications.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";
import { commitVersion, lockedApplication, PUBLISH_LOCK_NAMESPACE, readUpload, type ParsedUpload } from "@/lib/contracts/publish.ts";
import { storedVersionsOf } from "@/lib/contracts/evaluate.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { emitEvent, type EventType } from "@/lib/notifications/events.ts";
import { defineCommand, type AuthorizeContext } from "@/lib/service.ts";
import { reviewStatus, type Decision, type ReviewerTeam, type ReviewStatus } from "./approval.ts";
import { judgeProposal, type RevisionJudgement } from "./evaluate.ts";

/** Most revisions one change request keeps; a request past it is better closed and opened again. */
export const MAX_REVISIONS = 100;
/** Most events (comments, decisions) one change request keeps. */
export const MAX_REVIEW_EVENTS = 2000;
const MAX_TEXT = 10_000;

const storable = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((text) => !text.includes("\u0000"), { message: "Contains a NUL character (U+0000)." });

/** A finding a comment or decision is about: its rule and its path in the evaluation. */
const findingRef = z
  .object({
    rule: storable(100).pipe(z.string().min(1)),
    path: storable(2000).nullable().default(null),
    baseline: storable(100).nullable().optional(),
  })
  .nullable()
  .default(null);

const openFields = z.object({
  title: storable(200).optional(),
  description: storable(MAX_TEXT).default(""),
});

/** Reads a change request's upload (as a publish reads it) and its title and description. */
async function readOpen(raw: unknown): Promise<ParsedUpload & z.output<typeof openFields>> {
  const fields = parseInput(openFields, raw);
  return { ...(await readUpload(raw)), ...fields };
}

const commentInput = z.object({ body: storable(MAX_TEXT).pipe(z.string().min(1, { message: "Write a comment." })), finding: findingRef });
/** The revision a person acted on, when the caller knows it: a newer one submitted meanwhile is refused (409). */
const seenRevision = z.coerce.number().int().min(1).max(MAX_REVISIONS).optional();
const decisionInput = z
  .object({ decision: z.enum(["approve", "request_changes"]), body: storable(MAX_TEXT).default(""), finding: findingRef, revision: seenRevision })
  .refine((d) => d.decision === "approve" || d.body !== "", { message: "Say what should change.", path: ["body"] });
const reasonInput = z.object({ reason: storable(2000).default("") });
const overrideInput = z.object({ reason: storable(2000).pipe(z.string().min(10, { message: "Write the reason for the override (at least 10 characters)." })), revision: seenRevision });
const publishInput = z.object({ revision: seenRevision }).strict().optional();

/** Refuses an action on a revision other than the current one (someone submitted a newer one meanwhile). */
function assertCurrentRevision(request: ChangeRequest, seen: number | undefined): void {
  if (seen !== undefined && seen !== request.revision) {
    throw new MeshportError("conflict", `Change request #${request.number} is at revision ${request.revision} now, not ${seen}: read it before you act.`, {
      subject: "stale_revision",
      details: { current: request.revision, seen },
    });
  }
}

/** Reads a revision's upload, and the revision it was based on. */
async function readRevision(raw: unknown): Promise<ParsedUpload & { baseRevision?: number }> {
  const { baseRevision } = parseInput(z.object({ baseRevision: seenRevision }), raw);
  return { ...(await readUpload(raw)), ...(baseRevision !== undefined ? { baseRevision } : {}) };
}

/** Whether a change request can still change. */
export const OPEN_STATES: readonly ChangeRequestState[] = ["open", "changes_requested", "approved"];

/** The portal page of a change request. */
export function changeRequestPath(number: number): string {
  return `/reviews/${number}`;
}

interface Located {
  request: ChangeRequest;
  app: Application;
}

/** The change request named by its number, with its application, locked for the change. */
async function lockedRequest(tx: Transaction, numberText: string): Promise<Located> {
  const number = /^[0-9]{1,10}$/.test(numberText) ? Number(numberText) : NaN;
  if (!Number.isSafeInteger(number) || number <= 0 || number > 2_147_483_647) {
    throw new MeshportError("not_found", `No change request ${numberText.slice(0, 40)}.`, { subject: "change_request" });
  }
  const [found] = await tx.select().from(changeRequest).where(eq(changeRequest.number, number));
  if (!found) throw new MeshportError("not_found", `No change request #${number}.`, { subject: "change_request" });
  // In the order a publish takes them (the application row, its advisory lock), then the request row: requests
  // and publishes of one contract take turns, and never wait for each other in a circle.
  const [app] = await tx.select().from(application).where(eq(application.id, found.applicationId)).for("update");
  await tx.execute(sql`select pg_advisory_xact_lock(${PUBLISH_LOCK_NAMESPACE}, hashtext(${found.applicationId}))`);
  const [request] = await tx.select().from(changeRequest).where(eq(changeRequest.id, found.id)).for("update");
  return { request: request!, app: app! };
}

function assertOpen(request: ChangeRequest): void {
  if (!OPEN_STATES.includes(request.state)) {
    throw new MeshportError("conflict", `Change request #${request.number} is ${request.state.replace("_", " ")}; it can no longer change.`, { subject: "change_request_closed" });
  }
}

async function assertRoomForEvents(tx: Transaction, request: ChangeRequest): Promise<void> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(reviewEvent).where(eq(reviewEvent.changeRequestId, request.id));
  if ((row?.n ?? 0) >= MAX_REVIEW_EVENTS) {
    throw new MeshportError("conflict", `Change request #${request.number} holds ${MAX_REVIEW_EVENTS} events, the most one keeps; open a new one.`, { subject: "change_request_full" });
  }
}

/** The reviewer teams of a request the principal may decide for: a member who may decide reviews, or a maintainer. */
async function decidingTeams(tx: Transaction, principal: Principal, reviewers: readonly ReviewerTeam[]): Promise<string[]> {
  if (principal.kind !== "user" || reviewers.length === 0) return [];
  const memberships = await tx
    .select({ teamId: teamMember.teamId, role: teamMember.role })
    .from(teamMember)
    .where(and(eq(teamMember.userId, principal.id), inArray(teamMember.teamId, reviewers.map((r) => r.teamId))));
  const decides = can(principal, "reviews:decide");
  return memberships.filter((m) => decides || m.role === "maintainer").map((m) => m.teamId);
}

async function reviewersOf(tx: Transaction | Parameters<typeof storedVersionsOf>[0], requestId: string): Promise<ReviewerTeam[]> {
  const rows = await tx.select().from(changeRequestReviewer).where(eq(changeRequestReviewer.changeRequestId, requestId));
  const teams = rows.map((r) => ({ teamId: r.teamId, reason: r.reason, requiredApprovals: r.requiredApprovals, applications: r.applications }));
  return teams.sort((a, b) => (a.reason === "owner" ? -1 : b.reason === "owner" ? 1 : a.teamId.localeCompare(b.teamId)));
}

async function decisionsOf(db: Parameters<typeof storedVersionsOf>[0], requestId: string): Promise<Decision[]> {
  const rows = await db
    .select({ id: reviewEvent.id, kind: reviewEvent.kind, actorId: reviewEvent.actorId, actorLabel: reviewEvent.actorLabel, revision: reviewEvent.revision, teamIds: reviewEvent.teamIds })
    .from(reviewEvent)
    .where(and(eq(reviewEvent.changeRequestId, requestId), inArray(reviewEvent.kind, ["approved", "changes_requested"])));
  return rows.map((r) => ({ kind: r.kind as Decision["kind"], actorId: r.actorId, actorLabel: r.actorLabel, revision: r.revision, teamIds: r.teamIds, order: r.id }));
}

async function addEvent(
  tx: Transaction,
  principal: Principal,
  request: ChangeRequest,
  kind: ReviewEvent["kind"],
  fields: { body?: string; teamIds?: string[]; finding?: ReviewEvent["finding"]; revision?: number } = {},
): Promise<ReviewEvent> {
  const [row] = await tx
    .insert(reviewEvent)
    .values({
      changeRequestId: request.id,
      revision: fields.revision ?? request.revision,
      kind,
      actorId: principal.id,
      actorLabel: principalLabel(principal),
      teamIds: fields.teamIds ?? [],
      body: fields.body ?? "",
      finding: fields.finding ?? null,
    })
    .returning();
  return row!;
}

/** Replaces the reviewer teams of a request with those of a new judgement. */
async function setReviewers(tx: Transaction, requestId: string, reviewers: readonly ReviewerTeam[]): Promise<void> {
  await tx.delete(changeRequestReviewer).where(eq(changeRequestReviewer.changeRequestId, requestId));
  if (reviewers.length === 0) return;
  await tx.insert(changeRequestReviewer).values(
    reviewers.map((r) => ({ changeRequestId: requestId, teamId: r.teamId, reason: r.reason, requiredApprovals: r.requiredApprovals, applications: r.applications })),
  );
}

/** The people who may decide for the teams: members who may decide reviews, and maintainers. */
async function deciders(tx: Transaction, teamIds: readonly string[]): Promise<string[]> {
  if (teamIds.length === 0) return [];
  const rows = await tx
    .select({ userId: teamMember.userId, role: teamMember.role, userRole: sql<string>`(select role from "user" where id = ${teamMember.userId})` })
    .from(teamMember)
    .where(inArray(teamMember.teamId, [...teamIds]));
  return [...new Set(rows.filter((r) => r.role === "maintainer" || r.userRole === "reviewer" || r.userRole === "admin").map((r) => r.userId))];
}

/** Everyone who took part in a request: its author and whoever commented or decided. */
async function participants(tx: Transaction, request: ChangeRequest): Promise<string[]> {
  const rows = await tx.selectDistinct({ actorId: reviewEvent.actorId }).from(reviewEvent).where(eq(reviewEvent.changeRequestId, request.id));
  return [...new Set([request.authorId, ...rows.map((r) => r.actorId)])];
}

async function notify(
  tx: Transaction,
  principal: Principal,
  located: Located,
  type: EventType,
  summary: string,
  recipients: readonly string[],
  data: Record<string, unknown> = {},
): Promise<void> {
  const { request, app } = located;
  const reviewers = await reviewersOf(tx, request.id);
  // Only people have inboxes: a token that opened a request is told through webhooks.
  const wanted = [...new Set(recipients)].filter((id) => id !== principal.id);
  const people = wanted.length ? (await tx.select({ id: user.id }).from(user).where(inArray(user.id, wanted))).map((u) => u.id) : [];
  await emitEvent(tx, {
    type,
    summary,
    link: changeRequestPath(request.number),
    actor: principal,
    teamIds: [...new Set([app.teamId, ...reviewers.map((r) => r.teamId)])],
    recipients: people,
    data: {
      application: { slug: app.slug, name: app.name },
      changeRequest: { id: request.id, number: request.number, title: request.title, state: request.state, revision: request.revision },
      ...data,
    },
  });
}

function describe(app: Application, request: ChangeRequest): string {
  return `#${request.number} "${request.title}" on ${app.slug}`;
}

async function updateRequest(tx: Transaction, request: ChangeRequest, set: Partial<typeof changeRequest.$inferInsert>): Promise<ChangeRequest> {
  const [row] = await tx.update(changeRequest).set(set).where(eq(changeRequest.id, request.id)).returning();
  return row!;
}

function judgementDetails(j: RevisionJudgement) {
  return {
    breaking: j.breaking,
    suggestedVersion: j.evaluation.suggestedVersion,
    blockers: j.evaluation.blockers.map((b) => b.kind),
    affected: j.impact.applications.map((a) => a.application.slug),
    reviewers: j.reviewers.map((r) => ({ team: r.teamId, reason: r.reason, required: r.requiredApprovals })),
  };
}

/** The state the decisions put a request in (before any publish). */
function stateFrom(status: ReviewStatus): ChangeRequestState {
  return status.changesRequested ? "changes_requested" : status.satisfied ? "approved" : "open";
}

/** What a change request command answers. */
export interface ChangeRequestOutcome {
  changeRequest: { id: string; number: number; state: ChangeRequestState; revision: number; url: string; publishedVersion: string | null };
  evaluation?: ChangeEvaluation;
  impact?: Impact;
  reviewers?: Array<ReviewerTeam & { teamSlug: string; teamName: string }>;
  status?: ReviewStatus;
  /** Why an approved request did not publish (judged again, it needs more reviews or a new revision). */
  blocked?: string;
}

/** The reviewer teams with their slugs and names, as answers show them. */
async function namedReviewers(tx: Transaction, reviewers: readonly ReviewerTeam[]): Promise<Array<ReviewerTeam & { teamSlug: string; teamName: string }>> {
  if (reviewers.length === 0) return [];
  const rows = await tx.select({ id: team.id, slug: team.slug, name: team.name }).from(team).where(inArray(team.id, reviewers.map((r) => r.teamId)));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return reviewers.map((r) => ({ ...r, teamSlug: byId.get(r.teamId)?.slug ?? r.teamId, teamName: byId.get(r.teamId)?.name ?? r.teamId }));
}

function outcome(request: ChangeRequest, extra: Omit<ChangeRequestOutcome, "changeRequest"> = {}, publishedVersion: string | null = null): ChangeRequestOutcome {
  return {
    changeRequest: { id: request.id, number: request.number, state: request.state, revision: request.revision, url: changeRequestPath(request.number), publishedVersion },
    ...extra,
  };
}

function refuseInvalid(j: RevisionJudgement): void {
  const invalid = j.evaluation.blockers.find((b) => b.kind === "invalid");
  if (invalid) throw new MeshportError("invalid_input", invalid.message, { subject: "contract", details: { diagnostics: j.evaluation.diagnostics } });
  const notSemver = j.evaluation.versionFindings.find((f) => f.code === "not-semver");
  if (notSemver) throw new MeshportError("invalid_input", notSemver.message, { subject: "version", details: { fieldErrors: { version: ["Not a semantic version."] }, formErrors: [] } });
}

async function insertRevision(tx: Transaction, principal: Principal, requestId: string, number: number, input: ParsedUpload, j: RevisionJudgement): Promise<void> {
  await tx.insert(changeRequestRevision).values({
    changeRequestId: requestId,
    number,
    files: input.data.files,
    rootFile: input.root,
    version: input.versionText,
    contentHash: input.contentHash,
    contract: input.contract,
    evaluation: j.evaluation as unknown as Record<string, unknown>,
    impact: j.impact as unknown as Record<string, unknown>,
    baselineKey: j.baselineKey,
    createdById: principal.id,
    createdByLabel: principalLabel(principal),
  });
}

/**
 * Opens a change request: a proposed version of an application's contract, judged now (compare report against
 * the versions the mode requires, lint, version findings, suggested version, upgrade order) with whom it
 * affects, and the reviewer teams the approval rule asks. An invalid document is refused (422) and stores
 * nothing; a proposal with other blockers opens, and cannot publish until a revision clears them.
 */
const openCommand = defineCommand({
  permission: "contracts:write",
  input: readOpen,
  audit: "change_request.open",
  authorize: ({ tx, principal }: AuthorizeContext<unknown>, appSlug: string) => lockedApplication(tx, principal, appSlug),
  run: async ({ tx, principal, input, target: app, audit }): Promise<ChangeRequestOutcome> => {
    const j = await judgeProposal(tx, app, { contract: input.contract, diagnostics: input.diagnostics, version: input.versionText });
    refuseInvalid(j);
    const title = input.title || `${app.name} ${input.versionText}`;
    const [request] = await tx
      .insert(changeRequest)
      .values({ id: newId("cr"), applicationId: app.id, title, description: input.description, authorId: principal.id, authorLabel: principalLabel(principal), breaking: j.breaking })
      .returning();
    await insertRevision(tx, principal, request!.id, 1, input, j);
    await setReviewers(tx, request!.id, j.reviewers);
    await addEvent(tx, principal, request!, "opened", { body: input.description });
    audit({
      targetType: "change_request",
      targetId: request!.id,
      details: { application: app.slug, number: request!.number, title, version: input.versionText, contentHash: input.contentHash, ...judgementDetails(j) },
    });
    const located = { request: request!, app };
    await notify(tx, principal, located, "review.requested", `${principalLabel(principal)} asks for a review of ${describe(app, request!)} (${input.versionText}).`, await deciders(tx, j.reviewers.map((r) => r.teamId)), {
      version: input.versionText,
      breaking: j.breaking,
    });
    return outcome(request!, { evaluation: j.evaluation, impact: j.impact, reviewers: await namedReviewers(tx, j.reviewers), status: reviewStatus(j.reviewers, [], 1) });
  },
});

/** `authorize` of the commands on one request: the request and its application, locked. */
function authorizeRequest({ tx }: AuthorizeContext<unknown>, number: string): Promise<Located> {
  return lockedRequest(tx, number);
}

/**
 * May the principal change the proposal itself: whoever writes for the owning team now (the author too only
 * while they do: someone who left the team no longer speaks for its contract).
 */
async function assertAuthorSide(tx: Transaction, principal: Principal, { app }: Located): Promise<void> {
  await lockedApplication(tx, principal, app.slug);
}

/**
 * Submits a new revision of a change request: judged again from scratch, with the reviewers it now needs.
 * Decisions apply to the revision they were given on, so the reviews start over.
 */
const reviseCommand = defineCommand({
  permission: "contracts:write",
  input: readRevision,
  audit: "change_request.revise",
  authorize: authorizeRequest,
  run: async ({ tx, principal, input, target: located, audit }): Promise<ChangeRequestOutcome> => {
    const { request, app } = located;
    assertOpen(request);
    await assertAuthorSide(tx, principal, located);
    assertCurrentRevision(request, input.baseRevision);
    if (request.revision >= MAX_REVISIONS) throw new MeshportError("conflict", `Change request #${request.number} has ${MAX_REVISIONS} revisions, the most one keeps; open a new one.`, { subject: "change_request_full" });
    await assertRoomForEvents(tx, request);
    const j = await judgeProposal(tx, app, { contract: input.contract, diagnostics: input.diagnostics, version: input.versionText });
    refuseInvalid(j);
    const number = request.revision + 1;
    await insertRevision(tx, principal, request.id, number, input, j);
    await setReviewers(tx, request.id, j.reviewers);
    const updated = await updateRequest(tx, request, { revision: number, breaking: j.breaking, state: "open" });
    await addEvent(tx, principal, updated, "revised", { revision: number });
    audit({ targetType: "change_request", targetId: request.id, details: { application: app.slug, number: request.number, revision: number, version: input.versionText, contentHash: input.contentHash, before: { state: request.state, revision: request.revision }, after: { state: "open", revision: number }, ...judgementDetails(j) } });
    await notify(tx, principal, { request: updated, app }, "review.requested", `${principalLabel(principal)} submitted revision ${number} of ${describe(app, updated)}.`, await deciders(tx, j.reviewers.map((r) => r.teamId)), { version: input.versionText });
    return outcome(updated, { evaluation: j.evaluation, impact: j.impact, reviewers: await namedReviewers(tx, j.reviewers), status: reviewStatus(j.reviewers, [], number) });
  },
});

/** Comments on a change request, or on one finding of its current revision (anyone who reads the catalog). */
export const commentOnChangeRequest = defineCommand({
  permission: "catalog:read",
  input: commentInput,
  audit: "change_request.comment",
  authorize: authorizeRequest,
  run: async ({ tx, principal, input, target: located, audit }): Promise<ChangeRequestOutcome> => {
    const { request, app } = located;
    if (principal.kind === "token" && !can(principal, "contracts:write")) throw new MeshportError("forbidden", "A read-only token cannot comment.");
    await assertRoomForEvents(tx, request);
    const event = await addEvent(tx, principal, request, "comment", { body: input.body, finding: input.finding });
    audit({ targetType: "change_request", targetId: request.id, details: { application: app.slug, number: request.number, revision: request.revision, event: event.id, finding: input.finding } });
    await notify(tx, principal, located, "review.commented", `${principalLabel(principal)} commented on ${describe(app, request)}.`, await participants(tx, request), { comment: input.body.slice(0, 500), finding: input.finding });
    return outcome(request);
  },
});

/** The reviewer teams, as compared between two judgements (who is asked, for how many approvals). */
function reviewerKey(reviewers: readonly ReviewerTeam[]): string {
  return JSON.stringify(reviewers.map((r) => [r.teamId, r.reason, r.requiredApprovals]).sort());
}

/**
 * Publishes an approved request's current revision with the same commit as a direct publish, in the caller's
 * transaction. The revision is judged again first, always: another version may have been published, a state or
 * the policy changed, or new consumers appeared (their contracts, the agents' observations, client-id patterns).
 * When the judgement changed it is stored with an event; when it asks for more reviews the request goes back to
 * open (and the new teams are asked), and when the revision no longer publishes it stays approved with an event
 * that says why. An override skips only the approvals.
 */
async function publishApproved(
  ctx: { tx: Transaction; principal: Principal; audit: (record: { action?: "contract.publish" | "change_request.reevaluate"; targetType: string; targetId: string; details?: Record<string, unknown> }) => void },
  located: Located,
  override?: string,
  /** Called once the approvals are known to stand (judged again), before anything is published. */
  onApproved?: (request: ChangeRequest) => Promise<void>,
): Promise<{ request: ChangeRequest; published: string | null; blocked: string | null; status: ReviewStatus | null }> {
  const { tx, principal, audit } = ctx;
  let { request } = located;
  const { app } = located;
  const [revision] = await tx.select().from(changeRequestRevision).where(and(eq(changeRequestRevision.changeRequestId, request.id), eq(changeRequestRevision.number, request.revision)));
  const stored = await storedVersionsOf(tx, app.id);
  const previous = revision!.evaluation as unknown as ChangeEvaluation;
  const j = await judgeProposal(tx, app, { contract: revision!.contract, diagnostics: previous.diagnostics, version: revision!.version });
  const evaluation = j.evaluation;
  const before = await reviewersOf(tx, request.id);
  const moved = j.baselineKey !== revision!.baselineKey;
  const askedChanged = reviewerKey(before) !== reviewerKey(j.reviewers);
  let status: ReviewStatus | null = null;
  if (moved || askedChanged) {
    await tx
      .update(changeRequestRevision)
      .set({ evaluation: j.evaluation as unknown as Record<string, unknown>, impact: j.impact as unknown as Record<string, unknown>, baselineKey: j.baselineKey, evaluatedAt: new Date() })
      .where(and(eq(changeRequestRevision.changeRequestId, request.id), eq(changeRequestRevision.number, request.revision)));
    await setReviewers(tx, request.id, j.reviewers);
    const stateBefore = request.state;
    status = reviewStatus(j.reviewers, await decisionsOf(tx, request.id), request.revision);
    request = await updateRequest(tx, request, { breaking: j.breaking, ...(override || status.satisfied ? {} : { state: stateFrom(status) }) });
    const why = moved ? `another change reached ${app.slug} (latest now ${j.evaluation.baseline ?? "none"})` : "the applications it affects changed";
    await addEvent(tx, principal, request, "reevaluated", { body: `Since this revision was judged, ${why}; judged again.` });
    audit({
      action: "change_request.reevaluate",
      targetType: "change_request",
      targetId: request.id,
      details: { application: app.slug, number: request.number, revision: request.revision, before: { state: stateBefore, reviewers: before.map((r) => r.teamId) }, after: { state: request.state, ...judgementDetails(j) } },
    });
    if (!override && !status.satisfied) {
      const added = j.reviewers.filter((r) => !before.some((b) => b.teamId === r.teamId)).map((r) => r.teamId);
      await notify(tx, principal, { request, app }, "review.requested", `${describe(app, request)} now also needs your team's review.`, await deciders(tx, added), { version: revision!.version, breaking: j.breaking });
      return { request, published: null, blocked: "The new judgement asks for more reviews.", status };
    }
  }
  await onApproved?.(request);
  const remaining = blockersBeyondReview(evaluation);
  if (remaining.length > 0) {
    const blocked = remaining.map((b) => b.message).join(" ");
    await addEvent(tx, principal, request, "publish_blocked", { body: blocked });
    return { request, published: null, blocked, status };
  }
  // The same content already published (under any number) is that version: nothing to add.
  const identical = stored.find((v) => v.contentHash === revision!.contentHash);
  let versionId: string;
  let versionText: string;
  if (identical) {
    versionId = identical.id;
    versionText = identical.version;
  } else {
    const published = await commitVersion(
      { tx, principal, app, audit },
      { versionText: revision!.version, root: revision!.rootFile, contract: revision!.contract, contentHash: revision!.contentHash, data: { files: revision!.files } },
      evaluation,
      "released",
      { changeRequestId: request.id, ...(override ? { overrideReason: override } : {}) },
    );
    versionId = published.version.id;
    versionText = published.version.version;
  }
  request = await updateRequest(tx, request, { state: "published", publishedVersionId: versionId, closedAt: new Date() });
  await addEvent(tx, principal, request, "published", { body: `Published as ${app.slug} ${versionText}.` });
  const reviewers = await reviewersOf(tx, request.id);
  await notify(tx, principal, { request, app }, "review.published", `${describe(app, request)} was published as ${versionText}.`, [...(await participants(tx, request)), ...(await deciders(tx, reviewers.map((r) => r.teamId)))], {
    version: versionText,
    ...(override ? { override } : {}),
  });
  return { request, published: versionText, blocked: null, status };
}

/**
 * Approves the current revision, or asks for changes (on the request or on one finding), for every reviewer team
 * the person may decide for. The approval that satisfies the rule publishes the version in the same transaction.
 * Nobody decides on a request they opened or a revision they submitted.
 */
export const decideChangeRequest = defineCommand({
  permission: "reviews:decide",
  input: decisionInput,
  audit: ["change_request.approve", "change_request.request_changes", "change_request.reevaluate", "contract.publish"],
  authorize: async (ctx: AuthorizeContext<z.output<typeof decisionInput>>, number: string) => {
    const located = await lockedRequest(ctx.tx, number);
    assertOpen(located.request);
    assertCurrentRevision(located.request, ctx.input.revision);
    const [submitted] = await ctx.tx
      .select({ number: changeRequestRevision.number })
      .from(changeRequestRevision)
      .where(and(eq(changeRequestRevision.changeRequestId, located.request.id), eq(changeRequestRevision.createdById, ctx.principal.id)))
      .limit(1);
    if (ctx.principal.id === located.request.authorId || submitted) throw new MeshportError("forbidden", "You cannot review a change request you opened or revised.", { subject: "own_request" });
    const reviewers = await reviewersOf(ctx.tx, located.request.id);
    const teams = await decidingTeams(ctx.tx, ctx.principal, reviewers);
    if (teams.length === 0) {
      throw new MeshportError("forbidden", "Only members of the reviewer teams who may decide reviews (or their maintainers) can approve or request changes.", { subject: "not_reviewer", details: { reviewerTeams: reviewers.map((r) => r.teamId) } });
    }
    return { ...located, teams, reviewers };
  },
  run: async ({ tx, principal, input, target, audit }): Promise<ChangeRequestOutcome> => {
    const { request, app, teams, reviewers } = target;
    await assertRoomForEvents(tx, request);
    const kind = input.decision === "approve" ? "approved" : "changes_requested";
    await addEvent(tx, principal, request, kind, { body: input.body, teamIds: teams, finding: input.finding });
    const status = reviewStatus(reviewers, await decisionsOf(tx, request.id), request.revision);
    let updated = await updateRequest(tx, request, { state: stateFrom(status) });
    const located = { request: updated, app };
    // The publish's entries wait for the decision's, so the log reads in the order things happened.
    const pendingAudits: Array<Parameters<typeof audit>[0]> = [];
    let result: Awaited<ReturnType<typeof publishApproved>> | null = null;
    // Approved is news only once the approvals stand after the request was judged again, and before its publish.
    const announce = async (approved: ChangeRequest) => {
      await notify(tx, principal, { request: approved, app }, "review.approved", `${describe(app, approved)} is approved.`, [request.authorId]);
    };
    if (kind === "approved" && status.satisfied) result = await publishApproved({ tx, principal, audit: (r) => pendingAudits.push(r) }, located, undefined, announce);
    if (result) updated = result.request;
    // The decision's entry first, with the state it left the request in; then what the publish recorded.
    audit({
      action: input.decision === "approve" ? "change_request.approve" : "change_request.request_changes",
      targetType: "change_request",
      targetId: request.id,
      details: { application: app.slug, number: request.number, revision: request.revision, teams, finding: input.finding, before: { state: request.state }, after: { state: updated.state } },
    });
    for (const record of pendingAudits.splice(0)) audit(record);
    if (kind === "changes_requested") {
      await notify(tx, principal, located, "review.changes_requested", `${principalLabel(principal)} requested changes on ${describe(app, updated)}.`, [request.authorId], { comment: input.body.slice(0, 500), finding: input.finding });
      return outcome(updated, { status });
    }
    if (!result) return outcome(updated, { status });
    return outcome(updated, { status: result.status ?? status, ...(result.blocked ? { blocked: result.blocked } : {}) }, result.published);
  },
});

/**
 * Publishes an approved request again (after its blockers were cleared or the baseline moved), by whoever writes
 * for the owning team. A publish the new judgement still blocks answers with `blocked` and keeps what it found.
 */
export const publishChangeRequest = defineCommand({
  permission: "contracts:write",
  input: publishInput,
  audit: ["change_request.reevaluate", "contract.publish"],
  auditOptional: true,
  authorize: authorizeRequest,
  run: async ({ tx, principal, input, target: located, audit }): Promise<ChangeRequestOutcome> => {
    await assertAuthorSide(tx, principal, located);
    if (located.request.state !== "approved") throw new MeshportError("conflict", `Change request #${located.request.number} is ${located.request.state.replace("_", " ")}, not approved.`, { subject: "not_approved" });
    assertCurrentRevision(located.request, input?.revision);
    const result = await publishApproved({ tx, principal, audit }, located);
    return outcome(result.request, { ...(result.status ? { status: result.status } : {}), ...(result.blocked ? { blocked: result.blocked } : {}) }, result.published);
  },
});

/** An admin publishes a request without its approvals, for a written reason recorded on the version. */
export const overrideChangeRequest = defineCommand({
  permission: "users:manage",
  input: overrideInput,
  audit: ["change_request.override", "change_request.reevaluate", "contract.publish"],
  authorize: authorizeRequest,
  run: async ({ tx, principal, input, target: located, audit }): Promise<ChangeRequestOutcome> => {
    const { request, app } = located;
    assertOpen(request);
    assertCurrentRevision(request, input.revision);
    await addEvent(tx, principal, request, "override", { body: input.reason });
    audit({ action: "change_request.override", targetType: "change_request", targetId: request.id, details: { application: app.slug, number: request.number, revision: request.revision, reason: input.reason, before: { state: request.state } } });
    const result = await publishApproved({ tx, principal, audit }, located, input.reason);
    // Nothing of an override that cannot publish is kept: the admin is told why, the request is as it was.
    if (result.blocked) throw new MeshportError("conflict", `Change request #${request.number} cannot publish, even by override: ${result.blocked}`, { subject: "publish_blocked" });
    return outcome(result.request, {}, result.published);
  },
});

async function close(
  ctx: { tx: Transaction; principal: Principal; audit: (record: { targetType: string; targetId: string; details?: Record<string, unknown> }) => void },
  located: Located,
  state: "rejected" | "withdrawn",
  reason: string,
): Promise<ChangeRequestOutcome> {
  const { tx, principal, audit } = ctx;
  const { request, app } = located;
  const updated = await updateRequest(tx, request, { state, closedAt: new Date() });
  await addEvent(tx, principal, updated, state, { body: reason });
  audit({ targetType: "change_request", targetId: request.id, details: { application: app.slug, number: request.number, reason, before: { state: request.state }, after: { state } } });
  const reviewers = await reviewersOf(tx, request.id);
  await notify(tx, principal, { request: updated, app }, state === "rejected" ? "review.rejected" : "review.withdrawn", `${describe(app, updated)} was ${state} by ${principalLabel(principal)}.`, [...(await participants(tx, request)), ...(await deciders(tx, reviewers.map((r) => r.teamId)))], { reason });
  return outcome(updated);
}

/** Rejects a request: a reviewer of the owning team, or an admin. */
export const rejectChangeRequest = defineCommand({
  permission: "reviews:decide",
  input: reasonInput,
  audit: "change_request.reject",
  authorize: authorizeRequest,
  run: async ({ tx, principal, input, target: located, audit }): Promise<ChangeRequestOutcome> => {
    assertOpen(located.request);
    const isAdmin = principal.kind === "system" || (principal.kind === "user" && principal.role === "admin");
    if (!isAdmin) {
      const teams = await decidingTeams(tx, principal, [{ teamId: located.app.teamId, reason: "owner", requiredApprovals: 0, applications: [] }]);
      if (teams.length === 0) throw new MeshportError("forbidden", "Only reviewers of the owning team, or admins, can reject a change request.", { subject: "not_reviewer" });
    }
    return close({ tx, principal, audit }, located, "rejected", input.reason);
  },
});

/** Withdraws a request: its author, whoever writes for the owning team, or an admin. */
export const withdrawChangeRequest = defineCommand({
  permission: "contracts:write",
  input: reasonInput,
  audit: "change_request.withdraw",
  authorize: authorizeRequest,
  run: async ({ tx, principal, input, target: located, audit }): Promise<ChangeRequestOutcome> => {
    assertOpen(located.request);
    await assertAuthorSide(tx, principal, located);
    return close({ tx, principal, audit }, located, "withdrawn", input.reason);
  },
});

/**
 * {@link openCommand}, with the principal's right to write for the application checked before the upload is
 * parsed: a caller who may not propose here costs the portal no parse.
 */
export async function openChangeRequest(principal: Principal, appSlug: string, input: unknown): Promise<ChangeRequestOutcome> {
  assertCan(principal, "contracts:write");
  const db = await getDb();
  const [app] = await db.select({ teamId: application.teamId }).from(application).where(eq(application.slug, appSlug));
  if (!app) throw new MeshportError("not_found", `No application ${appSlug}.`, { subject: "application" });
  await assertWritesForTeam(db, principal, app.teamId);
  return openCommand(principal, appSlug, input);
}

/** {@link reviseCommand}, with the right to write for the request's application checked before the upload is parsed. */
export async function reviseChangeRequest(principal: Principal, number: string, input: unknown): Promise<ChangeRequestOutcome> {
  assertCan(principal, "contracts:write");
  const db = await getDb();
  const parsed = /^[0-9]{1,10}$/.test(number) ? Number(number) : NaN;
  const [found] = Number.isSafeInteger(parsed)
    ? await db.select({ teamId: application.teamId }).from(changeRequest).innerJoin(application, eq(application.id, changeRequest.applicationId)).where(eq(changeRequest.number, parsed))
    : [];
  if (!found) throw new MeshportError("not_found", `No change request ${number.slice(0, 40)}.`, { subject: "change_request" });
  await assertWritesForTeam(db, principal, found.teamId);
  return reviseCommand(principal, number, input);
}
