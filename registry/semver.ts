import { ruleById } from "./rules/index.ts";
import { verdictOf } from "./policies.ts";
import type { Change, SemverBump } from "./types.ts";

/**
 * Suggests the semver bump of a new version (issue 3): major when a change breaks under BACKWARD, minor for
 * additions, patch for documentation-only edits, none when nothing changed.
 */
export function suggestSemver(changes: readonly Change[]): SemverBump {
  if (changes.length === 0) return "none";
  if (changes.some((c) => verdictOf(c, "BACKWARD") === "breaking")) return "major";
  if (changes.some((c) => (ruleById(c.rule)?.bump ?? "minor") === "minor")) return "minor";
  return "patch";
}
