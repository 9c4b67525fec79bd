import { z } from "zod";
import { getBroker } from "@/lib/brokers/brokers.ts";
import { parseInput } from "@/lib/errors.ts";
import { authenticated, json } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Paging of the topic list: whole numbers the database's LIMIT and OFFSET take (bigint), bounded well below. */
const brokerQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/** One broker: its kind, capabilities and what its agent sees, its topics (`?limit&offset`, busiest first), inventory, declared bridges and links. */
export const GET = authenticated<{ id: string }>(async (request, principal, { id }) => {
  const query = parseInput(brokerQuery, Object.fromEntries(new URL(request.url).searchParams));
  return json(await getBroker(principal, id, query));
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
