import { gunzipSync } from "node:zlib";
import { MAX_REPORT_BYTES, REPORT_JSON_LIMITS } from "@/agents/protocol.ts";
import { ingestReport, maybePruneObservations } from "@/lib/ingest/reports.ts";
import { MeshportError } from "@/lib/errors.ts";
import { parseBoundedJson } from "@/lib/http/input.ts";
import { authenticated, json, readBodyBytes, tooLarge } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

// Reports compress well; a compressed body this large is not a report.
const MAX_COMPRESSED_BYTES = 4 * 1024 * 1024;

function decode(raw: Buffer, encoding: string | null): string {
  if (!encoding || encoding === "identity") {
    if (raw.byteLength > MAX_REPORT_BYTES) throw tooLarge(MAX_REPORT_BYTES);
    return raw.toString("utf8");
  }
  if (encoding !== "gzip") {
    throw new MeshportError("invalid_input", `Unsupported Content-Encoding ${encoding}; send gzip or nothing.`);
  }
  try {
    // Bounded inflation: a small gzip bomb cannot make the portal allocate without limit.
    return gunzipSync(raw, { maxOutputLength: MAX_REPORT_BYTES }).toString("utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) throw tooLarge(MAX_REPORT_BYTES);
    throw new MeshportError("invalid_input", "The body is not valid gzip.");
  }
}

/**
 * Accepts an agent's report batch (token scope `agent:report`, bound to the report's broker id);
 * replays are acknowledged once.
 */
export const POST = authenticated(async (request, principal) => {
  const raw = await readBodyBytes(request, MAX_COMPRESSED_BYTES);
  const text = decode(raw, request.headers.get("content-encoding")?.trim().toLowerCase() ?? null);
  const body = parseBoundedJson(text, "The report", REPORT_JSON_LIMITS.maxDepth);
  const outcome = await ingestReport(principal, body);
  maybePruneObservations();
  return json(outcome, outcome.duplicate ? 200 : 202);
});

/** Other methods are refused with 405 in the error shape. */
export const { GET, HEAD, PUT, PATCH, DELETE } = otherMethods("POST");
