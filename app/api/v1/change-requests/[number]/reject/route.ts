import { rejectChangeRequest } from "@/lib/reviews/requests.ts";
import { authenticated, json, readJson } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Rejects the request (a reviewer of the owning team, or an admin): `{ reason? }`. */
export const POST = authenticated<{ number: string }>(async (request, principal, { number }) => {
  return json(await rejectChangeRequest(principal, number, await readJson(request, undefined, { emptyAs: {} })), 200);
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
