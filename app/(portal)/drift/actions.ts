"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { requireActor } from "@/app/_lib/session.ts";
import { acknowledgeFinding, unacknowledgeFinding } from "@/lib/drift/findings.ts";
import { importUndocumentedTopic } from "@/lib/drift/import.ts";

function refresh(id: string): void {
  revalidatePath(`/drift/${encodeURIComponent(id)}`);
  revalidatePath("/drift");
}

/** Acknowledges the finding with a note (a second time replaces the note). */
export async function acknowledgeAction(id: string, _state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await runAction(async () => {
    const { note = "" } = formFields(formData);
    await acknowledgeFinding(await requireActor(), id, { note });
  }, "Acknowledged.");
  if (state?.ok) refresh(id);
  return state;
}

/** Takes the acknowledgement back: the finding is open again. */
export async function unacknowledgeAction(id: string, _state: FormState<unknown>, _formData: FormData): Promise<FormState<unknown>> {
  void _formData;
  const state = await runAction(async () => {
    await unacknowledgeFinding(await requireActor(), id, undefined);
  }, "The finding is open again.");
  if (state?.ok) refresh(id);
  return state;
}

/** Imports the undocumented topic into an application's contract, then shows the change request it opened. */
export async function importAction(id: string, _state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  let url = "";
  const state = await runAction(async () => {
    const { application = "", channel = "", message = "", action = "send" } = formFields(formData);
    const outcome = await importUndocumentedTopic(await requireActor(), id, {
      application,
      action,
      ...(channel.trim() ? { channel } : {}),
      ...(message.trim() ? { message } : {}),
    });
    url = outcome.changeRequest.url;
  });
  if (!state?.ok) return state;
  revalidatePath("/reviews");
  redirect(url);
}
