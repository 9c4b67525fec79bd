"use client";

import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { setVersionStateAction } from "../../../actions.ts";

const NEXT_STATES: Record<string, string[]> = {
  draft: ["released", "retired"],
  released: ["deprecated", "retired"],
  deprecated: ["released", "retired"],
  retired: [],
};

/** Moves a version through its lifecycle; deprecating and retiring need a reason. */
export function LifecycleForm({ appSlug, version, state }: { appSlug: string; version: string; state: string }) {
  const options = NEXT_STATES[state] ?? [];
  if (options.length === 0) return null;
  return (
    <ActionForm action={setVersionStateAction.bind(null, appSlug, version)} testId="lifecycle-form" className="form form-grid" resetOnSuccess={false}>
      <SelectField name="state" label="Change to" options={options.map((s) => ({ value: s, label: s }))} />
      <Field name="reason" label="Reason (shown with the warning)" placeholder="Superseded by 2.0.0" />
      <SubmitButton variant="plain">Update lifecycle</SubmitButton>
    </ActionForm>
  );
}
