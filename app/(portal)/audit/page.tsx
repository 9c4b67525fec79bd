import type { Metadata } from "next";
import Link from "next/link";
import { Time } from "@/app/_components/time.tsx";
import { requirePermission } from "@/app/_lib/session.ts";
import { AUDIT_ACTIONS, auditChainStatus, listAudit, type AuditChainStatus, type AuditEntry } from "@/lib/audit/audit.ts";
import { describeDetails, detailText, entryAddress, entryApplication } from "@/lib/audit/format.ts";
import { isMeshportError, type InputErrorDetails } from "@/lib/errors.ts";
import { positiveInteger, queryText, type SearchParamValue } from "@/lib/http/page-query.ts";
import styles from "./audit.module.css";
import { PrintButton, PrintedAt } from "./printed-at.tsx";

export const metadata: Metadata = { title: "Audit" };

const FILTERS = [
  { name: "from", label: "From", placeholder: "2026-12-01 or 2026-12-01T09:00Z" },
  { name: "to", label: "To", placeholder: "2026-12-31 (the whole day)" },
  { name: "actor", label: "Actor", placeholder: "ada@example.com or token ci" },
  { name: "application", label: "Application", placeholder: "orders-service" },
  { name: "action", label: "Action", placeholder: "contract.publish, change_request." },
] as const;

type FilterName = (typeof FILTERS)[number]["name"];

const PAGE_SIZES = [50, 100, 200, 500] as const;

// Prefixes of the log's vocabulary, offered beside the actions themselves.
const ACTION_SUGGESTIONS = [...new Set(AUDIT_ACTIONS.map((a) => `${a.slice(0, a.lastIndexOf("."))}.`)), ...AUDIT_ACTIONS];

/** Clips a value shown in a cell: the export has it whole. */
const clip = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function Details({ details }: { details: Record<string, unknown> }) {
  const { changes, facts } = describeDetails(details);
  if (changes.length === 0 && facts.length === 0) return <span className="muted">—</span>;
  return (
    <ul className={styles.details}>
      {changes.map((c) => (
        <li key={`c-${c.field}`}>
          <span className={styles.field}>{c.field}</span>: <span className={styles.before}>{clip(detailText(c.before))}</span> →{" "}
          <span className={styles.after}>{clip(detailText(c.after))}</span>
        </li>
      ))}
      {facts.map((f) => (
        <li key={`f-${f.key}`}>
          <span className={styles.field}>{f.key}</span>: {clip(detailText(f.value))}
        </li>
      ))}
    </ul>
  );
}

function Row({ entry, href }: { entry: AuditEntry; href: (change: Partial<Record<FilterName, string>>) => string }) {
  const application = entryApplication(entry.details);
  const address = entryAddress(entry.details);
  return (
    <tr data-testid={`audit-row-${entry.seq}`}>
      <td>{entry.seq}</td>
      <td className={styles.nowrap}>
        <Time value={entry.at} />
      </td>
      <td>
        <Link href={href({ actor: entry.actorId })} title={`${entry.actorKind} ${entry.actorId}`}>
          {entry.actorLabel}
        </Link>
      </td>
      <td>{address ? <code>{address}</code> : <span className="muted">—</span>}</td>
      <td>
        <Link href={href({ action: entry.action })}>
          <code>{entry.action}</code>
        </Link>
      </td>
      <td>
        {entry.targetType} <code className="muted">{clip(entry.targetId, 80)}</code>
      </td>
      <td>{application ? <Link href={href({ application })}>{application}</Link> : <span className="muted">—</span>}</td>
      <td>
        <Details details={entry.details} />
      </td>
    </tr>
  );
}

const BREAK_REASONS = {
  hash_mismatch: "its content does not match its hash",
  link_mismatch: "it does not link to the entry before it",
  checkpoint_changed: "the last verified entry was rewritten",
} as const;

/** The chain's state in a few words, for the printed header. */
function chainSummary(chain: AuditChainStatus): string {
  if (!chain.ok) return `broken at entry #${chain.brokenAt?.seq}`;
  if (chain.pending || !chain.fullCheckAt) return `intact through #${chain.throughSeq} (${chain.entries} entries); the rest is being checked`;
  return `intact (${chain.entries} entries)`;
}

/** What was checked, and when: never more than that. */
function ChainStatus({ chain }: { chain: AuditChainStatus }) {
  if (!chain.ok) {
    const broken = chain.brokenAt!;
    return (
      <>
        Hash chain broken at entry #{broken.seq} ({BREAK_REASONS[broken.reason]}; found <Time value={broken.foundAt} />): the log was altered.
        {chain.fullRunning ? " Full verification running." : null}
      </>
    );
  }
  const now = `${chain.checkedNow} newer ${chain.checkedNow === 1 ? "entry" : "entries"} verified now`;
  if (!chain.fullCheckAt) {
    return (
      <>
        Hash chain intact through entry #{chain.throughSeq}: {chain.entries} entries verified from the first; {chain.pending ? "checking the rest; " : ""}full
        verification running.
      </>
    );
  }
  const since = chain.entries - chain.fullEntries;
  return (
    <>
      Hash chain intact: {chain.entries} entries; verified end to end at <Time value={chain.fullCheckAt} /> ({chain.fullEntries} entries);{" "}
      {since > chain.checkedNow ? `${since} newer entries verified since, ${chain.checkedNow} of them now` : now}
      {chain.pending ? `; verified through entry #${chain.throughSeq}, checking the rest` : ""}
      {chain.fullRunning ? "; full verification running" : ""}.
    </>
  );
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, SearchParamValue>> }) {
  const principal = await requirePermission("audit:read");
  const params = await searchParams;
  const asked = Object.fromEntries(FILTERS.map((f) => [f.name, queryText(params[f.name], 2000) ?? ""])) as Record<FilterName, string>;
  const before = positiveInteger(params.before);
  const askedLimit = positiveInteger(params.limit);
  const limit = PAGE_SIZES.find((n) => n === askedLimit) ?? PAGE_SIZES[0];
  const filter = Object.fromEntries(Object.entries(asked).filter(([, v]) => v !== "")) as Partial<Record<FilterName, string>>;

  /** The page's link with these filters changed (and paging reset unless given). */
  const href = (change: Partial<Record<FilterName | "before", string>>, base = "/audit") => {
    const query = new URLSearchParams(Object.entries({ ...filter, ...change }).filter(([, v]) => v) as [string, string][]);
    if (base === "/audit" && limit !== PAGE_SIZES[0]) query.set("limit", String(limit));
    const text = query.toString();
    return text ? `${base}?${text}` : base;
  };
  const exportHref = (format: "csv" | "json") => {
    const query = new URLSearchParams({ format, ...filter });
    return `/api/v1/audit/export?${query}`;
  };

  let page: { entries: AuditEntry[]; nextBefore: number | null } = { entries: [], nextBefore: null };
  let refused: { message: string; fields: [string, string[]][] } | null = null;
  // The entries and the chain check are independent: read them side by side.
  const [listed, chain] = await Promise.all([
    listAudit(principal, { limit, ...(before ? { before } : {}), ...filter }).then(
      (entries) => ({ entries }),
      (error: unknown) => ({ error }),
    ),
    auditChainStatus(principal),
  ]);
  if ("entries" in listed) page = listed.entries;
  else {
    const { error } = listed;
    if (!isMeshportError(error) || error.kind !== "invalid_input") throw error;
    const details = error.details as InputErrorDetails | undefined;
    refused = { message: error.message, fields: Object.entries(details?.fieldErrors ?? {}) };
  }
  const labelOf = (name: string) => FILTERS.find((f) => f.name === name)?.label ?? name;
  const shownFilters = FILTERS.filter((f) => filter[f.name]);

  return (
    <div className={styles.report}>
      <header className={styles.printHeader} data-testid="audit-print-header">
        <h2>Meshport audit report</h2>
        <dl>
          <dt>Printed</dt>
          <dd>
            <PrintedAt rendered={new Date().toISOString()} />
          </dd>
          {shownFilters.length === 0 ? (
            <>
              <dt>Filters</dt>
              <dd>none (every entry)</dd>
            </>
          ) : (
            shownFilters.map((f) => (
              <div key={f.name} style={{ display: "contents" }}>
                <dt>{f.label}</dt>
                <dd>{filter[f.name]}</dd>
              </div>
            ))
          )}
          {before ? (
            <>
              <dt>Entries</dt>
              <dd>older than #{before}</dd>
            </>
          ) : null}
          <dt>Hash chain</dt>
          <dd>{chainSummary(chain)}</dd>
        </dl>
      </header>
      <h1>Audit</h1>
      <p className={chain.ok ? "alert alert-ok" : "alert alert-error"} data-testid="audit-chain-status">
        <ChainStatus chain={chain} />
      </p>
      <form className="panel form-grid form" method="get" action="/audit" data-testid="audit-filters">
        {FILTERS.map((f) => (
          <div className="field" key={f.name}>
            <label htmlFor={`audit-${f.name}`}>{f.label}</label>
            <input
              id={`audit-${f.name}`}
              name={f.name}
              defaultValue={asked[f.name]}
              placeholder={f.placeholder}
              maxLength={f.name === "action" ? 2000 : 320}
              list={f.name === "action" ? "audit-action-names" : undefined}
              aria-invalid={refused?.fields.some(([field]) => field === f.name) ? true : undefined}
            />
          </div>
        ))}
        <datalist id="audit-action-names">
          {ACTION_SUGGESTIONS.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <div className="field">
          <label htmlFor="audit-limit">Rows per page</label>
          <select id="audit-limit" name="limit" defaultValue={String(limit)}>
            {PAGE_SIZES.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <button className="btn btn-primary" type="submit">
          Apply filters
        </button>
      </form>
      <p className={`${styles.toolbar} ${styles.noPrint}`}>
        {refused ? null : (
          <>
            <a href={exportHref("csv")} download>
              Export CSV
            </a>
            <a href={exportHref("json")} download>
              Export JSON
            </a>
          </>
        )}
        {shownFilters.length > 0 ? <Link href="/audit">Clear filters</Link> : null}
        <PrintButton className="btn btn-plain" />
      </p>
      {refused ? (
        <div className="alert alert-error" role="alert" data-testid="audit-filter-error">
          {refused.message}
          <ul>
            {refused.fields.map(([field, messages]) => (
              <li key={field}>
                {labelOf(field)}: {messages.join(" ")}
              </li>
            ))}
          </ul>
        </div>
      ) : page.entries.length === 0 ? (
        <p className="muted" data-testid="audit-empty">
          {shownFilters.length > 0 || before
            ? "No entry matches these filters."
            : "Nothing recorded yet. Every change to accounts, teams, tokens, contracts and reviews appears here."}
        </p>
      ) : (
        <table className="table" data-testid="audit-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Time</th>
              <th>Actor</th>
              <th>From</th>
              <th>Action</th>
              <th>Target</th>
              <th>Application</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {page.entries.map((entry) => (
              <Row key={entry.seq} entry={entry} href={href} />
            ))}
          </tbody>
        </table>
      )}
      {before || page.nextBefore ? (
        <p className={`pager ${styles.noPrint}`} data-testid="audit-pager">
          {before ? <Link href={href({})}>← Newest</Link> : null}
          {page.nextBefore ? <Link href={href({ before: String(page.nextBefore) })}>Older entries →</Link> : null}
        </p>
      ) : null}
    </div>
  );
}
