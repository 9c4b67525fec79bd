import type { Metadata } from "next";
import { requirePermission } from "@/app/_lib/session.ts";
import { listTeams, teamsOfUser } from "@/lib/accounts/teams.ts";
import { NewApplicationForm } from "./new-application-form.tsx";

export const metadata: Metadata = { title: "New application" };

export default async function NewApplicationPage() {
  const principal = await requirePermission("contracts:write");
  const teams = principal.role === "admin" ? await listTeams(principal) : await teamsOfUser(principal.id);
  return (
    <>
      <h1>New application</h1>
      {teams.length === 0 ? (
        <p className="alert alert-error">You are in no team yet: ask an admin or a team maintainer to add you to the team that owns the application.</p>
      ) : (
        <section className="panel">
          <NewApplicationForm teams={teams.map((t) => ({ slug: t.slug, name: t.name }))} />
        </section>
      )}
    </>
  );
}
