"use client";

import { ActionForm, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { setCompatibilityModeAction } from "../actions.ts";

const MODES = ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"];

/** Sets the compatibility mode new versions of this contract are checked with. */
export function ModeForm({ appSlug, mode }: { appSlug: string; mode: string | null }) {
  return (
    <ActionForm action={setCompatibilityModeAction.bind(null, appSlug)} className="form form-grid" resetOnSuccess={false} testId="mode-form">
      <SelectField name="compatibilityMode" label="Compatibility mode" defaultValue={mode ?? ""} options={[{ value: "", label: "portal default" }, ...MODES.map((m) => ({ value: m, label: m }))]} />
      <SubmitButton variant="plain">Save</SubmitButton>
    </ActionForm>
  );
}
