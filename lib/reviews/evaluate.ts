import "server-only";
import { createHash } from "node:crypto";
import type { Executor } from "@/db/client.ts";
import type { Application } from "@/db/schema.ts";
import { evaluateChange, type ChangeEvaluation, type Contract, type Diagnostic, type Finding } from "@/registry/index.ts";
import type { Impact } from "@/registry/impact/index.ts";
import { policyOf, storedVersionsOf } from "@/lib/contracts/evaluate.ts";
import { approvalRuleFrom, reviewerTeams, type ReviewerTeam } from "./approval.ts";
import { loadImpact } from "./impact.ts";

/** A proposal judged against the application as it is now: what a revision stores. */
export interface RevisionJudgement {
  evaluation: ChangeEvaluation;
  impact: Impact;
  reviewers: ReviewerTeam[];
  /** The change breaks someone under the application's mode. */
  breaking: boolean;
  baselineKey: string;
}

/**
 * The fingerprint of what a proposal was judged against: every stored version and its state, and the
 * application's policy. A publish, a lifecycle change or a policy change elsewhere changes it, and the request
 * is judged again before it publishes.
 */
export function baselineKeyOf(app: Application, stored: ReadonlyArray<{ id: string; state: string }>): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(policyOf(app)));
  for (const v of [...stored].sort((a, b) => a.id.localeCompare(b.id))) hash.update(`\u0000${v.id}:${v.state}`);
  return `sha256:${hash.digest("hex")}`;
}

/** Every finding of an evaluation: against the baseline, then against the earlier versions a transitive mode reads. */
export function findingsOf(evaluation: ChangeEvaluation): Finding[] {
  if (evaluation.against.length === 0) return evaluation.report?.findings ?? [];
  return evaluation.against.flatMap((b) => b.report.findings);
}

/**
 * Judges a parsed proposal against the application's stored versions, finds whom it affects, and asks the
 * reviewer teams the approval rule names. Reads only; runs in the caller's transaction.
 */
export async function judgeProposal(
  db: Executor,
  app: Application,
  proposal: { contract: Contract; diagnostics: readonly Diagnostic[]; version: string },
): Promise<RevisionJudgement> {
  const stored = await storedVersionsOf(db, app.id);
  const evaluation = evaluateChange(proposal, stored, policyOf(app));
  const baseline = evaluation.baseline ? (stored.find((v) => v.version === evaluation.baseline)?.contract ?? null) : null;
  const impact = await loadImpact(db, app, baseline, proposal.contract, evaluation);
  const breaking = evaluation.report !== null && !evaluation.report.compatible;
  const reviewers = reviewerTeams(
    app.teamId,
    approvalRuleFrom(app.approvalRule),
    breaking ? impact.applications.filter((a) => a.application.id !== app.id).map((a) => ({ teamId: a.application.teamId, slug: a.application.slug, role: a.role, breaking: a.breaking })) : [],
  );
  return { evaluation, impact, reviewers, breaking, baselineKey: baselineKeyOf(app, stored) };
}
