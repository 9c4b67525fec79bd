import { assertCan } from "@/lib/auth/permissions.ts";
import { publishInput, validateUpload } from "@/lib/catalog/publish.ts";
import { parseInput } from "@/lib/errors.ts";
import { authenticated, json } from "../_lib/http.ts";
import { readUpload } from "../_lib/upload.ts";

export const dynamic = "force-dynamic";

/** Validates a document (or `{ files }`) without storing anything: `{ valid, diagnostics }`. */
export const POST = authenticated(async (request, principal) => {
  assertCan(principal, "catalog:read");
  const upload = parseInput(publishInput, await readUpload(request));
  const { contract, diagnostics } = await validateUpload(upload.files, upload.root);
  return json({ valid: contract !== null && !diagnostics.some((d) => d.severity === "error"), diagnostics, title: contract?.title, version: contract?.version });
});
