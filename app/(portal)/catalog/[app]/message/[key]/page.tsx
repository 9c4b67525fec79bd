import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { channelHref, DeprecationWarning, SchemaTree } from "@/app/_components/catalog.tsx";
import { SchemaId } from "../../schema-id.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { channelSchemas, currentContract, examplePayload, schemaRows } from "@/lib/catalog/views.ts";
import { subjectsOfMessage } from "@/lib/schema-registry/views.ts";
import { subjectHref } from "@/app/(portal)/registry/format.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { decodeParam, queryText, type SearchParamValue } from "@/lib/http/page-query.ts";

export async function generateMetadata({ params }: { params: Promise<{ key: string }> }): Promise<Metadata> {
  return { title: decodeParam((await params).key) };
}

export default async function MessagePage({
  params,
  searchParams,
}: {
  params: Promise<{ app: string; key: string }>;
  searchParams: Promise<{ channel?: SearchParamValue }>;
}) {
  const principal = await requireUser();
  const { app: slug, key: encoded } = await params;
  const key = decodeParam(encoded);
  const channelAddress = queryText((await searchParams).channel, 4096);
  const data = await currentContract(principal, slug).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  const channels = Object.values(data.contract?.channels ?? {});
  // Own messages only: a key such as `constructor` names nothing.
  const has = (c: (typeof channels)[number]) => Object.hasOwn(c.messages, key);
  const channel = channels.find((c) => c.address === channelAddress && has(c)) ?? channels.find(has);
  const message = channel ? channel.messages[key] : undefined;
  if (!channel || !message) notFound();
  const example = examplePayload(message);
  // The global id the schema registry serves, from the flow of this message (none when no operation uses it).
  const [channelIds, subjects] = await Promise.all([channelSchemas(principal, slug, channel.address), subjectsOfMessage(principal, slug, channel.address, key)]);
  const schemas = channelIds.get(key);
  return (
    <>
      <p className="muted small">
        <Link href="/catalog">Catalog</Link> / <Link href={`/catalog/${slug}`}>{data.application.name}</Link> /{" "}
        <Link href={channelHref(slug, channel.address)}>{channel.address}</Link> /
      </p>
      <p className="tabs small">
        <Link href={`/lineage?channel=${encodeURIComponent(channel.address)}&message=${encodeURIComponent(key)}&application=${encodeURIComponent(slug)}`} data-testid="message-lineage-link">
          Lineage report
        </Link>
      </p>
      <h1 data-testid="message-title">{message.title ?? message.name ?? message.key}</h1>
      {data.version?.state === "deprecated" ? <DeprecationWarning version={data.version.version} reason={data.version.stateReason} /> : null}
      {message.summary ? <p>{message.summary}</p> : null}
      {message.description ? <p className="muted">{message.description}</p> : null}
      <section className="panel">
        <dl className="facts">
          <dt>Content type</dt>
          <dd>{message.contentType ?? data.contract?.defaultContentType ?? "—"}</dd>
          <dt>Schema format</dt>
          <dd>
            <code>{message.schemaFormat}</code>
          </dd>
          {schemas?.payloadSchemaId != null ? (
            <>
              <dt>Schema id</dt>
              <dd>
                <SchemaId id={schemas.payloadSchemaId} />
              </dd>
            </>
          ) : null}
          {schemas?.headersSchemaId != null ? (
            <>
              <dt>Headers schema id</dt>
              <dd>
                <SchemaId id={schemas.headersSchemaId} testId="headers-schema-id" />
              </dd>
            </>
          ) : null}
          {subjects.length > 0 ? (
            <>
              <dt>Registry subjects</dt>
              <dd data-testid="message-subjects">
                {subjects.map((s, i) => (
                  <span key={s.name}>
                    {i > 0 ? ", " : null}
                    <Link href={subjectHref(s.name)} data-testid="message-subject-link">
                      {s.name}
                    </Link>
                    {s.part && s.part !== "payload" ? <span className="muted small"> ({s.part})</span> : null}
                    {s.kind === "linked" ? <span className="muted small"> (linked)</span> : null}
                  </span>
                ))}
              </dd>
            </>
          ) : null}
          {message.payloadHash ? (
            <>
              <dt>Schema hash</dt>
              <dd>
                <code>{message.payloadHash}</code>
              </dd>
            </>
          ) : null}
        </dl>
      </section>
      <section className="panel">
        <h2>Payload</h2>
        {message.payloadComparable ? (
          <SchemaTree rows={schemaRows(message.payload)} testId="payload-tree" />
        ) : (
          <pre className="code-block">{JSON.stringify(message.payload, null, 2)}</pre>
        )}
      </section>
      {message.headers ? (
        <section className="panel">
          <h2>Headers</h2>
          <SchemaTree rows={schemaRows(message.headers)} />
        </section>
      ) : null}
      <section className="panel">
        <h2>Example {example?.generated ? <small className="muted">(generated from the schema: the contract has none)</small> : null}</h2>
        {example ? <pre className="code-block" data-testid="message-example">{JSON.stringify(example.value, null, 2)}</pre> : <p className="muted">No example.</p>}
      </section>
    </>
  );
}
