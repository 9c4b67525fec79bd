import { declareBroker, listBrokers } from "@/lib/brokers/brokers.ts";
import { authenticated, json, readJson } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Brokers of the mesh with their kind, agents' status, topic counts and rates (`?kind=mqtt|nats|amqp|…`). */
export const GET = authenticated(async (request, principal) => {
  const kind = new URL(request.url).searchParams.get("kind");
  return json({ brokers: await listBrokers(principal, kind === null || kind === "" ? undefined : { kind }) });
});

/** Declares a broker `{ id, name, url?, protocol?, description? }` (admin). */
export const POST = authenticated(async (request, principal) => {
  const body = await readJson(request);
  return json({ broker: await declareBroker(principal, body) }, 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
