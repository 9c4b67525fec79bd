import { publishChangeRequest } from "@/lib/reviews/requests.ts";
import { authenticated, json } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Publishes an approved request again, judged anew when its baseline moved; 409 with the reason when it cannot. */
export const POST = authenticated<{ number: string }>(async (_request, principal, { number }) => {
  return json(await publishChangeRequest(principal, number, undefined));
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
