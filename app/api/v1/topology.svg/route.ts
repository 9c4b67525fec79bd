import { renderTopologySvg } from "@/lib/topology/svg.ts";
import { getTopology, topologyParams } from "@/lib/topology/topology.ts";
import { authenticated } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Where the links in an exported drawing point: the portal's public URL when set, else the request's origin. */
function linkBase(request: Request): string {
  const base = (process.env.MESHPORT_PUBLIC_URL || process.env.MESHPORT_URL)?.trim();
  return (base || new URL(request.url).origin).replace(/\/+$/, "");
}

/** The topology drawn as an SVG document, with the same filters as `GET /api/v1/topology`. */
export const GET = authenticated(async (request, principal) => {
  const view = await getTopology(principal, topologyParams(new URL(request.url).searchParams));
  const svg = renderTopologySvg(view, { linkBase: linkBase(request), title: "Meshport topology" });
  return new Response(svg, {
    headers: {
      "content-type": "image/svg+xml; charset=utf-8",
      "content-disposition": 'inline; filename="topology.svg"',
      "cache-control": "no-store",
      // The drawing is data, never a page: no script runs in it even when opened directly.
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
      "x-content-type-options": "nosniff",
    },
  });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
