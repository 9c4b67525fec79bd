import "server-only";
import { eq } from "drizzle-orm";
import { diffLines } from "diff";
import { getDb } from "@/db/client.ts";
import { application } from "@/db/schema.ts";
import { compareSemver, evaluateChange, parseSemver, type ChangeEvaluation, type CompareReport, type Finding } from "@/registry/index.ts";
import { locator } from "@/registry/parse/positions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { getVersion } from "@/lib/catalog/applications.ts";
import { MeshportError } from "@/lib/errors.ts";
import { policyOf, storedVersionsOf } from "./evaluate.ts";

/** One line of a unified diff, with the findings that point at it. */
export interface DiffLine {
  kind: "same" | "added" | "removed";
  previousLine: number | null;
  currentLine: number | null;
  text: string;
  findings: Finding[];
}

/** Two versions compared: the engine's report and the root documents' line diff, findings placed on their lines. */
export interface VersionDiff {
  previous: string;
  current: string;
  report: CompareReport;
  /** The evaluation a publish of `current` right after `previous` would make: version findings, lint, blockers. */
  evaluation: ChangeEvaluation;
  lines: DiffLine[];
  /** Findings whose path could not be placed on a line (shown above the diff). */
  unplaced: Finding[];
}

// Long unchanged stretches are cut to this much context around changes.
const CONTEXT = 4;

/** Compares two versions of an application under its mode and lays the findings beside the changed lines. */
export async function diffVersions(principal: Principal, appSlug: string, previous: string, current: string): Promise<VersionDiff> {
  if (previous === current) throw new MeshportError("invalid_input", "Choose two different versions.");
  const [before, after] = await Promise.all([getVersion(principal, appSlug, previous), getVersion(principal, appSlug, current)]);
  const db = await getDb();
  const [app] = await db.select().from(application).where(eq(application.slug, appSlug));
  if (!app) throw new MeshportError("not_found", `No application ${appSlug}.`, { subject: "application" });
  // The history as it stood when `previous` was the latest: the same evaluation a publish makes, transitive modes included.
  const floor = parseSemver(before.version);
  const below = (version: string) => {
    const parsed = parseSemver(version);
    return floor !== null && parsed !== null && compareSemver(parsed, floor) < 0;
  };
  const history = (await storedVersionsOf(db, app.id))
    .filter((v) => v.id !== after.id && (v.id === before.id || below(v.version)))
    .map((v) => (v.id === before.id && v.state === "draft" ? { ...v, state: "released" as const } : v));
  const evaluation = evaluateChange({ contract: after.contract, diagnostics: [], version: after.version }, history, policyOf(app));
  const report = evaluation.report!;
  const { lines, unplaced } = diffWithFindings(before.files[before.rootFile] ?? "", after.files[after.rootFile] ?? "", report.findings);
  return { previous: before.version, current: after.version, report, evaluation, lines, unplaced };
}

/**
 * The line diff of two root documents with each finding beside the line its path points at (in the current
 * document, else in the previous one); long unchanged stretches are cut to a few lines of context.
 */
export function diffWithFindings(beforeText: string, afterText: string, findings: readonly Finding[]): { lines: DiffLine[]; unplaced: Finding[] } {
  const locatePrevious = locator(beforeText);
  const locateCurrent = locator(afterText);
  const toKeys = (pointer: string) =>
    pointer
      .split("/")
      .slice(1)
      .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
  const byCurrentLine = new Map<number, Finding[]>();
  const byPreviousLine = new Map<number, Finding[]>();
  const unplaced: Finding[] = [];
  for (const finding of findings) {
    const currentPos = finding.currentPath ? locateCurrent(toKeys(finding.currentPath)) : undefined;
    if (currentPos) {
      (byCurrentLine.get(currentPos.line) ?? byCurrentLine.set(currentPos.line, []).get(currentPos.line)!).push(finding);
      continue;
    }
    const previousPos = finding.previousPath ? locatePrevious(toKeys(finding.previousPath)) : undefined;
    if (previousPos) (byPreviousLine.get(previousPos.line) ?? byPreviousLine.set(previousPos.line, []).get(previousPos.line)!).push(finding);
    else unplaced.push(finding);
  }
  const all: DiffLine[] = [];
  let previousLine = 1;
  let currentLine = 1;
  for (const part of diffLines(beforeText, afterText)) {
    const texts = part.value.replace(/\n$/, "").split("\n");
    for (const text of texts) {
      if (part.added) {
        all.push({ kind: "added", previousLine: null, currentLine, text, findings: byCurrentLine.get(currentLine) ?? [] });
        currentLine += 1;
      } else if (part.removed) {
        all.push({ kind: "removed", previousLine, currentLine: null, text, findings: byPreviousLine.get(previousLine) ?? [] });
        previousLine += 1;
      } else {
        all.push({
          kind: "same",
          previousLine,
          currentLine,
          text,
          findings: [...(byCurrentLine.get(currentLine) ?? []), ...(byPreviousLine.get(previousLine) ?? [])],
        });
        previousLine += 1;
        currentLine += 1;
      }
    }
  }
  const keep = new Set<number>();
  all.forEach((line, i) => {
    if (line.kind !== "same" || line.findings.length > 0) for (let j = i - CONTEXT; j <= i + CONTEXT; j++) keep.add(j);
  });
  return { lines: all.filter((_, i) => keep.has(i)), unplaced };
}
