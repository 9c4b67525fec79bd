"use server";

import { revalidatePath } from "next/cache";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { currentPrincipal } from "@/app/_lib/session.ts";
import { declareBridge, declareBroker, removeBridge } from "@/lib/brokers/brokers.ts";
import { MeshportError, untrusted } from "@/lib/errors.ts";

async function brokersAction<T>(body: (principal: NonNullable<Awaited<ReturnType<typeof currentPrincipal>>>) => Promise<T>, success: string) {
  const state = await runAction(async () => {
    const principal = await currentPrincipal();
    if (!principal) throw new MeshportError("unauthenticated", "Your session has ended; sign in again.");
    return body(principal);
  }, success);
  if (state?.ok) revalidatePath("/brokers", "layout");
  return state;
}

/** Declares or updates a broker. */
export async function declareBrokerAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return brokersAction((p) => declareBroker(p, untrusted(formFields(formData))), "Broker saved.");
}

/** Declares a bridge. */
export async function declareBridgeAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return brokersAction((p) => declareBridge(p, untrusted(formFields(formData))), "Bridge declared.");
}

/** Removes a bridge. */
export async function removeBridgeAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const { bridgeId = "" } = formFields(formData);
  return brokersAction((p) => removeBridge(p, bridgeId), "Bridge removed.");
}
