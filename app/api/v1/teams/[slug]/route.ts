import { getTeam } from "@/lib/accounts/teams.ts";
import { authenticated, json } from "../../_lib/http.ts";

export const dynamic = "force-dynamic";

/** One team with its members. */
export const GET = authenticated<{ slug: string }>(async (_request, principal, { slug }) =>
  json({ team: await getTeam(principal, slug) }),
);
