import { evaluateUpload } from "@/lib/contracts/evaluate.ts";
import { authenticated, json } from "../../../_lib/http.ts";
import { otherMethods } from "../../../_lib/methods.ts";
import { readUpload } from "../../../_lib/upload.ts";

export const dynamic = "force-dynamic";

/**
 * Evaluates a proposed version without storing it (the document as body, or `{ files, version?, root? }`): the
 * same evaluation a publish makes, with diagnostics, the compare report, version findings, lint, the suggested
 * version, the upgrade order and what would block a direct publish.
 */
export const POST = authenticated<{ app: string }>(async (request, principal, { app }) => {
  const upload = await readUpload(request);
  return json({ evaluation: await evaluateUpload(principal, app, upload) });
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
