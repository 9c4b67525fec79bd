import { getApplication, updateApplication } from "@/lib/catalog/applications.ts";
import { authenticated, json, readJson } from "../../_lib/http.ts";

export const dynamic = "force-dynamic";

/** One application with its team, versions and compatibility mode. */
export const GET = authenticated<{ app: string }>(async (_request, principal, { app }) => json(await getApplication(principal, app)));

/** Changes `{ name?, description?, domain?, tags?, compatibilityMode? }` (team members). */
export const PATCH = authenticated<{ app: string }>(async (request, principal, { app }) => {
  const body = await readJson(request);
  return json({ application: await updateApplication(principal, app, body) });
});
