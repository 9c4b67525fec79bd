import { setTeamMember } from "@/lib/accounts/teams.ts";
import { authenticated, json, readJson } from "../../../_lib/http.ts";

export const dynamic = "force-dynamic";

/** Adds a member or changes their team role: `{ email, role }` (admin or team maintainer). */
export const PUT = authenticated<{ slug: string }>(async (request, principal, { slug }) => {
  const body = await readJson(request);
  return json({ member: await setTeamMember(principal, slug, body) });
});
