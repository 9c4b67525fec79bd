import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { ActionForm, Field, SubmitButton } from "@/app/_components/action-form.tsx";
import { currentPrincipal } from "@/app/_lib/session.ts";
import { needsFirstAdmin } from "@/lib/accounts/users.ts";
import { signInAction } from "../actions.ts";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  if (await currentPrincipal()) redirect("/catalog");
  if (await needsFirstAdmin()) redirect("/setup");
  const { next } = await searchParams;
  return (
    <>
      <h1>Sign in</h1>
      <ActionForm action={signInAction} testId="sign-in-form">
        <input type="hidden" name="next" value={next ?? ""} />
        <Field name="email" label="Email" type="email" autoComplete="username" required />
        <Field name="password" label="Password" type="password" autoComplete="current-password" required />
        <SubmitButton>Sign in</SubmitButton>
      </ActionForm>
      <p className="muted small">
        No account? Ask an admin of this portal. <Link href="/api/v1/health">Status</Link>
      </p>
    </>
  );
}
