"use client";

import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { setGovernanceAction } from "../actions.ts";

/** Sets how changes of this application are reviewed, the approvals a change request needs, and its client ids on the brokers. */
export function GovernanceForm({
  appSlug,
  reviewPolicy,
  approvalRule,
  clientIdPatterns,
}: {
  appSlug: string;
  reviewPolicy: "direct" | "review";
  approvalRule: { owner: number; consumer: number };
  clientIdPatterns: string[];
}) {
  return (
    <ActionForm action={setGovernanceAction.bind(null, appSlug)} className="form form-grid" resetOnSuccess={false} testId="governance-form">
      <SelectField
        name="reviewPolicy"
        label="Review policy"
        defaultValue={reviewPolicy}
        options={[
          { value: "direct", label: "compatible changes publish directly" },
          { value: "review", label: "every change needs an approved change request" },
        ]}
      />
      <Field name="approvalOwner" label="Owner approvals" type="number" defaultValue={String(approvalRule.owner)} hint="From the owning team, 0 to 10." />
      <Field name="approvalConsumer" label="Consumer approvals" type="number" defaultValue={String(approvalRule.consumer)} hint="From each affected consumer team for a breaking change, 0 to 10." />
      <Field
        name="clientIdPatterns"
        label="Client ids"
        defaultValue={clientIdPatterns.join(", ")}
        placeholder="machine-monitor-*"
        hint="The client ids of this application on the brokers, comma-separated; * stands for any characters. At most 20."
      />
      <SubmitButton variant="plain">Save</SubmitButton>
    </ActionForm>
  );
}
