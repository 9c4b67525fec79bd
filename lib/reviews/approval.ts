/**
 * The approval rule of change requests, as pure functions over the reviewer teams and the decisions given on
 * the current revision: what each team still owes, and where the request stands. The services store events;
 * this decides what they mean, so the page, the API and the publish can never disagree.
 */

/** Approvals a change request needs: from the owning team, and from each affected team for a breaking change. */
export interface ApprovalRule {
  owner: number;
  consumer: number;
}

/** The rule when an application sets none. */
export const DEFAULT_APPROVAL_RULE: ApprovalRule = { owner: 1, consumer: 1 };

/** Why a team is asked to review. */
export type ReviewerReason = "owner" | "consumer" | "producer";

/** A team asked to review, with the approvals it must give. */
export interface ReviewerTeam {
  teamId: string;
  reason: ReviewerReason;
  requiredApprovals: number;
  /** The affected applications of this team (slugs); empty for the owner. */
  applications: string[];
}

/** One decision as stored: who, on which revision, for which teams. */
export interface Decision {
  kind: "approved" | "changes_requested";
  actorId: string;
  actorLabel: string;
  revision: number;
  teamIds: readonly string[];
  /** Order of the decision (the event id). */
  order: number;
}

/** Where one reviewer team stands on the current revision. */
export interface TeamReviewState {
  teamId: string;
  reason: ReviewerReason;
  requiredApprovals: number;
  applications: string[];
  /** People whose latest decision on this revision is an approval. */
  approvedBy: string[];
  /** People whose latest decision on this revision asks for changes. */
  changesRequestedBy: string[];
  state: "approved" | "changes_requested" | "pending" | "not_required";
}

/** Where the reviews of a change request stand. */
export interface ReviewStatus {
  teams: TeamReviewState[];
  /** Every required approval is given and nobody asks for changes. */
  satisfied: boolean;
  changesRequested: boolean;
}

/**
 * The reviewer teams of a change: the owning team, plus each team of an application the change breaks (when it
 * breaks someone). A team that owns both sides is asked once, as the owner, with the larger requirement.
 */
export function reviewerTeams(
  ownerTeamId: string,
  rule: ApprovalRule,
  affected: ReadonlyArray<{ teamId: string; slug: string; role: "consumer" | "producer"; breaking: boolean }>,
): ReviewerTeam[] {
  const teams = new Map<string, ReviewerTeam>();
  teams.set(ownerTeamId, { teamId: ownerTeamId, reason: "owner", requiredApprovals: rule.owner, applications: [] });
  for (const app of affected) {
    if (!app.breaking) continue;
    const known = teams.get(app.teamId);
    if (known) {
      if (known.reason !== "owner") {
        if (!known.applications.includes(app.slug)) known.applications.push(app.slug);
        // A team on both sides of a change is asked as a consumer: the side that breaks first.
        if (app.role === "consumer") known.reason = "consumer";
      } else {
        known.requiredApprovals = Math.max(known.requiredApprovals, rule.consumer);
        if (!known.applications.includes(app.slug)) known.applications.push(app.slug);
      }
      continue;
    }
    teams.set(app.teamId, { teamId: app.teamId, reason: app.role, requiredApprovals: rule.consumer, applications: [app.slug] });
  }
  const all = [...teams.values()];
  for (const team of all) team.applications.sort();
  // The owner first, then the others in a stable order.
  return [all[0]!, ...all.slice(1).sort((a, b) => a.teamId.localeCompare(b.teamId))];
}

/** Applies the rule to the decisions given on the current revision. */
export function reviewStatus(reviewers: readonly ReviewerTeam[], decisions: readonly Decision[], revision: number): ReviewStatus {
  // Each person's latest decision on this revision counts, for every team it was given for.
  const latest = new Map<string, Decision>();
  for (const d of [...decisions].filter((d) => d.revision === revision).sort((a, b) => a.order - b.order)) latest.set(d.actorId, d);
  const teams = reviewers.map((team): TeamReviewState => {
    const approvedBy: string[] = [];
    const changesRequestedBy: string[] = [];
    for (const d of latest.values()) {
      if (!d.teamIds.includes(team.teamId)) continue;
      (d.kind === "approved" ? approvedBy : changesRequestedBy).push(d.actorLabel);
    }
    approvedBy.sort();
    changesRequestedBy.sort();
    const state =
      changesRequestedBy.length > 0
        ? "changes_requested"
        : approvedBy.length >= team.requiredApprovals
          ? team.requiredApprovals === 0
            ? "not_required"
            : "approved"
          : "pending";
    return { teamId: team.teamId, reason: team.reason, requiredApprovals: team.requiredApprovals, applications: [...team.applications], approvedBy, changesRequestedBy, state };
  });
  const changesRequested = teams.some((t) => t.state === "changes_requested");
  return { teams, satisfied: !changesRequested && teams.every((t) => t.state === "approved" || t.state === "not_required"), changesRequested };
}

/** Reads a stored approval rule, with the defaults for what is missing or out of range. */
export function approvalRuleFrom(stored: unknown): ApprovalRule {
  const value = (stored ?? {}) as Partial<Record<keyof ApprovalRule, unknown>>;
  const count = (n: unknown, fallback: number) => (typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 10 ? n : fallback);
  return { owner: count(value.owner, DEFAULT_APPROVAL_RULE.owner), consumer: count(value.consumer, DEFAULT_APPROVAL_RULE.consumer) };
}
