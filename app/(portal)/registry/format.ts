import { queryText, type SearchParamValue } from "@/lib/http/page-query.ts";
import { SCHEMA_TYPES, type SchemaType } from "@/registry/schematypes/types.ts";
import type { CompatibilitySource, SubjectKind } from "@/lib/schema-registry/views.ts";

// Pure (no server-only import): the catalog's schema id links use these paths too.
const SUBJECT_KINDS: readonly SubjectKind[] = ["governed", "direct", "linked"];

/** The Registry page's filters as read from its query (leniently: what the service would refuse is dropped). */
export interface RegistryPageFilters {
  text?: string;
  kind?: SubjectKind;
  schemaType?: SchemaType;
  team?: string;
  deleted?: boolean;
}

const one = <T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined =>
  (allowed as readonly string[]).includes(value ?? "") ? (value as T) : undefined;

export function readRegistryFilters(query: Record<string, SearchParamValue>): RegistryPageFilters {
  return {
    text: queryText(query.text, 200),
    kind: one(queryText(query.kind), SUBJECT_KINDS),
    schemaType: one(queryText(query.type), SCHEMA_TYPES),
    team: queryText(query.team, 100),
    deleted: queryText(query.deleted) === "1" ? true : undefined,
  };
}

export function isFiltered(filters: RegistryPageFilters): boolean {
  return Object.values(filters).some((v) => v !== undefined);
}

/** A link to the Registry page with these filters and page. */
export function registryHref(filters: RegistryPageFilters, page = 1): string {
  const query = new URLSearchParams();
  if (filters.text) query.set("text", filters.text);
  if (filters.kind) query.set("kind", filters.kind);
  if (filters.schemaType) query.set("type", filters.schemaType);
  if (filters.team) query.set("team", filters.team);
  if (filters.deleted) query.set("deleted", "1");
  if (page > 1) query.set("page", String(page));
  const text = query.toString();
  return text ? `/registry?${text}` : "/registry";
}

/** Path of a subject page (names hold `/` and other characters: encoded as one segment). */
export function subjectHref(name: string, version?: number): string {
  return `/registry/subjects/${encodeURIComponent(name)}${version !== undefined ? `?version=${version}` : ""}`;
}

/** Path of a schema id page. */
export function schemaHref(id: number): string {
  return `/registry/schemas/${id}`;
}

export const KIND_LABELS: Record<SubjectKind, string> = {
  governed: "governed by a contract",
  direct: "direct",
  linked: "direct, linked to a channel",
};

export const SOURCE_LABELS: Record<CompatibilitySource, string> = {
  subject: "set on the subject",
  application: "inherited from the application",
  global: "inherited from the registry-wide level",
};
