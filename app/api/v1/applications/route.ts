import { createApplication, listApplications } from "@/lib/catalog/applications.ts";
import { authenticated, json, readJson } from "../_lib/http.ts";

export const dynamic = "force-dynamic";

/** Applications, `?team&tag&domain&limit&offset`. */
export const GET = authenticated(async (request, principal) =>
  json(await listApplications(principal, Object.fromEntries(new URL(request.url).searchParams))),
);

/** Registers an application `{ slug, name, team, description?, domain?, tags?, compatibilityMode? }`. */
export const POST = authenticated(async (request, principal) => {
  const body = await readJson(request);
  return json({ application: await createApplication(principal, body) }, 201);
});
