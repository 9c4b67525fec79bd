/**
 * Confluent Schema Registry's HTTP conventions in one place: the media types it reads and writes, its error body
 * `{"error_code": N, "message": "..."}`, and how every failure (the registry's own, the portal's, the unexpected)
 * becomes one. Nothing on this API answers in the portal's `{error: {code}}` shape.
 */
import { isMeshportError, type MeshportError } from "@/lib/errors.ts";
import { isRegistryError } from "@/lib/schema-registry/errors.ts";

/** Confluent's own media type, what its clients send and what an Accept of `*\/*` (or none) gets. */
export const REGISTRY_V1_JSON = "application/vnd.schemaregistry.v1+json";
export const REGISTRY_JSON = "application/vnd.schemaregistry+json";
export const PLAIN_JSON = "application/json";

/** The response media types, in Confluent's order of preference. */
export const RESPONSE_TYPES = [REGISTRY_V1_JSON, REGISTRY_JSON, PLAIN_JSON] as const;
export type ResponseType = (typeof RESPONSE_TYPES)[number];

/** Request bodies Confluent reads as JSON (octet-stream included, as its REST layer does). */
const REQUEST_TYPES = new Set<string>([REGISTRY_V1_JSON, REGISTRY_JSON, PLAIN_JSON, "application/octet-stream"]);

/** The realm in a 401's challenge. */
export const AUTH_REALM = "Meshport Schema Registry";

/** Most media ranges of an Accept header that are looked at; browsers send about ten. */
const MAX_ACCEPT_RANGES = 50;
const MAX_ACCEPT_LENGTH = 4096;

/** An HTTP-level refusal with Confluent's body: `{"error_code": status, "message": "HTTP 404 Not Found"}` and the like. */
export class ConfluentHttpError extends Error {
  readonly status: number;
  readonly errorCode: number;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, options: { errorCode?: number; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = "ConfluentHttpError";
    this.status = status;
    this.errorCode = options.errorCode ?? status;
    this.headers = options.headers ?? {};
  }
}

/** The generic refusals, worded as Confluent's REST layer words them. */
export const httpErrors = {
  notFound: () => new ConfluentHttpError(404, "HTTP 404 Not Found"),
  methodNotAllowed: (allowed: readonly string[]) =>
    new ConfluentHttpError(405, "HTTP 405 Method Not Allowed", { headers: { allow: allowed.join(", ") } }),
  notAcceptable: () => new ConfluentHttpError(406, "HTTP 406 Not Acceptable"),
  unsupportedMediaType: () => new ConfluentHttpError(415, "HTTP 415 Unsupported Media Type"),
  tooLarge: (limit: number) => new ConfluentHttpError(413, `The request body is larger than ${limit} bytes.`),
  malformedJson: (detail: string) => new ConfluentHttpError(400, `Unexpected character in the request body: ${detail.slice(0, 200)}`),
} as const;

/**
 * The response media type for an Accept header: the first acceptable of Confluent's three JSON types by quality
 * (ties in the header's order); `*\/*`, `application/*` or no header gets the v1 type; null when nothing fits.
 */
export function negotiateResponseType(accept: string | null): ResponseType | null {
  if (accept === null || accept.trim() === "") return REGISTRY_V1_JSON;
  const ranges = accept.slice(0, MAX_ACCEPT_LENGTH).split(",", MAX_ACCEPT_RANGES);
  let best: { type: ResponseType; quality: number } | null = null;
  for (const range of ranges) {
    const [rawType = "", ...parameters] = range.split(";");
    const mediaRange = rawType.trim().toLowerCase();
    let quality = 1;
    for (const parameter of parameters) {
      const [name, value] = parameter.split("=", 2).map((part) => part.trim());
      if (name?.toLowerCase() === "q" && value !== undefined) {
        const parsed = Number(value);
        quality = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    if (quality <= 0) continue;
    const type: ResponseType | null =
      mediaRange === "*/*" || mediaRange === "application/*"
        ? REGISTRY_V1_JSON
        : (RESPONSE_TYPES.find((known) => known === mediaRange) ?? null);
    if (type && (!best || quality > best.quality)) best = { type, quality };
  }
  return best?.type ?? null;
}

/** Whether a request body of this Content-Type is read (none counts as JSON, as Confluent's clients may omit it). */
export function acceptsRequestType(contentType: string | null): boolean {
  if (contentType === null) return true;
  const mediaType = contentType.split(";", 1)[0]!.trim().toLowerCase();
  return mediaType === "" || REQUEST_TYPES.has(mediaType);
}

/** A JSON answer in the negotiated media type. */
export function confluentJson(data: unknown, type: ResponseType, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), { status, headers: { "content-type": type, "cache-control": "no-store", ...headers } });
}

/** A schema's own text as the body (the `/schema` routes answer the schema itself, not a JSON string holding it). */
export function confluentRawSchema(text: string, type: ResponseType): Response {
  return new Response(text, { status: 200, headers: { "content-type": type, "cache-control": "no-store" } });
}

/** A MeshportError not_found, narrowed by subject, as the matching registry code. */
function notFoundCode(error: MeshportError): number {
  const subject = error.code.slice("not_found:".length);
  if (subject === "version") return 40402;
  if (subject === "schema") return 40403;
  if (subject === "subject" || subject === "application") return 40401;
  return 404;
}

/** Confluent's status, error code and message for an expected failure, or null for an unexpected one. */
function describeError(error: unknown): { status: number; errorCode: number; message: string; headers?: Record<string, string> } | null {
  if (error instanceof ConfluentHttpError) return { status: error.status, errorCode: error.errorCode, message: error.message, headers: error.headers };
  if (isRegistryError(error)) return { status: error.status, errorCode: error.errorCode, message: error.message };
  if (!isMeshportError(error)) return null;
  switch (error.kind) {
    case "unauthenticated":
      return { status: 401, errorCode: 40101, message: error.message, headers: { "www-authenticate": `Basic realm="${AUTH_REALM}"` } };
    case "forbidden":
      return { status: 403, errorCode: 40301, message: error.message };
    case "invalid_input":
      return { status: 422, errorCode: 42201, message: error.message };
    case "not_found":
      return { status: 404, errorCode: notFoundCode(error), message: error.message };
    case "method_not_allowed":
      return { status: 405, errorCode: 405, message: error.message };
    case "conflict":
      return { status: 409, errorCode: 409, message: error.message };
    case "too_large":
      return { status: 413, errorCode: 413, message: error.message };
    case "rate_limited":
      return { status: 429, errorCode: 42901, message: error.message };
    default:
      return null;
  }
}

/**
 * The one place that turns an error into Confluent's answer: registry errors with their own code, the portal's
 * errors mapped to Confluent's codes (401 with a Basic challenge), anything else logged and answered 50001
 * revealing nothing.
 */
export function confluentErrorResponse(error: unknown, type: ResponseType = REGISTRY_V1_JSON): Response {
  const described = describeError(error);
  if (!described) {
    console.error("meshport: unexpected error in the schema registry API", error);
    return confluentJson({ error_code: 50001, message: "Error in the backend data store" }, type, 500);
  }
  return confluentJson({ error_code: described.errorCode, message: described.message }, type, described.status, described.headers);
}
