import { retryDelivery } from "@/lib/notifications/webhooks.ts";
import { authenticated } from "../../../../../_lib/http.ts";
import { otherMethods } from "../../../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Sends a failed delivery again, with a fresh round of attempts (409 unless it failed). */
export const POST = authenticated<{ id: string; deliveryId: string }>(async (_request, principal, { id, deliveryId }) => {
  await retryDelivery(principal, id, deliveryId);
  return new Response(null, { status: 202 });
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
