import type { Metadata } from "next";
import Link from "next/link";
import { Pager } from "@/app/_components/pager.tsx";
import { notFound } from "next/navigation";
import { formatBytes, formatCount, formatRate } from "@/app/_components/format.ts";
import { Time } from "@/app/_components/time.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { getBroker } from "@/lib/brokers/brokers.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { decodeParam, pageNumber, type SearchParamValue } from "@/lib/http/page-query.ts";
import { DriftPanel } from "@/app/(portal)/drift/drift-panel.tsx";
import { TopologyNeighbourhood } from "@/app/(portal)/topology/neighbourhood.tsx";

const PAGE_SIZE = 50;

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  return { title: `Broker ${decodeParam((await params).id)}` };
}

export default async function BrokerPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ page?: SearchParamValue }>;
}) {
  const principal = await requireUser();
  const id = decodeParam((await params).id);
  const page = pageNumber((await searchParams).page, 10_000);
  const data = await getBroker(principal, id, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  const { broker, topics, totalTopics, bridges } = data;
  const caps = broker.capabilities as { producers?: boolean; consumers?: boolean; producerSource?: string; consumerSource?: string } | null;
  const pages = Math.max(1, Math.ceil(totalTopics / PAGE_SIZE));
  return (
    <>
      <p className="muted small">
        <Link href="/brokers">Brokers</Link> /
      </p>
      <h1>
        {broker.name} <span className={`badge status-${broker.status}`}>{broker.status === "never" ? "no agent" : broker.status}</span>
      </h1>
      <section className="panel">
        <dl className="facts">
          <dt>Id</dt>
          <dd>
            <code>{broker.id}</code>
          </dd>
          <dt>URL</dt>
          <dd>
            <code>{broker.url || "—"}</code> ({broker.protocol}
            {broker.brokerVersion ? `, ${broker.brokerVersion}` : ""})
          </dd>
          <dt>Agent</dt>
          <dd>
            {broker.agentId ? `${broker.agentId} v${broker.agentVersion} on ${broker.agentHostname}` : "none has reported yet"}
          </dd>
          <dt>Last report</dt>
          <dd>
            <Time value={broker.lastReportAt} />
          </dd>
          <dt>Rate now</dt>
          <dd>{formatRate(broker.ratePerSecond)}</dd>
          <dt>Dropped by the agent</dt>
          <dd>{formatCount(broker.droppedTotal)}</dd>
        </dl>
        {caps && !caps.producers && !caps.consumers ? (
          <p className="alert alert-warn" data-testid="topics-only">
            This broker tells its agent nothing about clients: topics, rates and payloads are known, producers and
            consumers are not.
          </p>
        ) : caps ? (
          <p className="muted small">
            Producers learned from {caps.producerSource === "none" ? "nowhere (unknown)" : caps.producerSource}; consumers
            from {caps.consumerSource === "none" ? "nowhere (unknown)" : caps.consumerSource}.
          </p>
        ) : null}
      </section>

      <section className="panel">
        <h2>Topics ({formatCount(totalTopics)})</h2>
        {topics.length === 0 ? (
          <p className="muted">No traffic reported yet.</p>
        ) : (
          <table className="table" data-testid="broker-topics">
            <thead>
              <tr>
                <th>Topic</th>
                <th>Contract channel</th>
                <th>Rate</th>
                <th>Messages</th>
                <th>Content</th>
                <th>Producers</th>
                <th>Consumers</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {topics.map((t) => (
                <tr key={t.template}>
                  <td>
                    <code>{t.template}</code>
                    {t.distinctTopics > 1 ? <small className="muted"> ({formatCount(t.distinctTopics)} topics)</small> : null}
                    <details>
                      <summary className="small">payload</summary>
                      {t.schema ? <pre className="code-block">{JSON.stringify(t.schema, null, 2)}</pre> : <p className="muted small">No JSON schema inferred.</p>}
                      {t.samples[0] ? <pre className="code-block">{String(t.samples[0].payload ?? "")}</pre> : null}
                    </details>
                  </td>
                  <td>{t.channel ? <code>{t.channel.address}</code> : <span className="badge badge-warn">undocumented</span>}</td>
                  <td>{formatRate(t.lastRatePerSecond)}</td>
                  <td>
                    {formatCount(t.totalMessages)} <small className="muted">{formatBytes(t.totalBytes)}</small>
                  </td>
                  <td>{t.contentKind}</td>
                  <td className="clients">{t.producers.map((c) => c.clientId).join(", ") || <span className="muted">—</span>}</td>
                  <td className="clients">
                    {t.consumers.map((c) => `${c.clientId}${c.filter ? ` (${c.filter})` : ""}`).join(", ") || <span className="muted">—</span>}
                  </td>
                  <td>
                    <Time value={t.lastSeen} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager page={page} hasNext={page < pages} href={(n) => `?page=${n}`}>
          Page {page} of {pages}
        </Pager>
      </section>

      {bridges.length > 0 ? (
        <section className="panel">
          <h2>Bridges</h2>
          <ul>
            {bridges.map((b) => (
              <li key={b.id}>
                <Link href={`/brokers/${encodeURIComponent(b.fromBrokerId)}`}>{b.fromBrokerId}</Link> {b.direction === "both" ? "⇄" : "→"}{" "}
                <Link href={`/brokers/${encodeURIComponent(b.toBrokerId)}`}>{b.toBrokerId}</Link> <code>{b.topicFilter}</code>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <DriftPanel scope={{ broker: id }} />
      <TopologyNeighbourhood focus={{ kind: "broker", id }} />
    </>
  );
}
