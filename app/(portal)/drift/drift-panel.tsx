import Link from "next/link";
import { formatCount } from "@/app/_components/format.ts";
import { requireUser } from "@/app/_lib/session.ts";
import { driftSummary, listFindings } from "@/lib/drift/queries.ts";
import { FindingsTable } from "./findings-table.tsx";
import { driftHref, RULES } from "./format.ts";

/** The findings a panel lists; the rest are a link away. */
const PANEL_LIMIT = 10;

/** What a drift panel is about: an application (slug), a contract channel (address) or a broker (id). */
export type DriftScope = { application: string } | { channel: string } | { broker: string };

/**
 * The open drift of an application, a channel or a broker, for their pages: counts by rule, the first findings,
 * and a link to the dashboard filtered to the scope.
 */
export async function DriftPanel({ scope }: { scope: DriftScope }) {
  const principal = await requireUser();
  const filter = "application" in scope ? { application: scope.application } : "channel" in scope ? { channel: scope.channel } : { broker: scope.broker };
  const [summary, list] = await Promise.all([driftSummary(principal, filter), listFindings(principal, { ...filter, limit: PANEL_LIMIT })]);
  const href = driftHref(filter);
  const rules = RULES.filter((r) => (summary.byRule[r.id] ?? 0) > 0);
  return (
    <section className="panel" data-testid="drift-panel">
      <h2>
        Drift <small className="muted">({formatCount(summary.total)} open or acknowledged)</small>
      </h2>
      {summary.total === 0 ? (
        <p className="muted" data-testid="drift-panel-none">
          {summary.brokers.reported === 0
            ? "No broker reports yet, so nothing here has been compared with the traffic."
            : summary.brokers.reportingNow === 0
              ? "No broker reported recently, so nothing here is being compared with the traffic now."
              : "No open finding: what the agents observe matches the contract here."}
        </p>
      ) : (
        <>
          <p data-testid="drift-summary">
            {rules.map((r) => (
              <Link key={r.id} href={driftHref({ ...filter, rule: r.id })} className="chip" data-testid={`drift-summary-${r.id}`} title={r.doc}>
                {r.title} {formatCount(summary.byRule[r.id])}
              </Link>
            ))}
          </p>
          <FindingsTable findings={list.findings} compact={"application" in scope} />
          {list.total > list.findings.length ? (
            <p className="small">
              <Link href={href}>All {formatCount(list.total)} findings →</Link>
            </p>
          ) : null}
        </>
      )}
      <p className="small">
        <Link href={href}>Open in the drift dashboard</Link>
      </p>
    </section>
  );
}
