import "server-only";
import { CORE_SCHEMA, load } from "js-yaml";
import { stringify } from "yaml";
import { DEFAULT_LIMITS, measure } from "@/registry/parse/limits.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { getVersion } from "@/lib/catalog/applications.ts";
import { MeshportError } from "@/lib/errors.ts";

/** The formats a version downloads in. */
export type DocumentFormat = "original" | "yaml" | "json";

/** A downloadable document: its text, media type and file name. */
export interface DocumentDownload {
  body: string;
  contentType: string;
  fileName: string;
}

/**
 * A file of a version in the format asked for. Read with the same loader and limits as an upload, so every
 * version that published downloads in every format.
 */
export async function versionDocument(principal: Principal, appSlug: string, version: string, format: string, file?: string | null): Promise<DocumentDownload> {
  if (format !== "original" && format !== "yaml" && format !== "json") throw new MeshportError("invalid_input", "format must be original, yaml or json.");
  const found = await getVersion(principal, appSlug, version);
  const name = file ?? found.rootFile;
  // Own files only: a file name such as `__proto__` names nothing.
  const text = Object.hasOwn(found.files, name) ? found.files[name] : undefined;
  if (typeof text !== "string") throw new MeshportError("not_found", `No file ${name} in this version.`, { subject: "file" });
  const base = `${appSlug}-${found.version}`;
  if (format === "original") return { body: text, contentType: "text/plain; charset=utf-8", fileName: `${base}-${name.replace(/[^\w.-]/g, "_")}` };
  let document: unknown;
  try {
    document = load(text, { schema: CORE_SCHEMA, maxDepth: DEFAULT_LIMITS.maxDepth, filename: name });
  } catch (error) {
    throw new MeshportError("conflict", `${name} cannot be converted: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`, { subject: "document" });
  }
  if (measure(document, DEFAULT_LIMITS).exceeded) throw new MeshportError("conflict", `${name} expands beyond the upload limits and cannot be converted.`, { subject: "document" });
  const body = format === "json" ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
  return { body, contentType: format === "json" ? "application/json" : "application/yaml", fileName: `${base}.${format}` };
}
