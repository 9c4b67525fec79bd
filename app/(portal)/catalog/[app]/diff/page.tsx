import type { Metadata } from "next";
import { DiffTable } from "@/app/_components/diff-table.tsx";
import { blockersBeyondReview } from "@/registry/index.ts";
import Link from "next/link";
import { notFound } from "next/navigation";
import { requireUser } from "@/app/_lib/session.ts";
import { getApplication } from "@/lib/catalog/applications.ts";
import { diffVersions } from "@/lib/contracts/diff.ts";
import { isMeshportError } from "@/lib/errors.ts";
import type { Finding } from "@/registry/index.ts";

export const metadata: Metadata = { title: "Compare versions" };

function FindingNote({ finding }: { finding: Finding }) {
  return (
    <div className={`finding-${finding.verdict}`}>
      <code>{finding.rule}</code> {finding.verdict}
      {finding.breaks !== "none" && finding.verdict === "breaking" ? ` (breaks ${finding.breaks})` : ""}: {finding.message}
    </div>
  );
}

export default async function DiffPage({ params, searchParams }: { params: Promise<{ app: string }>; searchParams: Promise<{ from?: string; to?: string }> }) {
  const principal = await requireUser();
  const { app: slug } = await params;
  const app = await getApplication(principal, slug).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  const names = app.versions.map((v) => v.version);
  const query = await searchParams;
  const to = query.to && names.includes(query.to) ? query.to : names[0];
  const from = query.from && names.includes(query.from) ? query.from : names[names.indexOf(to ?? "") + 1];
  const diff = from && to && from !== to ? await diffVersions(principal, slug, from, to) : null;
  return (
    <>
      <p className="muted small">
        <Link href="/catalog">Catalog</Link> / <Link href={`/catalog/${slug}`}>{app.application.name}</Link> /
      </p>
      <h1>Compare versions</h1>
      <form className="form-inline panel" method="get">
        <label>
          From{" "}
          <select name="from" defaultValue={from}>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          to{" "}
          <select name="to" defaultValue={to}>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <button className="btn btn-plain" type="submit">
          Compare
        </button>
      </form>
      {!diff ? (
        <p className="muted">Choose two different versions.</p>
      ) : (
        <>
          <section className="panel" data-testid="diff-summary">
            <p>
              Under <code>{diff.report.mode}</code> the change from {diff.previous} to {diff.current} is{" "}
              <strong className={diff.report.compatible ? "finding-non-breaking" : "finding-breaking"}>
                {diff.report.compatible ? "compatible" : "incompatible"}
              </strong>
              ; it needs a <strong>{diff.report.semver}</strong> version bump; upgrade order: {diff.report.upgradeOrder.replace("-", " ")}.
            </p>
            <p data-testid="diff-evaluation">
              {diff.evaluation.blockers.length === 0
                ? `Published right after ${diff.previous}, ${diff.current} would be accepted.`
                : blockersBeyondReview(diff.evaluation).length === 0
                  ? `Published right after ${diff.previous}, ${diff.current} would be accepted through an approved change request.`
                  : `Published right after ${diff.previous}, ${diff.current} would be refused:`}
            </p>
            {blockersBeyondReview(diff.evaluation).length > 0 ? (
              <ul>
                {blockersBeyondReview(diff.evaluation).map((b, i) => (
                  <li key={i} className="finding-breaking">
                    {b.message}
                  </li>
                ))}
              </ul>
            ) : null}
            {diff.evaluation.against.length > 1 ? (
              <p className="small muted">
                Also checked against {diff.evaluation.against.slice(1).map((a) => a.version).join(", ")} ({diff.report.mode}).
              </p>
            ) : null}
            {diff.unplaced.map((f, i) => (
              <FindingNote key={i} finding={f} />
            ))}
          </section>
          <section className="panel" data-testid="diff-lines">
            <DiffTable lines={diff.lines} renderFinding={(f, j) => <FindingNote key={j} finding={f} />} />
          </section>
        </>
      )}
    </>
  );
}
