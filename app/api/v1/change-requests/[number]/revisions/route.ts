import { reviseChangeRequest } from "@/lib/reviews/requests.ts";
import { authenticated, json } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";
import { readUpload } from "../../../_lib/upload.ts";

export const dynamic = "force-dynamic";

/** Submits a new revision (the author, or the owning team): as an upload is sent to publish. 201 with the new judgement. */
export const POST = authenticated<{ number: string }>(async (request, principal, { number }) => {
  const upload = await readUpload(request);
  return json(await reviseChangeRequest(principal, number, upload), 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
