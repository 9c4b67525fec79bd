import { lineageEdgesCsv, lineageFileName } from "@/lib/lineage/csv.ts";
import { channelLineage } from "@/lib/lineage/lineage.ts";
import { lineageFormat, lineageParams } from "@/lib/lineage/params.ts";
import { authenticated, json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/**
 * The lineage of a channel: `?channel=plant/{lineId}/temperature` (a contract channel or a concrete topic), with
 * `message` (one message key), `application` (from its side) and `at` (an ISO date or date and time: as it stood
 * then). JSON by default; `?format=csv` gives one row per edge (RFC 4180, formulas defused). The version history
 * as CSV is at `/api/v1/lineage/versions.csv` with the same parameters.
 */
export const GET = authenticated(async (request, principal) => {
  const params = new URL(request.url).searchParams;
  const format = lineageFormat(params);
  const lineage = await channelLineage(principal, lineageParams(params));
  if (format === "json") return json(lineage);
  return new Response(lineageEdgesCsv(lineage), {
    status: 200,
    headers: {
      "content-type": "text/csv; charset=utf-8; header=present",
      "content-disposition": `attachment; filename="${lineageFileName(lineage.channel, new Date())}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
