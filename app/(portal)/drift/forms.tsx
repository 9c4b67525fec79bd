"use client";

import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { acknowledgeAction, importAction, unacknowledgeAction } from "./actions.ts";

/** Acknowledge a finding with a note (again: replace the note). */
export function AcknowledgeForm({ id, acknowledged }: { id: string; acknowledged: boolean }) {
  return (
    <ActionForm action={acknowledgeAction.bind(null, id)} testId="drift-acknowledge">
      <Field name="note" label={acknowledged ? "Replace the note" : "Note"} required placeholder="Why this is known and accepted for now" />
      <SubmitButton>{acknowledged ? "Update acknowledgement" : "Acknowledge"}</SubmitButton>
    </ActionForm>
  );
}

/** Take an acknowledgement back. */
export function UnacknowledgeForm({ id }: { id: string }) {
  return (
    <ActionForm action={unacknowledgeAction.bind(null, id)} testId="drift-unacknowledge" className="form-inline" resetOnSuccess={false}>
      <SubmitButton variant="plain">Un-acknowledge</SubmitButton>
    </ActionForm>
  );
}

/** Import an undocumented topic into an application's contract as a change request. */
export function ImportForm({
  id,
  applications,
  channel,
  message,
}: {
  id: string;
  applications: ReadonlyArray<{ slug: string; name: string }>;
  channel: string;
  message: string;
}) {
  return (
    <ActionForm action={importAction.bind(null, id)} testId="drift-import" className="form form-grid" resetOnSuccess={false}>
      <SelectField name="application" label="Application" options={applications.map((a) => ({ value: a.slug, label: a.name }))} />
      <Field name="channel" label="Channel address" defaultValue={channel} hint="Parameters as {name}; leave as is to use the observed template." />
      <Field name="message" label="Message name" defaultValue={message} hint="Empty: named after the topic." />
      <SelectField
        name="action"
        label="The application"
        options={[
          { value: "send", label: "sends it" },
          { value: "receive", label: "receives it" },
        ]}
      />
      <SubmitButton>Open a change request</SubmitButton>
    </ActionForm>
  );
}
