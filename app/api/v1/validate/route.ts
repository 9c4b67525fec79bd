import { assertCan } from "@/lib/auth/permissions.ts";
import { publishInput, validateUpload } from "@/lib/contracts/publish.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { isRefusal } from "@/lib/parse-pool/pool.ts";
import { authenticated, json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";
import { readUpload } from "../_lib/upload.ts";

export const dynamic = "force-dynamic";

/**
 * Validates a document (or `{ files }`) without storing anything: `{ valid, diagnostics }`. A document refused
 * for its cost rather than judged (an alias bomb, over the size, time or memory limit) is answered with 422.
 */
export const POST = authenticated(async (request, principal) => {
  assertCan(principal, "catalog:read");
  const upload = parseInput(publishInput, await readUpload(request));
  const { contract, diagnostics } = await validateUpload(upload.files, upload.root);
  const refused = diagnostics.find(isRefusal);
  if (refused) {
    throw new MeshportError("invalid_input", `The contract was refused: ${refused.message}`, { subject: "contract", details: { diagnostics } });
  }
  return json({ valid: contract !== null && !diagnostics.some((d) => d.severity === "error"), diagnostics, title: contract?.title, version: contract?.version });
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
