import Link from "next/link";
import { messageHref } from "@/app/_components/catalog.tsx";
import type { EffectiveCompatibility, SchemaBody, SchemaFlow } from "@/lib/schema-registry/views.ts";
import { schemaHref, SOURCE_LABELS, subjectHref } from "./format.ts";

/** An effective level, marked when the subject inherits it. */
export function Compatibility({ value }: { value: EffectiveCompatibility }) {
  return (
    <span title={SOURCE_LABELS[value.source]}>
      <code className="small">{value.level}</code>
      {value.inherited ? <span className="muted small"> inherited</span> : null}
    </span>
  );
}

/** A schema's references: the name it uses and the subject version it means. */
export function References({ references }: { references: SchemaBody["references"] }) {
  if (references.length === 0) return <p className="muted">No references.</p>;
  return (
    <ul data-testid="schema-references">
      {references.map((r, i) => (
        <li key={i}>
          <code>{r.name}</code> → <Link href={subjectHref(r.subject, r.version)}>{r.subject} version {r.version}</Link>
        </li>
      ))}
    </ul>
  );
}

/** Contract flows (application, version, channel, action, message) using a schema. */
export function FlowsTable({ flows, testId }: { flows: readonly SchemaFlow[]; testId: string }) {
  if (flows.length === 0) return <p className="muted" data-testid={`${testId}-none`}>No contract flow uses it.</p>;
  return (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          <th>Application</th>
          <th>Version</th>
          <th>Channel</th>
          <th>Message</th>
          <th>Schema</th>
        </tr>
      </thead>
      <tbody>
        {flows.map((f) => (
          <tr key={`${f.application.slug}\u0000${f.version}\u0000${f.channel}\u0000${f.action}\u0000${f.messageKey}\u0000${f.part}`}>
            <td>
              <Link href={`/catalog/${f.application.slug}`}>{f.application.name}</Link>
            </td>
            <td>
              <Link href={`/catalog/${f.application.slug}/versions/${f.version}`}>{f.version}</Link>
            </td>
            <td>
              <code className="small">{f.channel}</code> <span className="muted small">{f.action === "send" ? "sends" : "receives"}</span>
            </td>
            <td>
              <Link href={messageHref(f.application.slug, f.channel, f.messageKey)}>{f.messageKey}</Link> <span className="muted small">{f.part}</span>
            </td>
            <td>
              <Link href={schemaHref(f.schemaId)}>#{f.schemaId}</Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
