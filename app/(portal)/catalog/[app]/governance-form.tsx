"use client";

import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { setGovernanceAction } from "../actions.ts";

/**
 * Sets how changes of this application are reviewed, the approvals a change request needs, its client ids on the
 * brokers, and how the registry names the subjects of its messages.
 */
export function GovernanceForm({
  appSlug,
  reviewPolicy,
  approvalRule,
  clientIdPatterns,
  subjectNaming,
}: {
  appSlug: string;
  reviewPolicy: "direct" | "review";
  approvalRule: { owner: number; consumer: number };
  clientIdPatterns: string[];
  subjectNaming: string | null;
}) {
  // Subjects already written keep their names: the naming applies to the next releases.
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
      <SelectField
        name="subjectNaming"
        label="Registry subjects"
        defaultValue={subjectNaming ?? ""}
        options={[
          { value: "", label: "<address>-<message> (default)" },
          { value: "topic", label: "<address>-value, -key (topic name)" },
          { value: "record", label: "the record name or schema title" },
        ]}
      />
      <SubmitButton variant="plain">Save</SubmitButton>
    </ActionForm>
  );
}
