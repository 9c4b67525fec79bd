import { removeTeamMember } from "@/lib/accounts/teams.ts";
import { authenticated } from "../../../../_lib/http.ts";

export const dynamic = "force-dynamic";

/** Removes a member (admin or team maintainer). */
export const DELETE = authenticated<{ slug: string; userId: string }>(async (_request, principal, { slug, userId }) => {
  await removeTeamMember(principal, slug, userId);
  return new Response(null, { status: 204 });
});
