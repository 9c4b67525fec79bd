import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { requireUser } from "@/app/_lib/session.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { requestDiff } from "@/lib/reviews/page-data.ts";
import { getChangeRequest } from "@/lib/reviews/queries.ts";
import { ChangeRequestContent } from "./request-view.tsx";

export const metadata: Metadata = { title: "Change request" };

export default async function ChangeRequestPage({ params }: { params: Promise<{ number: string }> }) {
  const principal = await requireUser();
  const { number } = await params;
  const request = await getChangeRequest(principal, number).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  const diff = await requestDiff(principal, request);
  return <ChangeRequestContent request={request} diff={diff} />;
}
