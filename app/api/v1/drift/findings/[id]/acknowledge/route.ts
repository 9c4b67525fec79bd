import { acknowledgeFinding, unacknowledgeFinding } from "@/lib/drift/findings.ts";
import { authenticated, json, readJson } from "../../../../_lib/http.ts";
import { otherMethods } from "../../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Acknowledges the finding with a note: `{ note }`. */
export const POST = authenticated<{ id: string }>(async (request, principal, { id }) => {
  return json(await acknowledgeFinding(principal, id, await readJson(request, 64 * 1024)));
});

/** Takes the acknowledgement back: the finding is open again. */
export const DELETE = authenticated<{ id: string }>(async (_request, principal, { id }) => {
  return json(await unacknowledgeFinding(principal, id, undefined));
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, PUT, PATCH } = otherMethods("POST", "DELETE");
