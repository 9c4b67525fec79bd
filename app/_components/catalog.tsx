import Link from "next/link";
import type { SchemaRow } from "@/lib/catalog/views.ts";

/** Path of a channel page. */
export function channelHref(app: string, address: string): string {
  return `/catalog/${app}/channel/${encodeURIComponent(address)}`;
}

/** Path of a message page. */
export function messageHref(app: string, address: string, key: string): string {
  return `/catalog/${app}/message/${encodeURIComponent(key)}?channel=${encodeURIComponent(address)}`;
}

/** A lifecycle badge for a version. */
export function StateBadge({ state }: { state: string }) {
  const cls = state === "released" ? "status-online" : state === "deprecated" ? "badge-warn" : "badge-muted";
  return <span className={`badge ${cls}`}>{state}</span>;
}

/** The warning every page shows for a deprecated version. */
export function DeprecationWarning({ version, reason }: { version: string; reason: string | null }) {
  return (
    <p className="deprecation" role="alert" data-testid="deprecation-warning">
      Version {version} is deprecated{reason ? `: ${reason}` : "."} Plan a move to a newer version.
    </p>
  );
}

/** A payload schema as a readable tree. */
export function SchemaTree({ rows, testId }: { rows: SchemaRow[]; testId?: string }) {
  if (rows.length === 0) return <p className="muted">No properties declared.</p>;
  return (
    <table className="table schema-tree" data-testid={testId}>
      <thead>
        <tr>
          <th>Field</th>
          <th>Type</th>
          <th>Required</th>
          <th>Description</th>
          <th>Constraints</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            <td style={{ paddingLeft: `${0.5 + r.depth * 1.2}rem` }}>{r.name}</td>
            <td>
              <code>{r.type}</code>
            </td>
            <td>{r.required ? "yes" : ""}</td>
            <td>{r.description}</td>
            <td className="small">{r.constraints.join(", ")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A link to a search for a field. */
export function FieldLink({ name }: { name: string }) {
  return <Link href={`/discover?field=${encodeURIComponent(name)}`}>{name}</Link>;
}
