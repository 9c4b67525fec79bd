import { createApplication, listApplications } from "@/lib/catalog/applications.ts";
import { authenticated, json, readJson } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Applications with their kind and systems, `?team&tag&domain&kind&system&limit&offset` (`system`: a system's slug). */
export const GET = authenticated(async (request, principal) =>
  json(await listApplications(principal, Object.fromEntries(new URL(request.url).searchParams))),
);

/** Registers an application `{ slug, name, team, description?, domain?, tags?, compatibilityMode? }`. */
export const POST = authenticated(async (request, principal) => {
  const body = await readJson(request);
  return json({ application: await createApplication(principal, body) }, 201);
});

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
