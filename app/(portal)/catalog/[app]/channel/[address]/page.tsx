import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { DeprecationWarning, messageHref } from "@/app/_components/catalog.tsx";
import { SchemaId } from "../../schema-id.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { channelParticipants, channelSchemas, currentContract, examplePayload, subscriptionOf } from "@/lib/catalog/views.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { decodeParam } from "@/lib/http/page-query.ts";
import { DriftPanel } from "@/app/(portal)/drift/drift-panel.tsx";
import { preloadNeighbourhood, TopologyNeighbourhood } from "@/app/(portal)/topology/neighbourhood.tsx";

export async function generateMetadata({ params }: { params: Promise<{ address: string }> }): Promise<Metadata> {
  return { title: decodeParam((await params).address) };
}

export default async function ChannelPage({ params }: { params: Promise<{ app: string; address: string }> }) {
  const principal = await requireUser();
  const { app: slug, address: encoded } = await params;
  const address = decodeParam(encoded);
  // The drawing reads the most: started now, it runs beside the page's own reads.
  preloadNeighbourhood({ kind: "channel", address });
  const data = await currentContract(principal, slug).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  // Own channels only: an address such as `constructor` names nothing.
  const channel = data.contract && Object.hasOwn(data.contract.channels, address) ? data.contract.channels[address] : undefined;
  if (!data.contract || !channel) notFound();
  const [participants, schemas] = await Promise.all([channelParticipants(principal, address), channelSchemas(principal, slug, address)]);
  const subscription = subscriptionOf(data.contract, channel);
  const messages = Object.values(channel.messages);
  const firstExample = messages[0] ? examplePayload(messages[0]) : null;
  const ops = Object.values(data.contract.operations).filter((o) => o.channel === address);
  return (
    <>
      <p className="muted small">
        <Link href="/catalog">Catalog</Link> / <Link href={`/catalog/${slug}`}>{data.application.name}</Link> /
      </p>
      <h1>
        <code data-testid="channel-address">{address}</code>
      </h1>
      {data.version?.state === "deprecated" ? <DeprecationWarning version={data.version.version} reason={data.version.stateReason} /> : null}
      {channel.description ? <p>{channel.description}</p> : null}

      <section className="panel subscribe-panel" data-testid="how-to-subscribe">
        <h2>How to subscribe</h2>
        <dl className="facts">
          <dt>Subscription filter</dt>
          <dd>
            <code data-testid="subscription-filter">{subscription.filter}</code>
          </dd>
          <dt>Broker</dt>
          <dd>
            {subscription.servers.length === 0 ? (
              <span className="muted">The contract names no server.</span>
            ) : (
              subscription.servers.map((s) => (
                <div key={s.name}>
                  <code>{s.url}</code> <span className="muted">({s.name})</span>
                </div>
              ))
            )}
          </dd>
          <dt>Payload</dt>
          <dd>
            {messages.map((m) => (
              <div key={m.key}>
                <Link href={messageHref(slug, address, m.key)}>{m.title ?? m.name ?? m.key}</Link>{" "}
                <span className="muted">{m.contentType ?? data.contract!.defaultContentType ?? ""}</span>{" "}
                <SchemaId id={schemas.get(m.key)?.payloadSchemaId ?? null} />
              </div>
            ))}
          </dd>
          <dt>Owner</dt>
          <dd>
            {data.team.name}
            {data.team.contact ? ` · ${data.team.contact}` : ""}
          </dd>
        </dl>
        {firstExample ? (
          <>
            <h3>Example {firstExample.generated ? <small className="muted">(generated from the schema)</small> : null}</h3>
            <pre className="code-block">{JSON.stringify(firstExample.value, null, 2)}</pre>
          </>
        ) : null}
        <pre className="code-block">{`mosquitto_sub -h ${subscription.servers[0]?.url.replace(/^\w+:\/\//, "").split(":")[0] ?? "<broker>"} -t '${subscription.filter}' -v`}</pre>
      </section>

      {Object.keys(channel.parameters).length > 0 ? (
        <section className="panel">
          <h2>Parameters</h2>
          <table className="table">
            <tbody>
              {Object.values(channel.parameters).map((p) => (
                <tr key={p.name}>
                  <td>
                    <code>{`{${p.name}}`}</code>
                  </td>
                  <td>{p.description ?? ""}</td>
                  <td className="small">{p.schema ? <code>{JSON.stringify(p.schema)}</code> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}

      <section className="panel">
        <h2>Declared producers and consumers</h2>
        <div className="two-columns">
          <div>
            <h3>Producers</h3>
            {participants.producers.length === 0 ? <p className="muted">None declared.</p> : null}
            <ul>
              {participants.producers.map((h) => (
                <li key={`${h.application.slug} ${h.address}`}>
                  <Link href={`/catalog/${h.application.slug}`}>{h.application.name}</Link> <span className="muted">({h.team.name})</span>
                </li>
              ))}
            </ul>
          </div>
          <div>
            <h3>Consumers</h3>
            {participants.consumers.length === 0 ? <p className="muted">None declared.</p> : null}
            <ul>
              {participants.consumers.map((h) => (
                <li key={`${h.application.slug} ${h.address}`}>
                  <Link href={`/catalog/${h.application.slug}`}>{h.application.name}</Link> <span className="muted">({h.team.name})</span>
                </li>
              ))}
            </ul>
          </div>
        </div>
        {participants.truncated ? <p className="muted small">Only the first applications of each side are listed.</p> : null}
        {ops.length ? (
          <p className="muted small">
            In this contract: {ops.map((o) => `${o.id} (${o.action})`).join(", ")}.
          </p>
        ) : null}
        <p className="tabs">
          <Link href={`/lineage?channel=${encodeURIComponent(address)}`} data-testid="channel-lineage-link">
            Lineage report
          </Link>
          <Link href={`/topology?prefix=${encodeURIComponent(address.split("{")[0]!)}`}>Topology</Link>
        </p>
      </section>

      <DriftPanel scope={{ channel: address }} />
      <TopologyNeighbourhood focus={{ kind: "channel", address }} />
    </>
  );
}
