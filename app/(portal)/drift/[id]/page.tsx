import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { requireUser } from "@/app/_lib/session.ts";
import { can } from "@/lib/auth/permissions.ts";
import { listApplications } from "@/lib/catalog/applications.ts";
import { suggestedChannelAddress } from "@/lib/drift/import.ts";
import { getFinding } from "@/lib/drift/queries.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { decodeParam } from "@/lib/http/page-query.ts";
import { FindingContent } from "./finding-view.tsx";

export const metadata: Metadata = { title: "Drift finding" };

/** Applications the import offers. */
const MAX_APP_OPTIONS = 200;

export default async function DriftFindingPage({ params }: { params: Promise<{ id: string }> }) {
  const principal = await requireUser();
  const id = decodeParam((await params).id);
  const finding = await getFinding(principal, id).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  const writes = can(principal, "contracts:write");
  const importable = finding.rule === "UNDOCUMENTED_TOPIC" && finding.template !== null && finding.status !== "resolved" && writes;
  // Only applications with a released contract can take a new channel.
  const applications = importable ? (await listApplications(principal, { limit: MAX_APP_OPTIONS, offset: 0 })).applications.filter((a) => a.currentVersion) : [];
  const channel = importable ? await suggestedChannelAddress(finding.broker?.id ?? null, finding.template!) : null;
  return (
    <FindingContent
      finding={finding}
      writes={writes}
      importTo={importable ? { applications: applications.map((a) => ({ slug: a.slug, name: a.name })), channel: channel! } : null}
    />
  );
}
