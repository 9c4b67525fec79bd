import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { Pager } from "@/app/_components/pager.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { listTeams } from "@/lib/accounts/teams.ts";
import { can } from "@/lib/auth/permissions.ts";
import { pageNumber, queryText, type SearchParamValue } from "@/lib/http/page-query.ts";
import { SYSTEM_TYPE_LABELS, SYSTEM_TYPES } from "@/lib/systems/declaration.ts";
import { listSystems } from "@/lib/systems/systems.ts";
import { NewSystemForm } from "./forms.tsx";

export const metadata: Metadata = { title: "Systems" };

const PAGE_SIZE = 50;
const MAX_PAGE = 2000;

export default async function SystemsPage({ searchParams }: { searchParams: Promise<Record<"type" | "q" | "page", SearchParamValue>> }) {
  const principal = await requireUser();
  const query = await searchParams;
  const page = pageNumber(query.page, MAX_PAGE);
  const typeText = queryText(query.type);
  const filters = { type: SYSTEM_TYPES.find((t) => t === typeText), q: queryText(query.q, 100) };
  const [{ systems, total }, teams] = await Promise.all([listSystems(principal, { ...filters, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }), listTeams(principal)]);
  const link = (change: Record<string, string | undefined>) => {
    const params = new URLSearchParams(Object.entries({ ...filters, ...change }).filter((e): e is [string, string] => Boolean(e[1])));
    const text = params.toString();
    return text ? `/systems?${text}` : "/systems";
  };
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const types = SYSTEM_TYPES.map((t) => ({ value: t, label: SYSTEM_TYPE_LABELS[t] }));
  const teamOptions = [...(principal.role === "admin" ? [{ value: "", label: "no team" }] : []), ...teams.map((t) => ({ value: t.slug, label: t.name }))];
  return (
    <>
      <div className="page-head">
        <h1>Systems</h1>
        <form action="/systems" className="search-inline" role="search">
          {filters.type ? <input type="hidden" name="type" value={filters.type} /> : null}
          <input name="q" defaultValue={filters.q} placeholder="Find a system by name…" aria-label="Find a system by name" maxLength={100} />
          <button className="btn btn-primary" type="submit">
            Find
          </button>
        </form>
      </div>
      <p className="muted">
        The systems the mesh&apos;s integrations connect: source integrations take changes from them and publish events, target integrations deliver events into them.
      </p>
      <nav className="filters" aria-label="System types">
        <Link href={link({ type: undefined })} className={!filters.type ? "chip current" : "chip"}>
          All types
        </Link>
        {SYSTEM_TYPES.map((t) => (
          <Link key={t} href={link({ type: t })} className={filters.type === t ? "chip current" : "chip"}>
            {SYSTEM_TYPE_LABELS[t]}
          </Link>
        ))}
      </nav>
      {systems.length === 0 ? (
        <EmptyState title={filters.type || filters.q ? "No system matches" : "No systems yet"} testId="systems-empty">
          <p>
            A system appears when a contract names it in <code>info.x-meshport-systems</code>, when a team sets an application&apos;s systems, or when it is created here.
          </p>
        </EmptyState>
      ) : (
        <section className="panel">
          <table className="table" data-testid="systems-table">
            <thead>
              <tr>
                <th>System</th>
                <th>Type</th>
                <th>Owner</th>
                <th>Source integrations</th>
                <th>Target integrations</th>
              </tr>
            </thead>
            <tbody>
              {systems.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={`/systems/${s.slug}`}>{s.name}</Link>
                    <div className="muted small clamp">{s.description}</div>
                  </td>
                  <td>
                    <Link href={link({ type: s.type })}>{SYSTEM_TYPE_LABELS[s.type]}</Link>
                  </td>
                  <td>{s.team ? <Link href={`/catalog?team=${s.team.slug}`}>{s.team.name}</Link> : <span className="muted">nobody</span>}</td>
                  <td>{s.sources}</td>
                  <td>{s.targets}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} hasNext={page < pages} href={(n) => link({ page: String(n) })}>
            Page {page} of {pages} ({total} systems)
          </Pager>
        </section>
      )}
      {can(principal, "contracts:write") ? (
        <section className="panel">
          <details>
            <summary>New system</summary>
            <NewSystemForm types={types} teams={teamOptions} />
          </details>
        </section>
      ) : null}
    </>
  );
}
