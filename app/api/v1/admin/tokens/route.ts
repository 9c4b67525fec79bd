import { createToken, listTokens } from "@/lib/tokens/tokens.ts";
import { authenticated, json, readJson } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Lists API tokens without their secrets (admin). */
export const GET = authenticated(async (_request, principal) => json({ tokens: await listTokens(principal) }));

/**
 * Creates a token `{ name, scopes, brokers?, teamSlug?, expiresInDays? }`; `brokers` (a broker id
 * or a `*` pattern such as `plant-*`) is required with the agent:report scope. The secret is in
 * this response only (admin).
 */
export const POST = authenticated(async (request, principal) => {
  const body = await readJson(request);
  const { token, secret } = await createToken(principal, body);
  return json({ token, secret }, 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
