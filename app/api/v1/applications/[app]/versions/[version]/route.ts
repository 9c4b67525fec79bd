import { getVersion } from "@/lib/catalog/applications.ts";
import { withoutContent } from "@/lib/contracts/publish.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { authenticated, json, readJson } from "../../../../_lib/http.ts";
import { otherMethods } from "../../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** One version (`latest` for the current one) with its normalised contract. */
export const GET = authenticated<{ app: string; version: string }>(async (_request, principal, { app, version }) => {
  const found = await getVersion(principal, app, version);
  return json({ version: withoutContent(found), contract: found.contract });
});

/** Moves a version through its lifecycle: `{ state: released|deprecated|retired, reason }`. */
export const PATCH = authenticated<{ app: string; version: string }>(async (request, principal, { app, version }) => {
  const body = await readJson(request);
  return json({ version: await setVersionState(principal, app, version, body) });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, DELETE } = otherMethods("GET", "PATCH");
