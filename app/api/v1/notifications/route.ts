import { listNotifications } from "@/lib/notifications/inbox.ts";
import { authenticated, json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** The signed-in person's inbox, newest first: `?unread=true&before=<id>&limit=`; with the unread count. */
export const GET = authenticated(async (request, principal) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return json(await listNotifications(principal, query));
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
