import type { Metadata } from "next";
import Link from "next/link";
import { Pager } from "@/app/_components/pager.tsx";
import { notFound } from "next/navigation";
import { formatBytes, formatCount, formatRate } from "@/app/_components/format.ts";
import { Time } from "@/app/_components/time.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import type { Inventory } from "@/agents/protocol.ts";
import { getBroker } from "@/lib/brokers/brokers.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { decodeParam, pageNumber, type SearchParamValue } from "@/lib/http/page-query.ts";
import { DriftPanel } from "@/app/(portal)/drift/drift-panel.tsx";
import { preloadNeighbourhood, TopologyNeighbourhood } from "@/app/(portal)/topology/neighbourhood.tsx";

const PAGE_SIZE = 50;

const LINK_KINDS: Record<string, string> = {
  "mqtt-bridge": "MQTT bridge",
  "nats-route": "NATS route",
  "nats-leafnode": "NATS leaf node",
  "nats-gateway": "NATS gateway",
  "rabbitmq-shovel": "RabbitMQ shovel",
  "rabbitmq-federation": "RabbitMQ federation link",
};

/** The broker's own resources: JetStream streams and consumers; exchanges, queues and bindings. */
function InventoryPanel({ inventory, at }: { inventory: Inventory; at: Date | null }) {
  const { streams, streamConsumers, exchanges, queues, bindings, omitted } = inventory;
  return (
    <section className="panel" aria-labelledby="inventory-heading" data-testid="broker-inventory">
      <h2 id="inventory-heading">Resources</h2>
      <p className="muted small">
        As the agent last listed them: <Time value={at} />
        {omitted ? `; ${formatCount(omitted)} more left out` : ""}.
      </p>
      {streams ? (
        <>
          <h3>JetStream streams</h3>
          {streams.length === 0 ? (
            <p className="muted">No streams.</p>
          ) : (
            <table className="table" data-testid="inventory-streams">
              <thead>
                <tr>
                  <th>Stream</th>
                  <th>Subjects</th>
                  <th>Messages</th>
                  <th>Consumers</th>
                </tr>
              </thead>
              <tbody>
                {streams.map((s) => (
                  <tr key={s.name}>
                    <td>{s.name}</td>
                    <td>{s.subjects.map((x) => <code key={x}>{x} </code>)}</td>
                    <td>
                      {formatCount(s.messages)} <small className="muted">{formatBytes(s.bytes)}</small>
                    </td>
                    <td>{formatCount(s.consumers)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
      {streamConsumers && streamConsumers.length > 0 ? (
        <>
          <h3>JetStream consumers</h3>
          <table className="table" data-testid="inventory-stream-consumers">
            <thead>
              <tr>
                <th>Consumer</th>
                <th>Stream</th>
                <th>Filter</th>
                <th>Pending</th>
              </tr>
            </thead>
            <tbody>
              {streamConsumers.map((c) => (
                <tr key={`${c.stream}|${c.name}`}>
                  <td>
                    {c.name} {c.durable ? <small className="muted">durable</small> : <small className="muted">ephemeral</small>}
                  </td>
                  <td>{c.stream}</td>
                  <td>{c.filter ? <code>{c.filter}</code> : <span className="muted">whole stream</span>}</td>
                  <td>{formatCount(c.pending)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {exchanges ? (
        <>
          <h3>Exchanges</h3>
          {exchanges.length === 0 ? (
            <p className="muted">No exchanges.</p>
          ) : (
            <table className="table" data-testid="inventory-exchanges">
              <thead>
                <tr>
                  <th>Exchange</th>
                  <th>Type</th>
                  <th>Durable</th>
                </tr>
              </thead>
              <tbody>
                {exchanges.map((e) => (
                  <tr key={e.name}>
                    <td>{e.name === "" ? <span className="muted">(default exchange)</span> : e.name}</td>
                    <td>{e.type}</td>
                    <td>{e.durable ? "yes" : "no"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
      {queues ? (
        <>
          <h3>Queues</h3>
          {queues.length === 0 ? (
            <p className="muted">No queues.</p>
          ) : (
            <table className="table" data-testid="inventory-queues">
              <thead>
                <tr>
                  <th>Queue</th>
                  <th>Messages</th>
                  <th>Consumers</th>
                  <th>Durable</th>
                </tr>
              </thead>
              <tbody>
                {queues.map((q) => (
                  <tr key={q.name}>
                    <td>{q.name}</td>
                    <td>{formatCount(q.messages)}</td>
                    <td>{formatCount(q.consumers)}</td>
                    <td>{q.durable ? "yes" : "no"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
      {bindings && bindings.length > 0 ? (
        <>
          <h3>Bindings</h3>
          <table className="table" data-testid="inventory-bindings">
            <thead>
              <tr>
                <th>Exchange</th>
                <th>Queue</th>
                <th>Binding key</th>
              </tr>
            </thead>
            <tbody>
              {bindings.map((b) => (
                <tr key={`${b.exchange}|${b.queue}|${b.routingKey}`}>
                  <td>{b.exchange === "" ? <span className="muted">(default exchange)</span> : b.exchange}</td>
                  <td>{b.queue}</td>
                  <td>
                    <code>{b.routingKey}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

/** Topics of a link listed before the rest are only counted (a bridge may have carried a hundred concrete topics). */
const LINK_TOPICS_SHOWN = 8;

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
  // The drawing reads the most: started now, it runs beside the page's own reads.
  preloadNeighbourhood({ kind: "broker", id });
  const page = pageNumber((await searchParams).page, 10_000);
  const data = await getBroker(principal, id, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    throw error;
  });
  const { broker, topics, totalTopics, links, visibility, words, inventory, inventoryAt } = data;
  const caps = broker.capabilities as { producers?: boolean; consumers?: boolean } | null;
  const topicWord = words.topic.charAt(0).toUpperCase() + words.topic.slice(1);
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
          <dt>Kind</dt>
          <dd data-testid="broker-kind">
            {broker.kind}
            {broker.brokerVersion ? <small className="muted"> {broker.brokerVersion}</small> : null}
          </dd>
          <dt>URL</dt>
          <dd>
            <code>{broker.url || "—"}</code>
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
            This broker tells its agent nothing about clients: {words.topic}s, rates and payloads are known, producers and
            consumers are not.
          </p>
        ) : null}
      </section>

      <section className="panel" aria-labelledby="sees-heading" data-testid="agent-visibility">
        <h2 id="sees-heading">What its agent sees</h2>
        {visibility ? (
          <ul>
            <li>
              {topicWord}s, rates, sizes and sampled payloads of what flows
              {broker.protocol === "amqp" ? " (routing keys, per exchange)" : ""}.
            </li>
            {[visibility.producers, visibility.consumers].map((v) => (
              <li key={v.text} className={v.known ? undefined : "muted"} data-known={v.known}>
                {v.text}
              </li>
            ))}
            {visibility.retain ? <li>{visibility.retain}</li> : null}
            <li className={visibility.bridges.known ? undefined : "muted"}>{visibility.bridges.text}</li>
            {visibility.inventory ? <li className={visibility.inventory.known ? undefined : "muted"}>{visibility.inventory.text}</li> : null}
          </ul>
        ) : (
          <p className="muted">No agent has reported for this broker yet, so what it can see is not known.</p>
        )}
      </section>

      <section className="panel">
        <h2>
          {topicWord}s ({formatCount(totalTopics)})
        </h2>
        {topics.length === 0 ? (
          <p className="muted">No traffic reported yet.</p>
        ) : (
          <table className="table" data-testid="broker-topics">
            <thead>
              <tr>
                <th>{topicWord}</th>
                <th>Subscribe with</th>
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
                    {t.distinctTopics > 1 ? (
                      <small className="muted">
                        {" "}
                        ({formatCount(t.distinctTopics)} {words.topic}s)
                      </small>
                    ) : null}
                    <details>
                      <summary className="small">payload</summary>
                      {t.schema ? <pre className="code-block">{JSON.stringify(t.schema, null, 2)}</pre> : <p className="muted small">No JSON schema inferred.</p>}
                      {t.samples[0] ? <pre className="code-block">{String(t.samples[0].payload ?? "")}</pre> : null}
                    </details>
                  </td>
                  <td>{t.subscription ? <code>{t.subscription}</code> : <span className="muted">—</span>}</td>
                  <td>{t.channel ? <code>{t.channel.address}</code> : <span className="badge badge-warn">undocumented</span>}</td>
                  <td>{formatRate(t.lastRatePerSecond)}</td>
                  <td>
                    {formatCount(t.totalMessages)} <small className="muted">{formatBytes(t.totalBytes)}</small>
                  </td>
                  <td>{t.contentKind}</td>
                  <td className="clients">
                    {t.producers.map((c) => c.clientId).join(", ") || <span className="muted">{visibility && !visibility.producers.known ? "unknown" : "—"}</span>}
                  </td>
                  <td className="clients">
                    {t.consumers.map((c) => `${c.clientId}${c.filter ? ` (${c.filter})` : ""}`).join(", ") || (
                      <span className="muted">{visibility && !visibility.consumers.known ? "unknown" : "—"}</span>
                    )}
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

      {inventory ? <InventoryPanel inventory={inventory} at={inventoryAt} /> : null}

      <section className="panel" aria-labelledby="links-heading">
        <h2 id="links-heading">Links to other brokers</h2>
        {links.length === 0 ? (
          <p className="muted" data-testid="broker-links-empty">
            No bridge is declared for this broker
            {visibility?.bridges.known ? ", and its agent discovered no link to another broker." : visibility ? ", and its agent does not discover links." : "."}
          </p>
        ) : (
          <table className="table" data-testid="broker-links">
            <thead>
              <tr>
                <th>Link</th>
                <th>Far end</th>
                <th>Broker</th>
                <th>Direction</th>
                <th>What flows</th>
                <th>State</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {links.map((l) => (
                <tr key={`${l.source}|${l.reportedBy ?? ""}|${l.kind}|${l.name}`} data-testid={`broker-link-${l.kind}-${l.name}`}>
                  <td>
                    {l.source === "declared" ? "declared bridge" : LINK_KINDS[l.kind] ?? l.kind}
                    {l.source === "discovered" ? <small className="muted"> {l.name}</small> : null}
                    {l.source === "discovered" && l.reportedBy !== broker.id ? <small className="muted"> (told by {l.reportedBy})</small> : null}
                  </td>
                  <td>
                    <code>{l.remote}</code>
                  </td>
                  <td>
                    {l.remoteBroker ? (
                      <Link href={`/brokers/${encodeURIComponent(l.remoteBroker.id)}`}>{l.remoteBroker.name}</Link>
                    ) : (
                      <span className="muted">not a broker of this mesh</span>
                    )}
                  </td>
                  <td>{l.direction === "both" ? "both ways" : l.direction === "out" ? "out (from here)" : "in (to here)"}</td>
                  <td>
                    {l.topics.length > 0 ? (
                      <>
                        {l.topics.slice(0, LINK_TOPICS_SHOWN).map((t) => (
                          <code key={t}>{t} </code>
                        ))}
                        {l.topics.length > LINK_TOPICS_SHOWN ? <span className="muted small">and {l.topics.length - LINK_TOPICS_SHOWN} more</span> : null}
                      </>
                    ) : (
                      <span className="muted">not told</span>
                    )}
                  </td>
                  <td>{l.state ?? <span className="muted">{l.source === "declared" ? "—" : "not told"}</span>}</td>
                  <td>
                    <Time value={l.lastSeen} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <DriftPanel scope={{ broker: id }} />
      <TopologyNeighbourhood focus={{ kind: "broker", id }} />
    </>
  );
}
