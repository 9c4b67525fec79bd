"use server";

import { revalidatePath } from "next/cache";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { requireActor } from "@/app/_lib/session.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { declareBridge, declareBroker, removeBridge } from "@/lib/brokers/brokers.ts";

async function brokersAction<T>(body: (principal: Principal) => Promise<T>, success: string) {
  const state = await runAction(async () => body(await requireActor()), success);
  if (state?.ok) revalidatePath("/brokers", "layout");
  return state;
}

/** Declares or updates a broker. */
export async function declareBrokerAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return brokersAction((p) => declareBroker(p, formFields(formData)), "Broker saved.");
}

/** Declares a bridge. */
export async function declareBridgeAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return brokersAction((p) => declareBridge(p, formFields(formData)), "Bridge declared.");
}

/** Removes a bridge. */
export async function removeBridgeAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return brokersAction((p) => removeBridge(p, formFields(formData).bridgeId ?? ""), "Bridge removed.");
}
