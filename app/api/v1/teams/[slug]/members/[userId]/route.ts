import { removeTeamMember } from "@/lib/accounts/teams.ts";
import { authenticated } from "../../../../_lib/http.ts";
import { otherMethods } from "../../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Removes a member (admin or team maintainer). */
export const DELETE = authenticated<{ slug: string; userId: string }>(async (_request, principal, { slug, userId }) => {
  await removeTeamMember(principal, slug, userId);
  return new Response(null, { status: 204 });
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, POST, PUT, PATCH } = otherMethods("DELETE");
