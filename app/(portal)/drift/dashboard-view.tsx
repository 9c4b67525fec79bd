import Link from "next/link";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { formatCount } from "@/app/_components/format.ts";
import { Pager } from "@/app/_components/pager.tsx";
import { Time } from "@/app/_components/time.tsx";
import type { DriftSummary, DriftTrendDay, FindingSummary } from "@/lib/drift/queries.ts";
import { FindingsTable, SeverityBadge } from "./findings-table.tsx";
import { driftHref, duration, isFiltered, RULES, SEVERITIES, STATUS_OPTIONS, type DriftPageFilters } from "./format.ts";
import { TrendChart } from "./trend-chart.tsx";

/** The drift dashboard as the page shows it: where things stand, the counts by kind, the trend, the findings. */
export function DriftDashboard({
  filters,
  page,
  pageSize,
  maxPage,
  list,
  summary,
  trend,
  teams,
  brokers,
  applications,
}: {
  filters: DriftPageFilters;
  page: number;
  pageSize: number;
  maxPage: number;
  list: { findings: readonly FindingSummary[]; total: number; hasNext: boolean };
  summary: DriftSummary;
  trend: readonly DriftTrendDay[];
  teams: ReadonlyArray<{ slug: string; name: string }>;
  brokers: ReadonlyArray<{ id: string; name: string }>;
  applications: ReadonlyArray<{ slug: string; name: string }>;
}) {
  const filtered = isFiltered(filters);
  return (
    <>
      <h1>Drift</h1>
      <p className="muted">
        Differences between the contracts and what the agents observe on the brokers. Findings resolve by themselves when
        the traffic or the contract changes.
      </p>
      <Standing summary={summary} />
      <SummaryTiles summary={summary} filters={filters} />
      <TrendChart days={trend} />
      <section className="panel">
        <h2>
          Findings{" "}
          <small className="muted" data-testid="drift-findings-total">
            ({formatCount(list.total)}
            {filtered ? " matching" : ""})
          </small>
        </h2>
        <FilterForm
          filters={filters}
          teams={teams}
          brokers={brokers}
          applications={applications}
        />
        {list.findings.length === 0 ? (
          <p className="muted" data-testid="drift-findings-none">
            {filtered ? "No finding matches these filters." : "No finding is open or acknowledged."}
          </p>
        ) : (
          <FindingsTable findings={list.findings} />
        )}
        <Pager page={page} hasNext={list.hasNext && page < maxPage} href={(p) => driftHref(filters, p)}>
          <span className="muted small">
            page {page} of {Math.max(1, Math.min(maxPage, Math.ceil(list.total / pageSize)))}
          </span>
        </Pager>
      </section>
    </>
  );
}

/** "the last day", "the last 6 hours": the stale window in words. */
const lastWindow = (seconds: number) => `the last ${duration(seconds).replace(/^1 (day|hour)$/, "$1")}`;

/**
 * Whether there is drift at all, honestly: "No drift" only when no finding is open and a broker reported within the
 * stale window (the sweep resolves what is not seen for it, so without recent reports nothing is being compared).
 */
function Standing({ summary }: { summary: DriftSummary }) {
  const { brokers } = summary;
  const quiet = brokers.reported > 0 && brokers.reportingNow === 0;
  const reports =
    brokers.reported === 0 ? (
      brokers.declared === 0 ? (
        <>
          No broker is declared and no agent has reported, so nothing has been compared with the contracts yet.{" "}
          <Link href="/brokers">Attach an agent to a broker</Link>.
        </>
      ) : (
        <>
          None of the {formatCount(brokers.declared)} declared brokers has reported through an agent, so nothing has been compared with the contracts yet.{" "}
          <Link href="/brokers">Brokers</Link>.
        </>
      )
    ) : quiet ? (
      <>
        No broker reported in {lastWindow(brokers.windowSeconds)}; nothing is being compared with the contracts. The last report arrived <Time value={brokers.lastReportAt} />.{" "}
        <Link href="/brokers">Brokers</Link>.
      </>
    ) : (
      <>
        {formatCount(brokers.reportingNow)} of {formatCount(brokers.declared)} brokers report; the last report arrived <Time value={brokers.lastReportAt} />.
      </>
    );
  if (summary.openAnywhere === 0) {
    return (
      <EmptyState title={brokers.reported === 0 ? "No broker reports yet" : quiet ? "Nothing is being compared" : "No drift"} testId="drift-empty">
        <p>
          {brokers.reported === 0
            ? "There is no open finding, but only because no traffic was observed."
            : quiet
              ? `There is no open finding, but only because no broker reported in ${lastWindow(brokers.windowSeconds)}: findings not seen for that long are resolved.`
              : "No finding is open: what the agents observe matches the contracts."}
          {summary.acknowledgedAnywhere > 0 ? ` ${formatCount(summary.acknowledgedAnywhere)} acknowledged finding${summary.acknowledgedAnywhere === 1 ? "" : "s"} remain${summary.acknowledgedAnywhere === 1 ? "s" : ""}.` : ""}
        </p>
        <p>{reports}</p>
      </EmptyState>
    );
  }
  return (
    <p className={brokers.reportingNow === 0 ? "alert alert-warn" : "muted small"} data-testid="drift-standing">
      {formatCount(summary.openAnywhere)} open and {formatCount(summary.acknowledgedAnywhere)} acknowledged finding{summary.openAnywhere + summary.acknowledgedAnywhere === 1 ? "" : "s"}. {reports}
    </p>
  );
}

const tileList = { listStyle: "none", padding: 0, margin: 0, display: "grid", gridTemplateColumns: "repeat(auto-fill, minmax(15rem, 1fr))", gap: "0.75rem" } as const;
const tile = { border: "1px solid var(--border)", borderRadius: "var(--radius)", padding: "0.6rem 0.75rem", background: "#fff" } as const;

/** One tile per rule with its count and doc line, then the counts by severity, team and broker. */
function SummaryTiles({ summary, filters }: { summary: DriftSummary; filters: DriftPageFilters }) {
  return (
    <section className="panel" data-testid="drift-summary">
      <h2>
        By kind <small className="muted">({formatCount(summary.total)} {STATUS_OPTIONS.find((s) => s.value === filters.status)?.label})</small>
      </h2>
      <ul style={tileList}>
        {RULES.map((rule) => (
          <li key={rule.id} style={{ ...tile, opacity: summary.byRule[rule.id] ? 1 : 0.7 }} data-testid={`drift-summary-${rule.id}`}>
            <div style={{ display: "flex", justifyContent: "space-between", alignItems: "baseline", gap: "0.5rem" }}>
              <Link href={driftHref({ ...filters, rule: rule.id })}>{rule.title}</Link>
              <strong style={{ fontSize: "1.4rem" }} data-testid="drift-summary-count">
                {formatCount(summary.byRule[rule.id] ?? 0)}
              </strong>
            </div>
            <p className="muted small" style={{ margin: "0.3rem 0 0" }}>
              <SeverityBadge severity={rule.severity} /> {rule.doc}
            </p>
          </li>
        ))}
      </ul>
      <div className="two-columns" style={{ marginTop: "1rem" }}>
        <div>
          <h3>By severity</h3>
          <p>
            {SEVERITIES.map((s) => (
              <Link key={s} href={driftHref({ ...filters, severity: s })} className={filters.severity === s ? "chip current" : "chip"}>
                {s} {formatCount(summary.bySeverity[s])}
              </Link>
            ))}
          </p>
        </div>
        <div>
          <h3>By team</h3>
          {summary.byTeam.length === 0 ? (
            <p className="muted small">—</p>
          ) : (
            <p>
              {summary.byTeam.map((t) =>
                t.team ? (
                  <Link key={t.team.slug} href={driftHref({ ...filters, team: t.team.slug })} className={filters.team === t.team.slug ? "chip current" : "chip"}>
                    {t.team.name} {formatCount(t.count)}
                  </Link>
                ) : (
                  <span key="none" className="chip" title="Undocumented topics and unknown clients belong to no application yet">
                    no application {formatCount(t.count)}
                  </span>
                ),
              )}
            </p>
          )}
        </div>
        <div>
          <h3>By broker</h3>
          {summary.byBroker.length === 0 ? (
            <p className="muted small">—</p>
          ) : (
            <p>
              {summary.byBroker.map((b) =>
                b.broker ? (
                  <Link key={b.broker.id} href={driftHref({ ...filters, broker: b.broker.id })} className={filters.broker === b.broker.id ? "chip current" : "chip"}>
                    {b.broker.name} {formatCount(b.count)}
                  </Link>
                ) : (
                  <span key="none" className="chip" title="Silent channels are judged over every broker">
                    every broker {formatCount(b.count)}
                  </span>
                ),
              )}
            </p>
          )}
        </div>
      </div>
    </section>
  );
}

function Select({ name, label, value, options, any }: { name: string; label: string; value: string | undefined; options: ReadonlyArray<{ value: string; label: string }>; any?: string }) {
  const all = value && !options.some((o) => o.value === value) ? [...options, { value, label: value }] : options;
  return (
    <label>
      {label}{" "}
      <select name={name} defaultValue={value ?? ""}>
        {any !== undefined ? <option value="">{any}</option> : null}
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
function FilterForm({
  filters,
  teams,
  brokers,
  applications,
}: {
  filters: DriftPageFilters;
  teams: ReadonlyArray<{ slug: string; name: string }>;
  brokers: ReadonlyArray<{ id: string; name: string }>;
  applications: ReadonlyArray<{ slug: string; name: string }>;
}) {
  return (
    <form method="get" action="/drift" className="form-inline filters" data-testid="drift-filters" style={{ flexWrap: "wrap" }}>
      <Select name="status" label="Status" value={filters.status} options={STATUS_OPTIONS} />
      <Select name="rule" label="Rule" value={filters.rule} options={RULES.map((r) => ({ value: r.id, label: r.title }))} any="any rule" />
      <Select name="severity" label="Severity" value={filters.severity} options={SEVERITIES.map((s) => ({ value: s, label: s }))} any="any severity" />
      <Select name="team" label="Team" value={filters.team} options={teams.map((t) => ({ value: t.slug, label: t.name }))} any="any team" />
      <Select name="application" label="Application" value={filters.application} options={applications.map((a) => ({ value: a.slug, label: a.name }))} any="any application" />
      <Select name="broker" label="Broker" value={filters.broker} options={brokers.map((b) => ({ value: b.id, label: b.name }))} any="any broker" />
      <label>
        Channel <input name="channel" defaultValue={filters.channel ?? ""} maxLength={500} placeholder="plant/{lineId}/temperature" />
      </label>
      <label>
        Topic starts with <input name="template" defaultValue={filters.template ?? ""} maxLength={500} placeholder="plant/" />
      </label>
      <label>
        Text <input name="text" type="search" defaultValue={filters.text ?? ""} maxLength={200} placeholder="client, topic, words" />
      </label>
      <button type="submit" className="btn btn-plain">
        Filter
      </button>
      {isFiltered(filters) ? <Link href="/drift">Clear filters</Link> : null}
    </form>
  );
}
