import { listChangeRequests } from "@/lib/reviews/queries.ts";
import { authenticated, json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Change requests, newest first: `?view=waiting|mine|all&state&app&team&breaking&limit&before`. */
export const GET = authenticated(async (request, principal) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return json(await listChangeRequests(principal, query));
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
