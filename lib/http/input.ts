/**
 * Checks on raw request input that every entry point shares (proxy, API handlers, server actions, uploads).
 * Pure: no server-only imports, so the proxy can use it.
 */
import { MeshportError } from "@/lib/errors.ts";

/** Longest decoded path segment: no slug, version, broker id or channel address the portal stores comes near it. */
export const MAX_PATH_SEGMENT_LENGTH = 2048;

/** Longest decoded query value; the services bound each parameter more tightly. */
export const MAX_QUERY_VALUE_LENGTH = 4096;

/** Most query parameters a request may carry. */
export const MAX_QUERY_PARAMETERS = 50;

const NUL = "\u0000";

function invalid(message: string, subject: string, details?: Record<string, unknown>): MeshportError {
  return new MeshportError("invalid_input", message, { subject, details: { formErrors: [message], fieldErrors: {}, ...details } });
}

/** PostgreSQL text and jsonb cannot hold U+0000, so a string carrying it is refused before it reaches the database. */
export function nulError(where: string): MeshportError {
  return invalid(`${where} contains a NUL character (U+0000), which cannot be stored.`, "nul", { where });
}

/** Decodes one percent-encoded URL component, refusing malformed escapes and invalid UTF-8 (`%E0%A4%A`, `%ED%A0%80`). */
function decodeComponent(raw: string, where: string, plusIsSpace: boolean): string {
  const text = plusIsSpace ? raw.replaceAll("+", " ") : raw;
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(`${where} has malformed percent-encoding or is not UTF-8.`, "encoding", { where });
  }
}

/**
 * Checks a request URL's path and query after percent-decoding: valid UTF-8, no NUL, bounded lengths and count.
 * Throws `invalid_input` (422) naming the part at fault.
 */
export function assertCleanUrl(url: string): void {
  // Work on the raw text: `new URL` would already have decoded nothing, but URLSearchParams decodes lossily.
  const hashAt = url.indexOf("#");
  const withoutHash = hashAt === -1 ? url : url.slice(0, hashAt);
  const queryAt = withoutHash.indexOf("?");
  const beforeQuery = queryAt === -1 ? withoutHash : withoutHash.slice(0, queryAt);
  const query = queryAt === -1 ? "" : withoutHash.slice(queryAt + 1);
  const schemeAt = beforeQuery.indexOf("://");
  const pathAt = schemeAt === -1 ? 0 : beforeQuery.indexOf("/", schemeAt + 3);
  const path = pathAt === -1 ? "" : beforeQuery.slice(pathAt);

  for (const raw of path.split("/")) {
    if (raw === "") continue;
    const segment = decodeComponent(raw, "The path", false);
    if (segment.includes(NUL)) throw nulError("The path");
    if (segment.length > MAX_PATH_SEGMENT_LENGTH) {
      throw invalid(`A path segment is longer than ${MAX_PATH_SEGMENT_LENGTH} characters.`, "path", { limit: MAX_PATH_SEGMENT_LENGTH });
    }
  }

  if (query === "") return;
  const pairs = query.split("&");
  if (pairs.length > MAX_QUERY_PARAMETERS) {
    throw invalid(`The query has more than ${MAX_QUERY_PARAMETERS} parameters.`, "query", { limit: MAX_QUERY_PARAMETERS });
  }
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    const name = decodeComponent(equals === -1 ? pair : pair.slice(0, equals), "A query parameter", true);
    const value = equals === -1 ? "" : decodeComponent(pair.slice(equals + 1), `Query parameter ${name.slice(0, 40)}`, true);
    if (name.includes(NUL) || value.includes(NUL)) throw nulError(`Query parameter ${name.replaceAll(NUL, "").slice(0, 40)}`);
    if (name.length > MAX_QUERY_VALUE_LENGTH || value.length > MAX_QUERY_VALUE_LENGTH) {
      throw invalid(`Query parameter ${name.slice(0, 40)} is longer than ${MAX_QUERY_VALUE_LENGTH} characters.`, "query", { limit: MAX_QUERY_VALUE_LENGTH });
    }
  }
}

interface Visit {
  value: unknown;
  key: string | number | null;
  parent: Visit | null;
}

function pathOf(visit: Visit): Array<string | number> {
  const path: Array<string | number> = [];
  for (let at: Visit | null = visit; at && at.key !== null; at = at.parent) path.push(at.key);
  return path.reverse();
}

/** Why PostgreSQL cannot store a string: a NUL, or a UTF-16 surrogate without its pair (JSON escapes can make either). */
export type UnstorableReason = "nul" | "surrogate";

/** Why the text cannot be stored, or null when it can. */
export function unstorableReason(text: string): UnstorableReason | null {
  if (text.includes(NUL)) return "nul";
  return text.isWellFormed() ? null : "surrogate";
}

/** The error for text that cannot be stored. */
export function unstorableError(where: string, reason: UnstorableReason): MeshportError {
  if (reason === "nul") return nulError(where);
  return invalid(`${where} contains a lone UTF-16 surrogate (an unpaired \\uD800–\\uDFFF escape), which is not text and cannot be stored.`, "encoding", { where });
}

/**
 * The first key or string value of a parsed JSON value that cannot be stored, with its path as keys, or null.
 * Iterative, with parent links instead of copied paths, so deep nesting costs neither stack nor quadratic memory.
 */
export function findUnstorableText(value: unknown): { path: Array<string | number>; reason: UnstorableReason } | null {
  const stack: Visit[] = [{ value, key: null, parent: null }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const current = visit.value;
    if (typeof current === "string") {
      const reason = unstorableReason(current);
      if (reason) return { path: pathOf(visit), reason };
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index -= 1) stack.push({ value: current[index], key: index, parent: visit });
    } else if (current !== null && typeof current === "object") {
      const keys = Object.keys(current);
      for (let index = keys.length - 1; index >= 0; index -= 1) {
        const key = keys[index]!;
        const child: Visit = { value: (current as Record<string, unknown>)[key], key, parent: visit };
        const reason = unstorableReason(key);
        if (reason) return { path: pathOf(child), reason };
        stack.push(child);
      }
    }
  }
  return null;
}

/** A path as `$.a.b[0]`, each key shortened and shown with what cannot be stored replaced. */
function formatPath(path: Array<string | number>): string {
  const shown = (key: string) => key.replaceAll(NUL, "\\u0000").toWellFormed().slice(0, 100);
  return `$${path.map((key) => (typeof key === "number" ? `[${key}]` : `.${shown(key)}`)).join("")}`;
}

/** Where (`$.a.b[0]`) and why a parsed JSON value holds text that cannot be stored, or null. */
export function findUnstorableInJson(value: unknown): { path: string; reason: UnstorableReason } | null {
  const found = findUnstorableText(value);
  return found ? { path: formatPath(found.path.slice(0, 20)), reason: found.reason } : null;
}

/** Throws `invalid_input` when a parsed JSON value holds a NUL or a lone surrogate in any key or string. */
export function assertStorableJson(value: unknown, where = "The request body"): void {
  const found = findUnstorableInJson(value);
  if (found) throw unstorableError(`${where} at ${found.path}`, found.reason);
}

/** Deepest nesting of arrays and objects a JSON request body may have; no body the portal reads comes near it. */
export const MAX_JSON_DEPTH = 64;

/**
 * True when JSON text nests arrays and objects deeper than `limit`, counted in one pass over the characters
 * without building anything: parsing 15 MB of `[` takes seconds of the one thread every request shares.
 */
export function jsonNestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      const end = closingQuote(text, index);
      // Unterminated: not JSON, which the parser says.
      if (end === -1) return false;
      index = end;
    } else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth -= 1;
    }
  }
  return false;
}

/** The index of the quote closing the string opened at `open`, or -1; strings are skipped natively, not char by char. */
function closingQuote(text: string, open: number): number {
  for (let from = open + 1; ; ) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return -1;
    let backslashes = 0;
    for (let before = quote - 1; text.charCodeAt(before) === 0x5c; before -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** Parses JSON text whose nesting was bounded first; malformed or too deep text is refused with `invalid_input`. */
export function parseBoundedJson(text: string, where: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonNestingExceeds(text, maxDepth)) {
    throw invalid(`${where} nests arrays and objects deeper than ${maxDepth} levels.`, "depth", { limit: maxDepth });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(`${where} is not valid JSON.`, "json");
  }
}

/**
 * Decodes bytes that must be UTF-8 text, refusing invalid sequences instead of replacing them, so a contract is
 * stored exactly as published. One leading byte-order mark is dropped (it marks the encoding, it is not content,
 * and JSON parsers refuse it); every upload path decodes through here, so the rule is the same everywhere.
 */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalid(`${where} is not valid UTF-8 text.`, "encoding", { where });
  }
}

/** Decodes an uploaded document: UTF-8 only, and no NUL (a document with one cannot be stored). */
export function decodeDocument(bytes: Uint8Array, name: string): string {
  const text = decodeUtf8(bytes, name);
  if (text.includes(NUL)) throw nulError(name);
  return text;
}

/**
 * Whether a server action's raw body carries a NUL, as the browser encodes it: a raw 0x00 byte (multipart parts,
 * any body), `%00` in a urlencoded form, or an unescaped `\u0000` in the JSON text React sends for plain arguments.
 * Multipart text is not searched for `\u0000`: there it is six ordinary characters (a YAML escape, say).
 */
export function actionBodyHasNul(bytes: Uint8Array, contentType: string): boolean {
  if (bytes.includes(0)) return true;
  const type = contentType.toLowerCase();
  if (type.startsWith("multipart/")) return false;
  const text = new TextDecoder().decode(bytes);
  if (type.startsWith("application/x-www-form-urlencoded")) return /%00/.test(text);
  for (let at = text.indexOf("\\u0000"); at !== -1; at = text.indexOf("\\u0000", at + 1)) {
    let backslashes = 0;
    for (let before = at - 1; before >= 0 && text[before] === "\\"; before -= 1) backslashes += 1;
    if (backslashes % 2 === 0) return true;
  }
  return false;
}
