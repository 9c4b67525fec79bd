import { createHash } from "node:crypto";

/**
 * Serialises a JSON value canonically: object keys sorted, no whitespace, `undefined` members dropped.
 * Two schemas that differ only in key order serialise identically.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return "null";
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson((value as Record<string, unknown>)[k])).join(",") + "}";
}

/**
 * Content hash of a schema: `sha256:` + hex SHA-256 of its canonical JSON; stable under key order.
 * @example schemaHash({ b: 1, a: 2 }) === schemaHash({ a: 2, b: 1 })
 */
export function schemaHash(schema: unknown): string {
  return "sha256:" + createHash("sha256").update(canonicalJson(schema)).digest("hex");
}

/**
 * Structural equality of two JSON values, insensitive to key order; cheaper than comparing canonical strings
 * because it allocates nothing and stops at the first difference.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let count = 0;
  for (const key in ao) {
    if (ao[key] === undefined) continue;
    count++;
    if (!jsonEqual(ao[key], bo[key])) return false;
  }
  for (const key in bo) if (bo[key] !== undefined) count--;
  return count === 0;
}
