import type { Metadata } from "next";
import Link from "next/link";
import { Pager } from "@/app/_components/pager.tsx";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { listTeams } from "@/lib/accounts/teams.ts";
import { can } from "@/lib/auth/permissions.ts";
import { listApplications } from "@/lib/catalog/applications.ts";
import { pageNumber, queryText, type SearchParamValue } from "@/lib/http/page-query.ts";
import { APPLICATION_KINDS, KIND_LABELS, SYSTEM_TYPE_LABELS } from "@/lib/systems/declaration.ts";

export const metadata: Metadata = { title: "Catalog" };

const PAGE_SIZE = 25;
/** Far past any real catalog; keeps the offset a small whole number. */
const MAX_PAGE = 10_000;

export default async function CatalogPage({ searchParams }: { searchParams: Promise<Record<"team" | "tag" | "domain" | "kind" | "system" | "page", SearchParamValue>> }) {
  const principal = await requireUser();
  const query = await searchParams;
  const page = pageNumber(query.page, MAX_PAGE);
  // A kind the portal does not know is dropped, not refused: a page cannot answer 422.
  const kindText = queryText(query.kind);
  const kind = APPLICATION_KINDS.find((k) => k === kindText);
  const filters = { team: queryText(query.team), tag: queryText(query.tag), domain: queryText(query.domain), kind, system: queryText(query.system, 80) };
  const [{ applications, total }, teams] = await Promise.all([
    listApplications(principal, { ...filters, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }),
    listTeams(principal),
  ]);
  const link = (change: Record<string, string | undefined>) => {
    const params = new URLSearchParams(Object.entries({ ...filters, ...change }).filter((e): e is [string, string] => Boolean(e[1])));
    const text = params.toString();
    return text ? `/catalog?${text}` : "/catalog";
  };
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const active = Object.entries(filters).filter(([, v]) => v);
  return (
    <>
      <div className="page-head">
        <h1>Catalog</h1>
        <form action="/discover" className="search-inline" role="search">
          <input name="q" placeholder="Search applications, channels, messages, fields…" aria-label="Search the catalog" />
          <button className="btn btn-primary" type="submit">
            Search
          </button>
        </form>
        {can(principal, "contracts:write") ? (
          <Link className="btn btn-plain" href="/catalog/new">
            New application
          </Link>
        ) : null}
      </div>
      <nav className="filters" aria-label="Teams">
        <Link href={link({ team: undefined })} className={!filters.team ? "chip current" : "chip"}>
          All teams
        </Link>
        {teams.map((t) => (
          <Link key={t.slug} href={link({ team: t.slug })} className={filters.team === t.slug ? "chip current" : "chip"}>
            {t.name}
          </Link>
        ))}
      </nav>
      <nav className="filters" aria-label="Kinds">
        <Link href={link({ kind: undefined })} className={!filters.kind ? "chip current" : "chip"}>
          All kinds
        </Link>
        {APPLICATION_KINDS.map((k) => (
          <Link key={k} href={link({ kind: k })} className={filters.kind === k ? "chip current" : "chip"}>
            {KIND_LABELS[k]}
          </Link>
        ))}
      </nav>
      {active.length > 0 ? (
        <p className="muted small">
          Filtered by {active.map(([k, v]) => `${k} ${v}`).join(", ")} · <Link href="/catalog">clear</Link>
        </p>
      ) : null}
      {applications.length === 0 ? (
        <EmptyState title={active.length ? "No application matches" : "No applications yet"} testId="catalog-empty">
          <p>
            Every application of the mesh is listed here with its owning team, the channels it sends to and receives from,
            its messages and payload schemas, and its AsyncAPI contract rendered as documentation.
          </p>
          <p>Applications appear when a team registers one and publishes its first contract version, from this portal or from CI.</p>
        </EmptyState>
      ) : (
        <section className="panel">
          <table className="table" data-testid="applications-table">
            <thead>
              <tr>
                <th>Application</th>
                <th>Kind</th>
                <th>Systems</th>
                <th>Team</th>
                <th>Domain</th>
                <th>Tags</th>
                <th>Version</th>
              </tr>
            </thead>
            <tbody>
              {applications.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Link href={`/catalog/${a.slug}`}>{a.name}</Link>
                    <div className="muted small clamp">{a.description}</div>
                  </td>
                  <td data-testid="application-kind">
                    <Link href={link({ kind: a.kind })}>{KIND_LABELS[a.kind]}</Link>
                  </td>
                  <td>
                    {a.systems.length === 0 ? (
                      <span className="muted">—</span>
                    ) : (
                      a.systems.map((s) => (
                        <div key={`${s.slug} ${s.role}`} className="small">
                          {s.role === "source" ? "from " : "into "}
                          <Link href={link({ system: s.slug })} title={`${SYSTEM_TYPE_LABELS[s.type]}: list the applications connecting it`}>
                            {s.name}
                          </Link>
                        </div>
                      ))
                    )}
                  </td>
                  <td>
                    <Link href={link({ team: a.team.slug })}>{a.team.name}</Link>
                  </td>
                  <td>{a.domain ? <Link href={link({ domain: a.domain })}>{a.domain}</Link> : <span className="muted">—</span>}</td>
                  <td>
                    {a.tags.map((t) => (
                      <Link key={t} href={link({ tag: t })} className="chip small">
                        {t}
                      </Link>
                    ))}
                  </td>
                  <td>
                    {a.currentVersion ? <code>{a.currentVersion}</code> : <span className="muted">unpublished</span>}
                    {a.currentState === "deprecated" ? <span className="badge badge-warn"> deprecated</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} hasNext={page < pages} href={(n) => link({ page: String(n) })}>
            Page {page} of {pages} ({total} applications)
          </Pager>
        </section>
      )}
    </>
  );
}
