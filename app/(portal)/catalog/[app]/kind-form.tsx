"use client";

import { useState } from "react";
import { ActionForm, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import { setKindAction } from "../actions.ts";

const KINDS = [
  { value: "source-integration", label: "source integration (system → events)" },
  { value: "target-integration", label: "target integration (events → system)" },
  { value: "service", label: "service" },
  { value: "gateway", label: "gateway / bridge" },
] as const;

/** Sets the application's kind and the systems it connects (the portal's word until a contract carrying the extensions is published). */
export function KindForm({ appSlug, kind, systems }: { appSlug: string; kind: string; systems: Array<{ name: string; role: string }> }) {
  // The kind is sent only when changed here: saving systems alone keeps an unset kind unset and its source as it is.
  const [selected, setSelected] = useState<string | null>(null);
  const changed = selected !== null && selected !== kind;
  return (
    <ActionForm action={setKindAction.bind(null, appSlug)} className="form form-grid" resetOnSuccess={false} testId="kind-form">
      <div style={{ display: "contents" }} onChange={(e) => setSelected((e.target as unknown as HTMLSelectElement).value)}>
        <SelectField name={changed ? "kind" : "kind-unchanged"} label="Kind" defaultValue={kind} options={KINDS} />
      </div>
      <div className="field">
        <label htmlFor={`systems-${appSlug}`}>Systems</label>
        <textarea
          id={`systems-${appSlug}`}
          name="systems"
          rows={4}
          maxLength={4000}
          defaultValue={systems.map((s) => `${s.role}: ${s.name}`).join("\n")}
          placeholder={"source: SAP S/4HANA\ntarget: Salesforce"}
          aria-describedby={`systems-${appSlug}-hint`}
        />
        <small className="hint" id={`systems-${appSlug}-hint`}>
          One per line, <code>source: name</code> or <code>target: name</code> (a name alone takes the kind&apos;s role). A system is found by name or created for this team. At most 20.
        </small>
      </div>
      <SubmitButton variant="plain">Save</SubmitButton>
    </ActionForm>
  );
}
