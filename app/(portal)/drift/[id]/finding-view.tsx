import Link from "next/link";
import { formatCount } from "@/app/_components/format.ts";
import { Time } from "@/app/_components/time.tsx";
import type { FindingView } from "@/lib/drift/queries.ts";
import type { EvidenceSample } from "@/registry/drift/types.ts";
import { FindingWhere, SeverityBadge, StatusBadge } from "../findings-table.tsx";
import { duration, payloadLines, percent, ruleTitle, RULES } from "../format.ts";
import { AcknowledgeForm, ImportForm, UnacknowledgeForm } from "../forms.tsx";

const EVENT_LABELS: Record<string, string> = {
  opened: "Opened",
  reopened: "Reopened",
  acknowledged: "Acknowledged",
  unacknowledged: "Un-acknowledged",
  resolved: "Resolved",
};

/**
 * A finding's page: what, where, when, the evidence, the forms the reader may use, the history. `importTo` lists
 * the applications an undocumented topic can be imported into (null: no import offered), with the address proposed.
 */
export function FindingContent({
  finding,
  writes,
  importTo,
}: {
  finding: FindingView;
  writes: boolean;
  importTo: { applications: ReadonlyArray<{ slug: string; name: string }>; channel: string } | null;
}) {
  const rule = RULES.find((r) => r.id === finding.rule);
  return (
    <>
      <p className="muted small">
        <Link href="/drift">Drift</Link> /
      </p>
      <h1>{ruleTitle(finding.rule)}</h1>
      <section className="panel" data-testid="drift-finding">
        <p>
          <SeverityBadge severity={finding.severity} /> <StatusBadge status={finding.status} resolution={finding.resolution} /> {finding.summary}
        </p>
        {rule ? <p className="muted small">{rule.doc}</p> : null}
        <dl className="facts">
          <dt>Where</dt>
          <dd>
            <FindingWhere f={finding} />
          </dd>
          <dt>Broker</dt>
          <dd>{finding.broker ? <Link href={`/brokers/${encodeURIComponent(finding.broker.id)}`}>{finding.broker.name}</Link> : <span className="muted">every broker</span>}</dd>
          {finding.template ? (
            <>
              <dt>Observed topic</dt>
              <dd>
                <code>{finding.template}</code>
              </dd>
            </>
          ) : null}
          {finding.channel ? (
            <>
              <dt>Contract channel</dt>
              <dd>
                {finding.application ? (
                  <Link href={`/catalog/${encodeURIComponent(finding.application.slug)}/channel/${encodeURIComponent(finding.channel)}`}>
                    <code>{finding.channel}</code>
                  </Link>
                ) : (
                  <code>{finding.channel}</code>
                )}
                {finding.messageKey ? (
                  <small className="muted">
                    {" "}
                    message <code>{finding.messageKey}</code>
                  </small>
                ) : null}
              </dd>
            </>
          ) : null}
          <dt>Application</dt>
          <dd>
            {finding.application ? <Link href={`/catalog/${encodeURIComponent(finding.application.slug)}`}>{finding.application.name}</Link> : <span className="muted">none</span>}
            {finding.team ? <small className="muted"> · team {finding.team.name}</small> : null}
          </dd>
          {finding.clientId ? (
            <>
              <dt>Client</dt>
              <dd>
                <code>{finding.clientId}</code>
              </dd>
            </>
          ) : null}
          <dt>First seen</dt>
          <dd>
            <Time value={finding.firstSeen} />
          </dd>
          <dt>Last seen</dt>
          <dd>
            <Time value={finding.lastSeen} />
          </dd>
          <dt>Occurrences</dt>
          <dd>
            {formatCount(finding.occurrences)}
            {finding.reopenedCount > 0 ? <small className="muted"> · reopened {finding.reopenedCount}×</small> : null}
          </dd>
          {finding.status === "acknowledged" ? (
            <>
              <dt>Acknowledged</dt>
              <dd data-testid="drift-note">
                by {finding.acknowledgedByLabel ?? "someone"} <Time value={finding.acknowledgedAt} />: {finding.note}
              </dd>
            </>
          ) : null}
          {finding.status === "resolved" ? (
            <>
              <dt>Resolved</dt>
              <dd>
                <Time value={finding.resolvedAt} /> {finding.resolution ? `(${finding.resolution.replace("_", " ")})` : null}
              </dd>
            </>
          ) : null}
        </dl>
      </section>

      <Evidence finding={finding} />

      {writes && finding.status !== "resolved" ? (
        <section className="panel">
          <h2>Acknowledge</h2>
          <p className="muted small">An acknowledged finding stays listed, with your note, until it stops or is documented.</p>
          <AcknowledgeForm id={finding.id} acknowledged={finding.status === "acknowledged"} />
          {finding.status === "acknowledged" ? <UnacknowledgeForm id={finding.id} /> : null}
        </section>
      ) : null}

      {importTo ? (
        <section className="panel">
          <h2>Import into the catalog</h2>
          <p className="muted small">
            Opens a change request adding this topic as a channel of an application&apos;s contract, with a message whose payload is the
            inferred schema and an operation, as the next minor version. The owning team reviews it as any other change.
          </p>
          {importTo.applications.length === 0 ? (
            <p className="muted" data-testid="drift-import">
              No application has a released contract to add it to.
            </p>
          ) : (
            <ImportForm id={finding.id} applications={importTo.applications} channel={importTo.channel} message="" />
          )}
        </section>
      ) : null}

      <section className="panel" data-testid="drift-history">
        <h2>History</h2>
        {finding.events.length === 0 ? (
          <p className="muted">No state change recorded.</p>
        ) : (
          <ol className="cr-events">
            {finding.events.map((e) => (
              <li key={e.id} className="cr-event" data-kind={e.kind}>
                <Time value={e.at} /> <strong>{EVENT_LABELS[e.kind] ?? e.kind}</strong> by {e.actorLabel}
                {e.note ? <span>: {e.note}</span> : null}
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

/** A sample payload, with the failing value's lines highlighted when the payload is JSON. */
function Sample({ sample }: { sample: EvidenceSample }) {
  const lines = payloadLines(sample.payload, sample.path);
  return (
    <li style={{ marginBottom: "0.75rem" }} data-testid="drift-sample">
      <p className="small" style={{ margin: "0 0 0.25rem" }}>
        <Time value={sample.at} />
        {sample.topic ? (
          <>
            {" "}
            on <code>{sample.topic}</code>
          </>
        ) : null}
        {sample.truncated ? <span className="badge badge-muted"> truncated</span> : null}
        {sample.path !== undefined ? (
          <>
            {" "}
            — at <code data-testid="drift-sample-path">{sample.path || "/"}</code>
          </>
        ) : null}
        {sample.problem ? <>: {sample.problem}</> : null}
      </p>
      <pre className="code-block">
        {lines
          ? lines.map((line, i) =>
              line.hit ? (
                <mark key={i} data-testid="drift-sample-hit" style={{ background: "#7a2e1f", color: "#fff", display: "block" }}>
                  {line.text}
                </mark>
              ) : (
                <span key={i} style={{ display: "block" }}>
                  {line.text}
                </span>
              ),
            )
          : sample.payload}
      </pre>
    </li>
  );
}

/** What the finding shows as proof. */
function Evidence({ finding }: { finding: FindingView }) {
  const e = finding.evidence ?? {};
  const nothing =
    !e.topics?.length && e.messages === undefined && e.validated === undefined && !e.samples?.length && !e.fields?.length && !e.clients?.length && !e.inferredSchema && !e.matchingVersions?.length && e.lastObserved === undefined;
  return (
    <section className="panel" data-testid="drift-evidence">
      <h2>Evidence</h2>
      {nothing ? <p className="muted">No evidence was kept for this finding.</p> : null}
      <dl className="facts">
        {e.version ? (
          <>
            <dt>Judged against</dt>
            <dd>version {e.version}</dd>
          </>
        ) : null}
        {e.messages !== undefined ? (
          <>
            <dt>Messages</dt>
            <dd>{formatCount(e.messages)}</dd>
          </>
        ) : null}
        {e.validated !== undefined ? (
          <>
            <dt>Payloads</dt>
            <dd>
              {formatCount(e.failed ?? 0)} of {formatCount(e.validated)} failed ({percent(e.rate ?? (e.validated ? (e.failed ?? 0) / e.validated : undefined))})
            </dd>
          </>
        ) : null}
        {e.matchingVersions?.length ? (
          <>
            <dt>Valid under</dt>
            <dd>{e.matchingVersions.map((v) => `version ${v}`).join(", ")}</dd>
          </>
        ) : null}
        {e.lastObserved !== undefined ? (
          <>
            <dt>Last observed</dt>
            <dd>{e.lastObserved ? <Time value={e.lastObserved} /> : "never"}</dd>
          </>
        ) : null}
        {e.windowSeconds !== undefined ? (
          <>
            <dt>Silent window</dt>
            <dd>{duration(e.windowSeconds)}</dd>
          </>
        ) : null}
      </dl>
      {e.topics?.length ? (
        <>
          <h3>Topics seen</h3>
          <ul data-testid="drift-topics">
            {e.topics.map((t) => (
              <li key={t}>
                <code>{t}</code>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {e.fields?.length ? (
        <>
          <h3>Undocumented fields</h3>
          <ul data-testid="drift-fields">
            {e.fields.map((f) => (
              <li key={f}>
                <code>{f}</code>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {e.clients?.length ? (
        <>
          <h3>Clients</h3>
          <table className="table" data-testid="drift-clients">
            <thead>
              <tr>
                <th>Client id</th>
                <th>Role</th>
                <th>Filter</th>
              </tr>
            </thead>
            <tbody>
              {e.clients.map((c, i) => (
                <tr key={`${c.clientId}-${i}`}>
                  <td>
                    <code>{c.clientId}</code>
                  </td>
                  <td>{c.role ?? "—"}</td>
                  <td>{c.filter ? <code>{c.filter}</code> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {e.samples?.length ? (
        <>
          <h3>Samples</h3>
          <ul className="cr-evidence">
            {e.samples.map((s, i) => (
              <Sample key={i} sample={s} />
            ))}
          </ul>
        </>
      ) : null}
      {e.inferredSchema ? (
        <>
          <h3>Inferred schema</h3>
          <pre className="code-block" data-testid="drift-inferred-schema">
            {JSON.stringify(e.inferredSchema, null, 2)}
          </pre>
        </>
      ) : null}
    </section>
  );
}
