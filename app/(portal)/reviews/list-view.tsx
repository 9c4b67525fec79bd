import Link from "next/link";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { Time } from "@/app/_components/time.tsx";
import type { ChangeRequestSummary } from "@/lib/reviews/queries.ts";
import { emptyListText, reviewsHref, STATE_FILTERS, STATE_LABELS, type ReviewsFilters, type ReviewsView } from "./format.ts";

/** The list's views, in tab order. */
export const VIEWS: ReadonlyArray<{ value: ReviewsView; label: string }> = [
  { value: "waiting", label: "Waiting for me" },
  { value: "mine", label: "Mine" },
  { value: "all", label: "All" },
];

/** The Reviews list as the page shows it: views, filters, the rows or what is empty, and paging. */
export function ReviewsContent({
  view,
  filters,
  before,
  requests,
  nextBefore,
  applications,
  teams,
}: {
  view: ReviewsView;
  filters: ReviewsFilters;
  before: number | undefined;
  requests: readonly ChangeRequestSummary[];
  nextBefore: number | null;
  applications: ReadonlyArray<{ slug: string; name: string }>;
  teams: ReadonlyArray<{ slug: string; name: string }>;
}) {
  const appOptions = applications.map((a) => ({ value: a.slug, label: a.name }));
  if (filters.app && !appOptions.some((o) => o.value === filters.app)) appOptions.push({ value: filters.app, label: filters.app });
  const teamOptions = teams.map((t) => ({ value: t.slug, label: t.name }));
  if (filters.team && !teamOptions.some((o) => o.value === filters.team)) teamOptions.push({ value: filters.team, label: filters.team });
  const empty = emptyListText(view, filters, before !== undefined);
  return (
    <>
      <h1>Reviews</h1>
      <nav className="tabs review-tabs" aria-label="Views">
        {VIEWS.map((v) => (
          <Link key={v.value} href={reviewsHref({ view: v.value, ...filters })} className={v.value === view ? "chip current" : "chip"} aria-current={v.value === view ? "page" : undefined}>
            {v.label}
          </Link>
        ))}
      </nav>
      <form method="get" action="/reviews" className="form-inline panel review-filters" data-testid="reviews-filters">
        <input type="hidden" name="view" value={view} />
        <label>
          State{" "}
          <select name="state" defaultValue={filters.state ?? ""}>
            {STATE_FILTERS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Application{" "}
          <select name="app" defaultValue={filters.app ?? ""}>
            <option value="">any application</option>
            {appOptions.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Team{" "}
          <select name="team" defaultValue={filters.team ?? ""}>
            <option value="">any team</option>
            {teamOptions.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Breaking{" "}
          <select name="breaking" defaultValue={filters.breaking ?? ""}>
            <option value="">breaking or not</option>
            <option value="true">breaking only</option>
            <option value="false">compatible only</option>
          </select>
        </label>
        <button type="submit" className="btn btn-plain">
          Filter
        </button>
        {filters.state || filters.app || filters.team || filters.breaking ? <Link href={reviewsHref({ view })}>Clear filters</Link> : null}
      </form>
      {requests.length === 0 ? (
        <EmptyState title={empty.title} testId="reviews-empty">
          <p>{empty.body}</p>
        </EmptyState>
      ) : (
        <table className="table" data-testid="reviews-list">
          <thead>
            <tr>
              <th>#</th>
              <th>Title</th>
              <th>Application</th>
              <th>State</th>
              <th>Author</th>
              <th>Version</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {requests.map((r) => (
              <tr key={r.id} data-testid={`review-row-${r.number}`}>
                <td>
                  <Link href={r.url}>#{r.number}</Link>
                </td>
                <td>
                  <Link href={r.url}>{r.title}</Link>
                  {r.revision > 1 ? <span className="muted small"> · revision {r.revision}</span> : null}
                </td>
                <td>
                  <Link href={`/catalog/${r.application.slug}`}>{r.application.name}</Link>
                  <div className="muted small">{r.team.name}</div>
                </td>
                <td>
                  <span className={`badge cr-badge cr-badge-${r.state}`} data-testid="review-state">
                    {STATE_LABELS[r.state]}
                  </span>{" "}
                  {r.breaking ? (
                    <span className="badge badge-warn" data-testid="review-breaking">
                      breaking
                    </span>
                  ) : null}
                </td>
                <td>{r.authorLabel}</td>
                <td>
                  <code>{r.version}</code>
                </td>
                <td>
                  <Time value={r.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {before || nextBefore ? (
        <p className="pager">
          {before ? <Link href={reviewsHref({ view, ...filters })}>← Newest</Link> : null}
          {nextBefore ? <Link href={reviewsHref({ view, ...filters, before: nextBefore })}>Older →</Link> : null}
        </p>
      ) : null}
    </>
  );
}
