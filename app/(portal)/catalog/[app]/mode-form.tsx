"use client";

import { ActionForm, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { setCompatibilityModeAction } from "../actions.ts";

const MODES = ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"];

/** Sets the compatibility mode new versions of this contract are checked with, and whether lint may refuse a publish. */
export function ModeForm({ appSlug, mode, lintPolicy }: { appSlug: string; mode: string | null; lintPolicy?: string | null }) {
  return (
    <ActionForm action={setCompatibilityModeAction.bind(null, appSlug)} className="form form-grid" resetOnSuccess={false} testId="mode-form">
      <SelectField name="compatibilityMode" label="Compatibility mode" defaultValue={mode ?? ""} options={[{ value: "", label: "portal default" }, ...MODES.map((m) => ({ value: m, label: m }))]} />
      <SelectField
        name="lintPolicy"
        label="Lint findings"
        defaultValue={lintPolicy === "block" ? "block" : "warn"}
        options={[
          { value: "warn", label: "shown with the version" },
          { value: "block", label: "refuse a publish (warnings and errors)" },
        ]}
      />
      <SubmitButton variant="plain">Save</SubmitButton>
    </ActionForm>
  );
}
