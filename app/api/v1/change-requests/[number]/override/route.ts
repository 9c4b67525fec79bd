import { overrideChangeRequest } from "@/lib/reviews/requests.ts";
import { authenticated, json, readJson } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** An admin publishes the request without its approvals: `{ reason }` (recorded on the version). */
export const POST = authenticated<{ number: string }>(async (request, principal, { number }) => {
  return json(await overrideChangeRequest(principal, number, await readJson(request)), 200);
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
