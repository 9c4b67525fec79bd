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

/** A parsed semantic version (build metadata ignored, as semver precedence does). */
export interface SemverParts {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

/** Parses `1.2.3`, `1.2.3-rc.1` (with optional `+build`); null when not semver. */
export function parseSemver(version: string): SemverParts | null {
  const m = SEMVER.exec(version.trim());
  if (!m) return null;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (parts.some((n) => !Number.isSafeInteger(n) || n > 2_147_483_647)) return null;
  return { major: parts[0]!, minor: parts[1]!, patch: parts[2]!, prerelease: m[4] ?? "" };
}

/** Semver precedence (semver.org §11): negative when a < b. */
export function compareSemver(a: SemverParts, b: SemverParts): number {
  for (const key of ["major", "minor", "patch"] as const) {
    if (a[key] !== b[key]) return a[key] - b[key];
  }
  if (a.prerelease === b.prerelease) return 0;
  // A pre-release ranks below its release.
  if (!a.prerelease) return 1;
  if (!b.prerelease) return -1;
  const left = a.prerelease.split(".");
  const right = b.prerelease.split(".");
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i];
    const y = right[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (xn !== yn) return xn ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The bump from one version to the next: which component went up first. */
export function bumpBetween(previous: SemverParts, next: SemverParts): "major" | "minor" | "patch" | "none" {
  if (next.major !== previous.major) return next.major > previous.major ? "major" : "none";
  if (next.minor !== previous.minor) return next.minor > previous.minor ? "minor" : "none";
  if (next.patch !== previous.patch) return next.patch > previous.patch ? "patch" : "none";
  return "none";
}

const BUMP_RANK = { none: 0, patch: 1, minor: 2, major: 3 } as const;

/** True when the bump is at least the required one. */
export function bumpSatisfies(actual: keyof typeof BUMP_RANK, required: keyof typeof BUMP_RANK): boolean {
  return BUMP_RANK[actual] >= BUMP_RANK[required];
}
