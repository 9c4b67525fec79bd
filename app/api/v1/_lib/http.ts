import "server-only";
import { requirePrincipal } from "@/lib/auth/authenticate.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { isMeshportError, MeshportError } from "@/lib/errors.ts";
import { assertCleanUrl, assertStorableJson, decodeUtf8, parseBoundedJson } from "@/lib/http/input.ts";
import { comesFromTrustedOrigin } from "@/lib/http/origins.ts";

/** Largest JSON body the API reads by default. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** A JSON response. */
export function json(data: unknown, status = 200, headers?: HeadersInit): Response {
  return Response.json(data, { status, headers: { "cache-control": "no-store", ...headers } });
}

/**
 * The one place that turns errors into HTTP responses: expected failures become
 * `{ error: { code, message, details } }` with their status; anything else is logged
 * and answered with a 500 that reveals nothing.
 */
export function errorResponse(error: unknown): Response {
  if (isMeshportError(error)) {
    const body: { code: string; message: string; details?: unknown } = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    const headers: Record<string, string> = {};
    if (error.kind === "unauthenticated") headers["www-authenticate"] = 'Bearer realm="meshport"';
    return json({ error: body }, error.status, headers);
  }
  console.error("meshport: unexpected error in API", error);
  return json({ error: { code: "internal", message: "Something went wrong on our side." } }, 500);
}

/** Route context as Next.js passes it to dynamic route handlers. */
export interface RouteContext<P extends Record<string, string> = Record<string, string>> {
  params: Promise<P>;
}

/**
 * Wraps a handler so every thrown error goes through errorResponse. The URL is checked first (NUL, malformed
 * percent-encoding, lengths): the proxy does it too, but leaves requests with a body to the handler.
 */
export function handler<P extends Record<string, string>>(
  fn: (request: Request, params: P) => Promise<Response>,
): (request: Request, context: RouteContext<P>) => Promise<Response> {
  return async (request, context) => {
    try {
      assertCleanUrl(request.url);
      return await fn(request, context ? await context.params : ({} as P));
    } catch (error) {
      return errorResponse(error);
    }
  };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Cookies ride along on cross-site requests, so a state change authenticated by the
 * session cookie must prove it comes from the portal's own origin: a trusted Origin, or a
 * trusted Referer when no Origin was sent; neither is refused. Bearer tokens are never sent
 * implicitly by browsers and need no such check.
 */
export function assertSameOriginForCookieWrite(request: Request): void {
  if (SAFE_METHODS.has(request.method) || request.headers.has("authorization")) return;
  const { trusted, origin } = comesFromTrustedOrigin(request.headers);
  if (trusted) return;
  const message = origin ? "Cross-site request refused." : "A request signed in by cookie must send its Origin.";
  throw new MeshportError("forbidden", message, { subject: "origin", details: { origin } });
}

/** Wraps a handler that needs a caller: authenticates first (401 when nobody). */
export function authenticated<P extends Record<string, string>>(
  fn: (request: Request, principal: Principal, params: P) => Promise<Response>,
): (request: Request, context: RouteContext<P>) => Promise<Response> {
  return handler<P>(async (request, params) => {
    const principal = await requirePrincipal(request.headers);
    assertSameOriginForCookieWrite(request);
    return fn(request, principal, params);
  });
}

/** Reads a JSON body, bounded in size; malformed or oversized bodies are refused before any work. */
export async function readJson(request: Request, limit = DEFAULT_BODY_LIMIT, options: { emptyAs?: unknown } = {}): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  const type = request.headers.get("content-type") ?? "";
  if (type && !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new MeshportError("invalid_input", "Send the body as application/json.", {
      details: { formErrors: ["Unsupported content type."], fieldErrors: {} },
    });
  }
  const text = await readBodyText(request, limit);
  if (text.trim() === "" && "emptyAs" in options) return options.emptyAs;
  if (text.trim() === "") {
    throw new MeshportError("invalid_input", "The request body is empty; send a JSON object.", {
      details: { formErrors: ["Empty body."], fieldErrors: {} },
    });
  }
  const body = parseBoundedJson(text, "The request body");
  assertStorableJson(body);
  return body;
}

/** Reads the body as UTF-8 text (invalid UTF-8 is refused, not replaced), stopping as soon as it passes the limit. */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  return decodeUtf8(await readBodyBytes(request, limit), "The request body");
}

/** Reads the raw body, stopping as soon as it passes the limit. */
export async function readBodyBytes(request: Request, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The error for a body over the limit. */
export function tooLarge(limit: number): MeshportError {
  return new MeshportError("too_large", `The request body is larger than ${limit} bytes.`, { details: { limit } });
}
