import type { Metadata } from "next";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";

export const metadata: Metadata = { title: "Reviews" };

export default async function ReviewsPage() {
  await requireUser();
  return (
    <>
      <h1>Reviews</h1>
      <EmptyState title="No change requests" testId="reviews-empty">
        <p>
          Proposed contract versions wait here for review: whether the change is compatible under the contract&apos;s
          mode, which consumers it would break, and the semver bump it needs. Owners of affected consumers are asked to
          review.
        </p>
      </EmptyState>
    </>
  );
}
