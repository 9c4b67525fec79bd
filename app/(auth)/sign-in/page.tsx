import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { ActionForm, Field, SubmitButton } from "@/app/_components/action-form.tsx";
import { currentPrincipal } from "@/app/_lib/session.ts";
import { needsFirstAdmin } from "@/lib/accounts/users.ts";
import { portalUrl } from "@/lib/auth/better-auth.ts";
import { DEFAULT_NEXT_PATH, safeNextPath } from "@/lib/http/next-path.ts";
import { signInAction } from "../actions.ts";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  if (await currentPrincipal()) {
    // Already signed in: straight on, to the portal's own pages only (and never back here, which would loop).
    const destination = safeNextPath(typeof next === "string" ? next : undefined, portalUrl());
    redirect(new URL(destination, portalUrl()).pathname === "/sign-in" ? DEFAULT_NEXT_PATH : destination);
  }
  if (await needsFirstAdmin()) redirect("/setup");
  return (
    <>
      <h1>Sign in</h1>
      <ActionForm action={signInAction} testId="sign-in-form">
        <input type="hidden" name="next" value={typeof next === "string" ? next : ""} />
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
