import { revokeToken } from "@/lib/tokens/tokens.ts";
import { authenticated } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Revokes a token (admin). */
export const DELETE = authenticated<{ id: string }>(async (_request, principal, { id }) => {
  await revokeToken(principal, id);
  return new Response(null, { status: 204 });
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, POST, PUT, PATCH } = otherMethods("DELETE");
