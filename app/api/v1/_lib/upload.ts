import "server-only";
import { MAX_UPLOAD_BYTES } from "@/lib/contracts/publish.ts";
import { MeshportError } from "@/lib/errors.ts";
import { assertStorableJson, decodeDocument, decodeUtf8, nulError } from "@/lib/http/input.ts";
import { readBodyBytes } from "./http.ts";

/** What a publish or validate request carries: the files, and optional version, root and state. */
export interface UploadBody {
  files: Record<string, string>;
  version?: string;
  root?: string;
  state?: string;
  /** A change request's title and description. */
  title?: string;
  description?: string;
}

/** Room for the envelope or multipart framing around the files themselves. */
const UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 64 * 1024;

/** Most parts a multipart upload may carry (publish accepts 50 files, plus version, root and state). */
const MAX_MULTIPART_PARTS = 60;

const ENVELOPE_FIELDS = ["version", "root", "state", "title", "description"] as const;

function notAnUpload(message: string): MeshportError {
  return new MeshportError("invalid_input", message, { subject: "upload", details: { formErrors: [message], fieldErrors: {} } });
}

/** Files and fields of a multipart upload: parts named `files` (or `file`) are documents, `version`, `root` and `state` are text. */
async function readMultipart(bytes: Buffer, contentType: string): Promise<UploadBody> {
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(bytes), { headers: { "content-type": contentType } }).formData();
  } catch {
    throw notAnUpload("The multipart body is malformed.");
  }
  // A Map: file names are the uploader's, and `__proto__` is a name like any other.
  const files = new Map<string, string>();
  const fields: Partial<Record<(typeof ENVELOPE_FIELDS)[number], string>> = {};
  let parts = 0;
  for (const [key, value] of form.entries()) {
    parts += 1;
    if (parts > MAX_MULTIPART_PARTS) throw notAnUpload(`A multipart upload may carry at most ${MAX_MULTIPART_PARTS} parts.`);
    if (typeof value !== "string") {
      if (key !== "files" && key !== "file") continue;
      if (value.name.includes("\u0000")) throw nulError("A file name");
      files.set(value.name || "asyncapi.yaml", decodeDocument(new Uint8Array(await value.arrayBuffer()), value.name || "The file"));
      continue;
    }
    if (value.includes("\u0000")) throw nulError(`Field ${key.replaceAll("\u0000", "").slice(0, 40)}`);
    const field = ENVELOPE_FIELDS.find((name) => name === key);
    if (field) fields[field] = value;
  }
  return { files: Object.fromEntries(files), ...fields };
}

/**
 * Reads an upload: the AsyncAPI document itself as the body (YAML or JSON), a JSON envelope
 * `{ files: { name: text }, version?, root?, state? }` for multi-file contracts, or a multipart form with
 * `files` parts. Query parameters `version` and `state` apply to all. Bytes must be UTF-8 (refused, never
 * replaced, so the contract is stored exactly as published) and hold no NUL.
 */
export async function readUpload(request: Request): Promise<UploadBody> {
  const bytes = await readBodyBytes(request, UPLOAD_BODY_LIMIT);
  const query = new URL(request.url).searchParams;
  const fromQuery = {
    ...(query.get("version") ? { version: query.get("version")! } : {}),
    ...(query.get("state") ? { state: query.get("state")! } : {}),
  };
  const type = request.headers.get("content-type") ?? "";
  if (/^multipart\/form-data\b/i.test(type)) return { ...(await readMultipart(bytes, type)), ...fromQuery };
  if (/json/i.test(type)) {
    const text = decodeUtf8(bytes, "The request body");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON after all: the engine reports it as a document error.
    }
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed) && "files" in parsed && !("asyncapi" in parsed)) {
      assertStorableJson(parsed);
      return { ...(parsed as UploadBody), ...fromQuery };
    }
    if (text.includes("\u0000")) throw nulError("asyncapi.json");
    return { files: { "asyncapi.json": text }, ...fromQuery };
  }
  return { files: { "asyncapi.yaml": decodeDocument(bytes, "asyncapi.yaml") }, ...fromQuery };
}
