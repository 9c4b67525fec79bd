"use client";

import { ActionForm, Field, SubmitButton } from "@/app/_components/action-form.tsx";
import { changePasswordAction, signOutOtherSessionsAction, updateProfileAction } from "./actions.ts";

/** Form to change one's name. */
export function ProfileForm({ name }: { name: string }) {
  return (
    <ActionForm action={updateProfileAction} testId="profile-form" resetOnSuccess={false}>
      <Field name="name" label="Name" autoComplete="name" defaultValue={name} required />
      <SubmitButton>Save name</SubmitButton>
    </ActionForm>
  );
}

/** Form to change one's password. */
export function PasswordForm({ minLength }: { minLength: number }) {
  return (
    <ActionForm action={changePasswordAction} testId="password-form">
      <Field name="currentPassword" label="Current password" type="password" autoComplete="current-password" required />
      <Field
        name="newPassword"
        label="New password"
        type="password"
        autoComplete="new-password"
        hint={`At least ${minLength} characters.`}
        required
      />
      <Field name="confirmPassword" label="New password again" type="password" autoComplete="new-password" required />
      <label className="checkbox">
        <input type="checkbox" name="signOutOtherSessions" defaultChecked /> Sign out my other sessions
      </label>
      <SubmitButton>Change password</SubmitButton>
    </ActionForm>
  );
}

/** Button to end one's sessions in other browsers. */
export function SignOutOthersForm() {
  return (
    <ActionForm action={signOutOtherSessionsAction} testId="sign-out-others-form" className="form-inline">
      <SubmitButton variant="plain">Sign out other sessions</SubmitButton>
    </ActionForm>
  );
}
