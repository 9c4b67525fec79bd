import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { requireUser } from "@/app/_lib/session.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { positiveInteger } from "@/lib/http/page-query.ts";
import { schemaDetail } from "@/lib/schema-registry/views.ts";
import { subjectHref } from "../../format.ts";
import { FlowsTable, References } from "../../parts.tsx";

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  return { title: `Schema #${(await params).id}` };
}

const MAX_INT4 = 2_147_483_647;

export default async function SchemaPage({ params }: { params: Promise<{ id: string }> }) {
  const principal = await requireUser();
  const id = positiveInteger((await params).id, MAX_INT4);
  if (id === undefined) notFound();
  const schema = await schemaDetail(principal, id).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  return (
    <>
      <p className="muted small">
        <Link href="/registry">Registry</Link> /
      </p>
      <h1 data-testid="schema-title">Schema #{schema.id}</h1>
      <section className="panel">
        <dl className="facts">
          <dt>Type</dt>
          <dd data-testid="schema-type">{schema.schemaType}</dd>
          <dt>Format</dt>
          <dd>
            <code>{schema.format}</code>
          </dd>
          <dt>Served at</dt>
          <dd>
            <code>/api/schema-registry/schemas/ids/{schema.id}</code>
          </dd>
        </dl>
      </section>
      <section className="panel">
        <h2>Schema</h2>
        <pre className="code-block" data-testid="schema-text">
          {schema.text}
        </pre>
        <h3>References</h3>
        <References references={schema.references} />
      </section>
      <section className="panel">
        <h2>Subjects</h2>
        {schema.subjects.length === 0 ? (
          <p className="muted" data-testid="schema-subjects-none">
            No subject version holds this schema: it is known from a contract only.
          </p>
        ) : (
          <ul data-testid="schema-subjects">
            {schema.subjects.map((s) => (
              <li key={`${s.subject}\u0000${s.version}`} data-testid="schema-subject" data-subject={s.subject}>
                <Link href={subjectHref(s.subject, s.version)}>{s.subject}</Link> version {s.version}
                {s.deleted ? <span className="badge badge-muted"> soft-deleted</span> : null}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="panel">
        <h2>Contracts using it</h2>
        <FlowsTable flows={schema.flows} testId="schema-flows" />
      </section>
    </>
  );
}
