import { DRIFT_RULES } from "@/registry/drift/rules.ts";
import { DRIFT_RULE_IDS, type DriftRuleId, type DriftSeverity } from "@/registry/drift/types.ts";
import { queryText, type SearchParamValue } from "@/lib/http/page-query.ts";

/** The dashboard's filters as the page reads them from its query (leniently: what a service would refuse is dropped). */
export interface DriftPageFilters {
  status: "active" | "open" | "acknowledged" | "resolved" | "all";
  rule?: DriftRuleId;
  severity?: DriftSeverity;
  team?: string;
  application?: string;
  broker?: string;
  channel?: string;
  template?: string;
  text?: string;
}

export const STATUS_OPTIONS: ReadonlyArray<{ value: DriftPageFilters["status"]; label: string }> = [
  { value: "active", label: "open or acknowledged" },
  { value: "open", label: "open" },
  { value: "acknowledged", label: "acknowledged" },
  { value: "resolved", label: "resolved" },
  { value: "all", label: "any status" },
];

export const SEVERITIES: readonly DriftSeverity[] = ["error", "warning", "info"];

/** Title, doc line and default severity of every rule, in catalogue order. */
export const RULES: ReadonlyArray<{ id: DriftRuleId; title: string; doc: string; severity: DriftSeverity }> = DRIFT_RULE_IDS.map((id) => {
  const spec = DRIFT_RULES.find((r) => r.id === id);
  return { id, title: spec?.title ?? id, doc: spec?.doc ?? "", severity: spec?.severity ?? "warning" };
});

/** A rule's title, or its id when unknown. */
export function ruleTitle(id: string): string {
  return RULES.find((r) => r.id === id)?.title ?? id;
}

const one = <T extends string>(value: string | undefined, allowed: readonly T[]): T | undefined => (allowed as readonly string[]).includes(value ?? "") ? (value as T) : undefined;

/** Reads the filters from a page's search parameters. */
export function readDriftFilters(query: Record<string, SearchParamValue>): DriftPageFilters {
  return {
    status: one(queryText(query.status), STATUS_OPTIONS.map((s) => s.value)) ?? "active",
    rule: one(queryText(query.rule), DRIFT_RULE_IDS),
    severity: one(queryText(query.severity), SEVERITIES),
    team: queryText(query.team, 100),
    application: queryText(query.application, 100),
    broker: queryText(query.broker, 100),
    channel: queryText(query.channel, 500),
    template: queryText(query.template, 500),
    text: queryText(query.text, 200),
  };
}

/** Whether any filter beyond the default status is set. */
export function isFiltered(filters: DriftPageFilters): boolean {
  return filters.status !== "active" || Object.entries(filters).some(([key, value]) => key !== "status" && value !== undefined);
}

/** The dashboard's link for filters (and a page). */
export function driftHref(filters: Partial<DriftPageFilters>, page = 1): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (typeof value !== "string" || value === "" || (key === "status" && value === "active")) continue;
    query.set(key, value);
  }
  if (page > 1) query.set("page", String(page));
  const text = query.toString();
  return text ? `/drift?${text}` : "/drift";
}

/** One line of a pretty-printed JSON payload; `hit` marks the lines of the failing value. */
export interface PayloadLine {
  text: string;
  hit: boolean;
}

const MAX_LINES = 400;

/** The segments of a JSON pointer (`/a/0/b~1c` → `a`, `0`, `b/c`). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === "" || pointer === "/") return [];
  return pointer
    .replace(/^\//, "")
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/**
 * A JSON payload pretty-printed line by line, with the lines of the value at `pointer` marked (the whole payload
 * when the pointer is the root). Null when the payload is not JSON (text, or truncated): it is shown as it is.
 */
export function payloadLines(payload: string, pointer: string | undefined): PayloadLine[] | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  const target = pointer === undefined ? null : pointerSegments(pointer);
  const lines: PayloadLine[] = [];
  const under = (path: string[]) => target !== null && target.length <= path.length && target.every((s, i) => s === path[i]);
  const emit = (text: string, path: string[]) => {
    if (lines.length < MAX_LINES) lines.push({ text, hit: under(path) });
  };
  const walk = (v: unknown, path: string[], indent: string, prefix: string, suffix: string) => {
    if (lines.length >= MAX_LINES) return;
    if (Array.isArray(v) && v.length > 0) {
      emit(`${indent}${prefix}[`, path);
      v.forEach((item, i) => walk(item, [...path, String(i)], `${indent}  `, "", i < v.length - 1 ? "," : ""));
      emit(`${indent}]${suffix}`, path);
    } else if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
      const entries = Object.entries(v as Record<string, unknown>);
      emit(`${indent}${prefix}{`, path);
      entries.forEach(([k, item], i) => walk(item, [...path, k], `${indent}  `, `${JSON.stringify(k)}: `, i < entries.length - 1 ? "," : ""));
      emit(`${indent}}${suffix}`, path);
    } else {
      emit(`${indent}${prefix}${JSON.stringify(v)}${suffix}`, path);
    }
  };
  walk(value, [], "", "", "");
  if (lines.length >= MAX_LINES) lines.push({ text: "…", hit: false });
  return lines;
}

/** A share as a percentage with one decimal. */
export function percent(rate: number | undefined): string {
  return rate === undefined || !Number.isFinite(rate) ? "—" : `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)} %`;
}

/** A duration in seconds as words: `1 day`, `6 hours`, `90 s`. */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds % 86_400 === 0 && seconds >= 86_400) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60} min`;
  return `${seconds} s`;
}
