import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";

export const metadata: Metadata = { title: "Drift" };

export default async function DriftPage() {
  await requireUser();
  return (
    <>
      <h1>Drift</h1>
      <EmptyState title="No drift to show" testId="drift-empty">
        <p>
          Differences between the contracts and what really flows will be flagged here: undocumented topics, silent
          channels, payloads that fail their schema, undeclared producers or consumers, undocumented fields.
        </p>
      </EmptyState>
    </>
  );
}
