import "server-only";
import { formFields } from "@/app/_lib/actions.ts";
import { MAX_UPLOAD_BYTES } from "@/lib/contracts/publish.ts";
import { MeshportError } from "@/lib/errors.ts";
import { decodeDocument } from "@/lib/http/input.ts";

/** The pasted document or the uploaded files of a publish or review form, decoded as the API decodes them. */
export async function uploadFromForm(formData: FormData): Promise<{ files: Record<string, string>; version?: string }> {
  // A Map: file names are the uploader's, and `__proto__` is a name like any other.
  const files = new Map<string, string>();
  let total = 0;
  for (const entry of formData.getAll("files")) {
    if (typeof entry === "string" || entry.size === 0) continue;
    total += entry.size;
    if (total > MAX_UPLOAD_BYTES) throw new MeshportError("too_large", `The files exceed ${MAX_UPLOAD_BYTES / 1024 / 1024} MB together.`);
    // Same decoding as the API: invalid UTF-8 or a NUL is refused, never replaced.
    files.set(entry.name, decodeDocument(new Uint8Array(await entry.arrayBuffer()), entry.name));
  }
  const { document: pasted = "", version: rawVersion = "" } = formFields(formData);
  // A pasted document loses a leading byte-order mark, as decoded files do.
  if (files.size === 0 && pasted.trim()) files.set("asyncapi.yaml", pasted.replace(/^\uFEFF/, ""));
  const version = rawVersion.trim();
  return { files: Object.fromEntries(files), ...(version ? { version } : {}) };
}
