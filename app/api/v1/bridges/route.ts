import { declareBridge } from "@/lib/brokers/brokers.ts";
import { authenticated, json, readJson } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Declares a bridge `{ fromBrokerId, toBrokerId, topicFilter, direction?, description? }` (admin). */
export const POST = authenticated(async (request, principal) => {
  const body = await readJson(request);
  return json({ bridge: await declareBridge(principal, body) }, 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
