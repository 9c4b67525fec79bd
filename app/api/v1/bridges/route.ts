import { declareBridge } from "@/lib/brokers/brokers.ts";
import { authenticated, json, readJson } from "../_lib/http.ts";

export const dynamic = "force-dynamic";

/** Declares a bridge `{ fromBrokerId, toBrokerId, topicFilter, direction?, description? }` (admin). */
export const POST = authenticated(async (request, principal) => {
  const body = await readJson(request);
  return json({ bridge: await declareBridge(principal, body) }, 201);
});
