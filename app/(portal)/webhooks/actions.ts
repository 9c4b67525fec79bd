"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { requireActor } from "@/app/_lib/session.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { createWebhook, deleteWebhook, retryDelivery, sendTestEvent, updateWebhook } from "@/lib/notifications/webhooks.ts";

// Form fields are read inside the action body, so a refused field becomes form state, not a thrown error.
async function webhookAction<T>(body: (principal: Principal) => Promise<T>, success: string): Promise<FormState<T>> {
  const state = await runAction(async () => body(await requireActor()), success);
  // The list and every webhook page below it.
  if (state?.ok) revalidatePath("/webhooks", "layout");
  // The events list has no field of its own to show errors under: say them in the form's message.
  if (state && !state.ok && state.fieldErrors?.events) return { ...state, message: `Events: ${state.fieldErrors.events.join(" ")}` };
  return state;
}

/** Creates a webhook; its secret is returned to the form once. */
export async function createWebhookAction(
  _state: FormState<{ id: string; name: string; secret: string }>,
  formData: FormData,
): Promise<FormState<{ id: string; name: string; secret: string }>> {
  return webhookAction(async (principal) => {
    const fields = formFields(formData);
    const { webhook, secret } = await createWebhook(principal, {
      name: fields.name,
      url: fields.url,
      events: formData.getAll("events").map(String),
      ...(fields.teamSlug ? { teamSlug: fields.teamSlug } : {}),
      ...(fields.secret ? { secret: fields.secret } : {}),
    });
    return { id: webhook.id, name: webhook.name, secret };
  }, "Webhook created. Copy its secret now: it will not be shown again.");
}

/** Enables or disables a webhook. */
export async function setWebhookActiveAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return webhookAction(
    (principal) => {
      const { webhookId = "", active } = formFields(formData);
      return updateWebhook(principal, webhookId, { active: active === "true" });
    },
    "Webhook updated."
  );
}

/** Changes a webhook's name, URL and events. */
export async function updateWebhookAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return webhookAction(
    (principal) => {
      const { webhookId = "", name, url } = formFields(formData);
      return updateWebhook(principal, webhookId, { name, url, events: formData.getAll("events").map(String) });
    },
    "Webhook updated."
  );
}

/** Deletes a webhook, then shows the list. */
export async function deleteWebhookAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await webhookAction((principal) => deleteWebhook(principal, formFields(formData).webhookId ?? ""), "Webhook deleted.");
  // Outside runAction: a redirect is thrown, and runAction would take it for a failure.
  if (state?.ok) redirect("/webhooks");
  return state;
}

/** Queues a test event for a webhook. */
export async function sendTestEventAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return webhookAction(
    (principal) => sendTestEvent(principal, formFields(formData).webhookId ?? "", undefined),
    "Test event queued; it appears below once sent."
  );
}

/** Sends a failed delivery again. */
export async function retryDeliveryAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return webhookAction(
    (principal) => {
      const { webhookId = "", deliveryId = "" } = formFields(formData);
      return retryDelivery(principal, webhookId, deliveryId);
    },
    "Delivery queued again."
  );
}
