import Link from "next/link";
import { formatCount } from "@/app/_components/format.ts";
import { Time } from "@/app/_components/time.tsx";
import type { FindingSummary } from "@/lib/drift/queries.ts";
import { ruleTitle } from "./format.ts";

/** A severity as a badge. */
export function SeverityBadge({ severity }: { severity: string }) {
  const className = severity === "error" ? "badge badge-error" : severity === "warning" ? "badge badge-warn" : "badge badge-muted";
  return (
    <span className={className} style={severity === "error" ? { background: "#fdecea", color: "#a4271b" } : undefined}>
      {severity}
    </span>
  );
}

/** A finding's status as a badge (with its resolution once resolved). */
export function StatusBadge({ status, resolution }: { status: string; resolution?: string | null }) {
  return (
    <span className={status === "open" ? "badge badge-warn" : "badge badge-muted"} data-status={status}>
      {status}
      {status === "resolved" && resolution ? ` (${resolution.replace("_", " ")})` : ""}
    </span>
  );
}

/** Where a finding is: broker and template, channel, client. */
export function FindingWhere({ f }: { f: FindingSummary }) {
  return (
    <>
      {f.template ? <code>{f.template}</code> : f.channel ? <code>{f.channel}</code> : null}
      {f.template && f.channel && f.template !== f.channel ? (
        <small className="muted">
          {" "}
          → <code>{f.channel}</code>
        </small>
      ) : null}
      {f.clientId ? (
        <small>
          {" "}
          client <code>{f.clientId}</code>
        </small>
      ) : null}
      {f.broker ? <small className="muted"> on {f.broker.name}</small> : null}
    </>
  );
}

/** The findings as a table, each linking to its page. */
export function FindingsTable({ findings, compact = false }: { findings: readonly FindingSummary[]; compact?: boolean }) {
  return (
    <table className="table" data-testid="drift-findings">
      <thead>
        <tr>
          <th>Severity</th>
          <th>Rule</th>
          <th>Finding</th>
          <th>Where</th>
          {compact ? null : <th>Application</th>}
          <th>Status</th>
          <th>Seen</th>
          <th>Last seen</th>
        </tr>
      </thead>
      <tbody>
        {findings.map((f) => (
          <tr key={f.id} data-testid="drift-finding-row" data-rule={f.rule}>
            <td>
              <SeverityBadge severity={f.severity} />
            </td>
            <td>{ruleTitle(f.rule)}</td>
            <td>
              <Link href={f.url}>{f.summary}</Link>
            </td>
            <td className="clients">
              <FindingWhere f={f} />
            </td>
            {compact ? null : (
              <td>
                {f.application ? <Link href={`/catalog/${encodeURIComponent(f.application.slug)}`}>{f.application.name}</Link> : <span className="muted">—</span>}
                {f.team ? <small className="muted"> · {f.team.name}</small> : null}
              </td>
            )}
            <td>
              <StatusBadge status={f.status} resolution={f.resolution} />
            </td>
            <td>{formatCount(f.occurrences)}</td>
            <td>
              <Time value={f.lastSeen} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
