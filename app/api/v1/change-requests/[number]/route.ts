import { getChangeRequest } from "@/lib/reviews/queries.ts";
import { authenticated, json } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** One change request: its current revision with evaluation and impact, reviewers, history; `?files=false` leaves the files out. */
export const GET = authenticated<{ number: string }>(async (request, principal, { number }) => {
  const view = await getChangeRequest(principal, number);
  if (new URL(request.url).searchParams.get("files") === "false") return json({ ...view, current: { ...view.current, files: undefined, contract: undefined } });
  return json(view);
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
