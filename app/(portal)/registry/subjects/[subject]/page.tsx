import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { channelHref, messageHref } from "@/app/_components/catalog.tsx";
import { Time } from "@/app/_components/time.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { listTeams } from "@/lib/accounts/teams.ts";
import { can } from "@/lib/auth/permissions.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { decodeParam, positiveInteger, type SearchParamValue } from "@/lib/http/page-query.ts";
import { subjectDetail, type HistoryEntry } from "@/lib/schema-registry/views.ts";
import { KIND_LABELS, schemaHref, SOURCE_LABELS, subjectHref } from "../../format.ts";
import { FlowsTable, References } from "../../parts.tsx";
import { LinkForm, OwnerForm, UnlinkForm } from "./forms.tsx";

export async function generateMetadata({ params }: { params: Promise<{ subject: string }> }): Promise<Metadata> {
  return { title: decodeParam((await params).subject) };
}

const MAX_INT4 = 2_147_483_647;

export default async function SubjectPage({ params, searchParams }: { params: Promise<{ subject: string }>; searchParams: Promise<{ version?: SearchParamValue }> }) {
  const principal = await requireUser();
  const name = decodeParam((await params).subject);
  const version = positiveInteger((await searchParams).version, MAX_INT4);
  const detail = await subjectDetail(principal, name, version !== undefined ? { version } : {}).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  const admin = principal.role === "admin";
  const teams = admin && detail.kind !== "governed" ? await listTeams(principal) : [];
  const app = detail.application;
  return (
    <>
      <p className="muted small">
        <Link href="/registry">Registry</Link> /
      </p>
      <h1 data-testid="subject-title">
        {detail.name} {detail.deleted ? <span className="badge badge-muted">soft-deleted</span> : null}
      </h1>
      <section className="panel">
        <dl className="facts">
          <dt>Kind</dt>
          <dd data-testid="subject-kind">{KIND_LABELS[detail.kind]}</dd>
          {app ? (
            <>
              <dt>{detail.kind === "governed" ? "Governed by" : "Linked to"}</dt>
              <dd data-testid="subject-usage">
                <Link href={`/catalog/${app.slug}`}>{app.name}</Link>
                {detail.channel ? (
                  <>
                    {" · "}
                    <Link href={channelHref(app.slug, detail.channel)}>{detail.channel}</Link>
                  </>
                ) : null}
                {detail.channel && detail.messageKey ? (
                  <>
                    {" · "}
                    <Link href={messageHref(app.slug, detail.channel, detail.messageKey)}>{detail.messageKey}</Link>
                  </>
                ) : null}
                {detail.part ? <span className="muted"> ({detail.part})</span> : null}
              </dd>
            </>
          ) : null}
          <dt>Team</dt>
          <dd>{detail.team ? detail.team.name : <span className="muted">none (admins only)</span>}</dd>
          <dt>Compatibility</dt>
          <dd data-testid="subject-compatibility">
            <code>{detail.compatibility.level}</code> <span className="muted small">{SOURCE_LABELS[detail.compatibility.source]}</span>
          </dd>
          <dt>Mode</dt>
          <dd data-testid="subject-mode">
            <code>{detail.mode.mode}</code> <span className="muted small">{detail.mode.source === "subject" ? "set on the subject" : "the registry-wide mode"}</span>
          </dd>
        </dl>
      </section>

      <section className="panel">
        <h2>Versions</h2>
        {detail.versions.length === 0 ? (
          <p className="muted">No version is registered yet.</p>
        ) : (
          <table className="table" data-testid="subject-versions">
            <thead>
              <tr>
                <th>Version</th>
                <th>Schema id</th>
                <th>Type</th>
                <th>Registered</th>
                <th>Checked under</th>
                {detail.kind === "governed" ? <th>Contract version</th> : null}
              </tr>
            </thead>
            <tbody>
              {detail.versions.map((v) => (
                <tr key={v.version} data-testid="subject-version-row" data-version={v.version} className={detail.selected?.version === v.version ? "current" : undefined}>
                  <td>
                    <Link href={subjectHref(detail.name, v.version)}>{v.version}</Link>
                    {v.deleted ? <span className="badge badge-muted"> soft-deleted</span> : null}
                  </td>
                  <td>
                    <Link href={schemaHref(v.schemaId)} data-testid="subject-version-schema-id">
                      <code className="small">#{v.schemaId}</code>
                    </Link>
                  </td>
                  <td>{v.schemaType}</td>
                  <td>
                    <Time value={v.registeredAt} /> <span className="muted small">by {v.registeredBy}</span>
                  </td>
                  <td>
                    <code className="small">{v.compatibility}</code>
                  </td>
                  {detail.kind === "governed" ? (
                    <td>{v.contractVersion && app ? <Link href={`/catalog/${app.slug}/versions/${v.contractVersion}`}>{v.contractVersion}</Link> : <span className="muted">—</span>}</td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {detail.versionsTruncated ? <p className="muted small">Only the newest {detail.versions.length} versions are listed.</p> : null}
      </section>

      {detail.selected ? (
        <section className="panel" data-testid="subject-schema-panel">
          <h2>
            Version {detail.selected.version}: schema <Link href={schemaHref(detail.selected.schemaId)}>#{detail.selected.schemaId}</Link>{" "}
            <small className="muted">{detail.selected.schemaType}</small>
          </h2>
          <pre className="code-block" data-testid="subject-schema">
            {detail.selected.schema.text}
          </pre>
          <h3>References</h3>
          <References references={detail.selected.schema.references} />
          <h3>Referenced by</h3>
          {detail.referencedBy.length === 0 ? (
            <p className="muted">No registered schema references this version.</p>
          ) : (
            <ul data-testid="subject-referenced-by">
              {detail.referencedBy.map((r) => (
                <li key={`${r.subject}\u0000${r.version}`}>
                  <Link href={subjectHref(r.subject, r.version)}>
                    {r.subject} version {r.version}
                  </Link>{" "}
                  (<Link href={schemaHref(r.schemaId)}>#{r.schemaId}</Link>)
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}

      <section className="panel">
        <h2>Contracts using it</h2>
        <p className="muted small">Every contract flow whose payload or headers schema is one of this subject&apos;s schema ids.</p>
        <FlowsTable flows={detail.flows} testId="subject-flows" />
      </section>

      <section className="panel">
        <h2>Producers seen by the agents</h2>
        {!app || !detail.channel ? (
          <p className="muted">Not linked to a channel of a contract, so no observed topic is tied to it.</p>
        ) : detail.producers.length === 0 ? (
          <p className="muted" data-testid="subject-producers-none">
            No agent has reported a producer on {detail.channel} for {app.name}.
          </p>
        ) : (
          <table className="table" data-testid="subject-producers">
            <thead>
              <tr>
                <th>Client id</th>
                <th>Broker</th>
                <th>Topic</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {detail.producers.map((p) => (
                <tr key={`${p.brokerId}\u0000${p.template}\u0000${p.clientId}`}>
                  <td>
                    <code>{p.clientId}</code>
                  </td>
                  <td>
                    <Link href={`/brokers/${encodeURIComponent(p.brokerId)}`}>{p.brokerName}</Link>
                  </td>
                  <td>
                    <code className="small">{p.template}</code>
                  </td>
                  <td>
                    <Time value={p.lastSeen} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="panel">
        <h2>Compatibility history</h2>
        <History entries={detail.history} />
      </section>

      {detail.kind !== "governed" && !detail.deleted && can(principal, "contracts:write") ? (
        <section className="panel" data-testid="subject-manage">
          <h2>{detail.kind === "linked" ? "Link to a channel" : "Link to a channel of a contract"}</h2>
          <p className="muted small">
            A direct subject linked to a message of a channel shows on that message&apos;s page, and the agents&apos; producers on the channel are listed here.
          </p>
          <LinkForm subject={detail.name} current={{ application: app?.slug, channel: detail.channel ?? undefined, messageKey: detail.messageKey ?? undefined }} />
          {detail.kind === "linked" ? <UnlinkForm subject={detail.name} /> : null}
          {admin ? <OwnerForm subject={detail.name} team={detail.ownerTeam} teams={teams.map((t) => ({ slug: t.slug, name: t.name }))} /> : null}
        </section>
      ) : null}
    </>
  );
}

/** A change as one line: the action, what it carried before and after. */
function describe(entry: HistoryEntry): string {
  const d = entry.details;
  const show = (value: unknown) => (value === null || value === undefined ? "none" : typeof value === "string" || typeof value === "number" ? String(value) : JSON.stringify(value));
  const parts: string[] = [];
  if ("version" in d) parts.push(`version ${show(d.version)}`);
  if ("id" in d) parts.push(`id ${show(d.id)}`);
  if ("compatibility" in d) parts.push(`checked under ${show(d.compatibility)}`);
  if ("before" in d || "after" in d) parts.push(`${show(d.before)} → ${show(d.after)}`);
  if (d.permanent === true) parts.push("permanently");
  return parts.join(", ");
}

function History({ entries }: { entries: readonly HistoryEntry[] }) {
  if (entries.length === 0) return <p className="muted">No registry change names this subject.</p>;
  return (
    <table className="table" data-testid="subject-history">
      <thead>
        <tr>
          <th>When</th>
          <th>Who</th>
          <th>Change</th>
          <th>Details</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.seq}>
            <td>
              <Time value={e.at} />
            </td>
            <td>{e.actor}</td>
            <td>
              <code className="small">{e.action}</code>
            </td>
            <td className="small">{describe(e)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
