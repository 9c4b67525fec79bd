"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { uploadFromForm } from "@/app/_lib/form-upload.ts";
import { requireActor } from "@/app/_lib/session.ts";
import { createApplication, updateApplication } from "@/lib/catalog/applications.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { isMeshportError } from "@/lib/errors.ts";
import type { Diagnostic, Finding } from "@/registry/index.ts";

/** Registers an application, then opens it. */
export async function createApplicationAction(_state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await runAction(async () => {
    const fields = formFields(formData);
    const input = {
      ...fields,
      tags: (fields.tags ?? "").split(",").map((t) => t.trim()).filter(Boolean),
      compatibilityMode: fields.compatibilityMode || null,
    };
    return createApplication(await requireActor(), input);
  });
  if (state?.ok) redirect(`/catalog/${(state.data as { slug: string }).slug}`);
  return state;
}

/** What the publish form shows after a submit. */
export type PublishState =
  | null
  | { ok: true; version: string; created: boolean }
  | { ok: false; message: string; code?: string; diagnostics?: Diagnostic[]; findings?: Finding[]; fieldErrors?: Record<string, string[]> };

/** Publishes a version from pasted text or uploaded files. */
export async function publishAction(appSlug: string, _state: PublishState, formData: FormData): Promise<PublishState> {
  try {
    const outcome = await publishVersion(await requireActor(), appSlug, await uploadFromForm(formData));
    revalidatePath(`/catalog/${appSlug}`);
    return { ok: true, version: outcome.version.version, created: outcome.created };
  } catch (error) {
    if (!isMeshportError(error)) {
      console.error("meshport: publish failed", error);
      return { ok: false, message: "Something went wrong on our side." };
    }
    const details = (error.details ?? {}) as { diagnostics?: Diagnostic[]; report?: { findings: Finding[] }; fieldErrors?: Record<string, string[]> };
    return {
      ok: false,
      message: error.message,
      // The form offers a change request when the refusal says a review is the way.
      code: error.code,
      diagnostics: details.diagnostics,
      findings: details.report?.findings,
      fieldErrors: details.fieldErrors,
    };
  }
}

/** Deprecates, retires or re-releases a version, with a reason. */
export async function setVersionStateAction(appSlug: string, version: string, _state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await runAction(async () => setVersionState(await requireActor(), appSlug, version, formFields(formData)), "Lifecycle updated.");
  if (state?.ok) revalidatePath(`/catalog/${appSlug}`, "layout");
  return state;
}

/** Changes an application's compatibility mode and lint policy. */
export async function setCompatibilityModeAction(appSlug: string, _state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const mode = String(formData.get("compatibilityMode") ?? "");
  const lint = formData.get("lintPolicy");
  const change = { compatibilityMode: mode || null, ...(lint === null ? {} : { lintPolicy: lint === "block" ? "block" : null }) };
  const state = await runAction(async () => updateApplication(await requireActor(), appSlug, change), "Compatibility mode saved.");
  if (state?.ok) revalidatePath(`/catalog/${appSlug}`);
  return state;
}

/** Changes an application's review policy, approval rule, client-id patterns and subject naming. */
export async function setGovernanceAction(appSlug: string, _state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await runAction(async () => {
    const fields = formFields(formData);
    // An empty count takes the default; anything else goes to validation as a number (NaN is refused there).
    const count = (text: string | undefined) => (text === undefined || text.trim() === "" ? undefined : Number(text.trim()));
    const change = {
      reviewPolicy: fields.reviewPolicy ?? "direct",
      approvalRule: { owner: count(fields.approvalOwner), consumer: count(fields.approvalConsumer) },
      clientIdPatterns: (fields.clientIdPatterns ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean),
      ...(fields.subjectNaming === undefined ? {} : { subjectNaming: fields.subjectNaming || null }),
    };
    return updateApplication(await requireActor(), appSlug, change as Parameters<typeof updateApplication>[2]);
  }, "Governance settings saved.");
  // The rule's errors belong to its two fields.
  if (state && !state.ok && state.fieldErrors?.approvalRule) {
    state.fieldErrors = { ...state.fieldErrors, approvalOwner: state.fieldErrors.approvalRule, approvalConsumer: state.fieldErrors.approvalRule };
  }
  if (state?.ok) revalidatePath(`/catalog/${appSlug}`);
  return state;
}

/**
 * Sets what an application is in the mesh and the systems it connects, one per line: `source: SAP S/4HANA`,
 * `target: Salesforce`, or a name alone (the kind's default role). An empty list disconnects every system.
 */
export async function setKindAction(appSlug: string, _state: FormState<unknown>, formData: FormData): Promise<FormState<unknown>> {
  const state = await runAction(async () => {
    const fields = formFields(formData);
    const systems = (fields.systems ?? "")
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const role = /^(source|target)\s*:\s*(.*)$/i.exec(line);
        return role ? { name: role[2]!, role: role[1]!.toLowerCase() } : line;
      });
    return updateApplication(await requireActor(), appSlug, { kind: fields.kind, systems });
  }, "Kind and systems saved.");
  if (state?.ok) revalidatePath(`/catalog/${appSlug}`);
  return state;
}
