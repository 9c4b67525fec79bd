import { getTeam } from "@/lib/accounts/teams.ts";
import { authenticated, json } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** One team with its members. */
export const GET = authenticated<{ slug: string }>(async (_request, principal, { slug }) =>
  json({ team: await getTeam(principal, slug) }),
);

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
