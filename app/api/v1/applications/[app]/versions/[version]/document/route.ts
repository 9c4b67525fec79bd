import { versionDocument } from "@/lib/contracts/download.ts";
import { authenticated } from "../../../../../_lib/http.ts";
import { otherMethods } from "../../../../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/**
 * Downloads a version's document: `?format=original` (default, as published), `yaml` or
 * `json`; `&file=` picks a file of a multi-file contract.
 */
export const GET = authenticated<{ app: string; version: string }>(async (request, principal, { app, version }) => {
  const query = new URL(request.url).searchParams;
  const document = await versionDocument(principal, app, version, query.get("format") ?? "original", query.get("file"));
  return new Response(document.body, {
    headers: { "content-type": document.contentType, "content-disposition": `attachment; filename="${document.fileName}"` },
  });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
