"use client";

import Link from "next/link";
import { useId } from "react";
import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import {
  createWebhookAction,
  deleteWebhookAction,
  retryDeliveryAction,
  sendTestEventAction,
  setWebhookActiveAction,
  updateWebhookAction,
} from "./actions.ts";

/** A labelled list of event types to pick several from; `*` is every type. */
function EventsField({ types, defaultValue }: { types: readonly string[]; defaultValue: readonly string[] }) {
  const id = `field-events-${useId()}`;
  return (
    <div className="field">
      <label htmlFor={id}>Events</label>
      <select id={id} name="events" multiple size={Math.min(types.length + 1, 8)} defaultValue={[...defaultValue]}>
        <option value="*">All events (*)</option>
        {types.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      <small className="hint">Hold Ctrl or ⌘ to pick several.</small>
    </div>
  );
}

/** Form to create a webhook; shows its secret once. */
export function CreateWebhookForm({
  types,
  teams,
  portalWide,
}: {
  types: readonly string[];
  teams: ReadonlyArray<{ slug: string; name: string }>;
  portalWide: boolean;
}) {
  const options = [...(portalWide ? [{ value: "", label: "Portal-wide (every team)" }] : []), ...teams.map((t) => ({ value: t.slug, label: t.name }))];
  return (
    <ActionForm
      action={createWebhookAction}
      testId="webhook-form"
      className="form form-grid"
      renderSuccess={(data) =>
        data ? (
          <div className="secret-box" data-testid="webhook-secret-box">
            <span>
              Signing secret of <Link href={`/webhooks/${encodeURIComponent(data.id)}`}>{data.name}</Link>:
            </span>
            <code data-testid="webhook-secret">{data.secret}</code>
          </div>
        ) : null
      }
    >
      <Field name="name" label="Name" placeholder="Reviews to chat" required />
      <Field name="url" label="URL" type="url" placeholder="https://hooks.example.com/meshport" required />
      <EventsField types={types} defaultValue={["*"]} />
      <SelectField name="teamSlug" label="Team" options={options} />
      <Field
        name="secret"
        label="Signing secret (optional)"
        type="password"
        autoComplete="off"
        hint="At least 16 characters; leave empty to have one generated."
      />
      <SubmitButton>Create webhook</SubmitButton>
    </ActionForm>
  );
}

/** Form to change a webhook's name, URL and events. */
export function EditWebhookForm({
  webhook,
  types,
}: {
  webhook: { id: string; name: string; url: string; events: string[] };
  types: readonly string[];
}) {
  return (
    <ActionForm action={updateWebhookAction} testId="webhook-edit-form" className="form form-grid" resetOnSuccess={false}>
      <input type="hidden" name="webhookId" value={webhook.id} />
      <Field name="name" label="Name" defaultValue={webhook.name} required />
      <Field name="url" label="URL" type="url" defaultValue={webhook.url} required />
      <EventsField types={types} defaultValue={webhook.events} />
      <SubmitButton>Save</SubmitButton>
    </ActionForm>
  );
}

/** The webhook's buttons: send a test event, enable or disable, delete. */
export function WebhookButtons({ webhookId, active }: { webhookId: string; active: boolean }) {
  return (
    <div className="form-inline">
      <ActionForm action={sendTestEventAction} className="form-inline" resetOnSuccess={false}>
        <input type="hidden" name="webhookId" value={webhookId} />
        <SubmitButton>Send test event</SubmitButton>
      </ActionForm>
      <ActionForm action={setWebhookActiveAction} className="form-inline" resetOnSuccess={false}>
        <input type="hidden" name="webhookId" value={webhookId} />
        <input type="hidden" name="active" value={active ? "false" : "true"} />
        <SubmitButton variant="plain">{active ? "Disable" : "Enable"}</SubmitButton>
      </ActionForm>
      <ActionForm action={deleteWebhookAction} className="form-inline" resetOnSuccess={false}>
        <input type="hidden" name="webhookId" value={webhookId} />
        <SubmitButton variant="danger">Delete</SubmitButton>
      </ActionForm>
    </div>
  );
}

/** Button to send a failed delivery again. */
export function RetryDeliveryForm({ webhookId, deliveryId }: { webhookId: string; deliveryId: number }) {
  return (
    <ActionForm action={retryDeliveryAction} className="form-inline" resetOnSuccess={false}>
      <input type="hidden" name="webhookId" value={webhookId} />
      <input type="hidden" name="deliveryId" value={deliveryId} />
      <SubmitButton variant="plain">Retry now</SubmitButton>
    </ActionForm>
  );
}
