import type { Metadata } from "next";
import Link from "next/link";
import { forbidden, notFound } from "next/navigation";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { Time } from "@/app/_components/time.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { decodeParam, positiveInteger, type SearchParamValue } from "@/lib/http/page-query.ts";
import { EVENT_TYPES } from "@/lib/notifications/events.ts";
import { getWebhook, listDeliveries } from "@/lib/notifications/webhooks.ts";
import { EditWebhookForm, RetryDeliveryForm, WebhookButtons } from "../forms.tsx";

export const metadata: Metadata = { title: "Webhook" };

const PAGE_SIZE = 25;

export default async function WebhookPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ before?: SearchParamValue }>;
}) {
  const principal = await requireUser();
  const id = decodeParam((await params).id);
  const before = positiveInteger((await searchParams).before);
  const [hook, page] = await Promise.all([
    getWebhook(principal, id),
    listDeliveries(principal, id, { limit: PAGE_SIZE, ...(before ? { before } : {}) }),
  ]).catch((error: unknown) => {
    if (isMeshportError(error) && error.kind === "not_found") notFound();
    if (isMeshportError(error) && error.kind === "forbidden") forbidden();
    throw error;
  });
  const base = `/webhooks/${encodeURIComponent(hook.id)}`;
  return (
    <>
      <p className="muted small">
        <Link href="/webhooks">Webhooks</Link> /
      </p>
      <div className="page-head">
        <h1>{hook.name}</h1>
        <span className={hook.active ? "badge" : "badge badge-muted"} data-testid="webhook-state">
          {hook.active ? "enabled" : "disabled"}
        </span>
      </div>
      <section className="panel">
        <dl className="facts">
          <dt>URL</dt>
          <dd>
            <code>{hook.url}</code>
          </dd>
          <dt>Team</dt>
          <dd>{hook.teamName ?? "portal-wide"}</dd>
          <dt>Events</dt>
          <dd>{hook.events.join(", ")}</dd>
          <dt>Created</dt>
          <dd>
            <Time value={hook.createdAt} />
          </dd>
        </dl>
        <WebhookButtons webhookId={hook.id} active={hook.active} />
      </section>
      <section className="panel">
        <h2>Deliveries</h2>
        {page.deliveries.length === 0 ? (
          <EmptyState title="Nothing sent yet">
            <p>Each event this webhook subscribes to appears here with every attempt to deliver it. Try “Send test event”.</p>
          </EmptyState>
        ) : (
          <table className="table" data-testid="deliveries">
            <thead>
              <tr>
                <th>Event</th>
                <th>State</th>
                <th>Attempts</th>
                <th>Queued</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {page.deliveries.map((d) => (
                <tr key={d.id} data-testid={`delivery-${d.id}`} data-state={d.state}>
                  <td>
                    <strong>{d.eventType}</strong>
                    <div className="muted small">
                      <code>{d.eventId}</code>
                    </div>
                  </td>
                  <td>
                    <span className={d.state === "failed" ? "badge badge-warn" : d.state === "pending" ? "badge badge-muted" : "badge"}>{d.state}</span>
                    {d.state === "pending" && d.attempts > 0 ? (
                      <div className="muted small">
                        next try <Time value={d.nextAttemptAt} />
                      </div>
                    ) : null}
                    {d.deliveredAt ? (
                      <div className="muted small">
                        <Time value={d.deliveredAt} />
                      </div>
                    ) : null}
                  </td>
                  <td>
                    {d.attemptLog.length === 0 ? (
                      <span className="muted">none yet</span>
                    ) : (
                      <ol className="small" data-testid={`attempts-${d.id}`}>
                        {d.attemptLog.map((a) => (
                          <li key={a.id}>
                            <Time value={a.at} /> — {a.status ?? "no answer"}
                            {a.error ? <span className="muted"> {a.error}</span> : null} <span className="muted">({a.durationMs} ms)</span>
                          </li>
                        ))}
                      </ol>
                    )}
                  </td>
                  <td>
                    <Time value={d.createdAt} />
                  </td>
                  <td>{d.state === "failed" ? <RetryDeliveryForm webhookId={hook.id} deliveryId={d.id} /> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {page.nextBefore || before ? (
          <p className="pager">
            {before ? <Link href={base}>← Newest</Link> : null}
            {page.nextBefore ? <Link href={`${base}?before=${page.nextBefore}`}>Older →</Link> : null}
          </p>
        ) : null}
      </section>
      <section className="panel">
        <h2>Settings</h2>
        <EditWebhookForm webhook={hook} types={EVENT_TYPES} />
      </section>
    </>
  );
}
