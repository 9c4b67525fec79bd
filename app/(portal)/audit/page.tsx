import type { Metadata } from "next";
import Link from "next/link";
import { Time } from "@/app/_components/time.tsx";
import { requirePermission } from "@/app/_lib/session.ts";
import { listAudit, verifyAuditChain } from "@/lib/audit/audit.ts";
import { positiveInteger, queryText, type SearchParamValue } from "@/lib/http/page-query.ts";

export const metadata: Metadata = { title: "Audit" };

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<"before" | "action", SearchParamValue>> }) {
  const principal = await requirePermission("audit:read");
  const params = await searchParams;
  const query = { before: positiveInteger(params.before), action: queryText(params.action, 100) };
  const [{ entries, nextBefore }, chain] = await Promise.all([
    listAudit(principal, { limit: 50, before: query.before, action: query.action }),
    verifyAuditChain(principal),
  ]);
  return (
    <>
      <h1>Audit</h1>
      <p className={chain.ok ? "alert alert-ok" : "alert alert-error"} data-testid="audit-chain-status">
        {chain.ok
          ? `Hash chain intact: ${chain.entries} entries verified.`
          : `Hash chain broken at entry #${chain.brokenAt?.seq} (${chain.brokenAt?.reason.replace("_", " ")}): the log was altered.`}
      </p>
      {entries.length === 0 ? (
        <p className="muted">Nothing recorded yet. Every change to accounts, teams, tokens and contracts appears here.</p>
      ) : (
        <table className="table" data-testid="audit-table">
          <thead>
            <tr>
              <th>#</th>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td>
                  <Time value={e.at} />
                </td>
                <td>{e.actorLabel}</td>
                <td>
                  <Link href={`/audit?action=${encodeURIComponent(e.action)}`}>
                    <code>{e.action}</code>
                  </Link>
                </td>
                <td>
                  {e.targetType} <code className="muted">{e.targetId}</code>
                </td>
                <td>
                  <code className="details">{JSON.stringify(e.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextBefore ? (
        <p>
          <Link href={`/audit?before=${nextBefore}${query.action ? `&action=${encodeURIComponent(query.action)}` : ""}`}>
            Older entries →
          </Link>
        </p>
      ) : null}
    </>
  );
}
