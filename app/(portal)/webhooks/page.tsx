import type { Metadata } from "next";
import Link from "next/link";
import { forbidden } from "next/navigation";
import { EmptyState } from "@/app/_components/empty-state.tsx";
import { requireUser } from "@/app/_lib/session.ts";
import { can } from "@/lib/auth/permissions.ts";
import { EVENT_TYPES } from "@/lib/notifications/events.ts";
import { listWebhooks, mayManageWebhooks, teamsForWebhooks } from "@/lib/notifications/webhooks.ts";
import { CreateWebhookForm } from "./forms.tsx";

export const metadata: Metadata = { title: "Webhooks" };

export default async function WebhooksPage() {
  const principal = await requireUser();
  if (!(await mayManageWebhooks(principal))) forbidden();
  const [webhooks, teams] = await Promise.all([listWebhooks(principal), teamsForWebhooks(principal)]);
  return (
    <>
      <h1>Webhooks</h1>
      <p className="muted">
        Events are POSTed as JSON, signed with HMAC-SHA256 of <code>{"<timestamp>.<body>"}</code> in{" "}
        <code>X-Meshport-Signature</code> (timestamp in <code>X-Meshport-Timestamp</code>), retried with backoff until the
        receiver answers 2xx. Receivers should refuse old timestamps and dedupe on <code>X-Meshport-Delivery</code>.
      </p>
      {webhooks.length === 0 ? (
        <EmptyState title="No webhooks yet" testId="webhooks-empty">
          <p>Create one below to have review and lifecycle events sent to another system.</p>
        </EmptyState>
      ) : (
        <section className="panel">
          <table className="table" data-testid="webhooks-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>URL</th>
                <th>Team</th>
                <th>Events</th>
                <th>State</th>
                <th>Waiting</th>
                <th>Failed</th>
              </tr>
            </thead>
            <tbody>
              {webhooks.map((w) => (
                <tr key={w.id} data-testid={`webhook-row-${w.id}`}>
                  <td>
                    <Link href={`/webhooks/${encodeURIComponent(w.id)}`}>{w.name}</Link>
                  </td>
                  <td>
                    <code className="clamp">{w.url}</code>
                  </td>
                  <td>{w.teamName ?? <span className="muted">portal-wide</span>}</td>
                  <td>{w.events.join(", ")}</td>
                  <td>
                    <span className={w.active ? "badge" : "badge badge-muted"}>{w.active ? "enabled" : "disabled"}</span>
                  </td>
                  <td>{w.pending}</td>
                  <td>{w.failed > 0 ? <span className="badge badge-warn">{w.failed}</span> : 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section className="panel">
        <h2>New webhook</h2>
        <CreateWebhookForm types={EVENT_TYPES} teams={teams} portalWide={can(principal, "teams:manage")} />
      </section>
    </>
  );
}
