/**
 * The registry API's paths, as Confluent's REST API lays them out. Pure: the raw pathname is split and each
 * segment decoded here (a subject may hold an encoded `/`, which a framework's router would split on), and
 * path versions and ids are read as Confluent reads them.
 */
import { RegistryError, registryErrors } from "@/lib/schema-registry/errors.ts";
import type { VersionSelector } from "@/lib/schema-registry/api.ts";

/** Where the API is mounted in the portal. */
export const REGISTRY_BASE_PATH = "/api/schema-registry";

/** Longest raw path segment decoded: a subject of 1,000 characters percent-encoded as 4-byte UTF-8 is 12,000. */
const MAX_RAW_SEGMENT_LENGTH = 12_000;
/** No route has more segments than this; a longer path is not looked at. */
const MAX_SEGMENTS = 8;

const INT4_MAX = 2 ** 31 - 1;

/** The methods the API serves on some path. */
export type RegistryMethod = "GET" | "POST" | "PUT" | "DELETE";

/** One operation of the API, with the path parameters it carries. */
export type RegistryRoute =
  | { op: "root" }
  | { op: "schemaTypes" }
  | { op: "subjects" }
  | { op: "subjectVersions"; subject: string }
  | { op: "subject"; subject: string }
  | { op: "subjectVersion"; subject: string; version: string }
  | { op: "subjectVersionSchema"; subject: string; version: string }
  | { op: "referencedBy"; subject: string; version: string }
  | { op: "schemaById"; id: string }
  | { op: "schemaByIdSchema"; id: string }
  | { op: "schemaByIdVersions"; id: string }
  | { op: "schemaByIdSubjects"; id: string }
  | { op: "compatibilityVersion"; subject: string; version: string }
  | { op: "compatibility"; subject: string }
  | { op: "config"; subject: string | null }
  | { op: "mode"; subject: string | null };

/** A matched path: the operation and the methods its path serves. */
export interface MatchedRoute {
  route: RegistryRoute;
  methods: readonly RegistryMethod[];
}

/**
 * The decoded segments of a raw pathname under the API's base path ([] for the base itself), or null when the
 * path is not the API's or cannot be decoded (malformed percent-encoding, invalid UTF-8, an empty segment). One
 * trailing slash is allowed, as Confluent's server allows it.
 */
export function splitRegistryPath(pathname: string): string[] | null {
  if (!pathname.startsWith(REGISTRY_BASE_PATH)) return null;
  const rest = pathname.slice(REGISTRY_BASE_PATH.length);
  if (rest === "" || rest === "/") return [];
  if (!rest.startsWith("/")) return null;
  const raw = rest.slice(1).split("/", MAX_SEGMENTS + 2);
  if (raw.length > 1 && raw.at(-1) === "") raw.pop();
  if (raw.length > MAX_SEGMENTS) return null;
  const segments: string[] = [];
  for (const segment of raw) {
    if (segment === "" || segment.length > MAX_RAW_SEGMENT_LENGTH) return null;
    try {
      segments.push(decodeURIComponent(segment));
    } catch {
      return null;
    }
  }
  return segments;
}

/** The operation for decoded path segments, or null when no route has this shape. */
export function matchRegistryRoute(segments: readonly string[]): MatchedRoute | null {
  const [first, second, third, fourth, fifth] = segments;
  const length = segments.length;
  if (length === 0) return { route: { op: "root" }, methods: ["GET"] };
  switch (first) {
    case "subjects": {
      if (length === 1) return { route: { op: "subjects" }, methods: ["GET"] };
      const subject = second!;
      if (length === 2) return { route: { op: "subject", subject }, methods: ["POST", "DELETE"] };
      if (third !== "versions") return null;
      if (length === 3) return { route: { op: "subjectVersions", subject }, methods: ["GET", "POST"] };
      const version = fourth!;
      if (length === 4) return { route: { op: "subjectVersion", subject, version }, methods: ["GET", "DELETE"] };
      if (length === 5 && fifth === "schema") return { route: { op: "subjectVersionSchema", subject, version }, methods: ["GET"] };
      if (length === 5 && fifth === "referencedby") return { route: { op: "referencedBy", subject, version }, methods: ["GET"] };
      return null;
    }
    case "schemas": {
      if (length === 2 && second === "types") return { route: { op: "schemaTypes" }, methods: ["GET"] };
      if (second !== "ids" || length < 3 || length > 4) return null;
      const id = third!;
      if (length === 3) return { route: { op: "schemaById", id }, methods: ["GET"] };
      if (fourth === "schema") return { route: { op: "schemaByIdSchema", id }, methods: ["GET"] };
      if (fourth === "versions") return { route: { op: "schemaByIdVersions", id }, methods: ["GET"] };
      if (fourth === "subjects") return { route: { op: "schemaByIdSubjects", id }, methods: ["GET"] };
      return null;
    }
    case "compatibility": {
      if (second !== "subjects" || length < 4 || fourth !== "versions") return null;
      const subject = third!;
      if (length === 4) return { route: { op: "compatibility", subject }, methods: ["POST"] };
      if (length === 5) return { route: { op: "compatibilityVersion", subject, version: fifth! }, methods: ["POST"] };
      return null;
    }
    case "config":
      if (length === 1) return { route: { op: "config", subject: null }, methods: ["GET", "PUT", "DELETE"] };
      if (length === 2) return { route: { op: "config", subject: second! }, methods: ["GET", "PUT", "DELETE"] };
      return null;
    case "mode":
      if (length === 1) return { route: { op: "mode", subject: null }, methods: ["GET", "PUT"] };
      if (length === 2) return { route: { op: "mode", subject: second! }, methods: ["GET", "PUT", "DELETE"] };
      return null;
    default:
      return null;
  }
}

// Java's Integer.valueOf: an optional sign and decimal digits; more than ten digits cannot be an int.
const INTEGER = /^[+-]?\d{1,10}$/;

/**
 * A version as a path (or a body) gives it: an integer 1..2^31-1, `latest`, or -1 (also latest), as Confluent
 * reads it; anything else is 42202.
 */
export function parseVersion(raw: string): VersionSelector {
  const text = raw.trim();
  if (text === "latest") return "latest";
  if (INTEGER.test(text)) {
    const value = Number(text);
    if (value === -1) return "latest";
    if (value >= 1 && value <= INT4_MAX) return value;
  }
  throw registryErrors.invalidVersion(raw.slice(0, 100));
}

/** A schema id from the path: an int4 of at least 1; anything else names no schema (40403). */
export function parseSchemaId(raw: string): number {
  if (INTEGER.test(raw)) {
    const value = Number(raw);
    if (value >= 1 && value <= INT4_MAX) return value;
  }
  throw new RegistryError(40403, `Schema ${raw.slice(0, 100)} not found`);
}
