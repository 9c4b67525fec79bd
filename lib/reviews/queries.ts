import "server-only";
import { and, asc, count, desc, eq, inArray, lt, notExists, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client.ts";
import {
  application,
  changeRequest,
  changeRequestReviewer,
  changeRequestRevision,
  contractVersion,
  reviewEvent,
  team,
  teamMember,
  type ChangeRequestState,
  type ReviewEvent,
} from "@/db/schema.ts";
import type { ChangeEvaluation, Contract } from "@/registry/index.ts";
import type { Impact } from "@/registry/impact/index.ts";
import { can } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { defineQuery, noInput } from "@/lib/service.ts";
import { reviewStatus, type Decision, type ReviewStatus, type ReviewerTeam } from "./approval.ts";
import { changeRequestPath, OPEN_STATES } from "./requests.ts";

const STATES = ["open", "changes_requested", "approved", "published", "rejected", "withdrawn"] as const satisfies readonly ChangeRequestState[];

/** Filters of the Reviews list. */
export const listChangeRequestsInput = z
  .object({
    /** `waiting`: open requests a team of mine must review and I have not decided on; `mine`: I opened them. */
    view: z.enum(["waiting", "mine", "all"]).default("all"),
    state: z.enum([...STATES, "active"]).optional(),
    app: z.string().trim().min(1).max(100).optional(),
    team: z.string().trim().min(1).max(100).optional(),
    breaking: z.enum(["true", "false"]).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z.coerce.number().int().positive().max(2_147_483_647).optional(),
  })
  .default({ view: "all", limit: 50 });

/** One row of the Reviews list. */
export interface ChangeRequestSummary {
  id: string;
  number: number;
  title: string;
  state: ChangeRequestState;
  breaking: boolean;
  revision: number;
  application: { slug: string; name: string };
  team: { slug: string; name: string };
  authorLabel: string;
  version: string;
  createdAt: Date;
  updatedAt: Date;
  url: string;
}

type ListInput = z.output<typeof listChangeRequestsInput>;

/** The conditions of the Reviews list for the reader: the filters, and for `waiting` what the reader must still decide. */
function listConditions(db: Executor, principal: Principal, input: Omit<ListInput, "limit">): SQL[] {
  const where: SQL[] = [];
  if (input.before) where.push(lt(changeRequest.number, input.before));
  if (input.state === "active") where.push(inArray(changeRequest.state, [...OPEN_STATES]));
  else if (input.state) where.push(eq(changeRequest.state, input.state));
  if (input.app) where.push(eq(application.slug, input.app));
  if (input.team) where.push(eq(team.slug, input.team));
  if (input.breaking) where.push(eq(changeRequest.breaking, input.breaking === "true"));
  if (input.view === "mine") where.push(eq(changeRequest.authorId, principal.id));
  if (input.view === "waiting") {
    where.push(inArray(changeRequest.state, ["open", "changes_requested"]));
    where.push(sql`${changeRequest.authorId} <> ${principal.id}`);
    // A reviewer team I may decide for, and no decision of mine on the current revision yet.
    const decides = can(principal, "reviews:decide");
    where.push(sql`exists (select 1 from ${changeRequestReviewer} r join ${teamMember} m on m.team_id = r.team_id
      where r.change_request_id = ${changeRequest.id} and r.required_approvals > 0 and m.user_id = ${principal.id}
      ${decides ? sql`` : sql`and m.role = 'maintainer'`})`);
    where.push(
      notExists(
        db
          .select({ one: sql`1` })
          .from(reviewEvent)
          .where(
            and(
              eq(reviewEvent.changeRequestId, changeRequest.id),
              eq(reviewEvent.revision, changeRequest.revision),
              eq(reviewEvent.actorId, principal.id),
              or(eq(reviewEvent.kind, "approved"), eq(reviewEvent.kind, "changes_requested")),
            ),
          ),
      ),
    );
  }
  return where;
}

/** The Reviews list: waiting for me, mine, or all, with filters; newest first, paged by number. */
export const listChangeRequests = defineQuery({
  permission: "catalog:read",
  input: listChangeRequestsInput,
  run: async ({ db, principal, input }): Promise<{ requests: ChangeRequestSummary[]; nextBefore: number | null }> => {
    const where = listConditions(db, principal, input);
    const rows = await db
      .select({
        request: changeRequest,
        app: { slug: application.slug, name: application.name },
        team: { slug: team.slug, name: team.name },
        version: changeRequestRevision.version,
      })
      .from(changeRequest)
      .innerJoin(application, eq(application.id, changeRequest.applicationId))
      .innerJoin(team, eq(team.id, application.teamId))
      .innerJoin(changeRequestRevision, and(eq(changeRequestRevision.changeRequestId, changeRequest.id), eq(changeRequestRevision.number, changeRequest.revision)))
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(changeRequest.number))
      .limit(input.limit + 1);
    const page = rows.slice(0, input.limit);
    return {
      requests: page.map((r) => ({
        id: r.request.id,
        number: r.request.number,
        title: r.request.title,
        state: r.request.state,
        breaking: r.request.breaking,
        revision: r.request.revision,
        application: r.app,
        team: r.team,
        authorLabel: r.request.authorLabel,
        version: r.version,
        createdAt: r.request.createdAt,
        updatedAt: r.request.updatedAt,
        url: changeRequestPath(r.request.number),
      })),
      nextBefore: rows.length > input.limit ? page[page.length - 1]!.request.number : null,
    };
  },
});

/** A reviewer team as the request page shows it. */
export interface ReviewerView {
  team: { id: string; slug: string; name: string };
  reason: ReviewerTeam["reason"];
  requiredApprovals: number;
  applications: string[];
  approvedBy: string[];
  changesRequestedBy: string[];
  state: ReviewStatus["teams"][number]["state"];
}

/** One revision without its files (the page asks for the files of the revision it shows). */
export interface RevisionView {
  number: number;
  version: string;
  contentHash: string;
  rootFile: string;
  createdByLabel: string;
  createdAt: Date;
  evaluatedAt: Date;
}

/** Everything the request page shows. */
export interface ChangeRequestView {
  id: string;
  number: number;
  title: string;
  description: string;
  state: ChangeRequestState;
  breaking: boolean;
  authorId: string;
  authorLabel: string;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  url: string;
  application: { id: string; slug: string; name: string; team: { id: string; slug: string; name: string } };
  publishedVersion: string | null;
  /** The current revision, with its files, contract, evaluation and impact. */
  current: RevisionView & { files: Record<string, string>; contract: Contract; evaluation: ChangeEvaluation; impact: Impact };
  /** Every revision, newest first. */
  revisions: RevisionView[];
  reviewers: ReviewerView[];
  status: { satisfied: boolean; changesRequested: boolean };
  /** Revisions, comments, decisions and the outcome, oldest first. */
  events: ReviewEvent[];
  /** What the reader may do now. */
  can: { revise: boolean; decide: boolean; decideFor: string[]; reject: boolean; withdraw: boolean; override: boolean; publish: boolean; comment: boolean };
}

/** Most events the request page lists (the service caps a request's events at a similar number). */
const MAX_EVENTS_SHOWN = 2000;

/** One change request by number, with its current revision, reviewers, decisions and history. */
export const getChangeRequest = defineQuery({
  permission: "catalog:read",
  // Any text names no request unless it is a request's number: a page for a long or odd one is a 404.
  input: z.string(),
  run: async ({ db, principal, input: numberText }): Promise<ChangeRequestView> => {
    const number = /^[0-9]{1,10}$/.test(numberText) ? Number(numberText) : NaN;
    if (!Number.isSafeInteger(number) || number <= 0 || number > 2_147_483_647) throw new MeshportError("not_found", `No change request ${numberText.slice(0, 40)}.`, { subject: "change_request" });
    const [row] = await db
      .select({ request: changeRequest, app: application, team: { id: team.id, slug: team.slug, name: team.name } })
      .from(changeRequest)
      .innerJoin(application, eq(application.id, changeRequest.applicationId))
      .innerJoin(team, eq(team.id, application.teamId))
      .where(eq(changeRequest.number, number));
    if (!row) throw new MeshportError("not_found", `No change request #${number}.`, { subject: "change_request" });
    const { request, app } = row;
    const revisions = await db
      .select({
        number: changeRequestRevision.number,
        version: changeRequestRevision.version,
        contentHash: changeRequestRevision.contentHash,
        rootFile: changeRequestRevision.rootFile,
        createdByLabel: changeRequestRevision.createdByLabel,
        createdAt: changeRequestRevision.createdAt,
        evaluatedAt: changeRequestRevision.evaluatedAt,
      })
      .from(changeRequestRevision)
      .where(eq(changeRequestRevision.changeRequestId, request.id))
      .orderBy(desc(changeRequestRevision.number));
    const [current] = await db
      .select()
      .from(changeRequestRevision)
      .where(and(eq(changeRequestRevision.changeRequestId, request.id), eq(changeRequestRevision.number, request.revision)));
    const reviewerRows = await db
      .select({ reviewer: changeRequestReviewer, team: { id: team.id, slug: team.slug, name: team.name } })
      .from(changeRequestReviewer)
      .innerJoin(team, eq(team.id, changeRequestReviewer.teamId))
      .where(eq(changeRequestReviewer.changeRequestId, request.id));
    const events = await db.select().from(reviewEvent).where(eq(reviewEvent.changeRequestId, request.id)).orderBy(asc(reviewEvent.id)).limit(MAX_EVENTS_SHOWN);
    const decisions: Decision[] = events
      .filter((e) => e.kind === "approved" || e.kind === "changes_requested")
      .map((e) => ({ kind: e.kind as Decision["kind"], actorId: e.actorId, actorLabel: e.actorLabel, revision: e.revision, teamIds: e.teamIds, order: e.id }));
    const teams: ReviewerTeam[] = reviewerRows
      .map((r) => ({ teamId: r.reviewer.teamId, reason: r.reviewer.reason, requiredApprovals: r.reviewer.requiredApprovals, applications: r.reviewer.applications }))
      .sort((a, b) => (a.reason === "owner" ? -1 : b.reason === "owner" ? 1 : a.teamId.localeCompare(b.teamId)));
    const status = reviewStatus(teams, decisions, request.revision);
    const teamById = new Map(reviewerRows.map((r) => [r.team.id, r.team]));
    const open = OPEN_STATES.includes(request.state);
    const permissions = await readerPermissions(db, principal, { authorId: request.authorId, ownerTeamId: app.teamId, reviewerTeamIds: teams.map((t) => t.teamId) });
    let publishedVersion: string | null = null;
    if (request.publishedVersionId) {
      const [v] = await db.select({ version: contractVersion.version }).from(contractVersion).where(eq(contractVersion.id, request.publishedVersionId));
      publishedVersion = v?.version ?? null;
    }
    return {
      id: request.id,
      number: request.number,
      title: request.title,
      description: request.description,
      state: request.state,
      breaking: request.breaking,
      authorId: request.authorId,
      authorLabel: request.authorLabel,
      createdAt: request.createdAt,
      updatedAt: request.updatedAt,
      closedAt: request.closedAt,
      url: changeRequestPath(request.number),
      application: { id: app.id, slug: app.slug, name: app.name, team: row.team },
      publishedVersion,
      current: {
        number: current!.number,
        version: current!.version,
        contentHash: current!.contentHash,
        rootFile: current!.rootFile,
        createdByLabel: current!.createdByLabel,
        createdAt: current!.createdAt,
        evaluatedAt: current!.evaluatedAt,
        files: current!.files,
        contract: current!.contract,
        evaluation: current!.evaluation as unknown as ChangeEvaluation,
        impact: current!.impact as unknown as Impact,
      },
      revisions,
      reviewers: status.teams.map((t) => ({
        team: teamById.get(t.teamId) ?? { id: t.teamId, slug: t.teamId, name: t.teamId },
        reason: t.reason,
        requiredApprovals: t.requiredApprovals,
        applications: t.applications,
        approvedBy: t.approvedBy,
        changesRequestedBy: t.changesRequestedBy,
        state: t.state,
      })),
      status: { satisfied: status.satisfied, changesRequested: status.changesRequested },
      events,
      can: {
        revise: open && permissions.authorSide,
        decide: open && request.state !== "approved" && permissions.decideFor.length > 0 && principal.id !== request.authorId,
        decideFor: permissions.decideFor,
        reject: open && permissions.reject,
        withdraw: open && permissions.authorSide,
        override: open && permissions.admin,
        publish: request.state === "approved" && permissions.authorSide,
        comment: can(principal, "catalog:read") && (principal.kind === "user" || can(principal, "contracts:write")),
      },
    };
  },
});

/** What the reader may do on a request, from their role and memberships. */
async function readerPermissions(
  db: Executor,
  principal: Principal,
  request: { authorId: string; ownerTeamId: string; reviewerTeamIds: string[] },
): Promise<{ authorSide: boolean; decideFor: string[]; reject: boolean; admin: boolean }> {
  const admin = principal.kind === "system" || (principal.kind === "user" && principal.role === "admin");
  if (principal.kind !== "user") {
    const writes = can(principal, "contracts:write") && (principal.kind === "system" || principal.scopes.includes("admin") || principal.teamId === request.ownerTeamId);
    return { authorSide: writes, decideFor: [], reject: admin, admin };
  }
  const memberships = await db.select({ teamId: teamMember.teamId, role: teamMember.role }).from(teamMember).where(eq(teamMember.userId, principal.id));
  const decides = can(principal, "reviews:decide");
  const decideFor = memberships.filter((m) => request.reviewerTeamIds.includes(m.teamId) && (decides || m.role === "maintainer")).map((m) => m.teamId);
  const writesForOwner = can(principal, "contracts:write") && (admin || memberships.some((m) => m.teamId === request.ownerTeamId));
  return {
    authorSide: writesForOwner,
    decideFor,
    reject: admin || (decides && decideFor.includes(request.ownerTeamId)),
    admin,
  };
}

/** The files of one revision (the request page's diff of an earlier revision). */
export const changeRequestRevisionFiles = defineQuery({
  permission: "catalog:read",
  input: z.coerce.number().int().min(1).max(1000),
  run: async ({ db, input: revision }, requestId: string): Promise<{ files: Record<string, string>; rootFile: string; version: string } | null> => {
    const [row] = await db
      .select({ files: changeRequestRevision.files, rootFile: changeRequestRevision.rootFile, version: changeRequestRevision.version })
      .from(changeRequestRevision)
      .where(and(eq(changeRequestRevision.changeRequestId, requestId), eq(changeRequestRevision.number, revision)));
    return row ?? null;
  },
});

/** Requests the header's Reviews entry counts at most (it shows "99+" past 99); one more says there are more. */
export const WAITING_COUNT_CAP = 100;

/**
 * How many requests wait for the reader's review, up to {@link WAITING_COUNT_CAP} and one more when there are
 * more: counted in the database over the rows of the `waiting` list, none of them read.
 */
export const waitingCount = defineQuery({
  permission: "catalog:read",
  input: noInput,
  run: async ({ db, principal }): Promise<number> => {
    const where = listConditions(db, principal, { view: "waiting" });
    const waiting = db
      .select({ one: sql`1` })
      .from(changeRequest)
      .innerJoin(application, eq(application.id, changeRequest.applicationId))
      .innerJoin(team, eq(team.id, application.teamId))
      .innerJoin(changeRequestRevision, and(eq(changeRequestRevision.changeRequestId, changeRequest.id), eq(changeRequestRevision.number, changeRequest.revision)))
      .where(and(...where))
      .limit(WAITING_COUNT_CAP + 1)
      .as("waiting");
    const [row] = await db.select({ n: count() }).from(waiting);
    return row?.n ?? 0;
  },
});

/** The number of a change request by its id (a version page links the request that published it). */
export const changeRequestNumber = defineQuery({
  permission: "catalog:read",
  input: z.string().max(100),
  run: async ({ db, input: id }): Promise<number | null> => {
    const [row] = await db.select({ number: changeRequest.number }).from(changeRequest).where(eq(changeRequest.id, id));
    return row?.number ?? null;
  },
});
