import type { CompareReport, Diagnostic, Finding } from "../types.ts";

/** The JSON form of a report, as issue 3 specifies it for `meshport diff --format json`. */
export interface JsonReport {
  compatible: boolean;
  mode: string;
  semver: string;
  upgradeOrder: string;
  changes: {
    rule: string;
    category: string;
    verdict: string;
    breaks: string;
    path: string;
    message: string;
    previousPath?: string;
    currentPath?: string;
    schemaPath?: string;
    baseline?: number;
  }[];
}

const pathOf = (f: Finding): string => f.currentPath ?? f.previousPath ?? "";

/** Converts a compare report to its JSON form. */
export function toJsonReport(report: CompareReport): JsonReport {
  return {
    compatible: report.compatible,
    mode: report.mode,
    semver: report.semver,
    upgradeOrder: report.upgradeOrder,
    changes: report.findings.map((f) => ({
      rule: f.rule,
      category: f.category,
      verdict: f.verdict,
      breaks: f.breaks,
      path: pathOf(f),
      message: f.message,
      ...(f.previousPath !== undefined ? { previousPath: f.previousPath } : {}),
      ...(f.currentPath !== undefined ? { currentPath: f.currentPath } : {}),
      ...(f.schemaPath !== undefined ? { schemaPath: f.schemaPath } : {}),
      ...(f.baseline !== undefined ? { baseline: f.baseline } : {}),
    })),
  };
}

const ORDER = { breaking: 0, unclassified: 1, "non-breaking": 2 } as const;
const sorted = (findings: readonly Finding[]) => [...findings].sort((a, b) => ORDER[a.verdict] - ORDER[b.verdict]);

/** Plain-text report for terminals. */
export function formatText(report: CompareReport): string {
  const lines = [
    `${report.compatible ? "Compatible" : "INCOMPATIBLE"} under ${report.mode}; suggested bump: ${report.semver}; upgrade order: ${report.upgradeOrder}.`,
  ];
  if (report.findings.length === 0) lines.push("No changes.");
  for (const f of sorted(report.findings)) {
    const who = f.breaks !== "none" ? ` [breaks ${f.breaks}]` : "";
    lines.push(`${f.verdict.padEnd(12)} ${f.rule}${who}: ${f.message}${f.baseline !== undefined ? ` (against older version #${f.baseline + 1})` : ""}`);
    lines.push(`${" ".repeat(13)}at ${pathOf(f)}`);
  }
  return lines.join("\n") + "\n";
}

const md = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** Markdown report (pull request comments, the portal's review page). */
export function formatMarkdown(report: CompareReport): string {
  const head = `### ${report.compatible ? "✅ Compatible" : "❌ Incompatible"} under \`${report.mode}\`\n\nSuggested version bump: **${report.semver}** · upgrade order: **${report.upgradeOrder}**\n`;
  if (report.findings.length === 0) return head + "\nNo changes.\n";
  const rows = sorted(report.findings).map((f) => `| ${f.verdict} | \`${f.rule}\` | ${f.category} | ${f.breaks} | ${md(f.message)} | \`${md(pathOf(f))}\` |`);
  return `${head}\n| Verdict | Rule | Category | Breaks | Change | Path |\n|---|---|---|---|---|---|\n${rows.join("\n")}\n`;
}

/** Where a finding sits in a file, for annotations. */
export type Locate = (finding: Finding) => { file: string; line?: number; column?: number } | undefined;

const escapeData = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");

/** GitHub Actions workflow commands: `::error` for breaking, `::warning` for unclassified, `::notice` for the rest. */
export function formatGithub(report: CompareReport, locate?: Locate): string {
  const lines = report.findings.map((f) => {
    const level = f.verdict === "breaking" ? "error" : f.verdict === "unclassified" ? "warning" : "notice";
    const where = locate?.(f);
    const props = [
      ...(where ? [`file=${escapeProperty(where.file)}`] : []),
      ...(where?.line !== undefined ? [`line=${where.line}`] : []),
      ...(where?.column !== undefined ? [`col=${where.column}`] : []),
      `title=${escapeProperty(f.rule)}`,
    ];
    return `::${level} ${props.join(",")}::${escapeData(f.message)}`;
  });
  lines.push(`::${report.compatible ? "notice" : "error"} title=meshport::${report.compatible ? "Compatible" : "Incompatible"} under ${report.mode}; suggested bump ${report.semver}`);
  return lines.join("\n") + "\n";
}

/** Formats diagnostics one a line: `file:line:column severity code message`. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .map((d) => `${d.file}${d.line !== undefined ? `:${d.line}:${d.column ?? 1}` : ""} ${d.severity} ${d.code} ${d.message}${d.path.length > 0 ? ` (at /${d.path.join("/")})` : ""}`)
    .join("\n") + (diagnostics.length > 0 ? "\n" : "");
}
