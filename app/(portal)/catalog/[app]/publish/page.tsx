import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { requirePermission } from "@/app/_lib/session.ts";
import { getApplication } from "@/lib/catalog/applications.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { PublishForm } from "./publish-form.tsx";

export const metadata: Metadata = { title: "Publish a version" };

export default async function PublishPage({ params }: { params: Promise<{ app: string }> }) {
  const principal = await requirePermission("contracts:write");
  const { app: slug } = await params;
  const app = await getApplication(principal, slug).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  return (
    <>
      <p className="muted small">
        <Link href="/catalog">Catalog</Link> / <Link href={`/catalog/${slug}`}>{app.application.name}</Link> /
      </p>
      <h1>Publish a version of {app.application.name}</h1>
      <p className="muted">
        Checked under <code>{app.mode}</code> against {app.versions[0] ? `version ${app.versions[0].version}` : "nothing yet (first version)"}. Breaking
        changes need a new major version and an approved change request; additions a minor one.
      </p>
      <p className="muted" data-testid="review-policy">
        {app.application.reviewPolicy === "review"
          ? `Every change of ${app.application.name} goes through a change request: use "Submit for review".`
          : `Compatible changes may publish directly; "Submit for review" opens a change request for any change.`}
      </p>
      <section className="panel">
        <PublishForm appSlug={slug} />
      </section>
    </>
  );
}
