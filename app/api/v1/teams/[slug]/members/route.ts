import { setTeamMember } from "@/lib/accounts/teams.ts";
import { authenticated, json, readJson } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Adds a member or changes their team role: `{ email, role }` (admin or team maintainer). */
export const PUT = authenticated<{ slug: string }>(async (request, principal, { slug }) => {
  const body = await readJson(request);
  return json({ member: await setTeamMember(principal, slug, body) });
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, POST, PATCH, DELETE } = otherMethods("PUT");
