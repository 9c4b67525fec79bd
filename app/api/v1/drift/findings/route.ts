import { listFindings } from "@/lib/drift/queries.ts";
import { authenticated, json } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/**
 * Drift findings, most severe first: `?status=active|open|acknowledged|resolved|all&rule&severity&team&application
 * &broker&channel&template&text&limit&offset` (open and acknowledged by default).
 */
export const GET = authenticated(async (request, principal) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return json(await listFindings(principal, query));
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
