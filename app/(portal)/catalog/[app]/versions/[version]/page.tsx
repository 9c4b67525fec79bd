import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AsyncApiViewer } from "@/app/_components/asyncapi-viewer.tsx";
import { DeprecationWarning, StateBadge } from "@/app/_components/catalog.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { getVersion } from "@/lib/catalog/applications.ts";
import { changeRequestNumber } from "@/lib/reviews/queries.ts";
import { can } from "@/lib/auth/permissions.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { LifecycleForm } from "./lifecycle-form.tsx";
import { decodeParam } from "@/lib/http/page-query.ts";

export async function generateMetadata({ params }: { params: Promise<{ app: string; version: string }> }): Promise<Metadata> {
  const { app, version } = await params;
  return { title: `${app} ${version}` };
}

export default async function VersionPage({ params }: { params: Promise<{ app: string; version: string }> }) {
  const principal = await requireUser();
  const { app: slug, version: wanted } = await params;
  const version = await getVersion(principal, slug, decodeParam(wanted)).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  const base = `/api/v1/applications/${slug}/versions/${version.version}/document`;
  const requestNumber = version.changeRequestId ? await changeRequestNumber(principal, version.changeRequestId) : null;
  const fileNames = Object.keys(version.files);
  return (
    <>
      <p className="muted small">
        <Link href="/catalog">Catalog</Link> / <Link href={`/catalog/${slug}`}>{slug}</Link> /
      </p>
      <div className="page-head">
        <h1>
          {slug} <code>{version.version}</code>
        </h1>
        <StateBadge state={version.state} />
        <a className="btn btn-plain" href={`${base}?format=yaml`} data-testid="download-yaml">
          Download YAML
        </a>
        <a className="btn btn-plain" href={`${base}?format=json`} data-testid="download-json">
          Download JSON
        </a>
      </div>
      {version.state === "deprecated" ? <DeprecationWarning version={version.version} reason={version.stateReason} /> : null}
      {version.state === "retired" ? <p className="alert alert-error">This version is retired{version.stateReason ? `: ${version.stateReason}` : "."}</p> : null}
      {requestNumber !== null || version.overrideReason ? (
        <p className={version.overrideReason ? "alert alert-warn" : "small"} data-testid="version-provenance">
          {requestNumber !== null ? (
            <>
              Published through change request <Link href={`/reviews/${requestNumber}`}>#{requestNumber}</Link>
            </>
          ) : (
            "Published"
          )}
          {version.overrideReason ? (
            <>
              {" "}by an admin override ({version.overrideByLabel}), without the approvals: <q data-testid="override-reason">{version.overrideReason}</q>
            </>
          ) : (
            "."
          )}
        </p>
      ) : null}
      {fileNames.length > 1 ? (
        <p className="muted small">
          Multi-file contract: {fileNames.map((f) => (
            <a key={f} href={`${base}?file=${encodeURIComponent(f)}`} className="chip small">
              {f}
            </a>
          ))}
          (references between files are shown as written).
        </p>
      ) : null}
      {version.changelog ? (
        <p className="small" data-testid="version-changelog">
          Against the previous version under <code>{version.changelog.mode}</code>: {version.changelog.findings.length} change{version.changelog.findings.length === 1 ? "" : "s"},{" "}
          {version.changelog.findings.filter((f) => f.verdict === "breaking").length} breaking; a {version.changelog.semver} change.
        </p>
      ) : null}
      {version.lint && version.lint.length > 0 ? (
        <details className="panel" data-testid="version-lint">
          <summary>
            Lint: {version.lint.length} finding{version.lint.length === 1 ? "" : "s"}
          </summary>
          <ul className="small">
            {version.lint.map((f, i) => (
              <li key={i}>
                {f.severity} <code>{f.rule}</code> <code>{f.path}</code>: {f.message}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {can(principal, "contracts:write") ? (
        <details className="panel">
          <summary>Lifecycle</summary>
          <LifecycleForm appSlug={slug} version={version.version} state={version.state} />
        </details>
      ) : null}
      <section className="panel">
        <AsyncApiViewer document={version.files[version.rootFile] ?? ""} />
      </section>
    </>
  );
}
