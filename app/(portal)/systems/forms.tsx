"use client";

import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { createSystemAction, deleteSystemAction, updateSystemAction } from "./actions.ts";

type Option = { value: string; label: string };

function Description({ id, defaultValue }: { id: string; defaultValue?: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>Description</label>
      <textarea id={id} name="description" rows={3} maxLength={2000} defaultValue={defaultValue} />
    </div>
  );
}

/** Creates a system for one of the teams. */
export function NewSystemForm({ types, teams }: { types: Option[]; teams: Option[] }) {
  return (
    <ActionForm action={createSystemAction} className="form form-grid" testId="new-system-form">
      <Field name="name" label="Name" required placeholder="SAP S/4HANA" hint="1 to 100 characters, unique." />
      <SelectField name="type" label="Type" defaultValue="other" options={types} />
      <SelectField name="team" label="Owning team" options={teams} />
      <Description id="new-system-description" />
      <SubmitButton>Create</SubmitButton>
    </ActionForm>
  );
}

/** Changes a system. */
export function EditSystemForm({
  slug,
  system,
  types,
  teams,
}: {
  slug: string;
  system: { name: string; type: string; team: string; description: string };
  types: Option[];
  teams: Option[];
}) {
  return (
    <ActionForm action={updateSystemAction.bind(null, slug)} className="form form-grid" resetOnSuccess={false} testId="edit-system-form">
      <Field name="name" label="Name" required defaultValue={system.name} />
      <SelectField name="type" label="Type" defaultValue={system.type} options={types} />
      <SelectField name="team" label="Owning team" defaultValue={system.team} options={teams} />
      <Description id="edit-system-description" defaultValue={system.description} />
      <SubmitButton variant="plain">Save</SubmitButton>
    </ActionForm>
  );
}

/** Deletes a system (refused while an application connects it). */
export function DeleteSystemForm({ slug }: { slug: string }) {
  return (
    <ActionForm action={deleteSystemAction.bind(null, slug)} testId="delete-system-form">
      <SubmitButton variant="danger">Delete this system</SubmitButton>
    </ActionForm>
  );
}
