import type { ReactNode } from "react";
import type { DiffLine } from "@/lib/contracts/diff.ts";
import type { Finding } from "@/registry/index.ts";

/** A line diff of two documents with each finding beside the line it is about (the compare and review pages). */
export function DiffTable({ lines, renderFinding }: { lines: readonly DiffLine[]; renderFinding: (finding: Finding, key: number) => ReactNode }) {
  return (
    <table className="table diff-table">
      <colgroup>
        <col style={{ width: "3rem" }} />
        <col style={{ width: "3rem" }} />
        <col />
        <col style={{ width: "38%" }} />
      </colgroup>
      <tbody>
        {lines.map((line, i) => {
          const previous = lines[i - 1];
          // A dashed rule where unchanged lines were left out.
          const gap = previous !== undefined && (line.currentLine ?? line.previousLine ?? 0) - (previous.currentLine ?? previous.previousLine ?? 0) > 1;
          return (
            <tr key={i} className={`${line.kind === "added" ? "diff-line-add" : line.kind === "removed" ? "diff-line-del" : ""}${gap ? " diff-gap" : ""}`.trim() || undefined}>
              <td className="muted">{line.previousLine ?? ""}</td>
              <td className="muted">{line.currentLine ?? ""}</td>
              <td className="diff-code">
                {line.kind === "added" ? "+ " : line.kind === "removed" ? "- " : "  "}
                {line.text}
              </td>
              <td className="small">{line.findings.map((f, j) => renderFinding(f, j))}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
