import { MeshportError } from "@/lib/errors.ts";

/** The methods an API route can serve; OPTIONS (and HEAD where GET is served) Next.js answers itself. */
const ROUTE_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
type RouteMethod = (typeof ROUTE_METHODS)[number];

/**
 * Handlers for the methods a route does not serve, answering 405 in the API's error shape with an Allow header
 * (Next.js would answer with an empty body): `export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");`.
 * Light on purpose: the cheapest routes (ping, health) use it too.
 */
export function otherMethods(...served: RouteMethod[]): Record<RouteMethod, (request: Request) => Response> {
  const allowed = [...served, ...(served.includes("GET") ? ["HEAD"] : []), "OPTIONS"];
  const refuse = (request: Request): Response => {
    const path = new URL(request.url).pathname.slice(0, 200);
    const error = new MeshportError("method_not_allowed", `${path} does not serve ${request.method} requests; it serves ${allowed.join(", ")}.`);
    return Response.json(
      { error: { code: error.code, message: error.message, details: { allowed } } },
      { status: error.status, headers: { allow: allowed.join(", "), "cache-control": "no-store" } },
    );
  };
  return Object.fromEntries(ROUTE_METHODS.map((method) => [method, refuse])) as Record<RouteMethod, (request: Request) => Response>;
}
