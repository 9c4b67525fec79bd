import { listChangeRequests } from "@/lib/reviews/queries.ts";
import { openChangeRequest } from "@/lib/reviews/requests.ts";
import { authenticated, json } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";
import { readUpload } from "../../../_lib/upload.ts";

export const dynamic = "force-dynamic";

/** The change requests of an application, newest first; `?state&view&limit&before`. */
export const GET = authenticated<{ app: string }>(async (request, principal, { app }) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return json(await listChangeRequests(principal, { ...query, app }));
});

/**
 * Opens a change request (scope `contracts:write`): the document as body, or `{ files, version?, root?, title?,
 * description? }`. 201 with the request, its evaluation, impact and reviewers; 422 when the document is invalid.
 */
export const POST = authenticated<{ app: string }>(async (request, principal, { app }) => {
  const upload = await readUpload(request);
  return json(await openChangeRequest(principal, app, upload), 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
