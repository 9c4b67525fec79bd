import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";

export const metadata: Metadata = { title: "Catalog" };

export default async function CatalogPage() {
  await requireUser();
  return (
    <>
      <h1>Catalog</h1>
      <EmptyState title="No applications yet" testId="catalog-empty">
        <p>
          Every application of the mesh will be listed here with its owning team, the channels it sends to and
          receives from, its messages and payload schemas, and its AsyncAPI contract rendered as documentation.
        </p>
        <p>Applications appear when a team publishes its first contract version, from this portal or from CI.</p>
      </EmptyState>
    </>
  );
}
