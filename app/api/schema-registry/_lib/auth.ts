import "server-only";
import { assertSameOriginForCookieWrite } from "@/app/api/v1/_lib/http.ts";
import { principalFromHeaders } from "@/lib/auth/authenticate.ts";
import { parseBasicCredentials } from "@/lib/auth/basic.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { clientAddress } from "@/lib/http/client-address.ts";
import { principalForToken } from "@/lib/tokens/tokens.ts";

/**
 * Who calls the registry API: an API token as the password of HTTP Basic auth (the user name is ignored: it is
 * what Confluent clients send with `basic.auth.user.info`), a Bearer token, or the portal's session cookie. An
 * Authorization header, once sent, must be valid: no fallback to the cookie. Writes by cookie must come from the
 * portal's own origin.
 */
export async function registryPrincipal(request: Request): Promise<Principal> {
  const { headers } = request;
  const authorization = headers.get("authorization");
  const basic = authorization === null ? null : parseBasicCredentials(authorization);
  let principal: Principal | null;
  if (basic) {
    principal = await principalForToken(basic.password);
    // Audit entries say where a change came from.
    if (principal && principal.kind !== "system") principal.address = clientAddress(headers);
  } else {
    principal = await principalFromHeaders(headers);
  }
  if (!principal) {
    throw new MeshportError(
      "unauthenticated",
      authorization === null
        ? "Send an API token as the password of HTTP Basic auth (or as `Authorization: Bearer <token>`), or sign in."
        : "The API token is missing, malformed, revoked or expired.",
    );
  }
  assertSameOriginForCookieWrite(request);
  return principal;
}
