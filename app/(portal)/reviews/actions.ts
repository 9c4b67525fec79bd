"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { formFields, runAction, type FormState } from "@/app/_lib/actions.ts";
import { uploadFromForm } from "@/app/_lib/form-upload.ts";
import { requireActor } from "@/app/_lib/session.ts";
import { isMeshportError } from "@/lib/errors.ts";
import { getChangeRequest } from "@/lib/reviews/queries.ts";
import {
  commentOnChangeRequest,
  decideChangeRequest,
  openChangeRequest,
  overrideChangeRequest,
  publishChangeRequest,
  rejectChangeRequest,
  reviseChangeRequest,
  withdrawChangeRequest,
  type ChangeRequestOutcome,
} from "@/lib/reviews/requests.ts";
import type { Diagnostic, Finding } from "@/registry/index.ts";
import { parseFindingKey } from "./format.ts";

/** What a form on a change request shows after a submit. */
export type ReviewFormState = FormState<{ state: string; publishedVersion: string | null }>;

function refresh(number: string): void {
  revalidatePath(`/reviews/${number}`);
  revalidatePath("/reviews");
}

function summary(outcome: ChangeRequestOutcome) {
  return { state: outcome.changeRequest.state, publishedVersion: outcome.changeRequest.publishedVersion };
}

/** What the publish page shows when a change request could not be opened. */
export type SubmitForReviewState =
  | null
  | { ok: false; message: string; code?: string; diagnostics?: Diagnostic[]; findings?: Finding[]; fieldErrors?: Record<string, string[]> };

/** Opens a change request from the publish page's upload, then shows it. */
export async function submitForReviewAction(appSlug: string, _state: SubmitForReviewState, formData: FormData): Promise<SubmitForReviewState> {
  let url: string;
  try {
    const upload = await uploadFromForm(formData);
    const { title = "", description = "" } = formFields(formData);
    const outcome = await openChangeRequest(await requireActor(), appSlug, { ...upload, ...(title.trim() ? { title } : {}), description });
    url = outcome.changeRequest.url;
  } catch (error) {
    if (!isMeshportError(error)) {
      console.error("meshport: opening a change request failed", error);
      return { ok: false, message: "Something went wrong on our side." };
    }
    const details = (error.details ?? {}) as { diagnostics?: Diagnostic[]; report?: { findings: Finding[] }; fieldErrors?: Record<string, string[]> };
    return { ok: false, message: error.message, code: error.code, diagnostics: details.diagnostics, findings: details.report?.findings, fieldErrors: details.fieldErrors };
  }
  revalidatePath("/reviews");
  redirect(url);
}

/** Comments on the request, or on one of its findings. */
export async function commentAction(number: string, _state: ReviewFormState, formData: FormData): Promise<ReviewFormState> {
  const state = await runAction(async () => {
    const { body = "", finding } = formFields(formData);
    return summary(await commentOnChangeRequest(await requireActor(), number, { body, finding: parseFindingKey(finding) }));
  }, "Comment added.");
  if (state?.ok) refresh(number);
  return state;
}

/** Approves the current revision or asks for changes, for the reviewer's teams. */
export async function decideAction(number: string, revision: number, _state: ReviewFormState, formData: FormData): Promise<ReviewFormState> {
  const state = await runAction(async () => {
    const { body = "", finding, decision = "" } = formFields(formData);
    // The revision the reviewer read: a newer one submitted meanwhile is refused, never approved unseen.
    return summary(await decideChangeRequest(await requireActor(), number, { decision, body, finding: parseFindingKey(finding), revision }));
  });
  if (state?.ok) {
    state.message = state.data?.publishedVersion
      ? `Approved and published as ${state.data.publishedVersion}.`
      : formData.get("decision") === "approve"
        ? "Approved."
        : "Changes requested.";
    refresh(number);
  }
  return state;
}

/** Submits a new revision: the edited root document, the request's other files unchanged. */
export async function reviseAction(number: string, baseRevision: number, _state: ReviewFormState, formData: FormData): Promise<ReviewFormState> {
  const state = await runAction(async () => {
    const principal = await requireActor();
    const { document = "", version = "" } = formFields(formData);
    const current = (await getChangeRequest(principal, number)).current;
    const files = new Map(Object.entries(current.files));
    if (document.trim()) files.set(current.rootFile, document.replace(/^\uFEFF/, ""));
    const revision = { files: Object.fromEntries(files), root: current.rootFile, baseRevision, ...(version.trim() ? { version: version.trim() } : {}) };
    return summary(await reviseChangeRequest(principal, number, revision));
  }, "Revision submitted.");
  if (state?.ok) refresh(number);
  return state;
}

/** Publishes an approved request (after its baseline moved or its blockers were cleared). */
export async function publishAction(number: string, revision: number, _state: ReviewFormState): Promise<ReviewFormState> {
  const state = await runAction(async () => summary(await publishChangeRequest(await requireActor(), number, { revision })));
  if (state?.ok) {
    state.message = state.data?.publishedVersion ? `Published as ${state.data.publishedVersion}.` : "Published.";
    refresh(number);
  }
  return state;
}

/** An admin publishes without the approvals, for a written reason. */
export async function overrideAction(number: string, revision: number, _state: ReviewFormState, formData: FormData): Promise<ReviewFormState> {
  const state = await runAction(async () => {
    const { reason = "" } = formFields(formData);
    return summary(await overrideChangeRequest(await requireActor(), number, { reason, revision }));
  });
  if (state?.ok) {
    state.message = state.data?.publishedVersion ? `Published as ${state.data.publishedVersion} with an override.` : "Published with an override.";
    refresh(number);
  }
  return state;
}

/** Rejects the request, with a reason. */
export async function rejectAction(number: string, _state: ReviewFormState, formData: FormData): Promise<ReviewFormState> {
  const state = await runAction(async () => {
    const { reason = "" } = formFields(formData);
    return summary(await rejectChangeRequest(await requireActor(), number, { reason }));
  }, "Rejected.");
  if (state?.ok) refresh(number);
  return state;
}

/** Withdraws the request. */
export async function withdrawAction(number: string, _state: ReviewFormState, formData: FormData): Promise<ReviewFormState> {
  const state = await runAction(async () => {
    const { reason = "" } = formFields(formData);
    return summary(await withdrawChangeRequest(await requireActor(), number, { reason }));
  }, "Withdrawn.");
  if (state?.ok) refresh(number);
  return state;
}
