import { createSystem, listSystems } from "@/lib/systems/systems.ts";
import { authenticated, json, readJson } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Systems, `?type&q&limit&offset`, with how many integrations connect each as source and target. */
export const GET = authenticated(async (request, principal) =>
  json(await listSystems(principal, Object.fromEntries(new URL(request.url).searchParams))),
);

/**
 * Creates a system `{ name, team, type?, slug?, description? }`: `team` the owning team's slug (one the caller
 * writes for; null, no owner, is an admin's), `type` one of erp, crm, scm, database, file-store, saas,
 * analytics, other (default).
 */
export const POST = authenticated(async (request, principal) => {
  const body = await readJson(request);
  return json({ system: await createSystem(principal, body) }, 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
