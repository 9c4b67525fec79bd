import "server-only";
import { MeshportError } from "@/lib/errors.ts";
import { clientAddress, PEER_HEADER, trustedProxies, type TrustedProxies } from "@/lib/http/client-address.ts";
import { principalForToken } from "@/lib/tokens/tokens.ts";
import { getAuth } from "./better-auth.ts";
import { ROLES, type Principal } from "./principal.ts";

/**
 * Finds who is calling: a bearer token when an Authorization header is present (it
 * then must be valid: no fallback to cookies), else the session cookie.
 */
export async function principalFromHeaders(headers: Headers): Promise<Principal | null> {
  const authorization = headers.get("authorization");
  let principal: Principal | null;
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    principal = match ? await principalForToken(match[1]!) : null;
  } else {
    principal = (await sessionFromHeaders(headers))?.principal ?? null;
  }
  // Audit entries say where a change came from.
  if (principal && principal.kind !== "system") principal.address = requestAddress(headers);
  return principal;
}

const ADDRESS_MEMO_ENTRIES = 1_024;
const ADDRESS_MEMO_KEY_LIMIT = 512;
let addressMemo: { proxies: TrustedProxies; addresses: Map<string, string | null> } | undefined;

/**
 * `clientAddress`, remembered: it depends only on the peer, X-Forwarded-For and the trusted proxies, and the
 * same clients call again and again; parsing and checking each hop on every request is measurable on the API's
 * cheapest routes.
 */
function requestAddress(headers: Headers): string | null {
  const peer = headers.get(PEER_HEADER);
  if (peer === null) return null;
  const forwarded = headers.get("x-forwarded-for");
  const key = forwarded === null ? peer : `${peer}\n${forwarded}`;
  const proxies = trustedProxies();
  if (key.length > ADDRESS_MEMO_KEY_LIMIT) return clientAddress(headers, proxies);
  if (addressMemo?.proxies !== proxies) addressMemo = { proxies, addresses: new Map() };
  const { addresses } = addressMemo;
  let address = addresses.get(key);
  if (address === undefined) {
    address = clientAddress(headers, proxies);
    if (addresses.size >= ADDRESS_MEMO_ENTRIES) addresses.delete(addresses.keys().next().value!);
    addresses.set(key, address);
  }
  return address;
}

/** The signed-in user of the session cookie, with the session's id (the account page keeps it). */
export async function sessionFromHeaders(
  headers: Headers,
): Promise<{ principal: Principal & { kind: "user" }; sessionId: string } | null> {
  const auth = await getAuth();
  const found = await auth.api.getSession({ headers });
  if (!found) return null;
  const { user } = found;
  if (user.disabledAt) return null;
  const role = ROLES.find((known) => known === user.role) ?? "viewer";
  return { principal: { kind: "user", id: user.id, email: user.email, name: user.name, role }, sessionId: found.session.id };
}

/** Like principalFromHeaders, but throws `unauthenticated` when nobody is signed in. */
export async function requirePrincipal(headers: Headers): Promise<Principal> {
  const principal = await principalFromHeaders(headers);
  if (!principal) {
    throw new MeshportError(
      "unauthenticated",
      headers.has("authorization")
        ? "The bearer token is missing, malformed, revoked or expired."
        : "Sign in, or send an API token as `Authorization: Bearer <token>`.",
    );
  }
  return principal;
}
