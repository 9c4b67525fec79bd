import { getBroker } from "@/lib/brokers/brokers.ts";
import { authenticated, json } from "../../_lib/http.ts";

export const dynamic = "force-dynamic";

/** One broker with its topics (`?limit&offset`, busiest first) and bridges. */
export const GET = authenticated<{ id: string }>(async (request, principal, { id }) => {
  const query = new URL(request.url).searchParams;
  return json(
    await getBroker(principal, id, {
      limit: Number(query.get("limit") ?? 100) || 100,
      offset: Number(query.get("offset") ?? 0) || 0,
    }),
  );
});
