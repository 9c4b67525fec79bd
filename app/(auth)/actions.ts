"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { getAuth, portalUrl, signInWithPassword } from "@/lib/auth/better-auth.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { parseInput } from "@/lib/errors.ts";
import { safeNextPath } from "@/lib/http/next-path.ts";

const signInInput = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email({ message: "Enter a valid email address." })),
  password: z.string().min(1, { message: "Enter your password." }).max(256),
  next: z.string().optional(),
});

/** Signs in with email and password, then goes to the page asked for. */
export async function signInAction(_state: FormState, formData: FormData): Promise<FormState> {
  let destination = "/catalog";
  const result = await runAction(async () => {
    const data = parseInput(signInInput, formFields(formData));
    await signInWithPassword(await headers(), data.email, data.password);
    destination = safeNextPath(data.next, portalUrl());
  });
  if (result?.ok) redirect(destination);
  return result;
}

/** Creates the first admin of an empty portal and signs them in. */
export async function setupAction(_state: FormState, formData: FormData): Promise<FormState> {
  const result = await runAction(async () => {
    const fields = formFields(formData);
    const admin = await createFirstAdmin(systemPrincipal("first-admin-setup"), fields);
    await signInWithPassword(await headers(), admin.email, fields.password ?? "");
  });
  if (result?.ok) redirect("/admin");
  return result;
}

/** Ends the session (recorded in the audit log by better-auth's session hook). */
export async function signOutAction(): Promise<void> {
  const auth = await getAuth();
  await auth.api.signOut({ headers: await headers() }).catch(() => undefined);
  redirect("/sign-in");
}
