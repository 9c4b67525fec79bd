import { listDeliveries } from "@/lib/notifications/webhooks.ts";
import { authenticated, json } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** The webhook's deliveries, newest first, with their latest attempts; `?before=<delivery id>&limit=&state=`. */
export const GET = authenticated<{ id: string }>(async (request, principal, { id }) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return json(await listDeliveries(principal, id, query));
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
