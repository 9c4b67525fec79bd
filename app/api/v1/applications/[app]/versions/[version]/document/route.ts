import { parse, stringify } from "yaml";
import { getVersion } from "@/lib/catalog/applications.ts";
import { MeshportError } from "@/lib/errors.ts";
import { authenticated } from "../../../../../_lib/http.ts";

export const dynamic = "force-dynamic";

/**
 * Downloads a version's document: `?format=original` (default, as published), `yaml` or
 * `json`; `&file=` picks a file of a multi-file contract.
 */
export const GET = authenticated<{ app: string; version: string }>(async (request, principal, { app, version }) => {
  const found = await getVersion(principal, app, version);
  const query = new URL(request.url).searchParams;
  const format = query.get("format") ?? "original";
  const file = query.get("file") ?? found.rootFile;
  const text = found.files[file];
  if (text === undefined) throw new MeshportError("not_found", `No file ${file} in this version.`, { subject: "file" });
  const base = `${app}-${found.version}`;
  if (format === "original") {
    return new Response(text, {
      headers: { "content-type": "text/plain; charset=utf-8", "content-disposition": `attachment; filename="${base}-${file.replace(/[^\w.-]/g, "_")}"` },
    });
  }
  if (format !== "yaml" && format !== "json") throw new MeshportError("invalid_input", "format must be original, yaml or json.");
  // Parsed as stored; a published document already passed the engine's size and alias limits.
  const document: unknown = parse(text, { maxAliasCount: 1000 });
  const body = format === "json" ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { aliasDuplicateObjects: false });
  return new Response(body, {
    headers: {
      "content-type": format === "json" ? "application/json" : "application/yaml",
      "content-disposition": `attachment; filename="${base}.${format === "json" ? "json" : "yaml"}"`,
    },
  });
});
