"use client";

import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { BROKER_KINDS, kindLabel } from "@/lib/brokers/dialect.ts";
import { declareBridgeAction, declareBrokerAction, removeBridgeAction } from "./actions.ts";

/** Form to declare a broker. */
export function DeclareBrokerForm() {
  return (
    <ActionForm action={declareBrokerAction} testId="declare-broker-form" className="form form-grid">
      <Field name="id" label="Broker id" placeholder="plant-eu" required />
      <Field name="name" label="Name" placeholder="Plant EU" required />
      <Field name="url" label="URL" placeholder="mqtt://broker.plant-eu:1883" />
      <SelectField
        name="protocol"
        label="Protocol"
        options={BROKER_KINDS.map((p) => ({ value: p, label: kindLabel(p) }))}
      />
      <Field name="description" label="Description" />
      <SubmitButton>Save broker</SubmitButton>
    </ActionForm>
  );
}

/** Form to declare a bridge between two brokers. */
export function DeclareBridgeForm({ brokers }: { brokers: ReadonlyArray<{ id: string; name: string }> }) {
  const options = brokers.map((b) => ({ value: b.id, label: `${b.name} (${b.id})` }));
  return (
    <ActionForm action={declareBridgeAction} testId="declare-bridge-form" className="form form-grid">
      <SelectField name="fromBrokerId" label="From" options={options} />
      <SelectField name="toBrokerId" label="To" options={options} defaultValue={options[1]?.value} />
      <Field name="topicFilter" label="Topic filter (in the From broker's syntax)" placeholder="plant/# · orders.> · invoice.#" required />
      <SelectField
        name="direction"
        label="Direction"
        options={[
          { value: "out", label: "one way (from → to)" },
          { value: "both", label: "both ways" },
        ]}
      />
      <SubmitButton>Declare bridge</SubmitButton>
    </ActionForm>
  );
}

/** Button to remove a bridge. */
export function RemoveBridgeForm({ bridgeId }: { bridgeId: string }) {
  return (
    <ActionForm action={removeBridgeAction} className="form-inline" resetOnSuccess={false}>
      <input type="hidden" name="bridgeId" value={bridgeId} />
      <SubmitButton variant="danger">Remove</SubmitButton>
    </ActionForm>
  );
}
