import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { channelHref, DeprecationWarning, messageHref, StateBadge } from "@/app/_components/catalog.tsx";
import { Time } from "@/app/_components/time.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { can } from "@/lib/auth/permissions.ts";
import { approvalRuleOf, reviewPolicyOf } from "@/lib/catalog/applications.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { GovernanceForm } from "./governance-form.tsx";
import { KindForm } from "./kind-form.tsx";
import { MeshFlow } from "./mesh-flow.tsx";
import { applicationOverview } from "@/lib/catalog/mesh.ts";
import { ModeForm } from "./mode-form.tsx";
import { SchemaId } from "./schema-id.tsx";
import { DriftPanel } from "@/app/(portal)/drift/drift-panel.tsx";
import { preloadNeighbourhood, TopologyNeighbourhood } from "@/app/(portal)/topology/neighbourhood.tsx";

export async function generateMetadata({ params }: { params: Promise<{ app: string }> }): Promise<Metadata> {
  return { title: (await params).app };
}

export default async function ApplicationPage({ params }: { params: Promise<{ app: string }> }) {
  const principal = await requireUser();
  const { app: slug } = await params;
  // The drawing reads the most: started now, it runs beside the page's own reads.
  preloadNeighbourhood({ kind: "application", slug });
  // One read of the record, its current contract, the flows and the mesh: each was read twice when loaded apart.
  const data = await applicationOverview(principal, slug).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  // What it sends and receives comes from the flow table; the contract only names and describes what it lists.
  const { application: app, team, versions, version, contract, mode, flows, truncated, mesh } = data;
  const reviewPolicy = reviewPolicyOf(app);
  const approvalRule = approvalRuleOf(app);
  return (
    <>
      <p className="muted small">
        <Link href="/catalog">Catalog</Link> /
      </p>
      <div className="page-head">
        <h1 data-testid="application-name">{app.name}</h1>
        {version ? (
          <>
            <code>{version.version}</code> <StateBadge state={version.state} />
          </>
        ) : null}
        {can(principal, "contracts:write") ? (
          <Link className="btn btn-primary" href={`/catalog/${app.slug}/publish`}>
            Publish a version
          </Link>
        ) : null}
      </div>
      {version?.state === "deprecated" ? <DeprecationWarning version={version.version} reason={version.stateReason} /> : null}
      <section className="panel">
        <p>{app.description || contract?.description || <span className="muted">No description.</span>}</p>
        <dl className="facts">
          <dt>Team</dt>
          <dd>
            <Link href={`/catalog?team=${team.slug}`}>{team.name}</Link> {team.contact ? <span className="muted">· {team.contact}</span> : null}
          </dd>
          {contract?.owners.length ? (
            <>
              <dt>Owners in the contract</dt>
              <dd>{contract.owners.join(", ")}</dd>
            </>
          ) : null}
          <dt>Compatibility</dt>
          <dd>
            <code>{mode}</code>
            {app.compatibilityMode ? null : <span className="muted"> (portal default)</span>}
          </dd>
          {app.domain ? (
            <>
              <dt>Domain</dt>
              <dd>{app.domain}</dd>
            </>
          ) : null}
          {app.tags.length ? (
            <>
              <dt>Tags</dt>
              <dd>{app.tags.join(", ")}</dd>
            </>
          ) : null}
          <dt>Review policy</dt>
          <dd data-testid="review-policy">{reviewPolicy === "review" ? "every change needs an approved change request" : "compatible changes publish directly"}</dd>
          <dt>Approvals</dt>
          <dd data-testid="approval-rule">
            {approvalRule.owner} from the owning team, {approvalRule.consumer} from each affected consumer team for a breaking change
          </dd>
          {app.clientIdPatterns.length ? (
            <>
              <dt>Client ids</dt>
              <dd data-testid="client-id-patterns">
                {app.clientIdPatterns.map((p) => (
                  <code key={p}>{p} </code>
                ))}
              </dd>
            </>
          ) : null}
        </dl>
        {can(principal, "contracts:write") ? (
          <details>
            <summary className="small">Change the compatibility mode or lint policy</summary>
            <ModeForm appSlug={app.slug} mode={app.compatibilityMode} lintPolicy={app.lintPolicy} />
          </details>
        ) : null}

        {version ? (
          <p className="tabs">
            <Link href={`/catalog/${app.slug}/versions/${version.version}`}>Documentation</Link>
            <a href={`/api/v1/applications/${app.slug}/versions/${version.version}/document?format=yaml`}>Download YAML</a>
            <a href={`/api/v1/applications/${app.slug}/versions/${version.version}/document?format=json`}>Download JSON</a>
            {versions.length > 1 ? <Link href={`/catalog/${app.slug}/diff`}>Compare versions</Link> : null}
          </p>
        ) : null}
      </section>

      <section className="panel" data-testid="mesh">
        <h2>In the mesh</h2>
        <MeshFlow appSlug={app.slug} appName={app.name} mesh={mesh} />
        {can(principal, "contracts:write") ? (
          <details>
            <summary className="small">Set the kind and systems</summary>
            {mesh.declared ? (
              <p className="muted small" data-testid="kind-declared">
                Version {mesh.declared.version} of the contract sets {[mesh.declared.kind ? "the kind" : null, mesh.declared.systems ? "the systems" : null].filter(Boolean).join(" and ")} (
                <code>x-meshport-kind</code>, <code>x-meshport-systems</code>); what you save here holds until the next publish carrying them.
              </p>
            ) : null}
            <KindForm appSlug={app.slug} kind={mesh.kind} systems={[...mesh.sources, ...mesh.targets]} />
          </details>
        ) : null}
      </section>

      {can(principal, "contracts:write") ? (
        <section className="panel" data-testid="governance">
          <h2>Governance</h2>
          <GovernanceForm appSlug={app.slug} reviewPolicy={reviewPolicy} approvalRule={approvalRule} clientIdPatterns={app.clientIdPatterns} subjectNaming={app.subjectNaming} />
        </section>
      ) : null}

      {version ? (
        <section className="panel" data-testid="flows">
          <h2>What it sends and receives</h2>
          {flows.length === 0 ? (
            <p className="muted">The contract declares no operations.</p>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Direction</th>
                  <th>Channel</th>
                  <th>Messages</th>
                  <th>Description</th>
                </tr>
              </thead>
              <tbody>
                {flows.map((f) => {
                  const channel = contract?.channels[f.channel];
                  const summary = f.operations.map((id) => contract?.operations[id]?.summary).find(Boolean);
                  return (
                    <tr key={`${f.action} ${f.channel}`} data-testid="flow-row">
                      <td>
                        <span className={`badge ${f.action === "send" ? "status-online" : "badge-muted"}`}>{f.action === "send" ? "sends" : "receives"}</span>
                      </td>
                      <td>
                        <Link href={channelHref(app.slug, f.channel)}>
                          <code>{f.channel}</code>
                        </Link>
                      </td>
                      <td>
                        {f.messages.map((m) => {
                          const message = channel?.messages[m.key];
                          return (
                            <div key={m.key}>
                              <Link href={messageHref(app.slug, f.channel, m.key)}>{message?.title ?? message?.name ?? m.key}</Link>
                              {" "}<SchemaId id={m.payloadSchemaId} />
                            </div>
                          );
                        })}
                      </td>
                      <td className="small">{summary ?? channel?.description ?? ""}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {truncated ? <p className="muted small">Only the first {flows.reduce((n, f) => n + f.messages.length, 0)} messages are listed.</p> : null}
        </section>
      ) : null}

      <DriftPanel scope={{ application: app.slug }} />
      <TopologyNeighbourhood focus={{ kind: "application", slug: app.slug }} />

      <section className="panel">
        <h2>Versions</h2>
        {versions.length === 0 ? (
          <p className="muted">No version published yet.</p>
        ) : (
          <table className="table" data-testid="versions-table">
            <thead>
              <tr>
                <th>Version</th>
                <th>State</th>
                <th>Published</th>
                <th>Change</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => {
                const log = v.changelog;
                const breaking = log?.findings.filter((f) => f.verdict === "breaking").length ?? 0;
                return (
                  <tr key={v.id}>
                    <td>
                      <Link href={`/catalog/${app.slug}/versions/${v.version}`}>
                        <code>{v.version}</code>
                      </Link>
                    </td>
                    <td>
                      <StateBadge state={v.state} />
                      {v.stateReason ? <small className="muted"> {v.stateReason}</small> : null}
                    </td>
                    <td>
                      <Time value={v.publishedAt} /> <small className="muted">by {v.publishedByLabel}</small>
                    </td>
                    <td>
                      {log ? (
                        <>
                          {log.semver} · {log.findings?.length ?? 0} change(s)
                          {breaking ? <span className="finding-breaking"> · {breaking} breaking</span> : null}
                        </>
                      ) : (
                        <span className="muted">first version</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
