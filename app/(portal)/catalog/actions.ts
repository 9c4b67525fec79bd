"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { requireActor } from "@/app/_lib/session.ts";
import { createApplication, updateApplication } from "@/lib/catalog/applications.ts";
import { MAX_UPLOAD_BYTES, publishVersion } from "@/lib/contracts/publish.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { isMeshportError, MeshportError } from "@/lib/errors.ts";
import { decodeDocument } from "@/lib/http/input.ts";
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
    // A Map: file names are the uploader's, and `__proto__` is a name like any other.
    const files = new Map<string, string>();
    let total = 0;
    for (const entry of formData.getAll("files")) {
      if (typeof entry === "string" || entry.size === 0) continue;
      total += entry.size;
      if (total > MAX_UPLOAD_BYTES) throw new MeshportError("too_large", `The files exceed ${MAX_UPLOAD_BYTES / 1024 / 1024} MB together.`);
      // Same decoding as the API: invalid UTF-8 or a NUL is refused, never replaced.
      files.set(entry.name, decodeDocument(new Uint8Array(await entry.arrayBuffer()), entry.name));
    }
    const { document: pasted = "", version: rawVersion = "" } = formFields(formData);
    // A pasted document loses a leading byte-order mark, as decoded files do.
    if (files.size === 0 && pasted.trim()) files.set("asyncapi.yaml", pasted.replace(/^\uFEFF/, ""));
    const version = rawVersion.trim();
    const outcome = await publishVersion(await requireActor(), appSlug, { files: Object.fromEntries(files), ...(version ? { version } : {}) });
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

/** Changes an application's review policy, approval rule and client-id patterns. */
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
