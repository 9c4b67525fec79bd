import { importUndocumentedTopic } from "@/lib/drift/import.ts";
import { authenticated, json, readJson } from "../../../../_lib/http.ts";
import { otherMethods } from "../../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/**
 * Imports an undocumented topic into an application's contract: `{ application, channel?, message?, action? }`.
 * 201 with the change request it opened (its number and url) and what it adds.
 */
export const POST = authenticated<{ id: string }>(async (request, principal, { id }) => {
  return json(await importUndocumentedTopic(principal, id, await readJson(request, 64 * 1024)), 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, PUT, PATCH, DELETE } = otherMethods("POST");
