"use client";

import { ActionForm, Field, SelectField, SubmitButton } from "@/app/_components/action-form.tsx";
import {
  addTeamMemberAction,
  createTeamAction,
  createTokenAction,
  createUserAction,
  revokeTokenAction,
  updateUserAction,
} from "./actions.ts";

const ROLE_OPTIONS = [
  { value: "viewer", label: "viewer — browses the catalog" },
  { value: "editor", label: "editor — publishes contracts" },
  { value: "reviewer", label: "reviewer — decides on reviews, reads the audit log" },
  { value: "admin", label: "admin — manages the portal" },
] as const;

const SCOPES = [
  { value: "read", label: "read", hint: "read the catalog" },
  { value: "contracts:write", label: "contracts:write", hint: "publish contract versions (CI)" },
  { value: "agent:report", label: "agent:report", hint: "send broker agent reports" },
  { value: "admin", label: "admin", hint: "everything an admin can do" },
] as const;

/** Form to create an account. */
export function CreateUserForm() {
  return (
    <ActionForm action={createUserAction} testId="create-user-form" className="form form-grid">
      <Field name="name" label="Name" required />
      <Field name="email" label="Email" type="email" required />
      <Field name="password" label="Initial password" type="password" autoComplete="new-password" required />
      <SelectField name="role" label="Role" options={ROLE_OPTIONS} defaultValue="viewer" />
      <SubmitButton>Create account</SubmitButton>
    </ActionForm>
  );
}

/** Inline form to change one account's role. */
export function RoleForm({ userId, role }: { userId: string; role: string }) {
  return (
    <ActionForm action={updateUserAction} className="form-inline" resetOnSuccess={false}>
      <input type="hidden" name="userId" value={userId} />
      <select name="role" defaultValue={role} aria-label="Role">
        {ROLE_OPTIONS.map((o) => (
          <option key={o.value} value={o.value}>
            {o.value}
          </option>
        ))}
      </select>
      <SubmitButton variant="plain">Set role</SubmitButton>
    </ActionForm>
  );
}

/** Inline form to disable or re-enable an account. */
export function DisableForm({ userId, disabled }: { userId: string; disabled: boolean }) {
  return (
    <ActionForm action={updateUserAction} className="form-inline" resetOnSuccess={false}>
      <input type="hidden" name="userId" value={userId} />
      <input type="hidden" name="disabled" value={disabled ? "false" : "true"} />
      <SubmitButton variant={disabled ? "plain" : "danger"}>{disabled ? "Enable" : "Disable"}</SubmitButton>
    </ActionForm>
  );
}

/** Form to create a team. */
export function CreateTeamForm() {
  return (
    <ActionForm action={createTeamAction} testId="create-team-form" className="form form-grid">
      <Field name="slug" label="Slug" placeholder="plant-operations" required />
      <Field name="name" label="Name" required />
      <Field name="contact" label="Contact" placeholder="#channel or email" />
      <Field name="description" label="Description" />
      <SubmitButton>Create team</SubmitButton>
    </ActionForm>
  );
}

/** Form to add a member to a team. */
export function AddMemberForm({ teams }: { teams: ReadonlyArray<{ slug: string; name: string }> }) {
  return (
    <ActionForm action={addTeamMemberAction} testId="add-member-form" className="form form-grid">
      <SelectField name="teamSlug" label="Team" options={teams.map((t) => ({ value: t.slug, label: t.name }))} />
      <Field name="email" label="Member email" type="email" required />
      <SelectField
        name="role"
        label="Team role"
        options={[
          { value: "member", label: "member" },
          { value: "maintainer", label: "maintainer — manages the team" },
        ]}
      />
      <SubmitButton>Add member</SubmitButton>
    </ActionForm>
  );
}

/** Form to create an API token; shows the secret once. */
export function CreateTokenForm({ teams }: { teams: ReadonlyArray<{ slug: string; name: string }> }) {
  return (
    <ActionForm
      action={createTokenAction}
      testId="create-token-form"
      className="form form-grid"
      renderSuccess={(data) =>
        data ? (
          <div className="secret-box" data-testid="token-secret-box">
            <span>
              Token <strong>{data.name}</strong>:
            </span>
            <code data-testid="token-secret">{data.secret}</code>
          </div>
        ) : null
      }
    >
      <Field name="name" label="Name" placeholder="ci-orders-service" required />
      <fieldset className="field">
        <legend>Scopes</legend>
        {SCOPES.map((s) => (
          <label key={s.value} className="checkbox">
            <input type="checkbox" name="scopes" value={s.value} defaultChecked={s.value === "read"} /> {s.label}{" "}
            <small className="muted">{s.hint}</small>
          </label>
        ))}
      </fieldset>
      <Field
        name="brokers"
        label="Brokers (agent:report only)"
        placeholder="plant-eu or plant-*"
        hint="The broker id an agent token reports for; * matches any characters. Required with agent:report."
      />
      <SelectField
        name="teamSlug"
        label="Team (optional)"
        options={[{ value: "", label: "—" }, ...teams.map((t) => ({ value: t.slug, label: t.name }))]}
      />
      <Field name="expiresInDays" label="Expires in days (optional)" type="number" />
      <SubmitButton>Create token</SubmitButton>
    </ActionForm>
  );
}

/** Button to revoke a token. */
export function RevokeTokenForm({ tokenId }: { tokenId: string }) {
  return (
    <ActionForm action={revokeTokenAction} className="form-inline" resetOnSuccess={false}>
      <input type="hidden" name="tokenId" value={tokenId} />
      <SubmitButton variant="danger">Revoke</SubmitButton>
    </ActionForm>
  );
}
