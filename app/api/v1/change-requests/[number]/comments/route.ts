import { commentOnChangeRequest } from "@/lib/reviews/requests.ts";
import { authenticated, json, readJson } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Comments on the request, or on one finding: `{ body, finding?: { rule, path, baseline? } }`. */
export const POST = authenticated<{ number: string }>(async (request, principal, { number }) => {
  return json(await commentOnChangeRequest(principal, number, await readJson(request)), 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
