import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { queryText, type SearchParamValue } from "@/lib/http/page-query.ts";
import { EDGE_STYLES, NODE_STYLES } from "@/lib/topology/svg.ts";
import { getTopology, TOPOLOGY_WINDOWS, type TopologyView } from "@/lib/topology/topology.ts";
import { ExportPngButton, TopologyCanvas } from "./canvas.tsx";
import styles from "./topology.module.css";

export const metadata: Metadata = { title: "Topology" };

const PARAMS = ["team", "domain", "broker", "prefix", "window", "at", "group", "expand"] as const;
type Param = (typeof PARAMS)[number];

const WINDOW_LABELS: Record<keyof typeof TOPOLOGY_WINDOWS, string> = { "1h": "last hour", "24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days", all: "any time" };

/** The legend of edge states and node kinds, as the graph and the SVG draw them. */
function Legend() {
  return (
    <div className={styles.legend} data-testid="topology-legend">
      {Object.entries(EDGE_STYLES).map(([state, s]) => (
        <span key={state} data-testid={`topology-legend-${state}`}>
          <i className={styles.swatch} style={{ borderTopStyle: s.dash ? "dashed" : "solid", borderTopColor: s.stroke }} />
          {s.label}
        </span>
      ))}
      {Object.entries(NODE_STYLES).map(([kind, s]) => (
        <span key={kind}>
          <i className={styles.box} style={{ background: s.fill, borderColor: s.stroke }} />
          {s.label}
        </span>
      ))}
    </div>
  );
}

function Filters({ view, asked }: { view: TopologyView | null; asked: Partial<Record<Param, string>> }) {
  const choices = view?.choices ?? { teams: [], domains: [], brokers: [] };
  return (
    <form className="panel form-grid form" method="get" action="/topology" data-testid="topology-filters">
      <div className="field">
        <label htmlFor="team">Team</label>
        <select id="team" name="team" defaultValue={asked.team ?? ""}>
          <option value="">All teams</option>
          {choices.teams.map((t) => (
            <option key={t.slug} value={t.slug}>
              {t.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="domain">Domain</label>
        <select id="domain" name="domain" defaultValue={asked.domain ?? ""}>
          <option value="">All domains</option>
          {choices.domains.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="broker">Broker</label>
        <select id="broker" name="broker" defaultValue={asked.broker ?? ""}>
          <option value="">All brokers</option>
          {choices.brokers.map((b) => (
            <option key={b.id} value={b.id}>
              {b.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="prefix">Channel prefix</label>
        <input id="prefix" name="prefix" defaultValue={asked.prefix ?? ""} placeholder="plant/" maxLength={500} />
      </div>
      <div className="field">
        <label htmlFor="window">Observed</label>
        <select id="window" name="window" defaultValue={asked.window ?? "all"}>
          {Object.entries(WINDOW_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="at">As of (date)</label>
        <input id="at" name="at" type="date" defaultValue={asked.at?.slice(0, 10) ?? ""} />
      </div>
      <div className="field">
        <label htmlFor="group">Group</label>
        <select id="group" name="group" defaultValue={asked.group ?? "auto"}>
          <option value="auto">automatically (large meshes by team)</option>
          <option value="none">no grouping</option>
          <option value="team">by team</option>
          <option value="domain">by domain</option>
        </select>
      </div>
      <button className="btn btn-primary" type="submit">
        Draw
      </button>
    </form>
  );
}

export default async function TopologyPage({ searchParams }: { searchParams: Promise<Partial<Record<Param, SearchParamValue>>> }) {
  const principal = await requireUser();
  const query = await searchParams;
  const asked: Partial<Record<Param, string>> = {};
  for (const key of PARAMS) {
    const value = queryText(query[key], key === "expand" ? 30_000 : 1000);
    if (value !== undefined) asked[key] = value;
  }
  let view: TopologyView | null = null;
  let error: string | null = null;
  try {
    view = await getTopology(principal, asked);
  } catch (e) {
    if (!isMeshportError(e)) throw e;
    error = e.message;
    // Draw the whole mesh rather than nothing when the filters could not be read.
    view = await getTopology(principal, {});
  }
  const exportQuery = new URLSearchParams(Object.entries(asked).filter(([, v]) => v) as [string, string][]).toString();
  const svgHref = `/api/v1/topology.svg${exportQuery ? `?${exportQuery}` : ""}`;
  const nothingAtAll = view.totals.applications === 0 && view.totals.brokers === 0;
  return (
    <>
      <h1>Topology</h1>
      <Filters view={view} asked={asked} />
      {error ? (
        <p className="alert alert-error" data-testid="topology-error">
          {error}
        </p>
      ) : null}
      {nothingAtAll ? (
        <EmptyState title="No applications or brokers yet" testId="topology-empty">
          <p>
            The producer → channel → consumer graph of the mesh is drawn here, across brokers and bridges, from the
            contracts and from what the broker agents see flowing.
          </p>
          <p>
            Register an application and publish its contract, or attach an agent to a broker with an API token of scope{" "}
            <code>agent:report</code>.
          </p>
        </EmptyState>
      ) : (
        <section className="panel" aria-label="Graph">
          <div className={styles.toolbar}>
            <a className="btn btn-plain" href={svgHref} download="topology.svg" data-testid="topology-export-svg">
              Export SVG
            </a>
            <ExportPngButton svgHref={svgHref} />
            <span className="muted" data-testid="topology-summary">
              {view.nodes.length} nodes, {view.edges.length} edges
              {view.grouping ? ` · grouped by ${view.grouping}${view.autoGrouped ? " (automatically: a large mesh)" : ""}; open a group to expand it` : ""}
              {view.filters.at ? ` · as of ${view.filters.at.slice(0, 10)}` : ""}
            </span>
          </div>
          <Legend />
          {view.truncated ? (
            <p className="alert alert-warn" data-testid="topology-truncated">
              Truncated: the mesh is larger than one drawing holds. Narrow the filters or group by team or domain.
            </p>
          ) : null}
          {view.nodes.length === 0 ? (
            <p className="muted" data-testid="topology-no-match">
              Nothing matches these filters.
            </p>
          ) : (
            <TopologyCanvas graph={view} />
          )}
        </section>
      )}
    </>
  );
}
