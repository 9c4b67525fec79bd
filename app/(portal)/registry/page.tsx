import type { Metadata } from "next";
import Link from "next/link";
import { channelHref } from "@/app/_components/catalog.tsx";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { formatCount } from "@/app/_components/format.ts";
import { Pager } from "@/app/_components/pager.tsx";
import { Time } from "@/app/_components/time.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { listTeams } from "@/lib/accounts/teams.ts";
import { portalUrl } from "@/lib/http/origins.ts";
import { pageNumber, type SearchParamValue } from "@/lib/http/page-query.ts";
import { REGISTRY_MAX_PAGE, registryOverview } from "@/lib/schema-registry/views.ts";
import { SCHEMA_TYPES } from "@/registry/schematypes/index.ts";
import { isFiltered, KIND_LABELS, readRegistryFilters, registryHref, schemaHref, subjectHref, type RegistryPageFilters } from "./format.ts";
import { Compatibility } from "./parts.tsx";

export const metadata: Metadata = { title: "Registry" };

export default async function RegistryPage({ searchParams }: { searchParams: Promise<Record<string, SearchParamValue>> }) {
  const principal = await requireUser();
  const query = await searchParams;
  const filters = readRegistryFilters(query);
  const page = pageNumber(query.page, REGISTRY_MAX_PAGE);
  const [overview, teams] = await Promise.all([registryOverview(principal, { ...filters, page }), listTeams(principal)]);
  const filtered = isFiltered(filters);
  const pages = Math.max(1, Math.ceil(overview.total / overview.pageSize));
  const baseUrl = `${portalUrl()}/api/schema-registry`;
  return (
    <>
      <h1>Registry</h1>
      <p className="muted">
        The mesh-wide schema registry: every payload schema of every released contract, and the subjects registered
        directly by Confluent-compatible clients. Schema ids are global: the same schema has the same id in every subject.
      </p>
      <section className="panel" data-testid="registry-config">
        <dl className="facts">
          <dt>Compatibility</dt>
          <dd>
            <code data-testid="registry-global-compatibility">{overview.global.compatibility}</code>{" "}
            {overview.global.compatibilityConfigured ? null : <span className="muted small">(the default)</span>}
            <div className="muted small">Subjects of an application inherit the application&apos;s mode; a subject may set its own.</div>
          </dd>
          <dt>Mode</dt>
          <dd>
            <code data-testid="registry-global-mode">{overview.global.mode}</code>
          </dd>
          <dt>Connect a client</dt>
          <dd data-testid="registry-connect">
            <div>
              Base URL <code data-testid="registry-base-url">{baseUrl}</code>
            </div>
            <div className="muted small">
              HTTP Basic authentication: any user name, an API token as the password (a <code>read</code> token to fetch schemas,{" "}
              <code>contracts:write</code> for the owning team to register). Bearer tokens work too. <Link href="/account">Create a token</Link>.
            </div>
          </dd>
        </dl>
      </section>
      <section className="panel">
        <h2>
          Subjects{" "}
          <small className="muted" data-testid="registry-total">
            ({formatCount(overview.total)}
            {filtered ? " matching" : ""})
          </small>
        </h2>
        <FilterForm filters={filters} teams={teams.map((t) => ({ slug: t.slug, name: t.name }))} />
        {overview.subjects.length === 0 ? (
          filtered ? (
            <p className="muted" data-testid="registry-none">
              No subject matches these filters. <Link href="/registry">Clear filters</Link>
            </p>
          ) : (
            <EmptyState title="No subjects yet — publish a contract or register over the API" testId="registry-empty">
              <p>
                Every payload and headers schema of a released contract version gets a subject here, one per message of a
                channel. Serializers and other Confluent-compatible clients can register subjects of their own at{" "}
                <code>{baseUrl}</code>.
              </p>
            </EmptyState>
          )
        ) : (
          <table className="table" data-testid="registry-subjects">
            <thead>
              <tr>
                <th>Subject</th>
                <th>Type</th>
                <th>Latest version</th>
                <th>Schema id</th>
                <th>Compatibility</th>
                <th>Governed by</th>
                <th>Last registered</th>
              </tr>
            </thead>
            <tbody>
              {overview.subjects.map((s) => (
                <tr key={s.name} data-testid="registry-subject-row" data-subject={s.name} data-kind={s.kind}>
                  <td>
                    <Link href={subjectHref(s.name)} data-testid="registry-subject-link">
                      {s.name}
                    </Link>
                    {s.deleted ? <span className="badge badge-muted"> soft-deleted</span> : null}
                    {s.team ? <div className="muted small">{s.team.name}</div> : null}
                  </td>
                  <td>{s.schemaType ?? "—"}</td>
                  <td>{s.latestVersion ?? "—"}</td>
                  <td>
                    {s.latestSchemaId !== null ? (
                      <Link href={schemaHref(s.latestSchemaId)} data-testid="registry-schema-id">
                        <code className="small">#{s.latestSchemaId}</code>
                      </Link>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td>
                    <Compatibility value={s.compatibility} />
                  </td>
                  <td data-testid="registry-governed-by">
                    {s.kind === "governed" && s.application ? (
                      <Link href={`/catalog/${s.application.slug}`}>{s.application.name}</Link>
                    ) : s.kind === "linked" && s.application ? (
                      <>
                        direct, linked to{" "}
                        {s.channel ? <Link href={channelHref(s.application.slug, s.channel)}>{s.application.name}</Link> : s.application.name}
                      </>
                    ) : (
                      <span className="muted">direct</span>
                    )}
                  </td>
                  <td>
                    <Time value={s.lastRegisteredAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager page={page} hasNext={overview.hasNext && page < REGISTRY_MAX_PAGE} href={(p) => registryHref(filters, p)}>
          <span className="muted small">
            page {page} of {Math.min(pages, REGISTRY_MAX_PAGE)}
          </span>
        </Pager>
      </section>
    </>
  );
}

function Select({ name, label, value, options, any }: { name: string; label: string; value: string | undefined; options: ReadonlyArray<{ value: string; label: string }>; any: string }) {
  const all = value && !options.some((o) => o.value === value) ? [...options, { value, label: value }] : options;
  return (
    <label>
      {label}{" "}
      <select name={name} defaultValue={value ?? ""}>
        <option value="">{any}</option>
        {all.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The filters as a GET form: every choice is a link anyone can share. */
function FilterForm({ filters, teams }: { filters: RegistryPageFilters; teams: ReadonlyArray<{ slug: string; name: string }> }) {
  return (
    <form method="get" action="/registry" className="form-inline filters" data-testid="registry-filters" style={{ flexWrap: "wrap" }}>
      <label>
        Name contains <input name="text" type="search" defaultValue={filters.text ?? ""} maxLength={200} placeholder="orders-value" />
      </label>
      <Select name="kind" label="Kind" value={filters.kind} options={Object.entries(KIND_LABELS).map(([value, label]) => ({ value, label }))} any="any kind" />
      <Select name="type" label="Schema type" value={filters.schemaType} options={SCHEMA_TYPES.map((t) => ({ value: t, label: t }))} any="any type" />
      <Select name="team" label="Team" value={filters.team} options={teams.map((t) => ({ value: t.slug, label: t.name }))} any="any team" />
      <label>
        <input type="checkbox" name="deleted" value="1" defaultChecked={filters.deleted ?? false} /> include soft-deleted
      </label>
      <button type="submit" className="btn btn-plain">
        Filter
      </button>
      {isFiltered(filters) ? <Link href="/registry">Clear filters</Link> : null}
    </form>
  );
}
