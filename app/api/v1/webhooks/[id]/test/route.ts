import { sendTestEvent } from "@/lib/notifications/webhooks.ts";
import { authenticated, json } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Queues a `webhook.test` event for this webhook; answers 202 with the event id (the sender delivers it shortly). */
export const POST = authenticated<{ id: string }>(async (_request, principal, { id }) => json(await sendTestEvent(principal, id, undefined), 202));

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
