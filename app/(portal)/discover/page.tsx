import type { Metadata } from "next";
import Link from "next/link";
import { Pager } from "@/app/_components/pager.tsx";
import { channelHref, messageHref } from "@/app/_components/catalog.tsx";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { searchCatalog, type SearchHit, type SystemHit } from "@/lib/catalog/search.ts";
import { subscriptionFilterFor } from "@/lib/catalog/topics.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { pageNumber, queryText, type SearchParamValue } from "@/lib/http/page-query.ts";

export const metadata: Metadata = { title: "Discover" };

const PAGE_SIZE = 20;
/** The last page the search offset bound reaches. */
const MAX_PAGE = Math.floor(10_000 / PAGE_SIZE) + 1;

function hitHref(hit: SearchHit): string {
  if (hit.kind === "application" || !hit.address) return `/catalog/${hit.application.slug}`;
  if (hit.kind === "channel") return channelHref(hit.application.slug, hit.address);
  return messageHref(hit.application.slug, hit.address, hit.messageKey ?? "");
}

/** The applications on one side of a hit's channel, from the current versions' flows. */
function Participants({ label, list }: { label: string; list: SearchHit["producers"] }) {
  return (
    <div>
      <span className="muted">{label}:</span>{" "}
      {list.length === 0 ? (
        <span className="muted">none declared</span>
      ) : (
        list.map((p, i) => (
          <span key={p.application.slug}>
            {i > 0 ? ", " : null}
            <Link href={`/catalog/${p.application.slug}`}>{p.application.name}</Link>
          </span>
        ))
      )}
    </div>
  );
}

export default async function DiscoverPage({ searchParams }: { searchParams: Promise<Record<"q" | "topic" | "field" | "page", SearchParamValue>> }) {
  const principal = await requireUser();
  const query = await searchParams;
  const page = pageNumber(query.page, MAX_PAGE);
  // Generous text bounds: the search's own, tighter limits answer with a message the page shows.
  const asked = { q: queryText(query.q, 4096), topic: queryText(query.topic, 4096), field: queryText(query.field, 4096) };
  let result: { hits: SearchHit[]; total: number; totalCapped?: boolean; systems: SystemHit[] } | null = null;
  let error: string | null = null;
  if (asked.q || asked.topic || asked.field) {
    try {
      result = await searchCatalog(principal, { ...asked, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    } catch (e) {
      if (!isMeshportError(e)) throw e;
      error = e.message;
    }
  }
  const pageLink = (n: number) => `/discover?${new URLSearchParams({ ...Object.fromEntries(Object.entries(asked).filter(([, v]) => v)) as Record<string, string>, page: String(n) })}`;
  return (
    <>
      <h1>Discover</h1>
      <form className="panel form-grid form" role="search" data-testid="discover-form">
        <div className="field">
          <label htmlFor="q">Words</label>
          <input id="q" name="q" defaultValue={asked.q} placeholder="temperature alarm" />
        </div>
        <div className="field">
          <label htmlFor="topic">Topic or filter</label>
          <input id="topic" name="topic" defaultValue={asked.topic} placeholder="plant/+/temperature" />
        </div>
        <div className="field">
          <label htmlFor="field">Field name</label>
          <input id="field" name="field" defaultValue={asked.field} placeholder="orderId" />
        </div>
        <button className="btn btn-primary" type="submit">
          Search
        </button>
      </form>
      {error ? <p className="alert alert-error">{error}</p> : null}
      {!result ? (
        <EmptyState title="Find topics to subscribe to" testId="discover-empty">
          <p>
            Search by words, by topic filter with MQTT wildcards (<code>plant/+/temperature</code>, <code>orders/#</code>, or a concrete topic to find
            its channel) or by field name. Each answer gives the subscription filter, the payload schema, the broker and the owning team.
          </p>
        </EmptyState>
      ) : null}
      {result && result.systems.length > 0 ? (
        <section className="panel" data-testid="system-results">
          <h2>Systems</h2>
          <ul>
            {result.systems.map((system) => (
              <li key={system.slug}>
                <Link href={`/systems/${encodeURIComponent(system.slug)}`}>{system.name}</Link> <span className="muted small">{system.type}</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {!result ? null : result.hits.length === 0 ? (
        <p className="muted" data-testid="no-results">
          {result.systems.length > 0 ? "No channel, message or field matches." : "Nothing matches."}
        </p>
      ) : (
        <section className="panel">
          <p className="muted small">{result.totalCapped ? `More than ${result.total}` : result.total} result(s)</p>
          <table className="table" data-testid="search-results">
            <thead>
              <tr>
                <th>What</th>
                <th>Where</th>
                <th>Subscribe with</th>
                <th>Who sends · who receives</th>
                <th>Owner</th>
              </tr>
            </thead>
            <tbody>
              {result.hits.map((hit, i) => (
                <tr key={i}>
                  <td>
                    <span className="badge badge-muted">{hit.kind}</span> <Link href={hitHref(hit)}>{hit.kind === "field" ? hit.fieldPath : hit.kind === "channel" ? hit.address : hit.title}</Link>
                    {hit.snippet ? <div className="muted small clamp">{hit.snippet}</div> : null}
                  </td>
                  <td>
                    <Link href={`/catalog/${hit.application.slug}`}>{hit.application.name}</Link> <code className="small">{hit.version}</code>
                    {hit.address && hit.kind !== "channel" ? (
                      <div className="small">
                        <code>{hit.address}</code> {hit.action ? <span className="muted">({hit.action === "send" ? "sent" : hit.action === "receive" ? "received" : hit.action})</span> : null}
                      </div>
                    ) : null}
                  </td>
                  <td>{hit.address ? <code>{subscriptionFilterFor(hit.address)}</code> : <span className="muted">—</span>}</td>
                  <td className="small" data-testid="hit-participants">
                    {hit.address ? (
                      <>
                        <Participants label="Sent by" list={hit.producers} />
                        <Participants label="Received by" list={hit.consumers} />
                        {hit.participantsCapped ? <div className="muted">and more: see the channel</div> : null}
                      </>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>{hit.team.name}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} hasNext={page * PAGE_SIZE < result.total || Boolean(result.totalCapped)} href={pageLink} />
        </section>
      )}
    </>
  );
}
