/**
 * Payload content: sniffing (JSON, text, binary), redaction of named JSON
 * fields, and encoding of bounded samples for the report.
 */
import { isUtf8 } from "node:buffer";
import { MAX_SAMPLE_CHARS, type SamplePayload } from "./protocol.ts";

/** Content kind of one payload. */
export type ContentKind = "json" | "text" | "binary" | "empty";

/** What sniffing found; `value` is the parsed JSON when kind is json. */
export interface Sniffed {
  kind: ContentKind;
  value?: unknown;
}

/** Classifies a payload: JSON (objects and arrays only, where parsing succeeds), UTF-8 text, or binary. */
export function sniff(payload: Uint8Array): Sniffed {
  if (payload.length === 0) return { kind: "empty" };
  let i = 0;
  while (i < payload.length && (payload[i] === 0x20 || payload[i] === 0x0a || payload[i] === 0x0d || payload[i] === 0x09)) i++;
  const first = payload[i];
  // Only documents count as JSON: a bare `42` or `true` is better described as text.
  if (first === 0x7b || first === 0x5b) {
    if (isUtf8(payload)) {
      try {
        return { kind: "json", value: JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8")) };
      } catch {
        return { kind: "text" };
      }
    }
    return { kind: "binary" };
  }
  return { kind: isUtf8(payload) && !hasControlBytes(payload) ? "text" : "binary" };
}

function hasControlBytes(payload: Uint8Array): boolean {
  const n = Math.min(payload.length, 512);
  for (let i = 0; i < n; i++) {
    const b = payload[i]!;
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return true;
  }
  return false;
}

/** Replacement written in place of a redacted value. */
export const REDACTED = "[redacted]";

/**
 * Returns a copy of a JSON value with every property whose name is in `fields`
 * (case-insensitive, at any depth) replaced by "[redacted]"; `hit` tells whether any was.
 */
export function redact(value: unknown, fields: ReadonlySet<string>): { value: unknown; hit: boolean } {
  let hit = false;
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 64 || v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (fields.has(k.toLowerCase())) {
        out[k] = REDACTED;
        hit = true;
      } else out[k] = walk(x, depth + 1);
    }
    return out;
  };
  const result = fields.size ? walk(value, 0) : value;
  return { value: result, hit };
}

/** A raw sample kept by the observer: the leading bytes of a payload. */
export interface RawSample {
  at: number;
  size: number;
  bytes: Buffer;
}

/**
 * Encodes a raw sample for the report: redacted JSON, text, or base64 of the
 * leading bytes. A truncated JSON payload cannot be redacted reliably, so with
 * redaction configured it is withheld rather than leaked.
 */
export function encodeSample(sample: RawSample, fields: ReadonlySet<string>): SamplePayload {
  const at = new Date(sample.at).toISOString();
  const truncatedBytes = sample.bytes.length < sample.size;
  const s = truncatedBytes ? { kind: sniffPrefix(sample.bytes) } : sniff(sample.bytes);
  if (s.kind === "json" && !truncatedBytes) {
    const r = redact(s.value, fields);
    const text = JSON.stringify(r.value);
    return { at, size: sample.size, encoding: "json", payload: text.slice(0, MAX_SAMPLE_CHARS), truncated: text.length > MAX_SAMPLE_CHARS, redacted: r.hit };
  }
  if (s.kind === "json" || (s.kind === "text" && truncatedBytes && fields.size && looksLikeJsonStart(sample.bytes))) {
    if (fields.size) return { at, size: sample.size, encoding: "text", payload: "[truncated JSON withheld: redaction is configured]", truncated: true, redacted: true };
    return { at, size: sample.size, encoding: "text", payload: sample.bytes.toString("utf8").slice(0, MAX_SAMPLE_CHARS), truncated: true, redacted: false };
  }
  if (s.kind === "text" || s.kind === "empty") {
    const text = sample.bytes.toString("utf8");
    return { at, size: sample.size, encoding: "text", payload: text.slice(0, MAX_SAMPLE_CHARS), truncated: truncatedBytes || text.length > MAX_SAMPLE_CHARS, redacted: false };
  }
  const b64 = sample.bytes.subarray(0, Math.floor((MAX_SAMPLE_CHARS / 4) * 3)).toString("base64");
  return { at, size: sample.size, encoding: "base64", payload: b64, truncated: b64.length * 0.75 < sample.size, redacted: false };
}

function looksLikeJsonStart(bytes: Buffer): boolean {
  const t = bytes.subarray(0, 16).toString("utf8").trimStart();
  return t.startsWith("{") || t.startsWith("[");
}

/** Classifies a payload from its first bytes only (for truncated or very large payloads). */
export function sniffPrefix(payload: Uint8Array): ContentKind {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.byteLength, 4_096));
  if (bytes.length === 0) return "empty";
  if (looksLikeJsonStart(bytes)) return "json";
  // A cut may split a multi-byte character: ignore the last three bytes for the UTF-8 check.
  return isUtf8(bytes.subarray(0, Math.max(0, bytes.length - 3))) && !hasControlBytes(bytes) ? "text" : "binary";
}
