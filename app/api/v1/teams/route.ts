import { createTeam, listTeams } from "@/lib/accounts/teams.ts";
import { authenticated, json, readJson } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Lists teams. */
export const GET = authenticated(async (_request, principal) => json({ teams: await listTeams(principal) }));

/** Creates a team `{ slug, name, description?, contact? }` (admin). */
export const POST = authenticated(async (request, principal) => {
  const body = await readJson(request);
  return json({ team: await createTeam(principal, body) }, 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
