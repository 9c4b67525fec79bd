import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";

export const metadata: Metadata = { title: "Topology" };

export default async function TopologyPage() {
  await requireUser();
  return (
    <>
      <h1>Topology</h1>
      <EmptyState title="No brokers reporting" testId="topology-empty">
        <p>
          The producer → channel → consumer graph of the mesh will be drawn here, across brokers and bridges, from
          the contracts and from what the broker agents see flowing.
        </p>
        <p>Attach an agent to a broker with an API token of scope <code>agent:report</code> to start.</p>
      </EmptyState>
    </>
  );
}
