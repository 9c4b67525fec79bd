import { markRead } from "@/lib/notifications/inbox.ts";
import { authenticated, json, readJson } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Marks entries of the caller's inbox read: `{ ids: [...] }` or `{ all: true }`; answers how many changed. */
export const POST = authenticated(async (request, principal) => json(await markRead(principal, await readJson(request, 64 * 1024))));

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
