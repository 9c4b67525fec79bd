"use client";

import { ActionForm, SubmitButton } from "@/app/_components/action-form.tsx";
import { markAllReadAction, markReadAction } from "./actions.ts";

/** Button to mark one entry read. */
export function MarkReadForm({ id }: { id: number }) {
  return (
    <ActionForm action={markReadAction} className="form-inline" resetOnSuccess={false}>
      <input type="hidden" name="id" value={id} />
      <SubmitButton variant="plain">Mark read</SubmitButton>
    </ActionForm>
  );
}

/** Button to mark every entry read. */
export function MarkAllReadForm() {
  return (
    <ActionForm action={markAllReadAction} className="form-inline" resetOnSuccess={false}>
      <SubmitButton variant="plain">Mark all read</SubmitButton>
    </ActionForm>
  );
}
