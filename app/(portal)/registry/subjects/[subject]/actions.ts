"use server";

import { revalidatePath } from "next/cache";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { requireActor } from "@/app/_lib/session.ts";
import { linkSubjectToChannel, setSubjectOwner, unlinkSubject } from "@/lib/schema-registry/contracts.ts";

function refresh(subject: string): void {
  revalidatePath(`/registry/subjects/${encodeURIComponent(subject)}`);
  revalidatePath("/registry");
}

/** Links a direct subject to a message of a channel of an application's current contract. */
export async function linkAction(subject: string, _state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await runAction(async () => {
    const { application = "", channel = "", messageKey = "", part = "payload" } = formFields(formData);
    await linkSubjectToChannel(await requireActor(), { subject, application: application.trim(), channel: channel.trim(), messageKey: messageKey.trim(), part });
  }, "Linked.");
  if (state?.ok) refresh(subject);
  return state;
}

/** Removes a direct subject's link to a channel. */
export async function unlinkAction(subject: string, _state: FormState<unknown>, _formData: FormData): Promise<FormState<unknown>> {
  void _formData;
  const state = await runAction(async () => {
    await unlinkSubject(await requireActor(), { subject });
  }, "Unlinked.");
  if (state?.ok) refresh(subject);
  return state;
}

/** Sets or clears the team that owns a direct subject (admins). */
export async function ownerAction(subject: string, _state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await runAction(async () => {
    const { team = "" } = formFields(formData);
    await setSubjectOwner(await requireActor(), { subject, team: team.trim() === "" ? null : team.trim() });
  }, "Owner saved.");
  if (state?.ok) refresh(subject);
  return state;
}
