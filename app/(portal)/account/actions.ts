"use server";

import { revalidatePath } from "next/cache";
import { headers } from "next/headers";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { changePassword, signOutOtherSessions, updateProfile, type SelfServiceContext } from "@/lib/accounts/profile.ts";
import { sessionFromHeaders } from "@/lib/auth/authenticate.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { clientAddress } from "@/lib/http/client-address.ts";

/** The signed-in person, their session and their address: actions authenticate again on every call. */
async function selfService(): Promise<{ principal: Principal; request: SelfServiceContext }> {
  const requestHeaders = await headers();
  const found = await sessionFromHeaders(requestHeaders);
  if (!found) throw new MeshportError("unauthenticated", "Your session has ended; sign in again.");
  return { principal: found.principal, request: { sessionId: found.sessionId, address: clientAddress(requestHeaders) } };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Changes one's name. */
export async function updateProfileAction(_state: FormState, formData: FormData): Promise<FormState> {
  const state = await runAction(async () => {
    const { principal, request } = await selfService();
    await updateProfile(principal, request, formFields(formData));
  }, "Name saved.");
  if (!state?.ok) return state;
  // The name shows in the header of every page.
  revalidatePath("/", "layout");
  return { ok: true, message: state.message };
}

/** Changes one's password after checking the current one. */
export async function changePasswordAction(_state: FormState, formData: FormData): Promise<FormState> {
  const state = await runAction(async () => {
    const { principal, request } = await selfService();
    const { otherSessionsEnded } = await changePassword(principal, request, formFields(formData));
    return otherSessionsEnded;
  });
  if (!state?.ok) return state;
  revalidatePath("/account");
  const ended = state.data ?? 0;
  return { ok: true, message: ended > 0 ? `Password changed; ${plural(ended, "other session")} signed out.` : "Password changed." };
}

/** Ends one's sessions in other browsers. */
export async function signOutOtherSessionsAction(_state: FormState, _formData: FormData): Promise<FormState> {
  const state = await runAction(async () => {
    const { principal, request } = await selfService();
    return (await signOutOtherSessions(principal, request, undefined)).sessionsEnded;
  });
  if (!state?.ok) return state;
  revalidatePath("/account");
  const ended = state.data ?? 0;
  return { ok: true, message: ended > 0 ? `${plural(ended, "other session")} signed out.` : "No other session was open." };
}
