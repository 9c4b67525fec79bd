import { diffContracts } from "./diff/index.ts";
import { MODE_POLICIES, classify, type VerdictOverrides } from "./policies.ts";
import { ruleById } from "./rules/index.ts";
import { suggestSemver } from "./semver.ts";
import type { CompareReport, CompatibilityMode, Contract, Finding } from "./types.ts";

/** Options of {@link compare}. */
export interface CompareOptions {
  /** Compatibility mode; default BACKWARD (Confluent's default). */
  mode?: CompatibilityMode;
  /** Earlier versions, newest first, checked too under a transitive mode. */
  against?: readonly Contract[];
  /** Verdict overrides by rule id. */
  overrides?: VerdictOverrides;
}

/**
 * Compares two normalised contracts under a compatibility mode and returns every change classified.
 * @example compare(previous, current, { mode: "FULL" }).compatible
 */
export function compare(previous: Contract, current: Contract, options: CompareOptions = {}): CompareReport {
  const mode = options.mode ?? "BACKWARD";
  const changes = diffContracts(previous, current);
  const findings: Finding[] = changes.map((c) => classify(c, mode, options.overrides));
  if (MODE_POLICIES[mode].transitive) {
    // Transitive: the current version must also be compatible with every earlier version given (Confluent *_TRANSITIVE).
    const seen = new Set(findings.map((f) => `${f.rule} ${f.currentPath ?? f.previousPath}`));
    (options.against ?? []).forEach((older, baseline) => {
      for (const change of diffContracts(older, current)) {
        change.baseline = baseline;
        const finding = classify(change, mode, options.overrides);
        const key = `${finding.rule} ${finding.currentPath ?? finding.previousPath}`;
        if (finding.verdict !== "breaking" || seen.has(key)) continue;
        seen.add(key);
        findings.push(finding);
      }
    });
  }
  // Semver follows BACKWARD whatever the mode checked, against the previous version only.
  const semver = suggestSemver(changes);
  return { compatible: !findings.some((f) => f.verdict === "breaking"), mode, semver, findings, upgradeOrder: upgradeOrder(findings) };
}

/** Confluent's upgrade guidance: BACKWARD-only changes upgrade consumers first, FORWARD-only producers first. */
function upgradeOrder(findings: readonly Finding[]): CompareReport["upgradeOrder"] {
  // A structural break cannot be sequenced away: both sides change together.
  if (findings.some((f) => f.backward === undefined && ruleById(f.rule)?.defaultVerdict === "breaking")) return "coordinated";
  const schema = findings.filter((f) => f.backward !== undefined);
  const backward = schema.every((f) => f.backward);
  const forward = schema.every((f) => f.forward);
  if (backward && forward) return "any";
  if (backward) return "consumers-first";
  if (forward) return "producers-first";
  return "coordinated";
}
