import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";

export const metadata: Metadata = { title: "Discover" };

export default async function DiscoverPage() {
  await requireUser();
  return (
    <>
      <h1>Discover</h1>
      <EmptyState title="Nothing to discover yet" testId="discover-empty">
        <p>
          Find topics to subscribe to: search by words, by topic filter (<code>plant/+/temperature</code>,{" "}
          <code>orders/#</code>) or by field name. Each answer gives the subscription filter, the payload schema, the
          broker and the owning team.
        </p>
        <p>Results appear once contracts are published to the catalog.</p>
      </EmptyState>
    </>
  );
}
