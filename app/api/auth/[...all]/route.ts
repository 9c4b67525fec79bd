import { errorResponse, readBodyBytes } from "@/app/api/v1/_lib/http.ts";
import { otherMethods } from "@/app/api/v1/_lib/methods.ts";
import { getAuth } from "@/lib/auth/better-auth.ts";
import { MeshportError } from "@/lib/errors.ts";
import { CLIENT_ADDRESS_HEADER, clientAddress } from "@/lib/http/client-address.ts";

export const dynamic = "force-dynamic";

const BASE_PATH = "/api/auth";

/**
 * The better-auth endpoints the portal uses; better-auth mounts many more (sign-up, password reset,
 * change-email, list/revoke-sessions, delete-user, …), which answer 404 here. Account changes go
 * through the portal's own account page, audited in its transactions.
 */
const AUTH_ENDPOINTS: ReadonlySet<string> = new Set(["POST /sign-in/email", "POST /sign-out", "GET /get-session"]);

/** Enough for an email, a password and better-auth's optional fields. */
const AUTH_BODY_LIMIT = 16 * 1024;

async function handle(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  const path = pathname.startsWith(`${BASE_PATH}/`) ? pathname.slice(BASE_PATH.length) : "";
  if (!AUTH_ENDPOINTS.has(`${request.method} ${path}`)) {
    return errorResponse(new MeshportError("not_found", "No such authentication endpoint.", { subject: "route" }));
  }
  // better-auth's own IP logic reads only this header; a copy the client sent is replaced.
  const headers = new Headers(request.headers);
  const address = clientAddress(request.headers);
  if (address) headers.set(CLIENT_ADDRESS_HEADER, address);
  else headers.delete(CLIENT_ADDRESS_HEADER);
  let body: Buffer | undefined;
  if (request.method === "POST") {
    try {
      body = await readBodyBytes(request, AUTH_BODY_LIMIT);
    } catch (error) {
      return errorResponse(error);
    }
  }
  const auth = await getAuth();
  return auth.handler(new Request(request.url, { method: request.method, headers, body: body ? new Uint8Array(body) : undefined }));
}

export { handle as GET, handle as POST };

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
