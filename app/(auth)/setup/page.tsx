import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { ActionForm, Field, SubmitButton } from "@/app/_components/action-form.tsx";
import { needsFirstAdmin } from "@/lib/accounts/users.ts";
import { MIN_PASSWORD_LENGTH } from "@/lib/auth/better-auth.ts";
import { setupAction } from "../actions.ts";

export const metadata: Metadata = { title: "Set up" };

export default async function SetupPage() {
  if (!(await needsFirstAdmin())) redirect("/sign-in");
  return (
    <>
      <h1>Create the first admin</h1>
      <p className="muted">
        This portal has no accounts yet. The first account is its admin; admins then create the others.
      </p>
      <ActionForm action={setupAction} testId="setup-form">
        <Field name="name" label="Name" autoComplete="name" required />
        <Field name="email" label="Email" type="email" autoComplete="username" required />
        <Field
          name="password"
          label="Password"
          type="password"
          autoComplete="new-password"
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          required
        />
        <SubmitButton>Create admin</SubmitButton>
      </ActionForm>
    </>
  );
}
