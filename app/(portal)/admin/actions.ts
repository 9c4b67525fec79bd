"use server";

import { revalidatePath } from "next/cache";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { requireActor } from "@/app/_lib/session.ts";
import { createTeam, setTeamMember } from "@/lib/accounts/teams.ts";
import { createUser, updateUser } from "@/lib/accounts/users.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { createToken, revokeToken } from "@/lib/tokens/tokens.ts";

// Form fields are read inside the action body, so a refused field becomes form state, not a thrown error.
async function adminAction<T>(body: (principal: Principal) => Promise<T>, success: string): Promise<FormState<T>> {
  const state = await runAction(async () => body(await requireActor()), success);
  if (state?.ok) revalidatePath("/admin");
  return state;
}

/** Creates an account. */
export async function createUserAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return adminAction((principal) => createUser(principal, formFields(formData)), "Account created.");
}

/** Changes an account's role, or disables or re-enables it. */
export async function updateUserAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return adminAction((principal) => {
    const { userId = "", role, disabled } = formFields(formData);
    const change = { ...(role ? { role } : {}), ...(disabled ? { disabled: disabled === "true" } : {}) };
    return updateUser(principal, userId, change);
  }, "Account updated.");
}

/** Creates a team. */
export async function createTeamAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return adminAction((principal) => createTeam(principal, formFields(formData)), "Team created.");
}

/** Adds a member to a team. */
export async function addTeamMemberAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return adminAction((principal) => {
    const { teamSlug = "", ...member } = formFields(formData);
    return setTeamMember(principal, teamSlug, member);
  }, "Member added.");
}

/** Creates an API token; its secret is returned to the form once. */
export async function createTokenAction(
  _state: FormState<{ secret: string; name: string }>,
  formData: FormData,
): Promise<FormState<{ secret: string; name: string }>> {
  return adminAction(async (principal) => {
    const fields = formFields(formData);
    const input = {
      name: fields.name,
      scopes: formData.getAll("scopes").map(String),
      ...(fields.teamSlug ? { teamSlug: fields.teamSlug } : {}),
      ...(fields.expiresInDays ? { expiresInDays: fields.expiresInDays } : {}),
      ...(fields.brokers ? { brokers: fields.brokers } : {}),
    };
    const { token, secret } = await createToken(principal, input);
    return { secret, name: token.name };
  }, "Token created. Copy it now: it will not be shown again.");
}

/** Revokes an API token. */
export async function revokeTokenAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  return adminAction((principal) => revokeToken(principal, formFields(formData).tokenId ?? ""), "Token revoked.");
}
