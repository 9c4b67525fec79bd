/**
 * How the Reviews pages word change requests: states, history, findings and impact. Pure, so the list, the
 * request page and their forms say the same thing.
 */
import type { ChangeRequestSummary, ChangeRequestView } from "@/lib/reviews/queries.ts";
import type { ChangeEvaluation, Finding } from "@/registry/index.ts";
import type { AffectedApplication, ImpactEvidence, UpgradeFirst } from "@/registry/impact/index.ts";

type ChangeRequestState = ChangeRequestSummary["state"];
type EventKind = ChangeRequestView["events"][number]["kind"];

/** A state as people read it ("changes requested"). */
export const STATE_LABELS: Record<ChangeRequestState, string> = {
  open: "open",
  changes_requested: "changes requested",
  approved: "approved",
  published: "published",
  rejected: "rejected",
  withdrawn: "withdrawn",
};

/** The states the list filters on, with "active" for the three that can still change. */
export const STATE_FILTERS: ReadonlyArray<{ value: string; label: string }> = [
  { value: "", label: "any state" },
  { value: "active", label: "active (open, changes requested, approved)" },
  ...Object.entries(STATE_LABELS).map(([value, label]) => ({ value, label })),
];

/** What each kind of event says happened. */
export const EVENT_LABELS: Record<EventKind, string> = {
  opened: "opened the request",
  revised: "submitted revision",
  comment: "commented",
  approved: "approved",
  changes_requested: "requested changes",
  reevaluated: "re-evaluated",
  publish_blocked: "publish blocked",
  published: "published",
  override: "published with an override",
  rejected: "rejected",
  withdrawn: "withdrew the request",
};

/** The finding a comment or decision is about, as the services take it. */
export interface FindingRef {
  rule: string;
  path: string | null;
  baseline?: string | null;
}

/** The version a finding of the evaluation's report was found against (transitive modes judge earlier ones too). */
export function findingBaseline(finding: Pick<Finding, "baseline">, evaluation: Pick<ChangeEvaluation, "baseline" | "against">): string | null {
  if (finding.baseline === undefined) return evaluation.baseline;
  return evaluation.against[finding.baseline + 1]?.version ?? evaluation.baseline;
}

/** The reference a comment on this finding stores. */
export function findingRefOf(finding: Pick<Finding, "rule" | "currentPath" | "previousPath" | "baseline">, evaluation: Pick<ChangeEvaluation, "baseline" | "against">): FindingRef {
  return { rule: finding.rule, path: finding.currentPath ?? finding.previousPath ?? null, baseline: findingBaseline(finding, evaluation) };
}

/** The value of a finding in a form's select: stable for the same finding, read back by {@link parseFindingKey}. */
export function findingKey(ref: FindingRef): string {
  return JSON.stringify([ref.rule, ref.path, ref.baseline ?? null]);
}

/** Longest select value read back: a rule id, a path and a version as the services bound them. */
const MAX_KEY = 2400;

/** A finding select's value back as a reference; null for "(whole request)" or anything malformed. */
export function parseFindingKey(value: string | undefined): FindingRef | null {
  if (!value || value.length > MAX_KEY) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) return null;
  const [rule, path, baseline] = parsed as unknown[];
  if (typeof rule !== "string" || rule === "") return null;
  if (path !== null && typeof path !== "string") return null;
  if (baseline !== null && typeof baseline !== "string") return null;
  return { rule, path, baseline };
}

/** Whether a stored finding reference names the same finding. */
export function sameFinding(a: FindingRef | null | undefined, b: FindingRef | null | undefined): boolean {
  if (!a || !b) return false;
  return a.rule === b.rule && a.path === b.path && (a.baseline ?? null) === (b.baseline ?? null);
}

/** Longest option label of a finding select. */
const MAX_LABEL = 140;

/** How a finding reads in a select and beside a comment: its rule, where it is, and the version it was found against unless that is the baseline. */
export function findingLabel(ref: FindingRef, baseline?: string | null): string {
  const where = ref.path ? ` at ${ref.path}` : "";
  const against = ref.baseline && ref.baseline !== baseline ? ` (against ${ref.baseline})` : "";
  const text = `${ref.rule}${where}${against}`;
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

/** Most findings a select lists; a change with more is commented on as a whole or by rule. */
export const MAX_FINDING_OPTIONS = 200;

/** The options of a "Finding" select: the whole request, then each finding of the report once. */
export function findingOptions(evaluation: Pick<ChangeEvaluation, "baseline" | "against" | "report">): Array<{ value: string; label: string }> {
  const options = [{ value: "", label: "(whole request)" }];
  const seen = new Set<string>();
  for (const finding of evaluation.report?.findings ?? []) {
    const ref = findingRefOf(finding, evaluation);
    const value = findingKey(ref);
    if (seen.has(value)) continue;
    seen.add(value);
    options.push({ value, label: findingLabel(ref, evaluation.baseline) });
    if (options.length > MAX_FINDING_OPTIONS) break;
  }
  return options;
}

/** Why a piece of evidence says the application is affected: declared by its contract, or observed by an agent. */
export function evidenceText(evidence: ImpactEvidence): { kind: "declared" | "observed"; text: string } {
  if (evidence.kind === "contract") return { kind: "declared", text: `contract ${evidence.version}, channel ${evidence.channel}` };
  return { kind: "observed", text: `broker ${evidence.brokerId}, client id ${evidence.clientId}, topic ${evidence.filter ?? evidence.template}` };
}

/** A reviewer team's state as people read it. */
export const REVIEWER_STATE_LABELS: Record<"approved" | "changes_requested" | "pending" | "not_required", string> = {
  approved: "approved",
  changes_requested: "changes requested",
  pending: "pending",
  not_required: "not required",
};

/** Why a team is asked to review. */
export function reviewerReasonText(reason: "owner" | "consumer" | "producer", applications: readonly string[]): string {
  if (reason === "owner") return "owning team";
  const apps = applications.length > 0 ? ` of ${applications.join(", ")}` : "";
  return `${reason === "consumer" ? "consumer" : "producer"} team${apps}`;
}

/** The approvals a team must give, in words. */
export function requiredApprovalsText(required: number): string {
  if (required === 0) return "asked, no approval required";
  return `${required} approval${required === 1 ? "" : "s"} required`;
}

/** Which side upgrades first, about one affected application. */
export function upgradeFirstText(app: Pick<AffectedApplication, "upgradeFirst" | "upgrade" | "application">, ownerName: string): string | null {
  if (app.upgrade) return app.upgrade;
  const first: Record<UpgradeFirst, string> = {
    counterpart: `${app.application.name} upgrades first`,
    owner: `${ownerName} upgrades first`,
    either: "either side may upgrade first",
    together: "both sides upgrade together",
  };
  return app.upgradeFirst ? first[app.upgradeFirst] : null;
}

/** The Reviews list's views. */
export type ReviewsView = "waiting" | "mine" | "all";

/** The list's filters as the page reads them from the query. */
export interface ReviewsFilters {
  state?: string;
  app?: string;
  team?: string;
  breaking?: "true" | "false";
}

/** What an empty list says: which view and which filters found nothing. */
export function emptyListText(view: ReviewsView, filters: ReviewsFilters, paged: boolean): { title: string; body: string } {
  const named: string[] = [];
  if (filters.state) named.push(`state ${filters.state === "active" ? "active" : (STATE_LABELS[filters.state as ChangeRequestState] ?? filters.state)}`);
  if (filters.app) named.push(`application ${filters.app}`);
  if (filters.team) named.push(`team ${filters.team}`);
  if (filters.breaking) named.push(filters.breaking === "true" ? "breaking changes only" : "compatible changes only");
  const scope = named.length > 0 ? ` with ${named.join(", ")}` : "";
  if (paged) return { title: "No older change requests", body: `There are no older change requests in this view${scope}.` };
  if (view === "waiting") {
    return {
      title: named.length > 0 ? "Nothing waiting for you matches these filters" : "Nothing waits for your review",
      body: `No open change request${scope} asks a team of yours to review it without a decision of yours on its current revision.`,
    };
  }
  if (view === "mine") {
    return {
      title: named.length > 0 ? "None of your change requests matches these filters" : "You have not opened any change request",
      body: `You opened no change request${scope}. Open one from an application's publish page with "Submit for review".`,
    };
  }
  return {
    title: named.length > 0 ? "No change request matches these filters" : "No change requests yet",
    body: named.length > 0 ? `No change request${scope}.` : "Proposed contract versions wait here for review: whether the change is compatible under the contract's mode, which consumers it would break, and the version bump it needs.",
  };
}

/** The link to the list with a view and filters (empty values dropped). */
export function reviewsHref(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `/reviews?${text}` : "/reviews";
}
