import { getFinding } from "@/lib/drift/queries.ts";
import { authenticated, json } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** One drift finding with its evidence, its application, team and broker, and its history. */
export const GET = authenticated<{ id: string }>(async (_request, principal, { id }) => {
  return json(await getFinding(principal, id));
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
