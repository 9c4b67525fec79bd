import { getTopology, topologyParams } from "@/lib/topology/topology.ts";
import { authenticated, json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/**
 * The topology of the mesh, laid out: nodes (applications, channels, brokers, unknown clients, groups) with their
 * positions, edges with their state (declared / observed / both) and route. Filters as the page takes them:
 * `team, domain, broker, prefix, window (1h|24h|7d|30d|all), at (date), group (auto|none|team|domain), expand`.
 */
export const GET = authenticated(async (request, principal) =>
  json({ topology: await getTopology(principal, topologyParams(new URL(request.url).searchParams)) }),
);

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
