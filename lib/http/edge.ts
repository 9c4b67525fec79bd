/**
 * The first checks on every request, made by the portal's server (bin/meshport-portal.mjs) before Next.js parses
 * anything: Next.js answers a method it does not know, or a path segment it cannot percent-decode, with a bare 500.
 * Pure: no server-only imports, so the plain Node server can load it.
 */
import { isMeshportError, MeshportError } from "@/lib/errors.ts";
import { assertCleanUrl } from "./input.ts";

/** The methods the portal serves; anything else (TRACE, TRACK, CONNECT, WebDAV verbs) is refused. */
export const SERVED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** A refusal written straight to the socket, in the API's error shape. */
export interface EdgeRefusal {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The Confluent-compatible registry answers in Confluent's error shape, even this early. */
const REGISTRY_PREFIX = "/api/schema-registry";

function isRegistryTarget(target: string | undefined): boolean {
  const path = (target ?? "/").split("?")[0]!;
  return path === REGISTRY_PREFIX || path.startsWith(`${REGISTRY_PREFIX}/`);
}

function refusal(error: MeshportError, headers: Record<string, string> = {}, target?: string): EdgeRefusal {
  if (isRegistryTarget(target)) {
    const body = JSON.stringify({ error_code: error.status, message: error.message });
    return { status: error.status, headers: { "content-type": "application/vnd.schemaregistry.v1+json", "cache-control": "no-store", ...headers }, body };
  }
  const body = JSON.stringify({ error: { code: error.code, message: error.message, details: error.details ?? {} } });
  return { status: error.status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers }, body };
}

/** A dot segment, raw or percent-encoded: Next.js would resolve it and answer somewhere else. */
const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

/**
 * The target Next.js should see. A registry path with a trailing slash (a client configured with a base URL
 * ending in `/`) is served as without it: Next.js would answer it with a redirect whose Location repeats the
 * whole query, which clients do not follow and whose header can outgrow what they parse.
 */
export function servedTarget(target: string | undefined): string {
  const raw = target ?? "/";
  if (!isRegistryTarget(raw)) return raw;
  const at = raw.indexOf("?");
  const path = at === -1 ? raw : raw.slice(0, at);
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.length === path.length ? raw : trimmed + (at === -1 ? "" : raw.slice(at));
}

/** Why a request must be refused before it reaches Next.js, or null when it may go on. */
export function edgeRefusal(method: string | undefined, target: string | undefined): EdgeRefusal | null {
  if (!(SERVED_METHODS as readonly string[]).includes(method ?? "")) {
    const error = new MeshportError("method_not_allowed", `The portal does not serve ${String(method).slice(0, 20)} requests.`, {
      details: { allowed: SERVED_METHODS },
    });
    return refusal(error, { allow: SERVED_METHODS.join(", ") }, target);
  }
  try {
    assertCleanUrl(target ?? "/");
  } catch (error) {
    if (isMeshportError(error)) return refusal(error, {}, target);
    throw error;
  }
  if (isRegistryTarget(target) && (target ?? "").split("?")[0]!.split("/").some((segment) => DOT_SEGMENT.test(segment))) {
    return refusal(new MeshportError("not_found", "HTTP 404 Not Found"), {}, target);
  }
  return null;
}
