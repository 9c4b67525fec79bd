import { compare } from "./compare.ts";
import { lint, type LintFinding, type LintOptions } from "./lint/index.ts";
import { MODE_POLICIES, type VerdictOverrides } from "./policies.ts";
import { bumpBetween, bumpSatisfies, compareSemver, parseSemver, type SemverParts } from "./semver.ts";
import type { CompareReport, CompatibilityMode, Contract, Diagnostic, SemverBump } from "./types.ts";

/**
 * Change evaluation as a value: everything that decides whether a proposed version may be published, computed
 * from the proposal, the stored versions and the policy, with no I/O. Publishing, the diff page, reviews and the
 * CLI all call this, so what a page shows and what a publish does can never disagree; lib/ only commits what it
 * decided.
 */

/** Lifecycle states of a stored version. */
export type VersionState = "draft" | "released" | "deprecated" | "retired";

/** A version already stored, as the evaluation needs it. */
export interface StoredVersion {
  version: string;
  state: VersionState;
  contract: Contract;
}

/** The proposal: the parsed contract (absent when the document is invalid), its diagnostics, and its version. */
export interface ProposedChange {
  contract?: Contract;
  diagnostics: readonly Diagnostic[];
  /** The version it is offered as; defaults to the document's `info.version`. */
  version?: string;
}

/** What the owning application decided about changes. */
export interface ChangePolicy {
  mode: CompatibilityMode;
  /**
   * `review`: every change needs an approved change request; `direct` (the default): only a change that breaks
   * someone under the mode does (a new major version).
   */
  review?: "direct" | "review";
  overrides?: VerdictOverrides;
  lint?: LintOptions & {
    /** `block` refuses a publish with lint errors or warnings; the default `warn` only reports them. */
    policy?: "warn" | "block";
  };
}

/** A finding about the version number, as data. */
export interface VersionFinding {
  code: "not-semver" | "version-exists" | "not-above-latest" | "bump-too-small";
  message: string;
  /** The latest published version, the bump made and the bump needed, where they apply. */
  latest?: string;
  actual?: SemverBump;
  required?: SemverBump;
}

/**
 * One reason a direct publish is refused. `review` alone means the change may publish, through an approved
 * change request: it is the one blocker a change request's approval clears.
 */
export interface Blocker {
  kind: "invalid" | "version" | "incompatible" | "lint" | "review";
  message: string;
}

/** The blockers an approved change request still has to clear (all but the need for a review). */
export function blockersBeyondReview(evaluation: Pick<ChangeEvaluation, "blockers">): Blocker[] {
  return evaluation.blockers.filter((b) => b.kind !== "review");
}

/** The report against one stored version the mode requires the proposal to be judged against. */
export interface BaselineReport {
  version: string;
  report: CompareReport;
}

/** The whole evaluation of one proposed change. */
export interface ChangeEvaluation {
  /** Validation diagnostics of the proposal, as parsed. */
  diagnostics: Diagnostic[];
  /** The version number offered, and parsed (null when not semver). */
  version: string | null;
  semver: SemverParts | null;
  /** The latest version that is not a draft, which it is judged against; null for a first version. */
  baseline: string | null;
  /** The compare report against the baseline under the mode, transitive history included; null for a first version. */
  report: CompareReport | null;
  /** One report per version the mode requires (the baseline first, then earlier ones of the same line for transitive modes). */
  against: BaselineReport[];
  /** A new major version starts a line: breaking changes are allowed there (and recorded). */
  newMajor: boolean;
  versionFindings: VersionFinding[];
  lint: LintFinding[];
  /** The bump the change needs under the mode (major when incompatible), and the version it gives from the baseline. */
  suggestedBump: SemverBump;
  suggestedVersion: string | null;
  upgradeOrder: CompareReport["upgradeOrder"] | null;
  /** Why a direct publish would be refused; empty when it may publish. */
  blockers: Blocker[];
}

// Every version but a draft takes its number; a retired one still sets the bar a new version must pass.
const PUBLISHED: ReadonlySet<VersionState> = new Set(["released", "deprecated", "retired"]);

/** Versions, newest first by semver precedence; those whose number is not semver are left out. */
function bySemverDescending(stored: readonly StoredVersion[]): { v: StoredVersion; semver: SemverParts }[] {
  return stored
    .map((v) => ({ v, semver: parseSemver(v.version) }))
    .filter((x): x is { v: StoredVersion; semver: SemverParts } => x.semver !== null)
    .sort((a, b) => compareSemver(b.semver, a.semver));
}

/** The version a bump gives from a baseline (a version must go up: no change still suggests the next patch). */
export function bumpVersion(from: SemverParts, bump: SemverBump): string {
  if (bump === "major") return `${from.major + 1}.0.0`;
  if (bump === "minor") return `${from.major}.${from.minor + 1}.0`;
  // From a pre-release, the release itself is the next version.
  if (from.prerelease) return `${from.major}.${from.minor}.${from.patch}`;
  return `${from.major}.${from.minor}.${from.patch + 1}`;
}

/**
 * Evaluates a proposed version against the stored versions under the application's policy. Findings are data:
 * it throws only for a broken engine.
 * @example evaluateChange({ contract, diagnostics: [] }, stored, { mode: "BACKWARD" }).blockers.length === 0
 */
export function evaluateChange(proposed: ProposedChange, stored: readonly StoredVersion[], policy: ChangePolicy): ChangeEvaluation {
  const diagnostics = [...proposed.diagnostics];
  const blockers: Blocker[] = [];
  const errors = diagnostics.filter((d) => d.severity === "error");
  const contract = errors.length === 0 ? proposed.contract : undefined;
  const evaluation: ChangeEvaluation = {
    diagnostics,
    version: proposed.version ?? contract?.version ?? null,
    semver: null,
    baseline: null,
    report: null,
    against: [],
    newMajor: false,
    versionFindings: [],
    lint: [],
    suggestedBump: "none",
    suggestedVersion: null,
    upgradeOrder: null,
    blockers,
  };
  if (!contract) {
    blockers.push({ kind: "invalid", message: `The contract is not valid: ${errors[0]?.message ?? "it could not be read"}` });
    return evaluation;
  }

  evaluation.lint = lint(contract, policy.lint ?? {});
  if (policy.lint?.policy === "block") {
    const serious = evaluation.lint.filter((f) => f.severity === "error" || f.severity === "warning");
    if (serious.length > 0) blockers.push({ kind: "lint", message: `Lint reports ${serious.length} problem${serious.length === 1 ? "" : "s"} and this application blocks on lint: ${serious[0]!.message}` });
  }

  const versionText = evaluation.version ?? "";
  const semver = parseSemver(versionText);
  evaluation.semver = semver;
  const published = bySemverDescending(stored.filter((v) => PUBLISHED.has(v.state)));
  const latest = published[0];
  if (!semver) {
    evaluation.versionFindings.push({ code: "not-semver", message: `The version ${versionText || "(none)"} is not a semantic version (such as 1.4.0).` });
  } else if (stored.some((v) => v.version === versionText)) {
    evaluation.versionFindings.push({ code: "version-exists", message: `Version ${versionText} already exists with other content; versions are immutable.` });
  }
  if (!latest) {
    // A first version: nothing to judge it against, nobody it can break.
    for (const f of evaluation.versionFindings) blockers.push({ kind: "version", message: f.message });
    if (policy.review === "review") blockers.push({ kind: "review", message: "This application publishes every change through an approved change request." });
    return evaluation;
  }

  evaluation.baseline = latest.v.version;
  // The transitive modes judge against every earlier version of the line they govern (same major, not retired).
  const line = semver?.major ?? latest.semver.major;
  const earlier = published.filter((x) => x.v !== latest.v && x.v.state !== "retired" && x.semver.major === line && (!semver || compareSemver(x.semver, semver) < 0));
  const report = compare(latest.v.contract, contract, { mode: policy.mode, against: earlier.map((x) => x.v.contract), overrides: policy.overrides });
  evaluation.report = report;
  evaluation.upgradeOrder = report.upgradeOrder;
  // Incompatible under the application's mode, the change can only publish as a new major version.
  evaluation.suggestedBump = report.compatible ? report.semver : "major";
  evaluation.suggestedVersion = bumpVersion(latest.semver, evaluation.suggestedBump);
  evaluation.against = [{ version: latest.v.version, report }];
  if (MODE_POLICIES[report.mode].transitive) {
    for (const x of earlier) evaluation.against.push({ version: x.v.version, report: compare(x.v.contract, contract, { mode: policy.mode, overrides: policy.overrides }) });
  }

  if (semver) {
    evaluation.newMajor = semver.major > latest.semver.major;
    if (compareSemver(semver, latest.semver) <= 0) {
      evaluation.versionFindings.push({ code: "not-above-latest", message: `Version ${versionText} is not above the latest version ${latest.v.version}.`, latest: latest.v.version });
    } else {
      const bump = bumpBetween(latest.semver, semver);
      if (!bumpSatisfies(bump, report.semver)) {
        evaluation.versionFindings.push({
          code: "bump-too-small",
          message: `The changes need a ${report.semver} version bump from ${latest.v.version}, but ${versionText} is a ${bump === "none" ? "pre-release" : bump} bump.`,
          latest: latest.v.version,
          actual: bump,
          required: report.semver,
        });
      }
    }
  }
  for (const f of evaluation.versionFindings) blockers.push({ kind: "version", message: f.message });
  if (!report.compatible && !evaluation.newMajor) {
    const breaking = report.findings.filter((f) => f.verdict === "breaking").length;
    blockers.push({ kind: "incompatible", message: `The change is incompatible under ${report.mode}: ${breaking} breaking change${breaking === 1 ? "" : "s"}. Publish it as a new major version, or fix it.` });
  } else if (!report.compatible) {
    blockers.push({ kind: "review", message: `The change breaks consumers or producers under ${report.mode}: as a new major version it publishes through an approved change request.` });
  } else if (policy.review === "review") {
    blockers.push({ kind: "review", message: "This application publishes every change through an approved change request." });
  }
  return evaluation;
}
