"use server";

import { revalidatePath } from "next/cache";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { requireActor } from "@/app/_lib/session.ts";
import { markRead } from "@/lib/notifications/inbox.ts";

// Personal UI state: marking read is not audited (lib/notifications/inbox.ts says why).
async function inboxAction(input: () => unknown): Promise<FormState<unknown>> {
  const state = await runAction(async () => markRead(await requireActor(), input()));
  if (state?.ok) revalidatePath("/", "layout");
  return state;
}

/** Marks one entry read. */
export async function markReadAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return inboxAction(() => ({ ids: [formFields(formData).id ?? ""] }));
}

/** Marks every entry read. */
export async function markAllReadAction(_state: FormState<unknown>, _formData: FormData): Promise<FormState<unknown>> {
  return inboxAction(() => ({ all: true }));
}
