import { NextResponse, type NextRequest } from "next/server";
import { isMeshportError, MeshportError } from "@/lib/errors.ts";
import { actionBodyHasNul, assertCleanUrl, nulError } from "@/lib/http/input.ts";
import { SERVER_ACTION_BODY_LIMIT } from "@/lib/http/limits.ts";
import { comesFromTrustedOrigin } from "@/lib/http/origins.ts";

/** The API's error shape, built here because the API helpers are server-only. */
function refuse(error: MeshportError): Response {
  const body = { error: { code: error.code, message: error.message, details: error.details ?? {} } };
  return Response.json(body, { status: error.status, headers: { "cache-control": "no-store" } });
}

/**
 * Next.js treats every POST to a page as a possible server action (fetch actions carry `Next-Action`, forms
 * posted without JavaScript are multipart). Those that cannot be honoured are answered here with a 4xx instead of
 * the framework's 500: a foreign or unknown origin, or a body over the limit or of unknown length.
 */
function checkServerAction(request: NextRequest): void {
  const { trusted, origin } = comesFromTrustedOrigin(request.headers);
  if (!trusted) {
    throw new MeshportError("forbidden", origin ? "Cross-site form submission refused." : "A form submission must say where it comes from (Origin).", {
      subject: "origin",
      details: { origin },
    });
  }
  const length = request.headers.get("content-length");
  // Chunked bodies would be read before Next.js could measure them.
  if (length === null) {
    throw new MeshportError("too_large", "A form submission must declare its Content-Length.", {
      subject: "length_required",
      details: { limit: SERVER_ACTION_BODY_LIMIT },
    });
  }
  const declared = Number(length);
  if (!Number.isSafeInteger(declared) || declared < 0 || declared > SERVER_ACTION_BODY_LIMIT) {
    throw new MeshportError("too_large", `The form submission is larger than ${SERVER_ACTION_BODY_LIMIT} bytes.`, {
      details: { limit: SERVER_ACTION_BODY_LIMIT },
    });
  }
}

/**
 * Refuses malformed URLs everywhere, and server actions the framework would fail on, before any route runs. A
 * server action's body (at most SERVER_ACTION_BODY_LIMIT, already buffered by Next.js for the proxy) is searched
 * for NUL, which the database cannot store: actions read their fields before they can answer with form state.
 */
export async function proxy(request: NextRequest): Promise<Response> {
  try {
    assertCleanUrl(request.url);
    if (request.method === "POST" && !request.nextUrl.pathname.startsWith("/api/")) {
      checkServerAction(request);
      const body = new Uint8Array(await request.arrayBuffer());
      if (actionBodyHasNul(body, request.headers.get("content-type") ?? "")) throw nulError("The form submission");
    }
  } catch (error) {
    if (isMeshportError(error)) return refuse(error);
    throw error;
  }
  return NextResponse.next();
}

export const config = {
  matcher: [
    // Pages and their server actions; static assets need no checks. The API is left out: the portal's server
    // (lib/http/edge.ts) and the API handlers check its URLs, and a proxy pass would halve the cheapest routes'
    // throughput and make Next.js buffer every upload to hand it over.
    "/((?!api/|_next/static/|_next/image|favicon\\.ico).*)",
  ],
};
