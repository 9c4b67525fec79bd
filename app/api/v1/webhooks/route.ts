import { createWebhook, listWebhooks } from "@/lib/notifications/webhooks.ts";
import { authenticated, json, readJson } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** The webhooks the caller may manage (admins: all; maintainers: their teams'), never their secrets. */
export const GET = authenticated(async (_request, principal) => json({ webhooks: await listWebhooks(principal) }));

/**
 * Creates a webhook `{ name, url, events, teamSlug?, secret?, active? }`; without `teamSlug` it is portal-wide
 * (admins). The signing secret (given, or generated) is in this response only.
 */
export const POST = authenticated(async (request, principal) => {
  const { webhook, secret } = await createWebhook(principal, await readJson(request));
  return json({ webhook, secret }, 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
