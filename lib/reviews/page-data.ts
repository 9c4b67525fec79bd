import "server-only";
import type { Principal } from "@/lib/auth/principal.ts";
import { getVersion } from "@/lib/catalog/applications.ts";
import { diffWithFindings, type DiffLine } from "@/lib/contracts/diff.ts";
import { isMeshportError } from "@/lib/errors.ts";
import type { Finding } from "@/registry/index.ts";
import type { ChangeRequestView } from "./queries.ts";

/** A change request's current revision against its baseline version: the root documents' line diff with the findings beside the lines. */
export interface RequestDiff {
  /** The version it is judged against; null for a first version (every line is new). */
  baseline: string | null;
  /** The baseline's root document was found (a version deleted meanwhile leaves nothing to diff against). */
  baselineFound: boolean;
  lines: DiffLine[];
  /** Findings no line of either document holds, and those found against earlier versions (transitive modes). */
  unplaced: Finding[];
}

/**
 * The diff of a request's current revision against the version its evaluation judged it against, as the diff
 * view lays it out. Findings against earlier versions (transitive modes) point into documents not shown here,
 * so they are listed beside the diff unless the proposal's own path places them.
 */
export async function requestDiff(principal: Principal, request: Pick<ChangeRequestView, "application" | "current">): Promise<RequestDiff> {
  const { evaluation, files, rootFile } = request.current;
  const after = files[rootFile] ?? "";
  const findings = evaluation.report?.findings ?? [];
  const placeable = findings.filter((f) => f.baseline === undefined || f.currentPath);
  const elsewhere = findings.filter((f) => f.baseline !== undefined && !f.currentPath);
  let before = "";
  let baselineFound = false;
  if (evaluation.baseline) {
    try {
      const version = await getVersion(principal, request.application.slug, evaluation.baseline);
      before = version.files[version.rootFile] ?? "";
      baselineFound = true;
    } catch (error) {
      if (!isMeshportError(error) || error.kind !== "not_found") throw error;
    }
  }
  const { lines, unplaced } = diffWithFindings(before, after, placeable);
  return { baseline: evaluation.baseline, baselineFound, lines, unplaced: [...unplaced, ...elsewhere] };
}
