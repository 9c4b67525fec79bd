"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { requireActor } from "@/app/_lib/session.ts";
import { createSystem, deleteSystem, updateSystem } from "@/lib/systems/systems.ts";

/** Creates a system, then opens it. */
export async function createSystemAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await runAction(async () => {
    const fields = formFields(formData);
    return createSystem(await requireActor(), { name: fields.name ?? "", type: fields.type || "other", team: fields.team || null, description: fields.description ?? "" });
  });
  if (state?.ok) redirect(`/systems/${(state.data as { slug: string }).slug}`);
  return state;
}

/** Changes a system's name, type, owning team or description. */
export async function updateSystemAction(slug: string, _state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await runAction(async () => {
    const fields = formFields(formData);
    return updateSystem(await requireActor(), slug, { name: fields.name, type: fields.type, team: fields.team || null, description: fields.description ?? "" });
  }, "System saved.");
  if (state?.ok) revalidatePath(`/systems/${slug}`);
  return state;
}

/** Deletes a system no application connects, then lists the others. */
export async function deleteSystemAction(slug: string, _state: FormState<unknown>): Promise<FormState<unknown>> {
  const state = await runAction(async () => deleteSystem(await requireActor(), slug, undefined));
  if (state?.ok) {
    revalidatePath("/systems");
    redirect("/systems");
  }
  return state;
}
