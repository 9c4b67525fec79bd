import { isIP } from "node:net";
import type { AuditEntry } from "@/db/schema.ts";

/*
 * How audit entries leave the portal: one flat row per entry, written as CSV or as JSON. Pure functions, so the
 * export route streams them page by page and the tests check them without a database.
 */

/** One exported entry. */
export interface AuditRow {
  seq: number;
  at: string;
  actor: { kind: string; id: string; label: string };
  /** The client address the change came from, when the entry recorded one. */
  from: string | null;
  action: string;
  target: { type: string; id: string };
  /** The slug of the application the entry is about, when it is about one. */
  application: string | null;
  details: Record<string, unknown>;
  hash: string;
  prevHash: string;
}

/** The client address of an entry: `details.from` when it is an IP address (some entries use `from` for a prior state). */
export function entryAddress(details: Record<string, unknown>): string | null {
  const from = details.from;
  return typeof from === "string" && isIP(from) !== 0 ? from : null;
}

/** The application slug of an entry (`details.application`), when it names one. */
export function entryApplication(details: Record<string, unknown>): string | null {
  const slug = details.application;
  return typeof slug === "string" && slug !== "" ? slug : null;
}

/** The exported form of an entry. */
export function auditRow(entry: AuditEntry): AuditRow {
  const details = entry.details ?? {};
  return {
    seq: entry.seq,
    at: entry.at.toISOString(),
    actor: { kind: entry.actorKind, id: entry.actorId, label: entry.actorLabel },
    from: entryAddress(details),
    action: entry.action,
    target: { type: entry.targetType, id: entry.targetId },
    application: entryApplication(details),
    details,
    hash: entry.hash,
    prevHash: entry.prevHash,
  };
}

/** The export formats. JSON is one array, one entry a line, streamed as it is read. */
export const AUDIT_EXPORT_FORMATS = ["csv", "json"] as const;

/** One export format. */
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** The CSV columns, in order. */
export const AUDIT_CSV_COLUMNS = [
  "seq",
  "at",
  "actor_kind",
  "actor_id",
  "actor_label",
  "from",
  "action",
  "target_type",
  "target_id",
  "application",
  "details",
  "hash",
  "prev_hash",
] as const;

// A spreadsheet evaluates a cell starting with one of these as a formula.
const FORMULA_START = new Set(["=", "+", "-", "@", "\t", "\r"]);

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma, CR or LF, quotes doubled. Text a spreadsheet would
 * run as a formula gets a leading apostrophe first, so opening an export never executes what someone typed.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && text !== "" && FORMULA_START.has(text[0]!)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, CRLF-terminated. */
export function csvRecord(values: readonly (string | number | null)[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

/** The CSV header record. */
export function csvHeader(): string {
  return csvRecord(AUDIT_CSV_COLUMNS);
}

/** An entry as a CSV record, in the order of {@link AUDIT_CSV_COLUMNS}. */
export function csvLine(row: AuditRow): string {
  return csvRecord([
    row.seq,
    row.at,
    row.actor.kind,
    row.actor.id,
    row.actor.label,
    row.from,
    row.action,
    row.target.type,
    row.target.id,
    row.application,
    JSON.stringify(row.details),
    row.hash,
    row.prevHash,
  ]);
}

/**
 * Writes entries in a format, page by page: yields the text of each page (the header or the opening bracket
 * first, the closing bracket last), holding one page at a time.
 */
export async function* formatAuditExport(format: AuditExportFormat, pages: AsyncIterable<readonly AuditEntry[]>): AsyncGenerator<string> {
  if (format === "csv") {
    yield csvHeader();
    for await (const page of pages) if (page.length > 0) yield page.map((entry) => csvLine(auditRow(entry))).join("");
    return;
  }
  yield "[";
  let first = true;
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield page.map((entry) => {
      const text = `${first ? "\n" : ",\n"}${JSON.stringify(auditRow(entry))}`;
      first = false;
      return text;
    }).join("");
  }
  yield first ? "]\n" : "\n]\n";
}

/** The content type of an export format. */
export function auditExportContentType(format: AuditExportFormat): string {
  return format === "csv" ? "text/csv; charset=utf-8; header=present" : "application/json; charset=utf-8";
}

/** The file name of an export made at a time: `meshport-audit-20261201T140500Z.csv`. */
export function auditExportFileName(format: AuditExportFormat, at: Date): string {
  const stamp = at.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  return `meshport-audit-${stamp}.${format}`;
}

/** One change an entry records: a field, its value before and after. */
export interface DetailChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** An entry's details for reading: the changes (before → after) and the other facts, without what has a column. */
export interface DescribedDetails {
  changes: DetailChange[];
  facts: { key: string; value: unknown }[];
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * Reads the shapes services record changes in: `before` and `after` objects (field by field), and fields written
 * as `{ from, to }`. The application and the client address have columns of their own and are left out.
 */
export function describeDetails(details: Record<string, unknown>): DescribedDetails {
  const changes: DetailChange[] = [];
  const facts: { key: string; value: unknown }[] = [];
  const address = entryAddress(details);
  const { before, after } = details;
  const beforeAfter = isRecord(before) || isRecord(after);
  if (beforeAfter) {
    const b = isRecord(before) ? before : {};
    const a = isRecord(after) ? after : {};
    for (const field of [...new Set([...Object.keys(b), ...Object.keys(a)])]) {
      if (JSON.stringify(b[field]) !== JSON.stringify(a[field])) changes.push({ field, before: b[field] ?? null, after: a[field] ?? null });
    }
  }
  for (const [key, value] of Object.entries(details)) {
    if (key === "application" && entryApplication(details) !== null) continue;
    if (key === "from" && address !== null) continue;
    if (beforeAfter && (key === "before" || key === "after")) continue;
    if (isRecord(value) && Object.keys(value).length === 2 && "from" in value && "to" in value) {
      changes.push({ field: key, before: value.from, after: value.to });
      continue;
    }
    facts.push({ key, value });
  }
  return { changes, facts };
}

/** A detail value as short text: strings as they are, anything else as JSON. */
export function detailText(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (value === "") return '""';
  return typeof value === "string" ? value : JSON.stringify(value);
}
