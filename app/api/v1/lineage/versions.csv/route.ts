import { lineageFileName, lineageVersionsCsv } from "@/lib/lineage/csv.ts";
import { channelLineage } from "@/lib/lineage/lineage.ts";
import { lineageParams } from "@/lib/lineage/params.ts";
import { authenticated } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/**
 * The version history of a channel's lineage as CSV (the parameters of `GET /api/v1/lineage`): one row per version
 * of each producer's contract and message, with its state, publication, change request, payload schema id and
 * whether the schema changed from the version before.
 */
export const GET = authenticated(async (request, principal) => {
  const lineage = await channelLineage(principal, lineageParams(new URL(request.url).searchParams));
  return new Response(lineageVersionsCsv(lineage), {
    status: 200,
    headers: {
      "content-type": "text/csv; charset=utf-8; header=present",
      "content-disposition": `attachment; filename="${lineageFileName(lineage.channel, new Date(), "-versions")}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
