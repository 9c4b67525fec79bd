import { deleteSystem, getSystem, updateSystem } from "@/lib/systems/systems.ts";
import { authenticated, json, readJson } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** One system with the integrations that connect it (source, target) and the events that flow out of and into it. */
export const GET = authenticated<{ slug: string }>(async (_request, principal, { slug }) => json(await getSystem(principal, slug)));

/** Changes `{ name?, type?, team?, description? }` (the owning team, or admins). */
export const PATCH = authenticated<{ slug: string }>(async (request, principal, { slug }) => {
  const body = await readJson(request);
  return json({ system: await updateSystem(principal, slug, body) });
});

/** Deletes a system no application connects (409 `conflict:system_connected` naming those that still do). */
export const DELETE = authenticated<{ slug: string }>(async (_request, principal, { slug }) => json(await deleteSystem(principal, slug, undefined)));

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT } = otherMethods("GET", "PATCH", "DELETE");
