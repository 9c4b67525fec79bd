import { deleteWebhook, getWebhook, updateWebhook } from "@/lib/notifications/webhooks.ts";
import { authenticated, json, readJson } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** One webhook, without its secret. */
export const GET = authenticated<{ id: string }>(async (_request, principal, { id }) => json({ webhook: await getWebhook(principal, id) }));

/** Changes `{ name?, url?, events?, active?, secret? }`; a new `secret` replaces the signing secret. */
export const PATCH = authenticated<{ id: string }>(async (request, principal, { id }) =>
  json({ webhook: await updateWebhook(principal, id, await readJson(request)) }),
);

/** Deletes the webhook with its deliveries. */
export const DELETE = authenticated<{ id: string }>(async (_request, principal, { id }) => {
  await deleteWebhook(principal, id);
  return new Response(null, { status: 204 });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT } = otherMethods("GET", "PATCH", "DELETE");
