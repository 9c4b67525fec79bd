import { decideChangeRequest } from "@/lib/reviews/requests.ts";
import { authenticated, json, readJson } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Approves or requests changes for the reviewer teams the caller decides for: `{ decision: "approve" | "request_changes", body?, finding? }`; the approval that satisfies the rule publishes. */
export const POST = authenticated<{ number: string }>(async (request, principal, { number }) => {
  return json(await decideChangeRequest(principal, number, await readJson(request)), 200);
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
