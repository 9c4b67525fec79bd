import { revokeToken } from "@/lib/tokens/tokens.ts";
import { authenticated } from "../../../_lib/http.ts";

export const dynamic = "force-dynamic";

/** Revokes a token (admin). */
export const DELETE = authenticated<{ id: string }>(async (_request, principal, { id }) => {
  await revokeToken(principal, id);
  return new Response(null, { status: 204 });
});
