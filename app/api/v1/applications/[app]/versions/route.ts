import { getApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { authenticated, json } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";
import { readUpload } from "../../../_lib/upload.ts";

export const dynamic = "force-dynamic";

/** The versions of an application, newest first. */
export const GET = authenticated<{ app: string }>(async (_request, principal, { app }) => {
  const { versions } = await getApplication(principal, app);
  return json({ versions });
});

/**
 * Publishes a version (token scope `contracts:write`): the document as body, or
 * `{ files, version?, root?, state? }`. 201 with the version, compare report and lint findings;
 * 200 when identical content was already published; 422 invalid; 409 incompatible.
 */
export const POST = authenticated<{ app: string }>(async (request, principal, { app }) => {
  const upload = await readUpload(request);
  const outcome = await publishVersion(principal, app, upload);
  return json({ version: outcome.version, report: outcome.report, lint: outcome.lint }, outcome.created ? 201 : 200);
});

/** Other methods are refused with 405 in the error shape. */
export const { PUT, PATCH, DELETE } = otherMethods("GET", "POST");
