"use client";

import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { linkAction, ownerAction, unlinkAction } from "./actions.ts";

const PARTS = [
  { value: "payload", label: "payload" },
  { value: "headers", label: "headers" },
  { value: "key", label: "key" },
];

/** Link a direct subject to a message of a channel of a contract. */
export function LinkForm({ subject, current }: { subject: string; current: { application?: string; channel?: string; messageKey?: string } }) {
  return (
    <ActionForm action={linkAction.bind(null, subject)} testId="subject-link-form" className="form form-grid" resetOnSuccess={false}>
      <Field name="application" label="Application" required defaultValue={current.application} placeholder="oven-controller" hint="The application's slug." />
      <Field name="channel" label="Channel address" required defaultValue={current.channel} placeholder="ovens/{ovenId}/heat" />
      <Field name="messageKey" label="Message" required defaultValue={current.messageKey} placeholder="HeatReading" />
      <SelectField name="part" label="Schema of the message" options={PARTS} defaultValue="payload" />
      <SubmitButton>Link to the channel</SubmitButton>
    </ActionForm>
  );
}

/** Remove the link. */
export function UnlinkForm({ subject }: { subject: string }) {
  return (
    <ActionForm action={unlinkAction.bind(null, subject)} testId="subject-unlink-form" className="form-inline" resetOnSuccess={false}>
      <SubmitButton variant="plain">Unlink</SubmitButton>
    </ActionForm>
  );
}

/** The team that owns a direct subject (admins). */
export function OwnerForm({ subject, team, teams }: { subject: string; team: string | null; teams: ReadonlyArray<{ slug: string; name: string }> }) {
  return (
    <ActionForm action={ownerAction.bind(null, subject)} testId="subject-owner-form" className="form-inline" resetOnSuccess={false}>
      <SelectField name="team" label="Owning team" options={[{ value: "", label: "none (admins only)" }, ...teams.map((t) => ({ value: t.slug, label: t.name }))]} defaultValue={team ?? ""} />
      <SubmitButton variant="plain">Save owner</SubmitButton>
    </ActionForm>
  );
}
