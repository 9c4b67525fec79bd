"use client";

import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { createApplicationAction } from "../actions.ts";

const MODES = ["", "NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"];

/** Form to register an application for one of the user's teams. */
export function NewApplicationForm({ teams }: { teams: Array<{ slug: string; name: string }> }) {
  return (
    <ActionForm action={createApplicationAction} testId="new-application-form" className="form form-grid">
      <Field name="slug" label="Slug" placeholder="order-service" required />
      <Field name="name" label="Name" placeholder="Order service" required />
      <SelectField name="team" label="Owning team" options={teams.map((t) => ({ value: t.slug, label: t.name }))} />
      <Field name="domain" label="Domain" placeholder="sales" />
      <Field name="tags" label="Tags (comma-separated)" placeholder="orders, erp" />
      <SelectField name="compatibilityMode" label="Compatibility mode" options={MODES.map((m) => ({ value: m, label: m || "portal default" }))} />
      <Field name="description" label="Description" />
      <SubmitButton>Create application</SubmitButton>
    </ActionForm>
  );
}
