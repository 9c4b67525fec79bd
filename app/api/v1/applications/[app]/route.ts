import { getApplication, updateApplication } from "@/lib/catalog/applications.ts";
import { authenticated, json, readJson } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** One application with its team, versions and compatibility mode. */
export const GET = authenticated<{ app: string }>(async (_request, principal, { app }) => json(await getApplication(principal, app)));

/** Changes `{ name?, description?, domain?, tags?, compatibilityMode? }` (team members). */
export const PATCH = authenticated<{ app: string }>(async (request, principal, { app }) => {
  const body = await readJson(request);
  return json({ application: await updateApplication(principal, app, body) });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, DELETE } = otherMethods("GET", "PATCH");
