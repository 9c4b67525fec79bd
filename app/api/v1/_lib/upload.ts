import "server-only";
import { MAX_UPLOAD_BYTES } from "@/lib/contracts/publish.ts";
import { readBodyText } from "./http.ts";

/** What a publish or validate request carries: the files, and optional version, root and state. */
export interface UploadBody {
  files: Record<string, string>;
  version?: string;
  root?: string;
  state?: string;
}

/**
 * Reads an upload: either the AsyncAPI document itself as the body (YAML or JSON), or
 * a JSON envelope `{ files: { name: text }, version?, root?, state? }` for multi-file
 * contracts. Query parameters `version` and `state` apply to both.
 */
export async function readUpload(request: Request): Promise<UploadBody> {
  const text = await readBodyText(request, MAX_UPLOAD_BYTES + 64 * 1024);
  const query = new URL(request.url).searchParams;
  const fromQuery = {
    ...(query.get("version") ? { version: query.get("version")! } : {}),
    ...(query.get("state") ? { state: query.get("state")! } : {}),
  };
  const type = request.headers.get("content-type") ?? "";
  if (/json/i.test(type)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed) && "files" in parsed && !("asyncapi" in parsed)) {
        return { ...(parsed as UploadBody), ...fromQuery };
      }
    } catch {
      // Not JSON after all: the engine reports it as a document error.
    }
    return { files: { "asyncapi.json": text }, ...fromQuery };
  }
  return { files: { "asyncapi.yaml": text }, ...fromQuery };
}
