import type { Metadata } from "next";
import Link from "next/link";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { formatCount, formatRate } from "@/app/_components/format.ts";
import { Time } from "@/app/_components/time.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { can } from "@/lib/auth/permissions.ts";
import { listBridges, listBrokers } from "@/lib/brokers/brokers.ts";
import { BROKER_KINDS, kindLabel, type BrokerKind } from "@/lib/brokers/dialect.ts";
import type { SearchParamValue } from "@/lib/http/page-query.ts";
import { DeclareBridgeForm, DeclareBrokerForm, RemoveBridgeForm } from "./forms.tsx";

export const metadata: Metadata = { title: "Brokers" };

// The kinds agents report; the others are offered once a broker of that kind exists.
const REPORTED_KINDS: readonly BrokerKind[] = ["mqtt", "nats", "amqp"];

export default async function BrokersPage({ searchParams }: { searchParams: Promise<{ kind?: SearchParamValue }> }) {
  const principal = await requireUser();
  const asked = (await searchParams).kind;
  const kind = BROKER_KINDS.find((k) => k === (Array.isArray(asked) ? asked[0] : asked));
  const [all, bridges] = await Promise.all([listBrokers(principal), listBridges(principal)]);
  const brokers = kind ? all.filter((b) => b.protocol === kind) : all;
  const kinds = BROKER_KINDS.filter((k) => REPORTED_KINDS.includes(k) || all.some((b) => b.protocol === k));
  const manage = can(principal, "brokers:manage");
  return (
    <>
      <h1>Brokers</h1>
      {all.length > 0 ? (
        <nav className="filters" aria-label="Kinds of broker" data-testid="broker-kinds">
          <Link href="/brokers" className={!kind ? "chip current" : "chip"} aria-current={!kind ? "page" : undefined}>
            All kinds
          </Link>
          {kinds.map((k) => (
            <Link key={k} href={`/brokers?kind=${k}`} className={kind === k ? "chip current" : "chip"} aria-current={kind === k ? "page" : undefined}>
              {kindLabel(k)} <small className="muted">{all.filter((b) => b.protocol === k).length}</small>
            </Link>
          ))}
        </nav>
      ) : null}
      {all.length > 0 && brokers.length === 0 ? (
        <p className="muted" data-testid="brokers-none-of-kind">
          No {kindLabel(kind)} broker in the mesh. <Link href="/brokers">All brokers</Link>
        </p>
      ) : null}
      {all.length === 0 ? (
        <EmptyState title="No brokers yet" testId="brokers-empty">
          <p>
            Brokers appear here when their agent first reports, or when an admin declares them. Start an agent beside a
            broker with a token of scope <code>agent:report</code>:
          </p>
          <p>
            <code>npx meshport-agent --broker mqtt://127.0.0.1:1883 --broker-id plant-eu --portal {"<portal URL>"} --token {"<token>"}</code>
          </p>
        </EmptyState>
      ) : brokers.length === 0 ? null : (
        <section className="panel">
          <table className="table" data-testid="brokers-table">
            <thead>
              <tr>
                <th>Broker</th>
                <th>Kind</th>
                <th>URL</th>
                <th>Agent</th>
                <th>Last report</th>
                <th>Topics</th>
                <th>Rate</th>
                <th>Clients known</th>
                <th>Dropped</th>
              </tr>
            </thead>
            <tbody>
              {brokers.map((b) => {
                const caps = b.capabilities as { producers?: boolean; consumers?: boolean } | null;
                return (
                  <tr key={b.id} data-testid={`broker-row-${b.id}`}>
                    <td>
                      <Link href={`/brokers/${encodeURIComponent(b.id)}`}>{b.name}</Link>
                      {b.name !== b.id ? <small className="muted"> {b.id}</small> : null}
                    </td>
                    <td>
                      <span className={`badge kind-${b.protocol}`} data-testid={`broker-kind-${b.id}`}>
                        {b.kind}
                      </span>
                    </td>
                    <td>
                      <code>{b.url || "—"}</code>
                    </td>
                    <td>
                      <span className={`badge status-${b.status}`} data-testid={`broker-status-${b.id}`}>
                        {b.status === "never" ? "no agent" : b.status}
                      </span>
                      {b.agentVersion ? <small className="muted"> v{b.agentVersion}</small> : null}
                    </td>
                    <td>
                      <Time value={b.lastReportAt} />
                    </td>
                    <td>{formatCount(b.topicCount)}</td>
                    <td>{formatRate(b.ratePerSecond)}</td>
                    <td>
                      {caps
                        ? [caps.producers ? "producers" : null, caps.consumers ? "consumers" : null].filter(Boolean).join(", ") ||
                          "topics only"
                        : "—"}
                    </td>
                    <td>{formatCount(b.droppedTotal)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}

      <section className="panel" aria-labelledby="bridges-heading">
        <h2 id="bridges-heading">Bridges</h2>
        {bridges.length === 0 ? (
          <p className="muted">No bridges declared. A bridge forwards topics from one broker to another, linking them into a mesh.</p>
        ) : (
          <table className="table" data-testid="bridges-table">
            <thead>
              <tr>
                <th>From</th>
                <th>To</th>
                <th>Topics</th>
                <th>Direction</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {bridges.map((br) => (
                <tr key={br.id}>
                  <td>{br.fromBrokerId}</td>
                  <td>{br.toBrokerId}</td>
                  <td>
                    <code>{br.topicFilter}</code>
                  </td>
                  <td>{br.direction === "both" ? "both ways" : "one way"}</td>
                  <td>{manage ? <RemoveBridgeForm bridgeId={br.id} /> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {manage && all.length >= 2 ? (
          <>
            <h3>Declare a bridge</h3>
            <DeclareBridgeForm brokers={all} />
          </>
        ) : null}
      </section>

      {manage ? (
        <section className="panel">
          <h2>Declare a broker</h2>
          <DeclareBrokerForm />
        </section>
      ) : null}
    </>
  );
}
