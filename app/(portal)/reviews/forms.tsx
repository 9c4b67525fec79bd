"use client";

import { createContext, startTransition, useActionState, useContext, useId, type FormEvent, type ReactNode } from "react";
import { commentAction, decideAction, overrideAction, publishAction, rejectAction, reviseAction, withdrawAction, type ReviewFormState } from "./actions.ts";

type Action = (state: ReviewFormState, formData: FormData) => Promise<ReviewFormState>;

const StateContext = createContext<ReviewFormState>(null);
const PendingContext = createContext(false);

/** Ids of the comment form's fields, so a finding's "Comment" button can fill them. */
const COMMENT_FINDING_ID = "comment-form-finding";
const COMMENT_BODY_ID = "comment-form-body";
/** The decision form's finding, which the same button points at the finding too (changes are often asked on one). */
const DECISION_FINDING_ID = "decision-form-finding";

/**
 * A form on a change request: its error inline, its success message. Submitted by hand rather than as a form
 * action, so a refused submit keeps what was typed (a revised contract, a reason); a success starts it afresh.
 */
function ReviewForm({ action, testId, children, className }: { action: Action; testId: string; children: ReactNode; className?: string }) {
  const [{ state, successes }, dispatch, pending] = useActionState<{ state: ReviewFormState; successes: number }, FormData>(
    async (previous, data) => {
      const state = await action(previous.state, data);
      return { state, successes: state?.ok ? previous.successes + 1 : previous.successes };
    },
    { state: null, successes: 0 },
  );
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (pending) return;
    const data = new FormData(event.currentTarget, (event.nativeEvent as SubmitEvent).submitter);
    startTransition(() => dispatch(data));
  };
  return (
    <StateContext.Provider value={state}>
      <PendingContext.Provider value={pending}>
        <form onSubmit={onSubmit} data-testid={testId} className={className ?? "form review-form"} key={successes} noValidate aria-busy={pending}>
          {state && !state.ok ? (
            <p className="alert alert-error" role="alert" data-testid="form-error">
              {state.message}
            </p>
          ) : null}
          {state?.ok && state.message ? (
            <p className="alert alert-ok" role="status" data-testid="form-ok">
              {state.message}
            </p>
          ) : null}
          {children}
        </form>
      </PendingContext.Provider>
    </StateContext.Provider>
  );
}

function FieldErrors({ name, id }: { name: string; id: string }) {
  const state = useContext(StateContext);
  const errors = state && !state.ok ? state.fieldErrors?.[name] : undefined;
  return errors ? (
    <small id={`${id}-error`} className="field-error">
      {errors.join(" ")}
    </small>
  ) : null;
}

function TextArea({ name, label, defaultValue, rows = 3, id: fixedId, className }: { name: string; label: string; defaultValue?: string; rows?: number; id?: string; className?: string }) {
  const generated = `field-${name}-${useId()}`;
  const id = fixedId ?? generated;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} name={name} rows={rows} defaultValue={defaultValue} className={className} spellCheck={className ? false : undefined} />
      <FieldErrors name={name} id={id} />
    </div>
  );
}

function FindingSelect({ options, id: fixedId }: { options: ReadonlyArray<{ value: string; label: string }>; id?: string }) {
  const generated = `field-finding-${useId()}`;
  const id = fixedId ?? generated;
  return (
    <div className="field">
      <label htmlFor={id}>Finding</label>
      <select id={id} name="finding" defaultValue="">
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldErrors name="finding" id={id} />
    </div>
  );
}

function Submit({ children, variant = "primary", name, value }: { children: ReactNode; variant?: "primary" | "danger" | "plain"; name?: string; value?: string }) {
  const pending = useContext(PendingContext);
  return (
    <button type="submit" className={`btn btn-${variant}`} disabled={pending} aria-busy={pending} name={name} value={value}>
      {children}
    </button>
  );
}

/** Comment on the request or on one finding. */
export function CommentForm({ number, findings }: { number: string; findings: ReadonlyArray<{ value: string; label: string }> }) {
  return (
    <ReviewForm action={commentAction.bind(null, number)} testId="comment-form">
      <TextArea name="body" label="Comment" id={COMMENT_BODY_ID} />
      <FindingSelect options={findings} id={COMMENT_FINDING_ID} />
      <div className="form-actions">
        <Submit>Comment</Submit>
      </div>
    </ReviewForm>
  );
}

/** A finding's "Comment" button: points the comment (and decision) form at the finding and takes the reader to the comment. */
export function CommentOnFinding({ findingKey }: { findingKey: string }) {
  return (
    <button
      type="button"
      className="btn btn-plain btn-small"
      onClick={() => {
        for (const id of [COMMENT_FINDING_ID, DECISION_FINDING_ID]) {
          const select = document.getElementById(id) as HTMLSelectElement | null;
          if (select && [...select.options].some((o) => o.value === findingKey)) select.value = findingKey;
        }
        const body = document.getElementById(COMMENT_BODY_ID) as HTMLTextAreaElement | null;
        body?.scrollIntoView({ block: "center" });
        body?.focus();
      }}
    >
      Comment
    </button>
  );
}

/** Approve, or request changes (on the request or on one finding). */
export function DecisionForm({ number, revision, findings }: { number: string; revision: number; findings: ReadonlyArray<{ value: string; label: string }> }) {
  return (
    <ReviewForm action={decideAction.bind(null, number, revision)} testId="decision-form">
      <TextArea name="body" label="Comment" />
      <FindingSelect options={findings} id={DECISION_FINDING_ID} />
      <div className="form-actions">
        <Submit name="decision" value="approve">
          Approve
        </Submit>
        <Submit name="decision" value="request_changes" variant="danger">
          Request changes
        </Submit>
      </div>
    </ReviewForm>
  );
}

/** Submit a new revision: the root document edited in place, optionally another version number. */
export function ReviseForm({ number, revision, document, version }: { number: string; revision: number; document: string; version: string }) {
  return (
    <ReviewForm action={reviseAction.bind(null, number, revision)} testId="revise-form" className="form review-form review-form-wide">
      <TextArea name="document" label="Contract" defaultValue={document} rows={16} className="document" />
      <div className="field version-field">
        <label htmlFor="revise-version">Version</label>
        <input id="revise-version" name="version" defaultValue={version} />
        <FieldErrors name="version" id="revise-version" />
      </div>
      <div className="form-actions">
        <Submit>Submit revision</Submit>
      </div>
    </ReviewForm>
  );
}

/** Publish an approved request now. */
export function PublishForm({ number, revision }: { number: string; revision: number }) {
  return (
    <ReviewForm action={publishAction.bind(null, number, revision)} testId="publish-form">
      <div className="form-actions">
        <Submit>Publish now</Submit>
      </div>
    </ReviewForm>
  );
}

/** An admin publishes without the approvals, for a written reason. */
export function OverrideForm({ number, revision }: { number: string; revision: number }) {
  return (
    <ReviewForm action={overrideAction.bind(null, number, revision)} testId="override-form">
      <TextArea name="reason" label="Reason" />
      <div className="form-actions">
        <Submit variant="danger">Publish with override</Submit>
      </div>
    </ReviewForm>
  );
}

/** Reject the request, with a reason. */
export function RejectForm({ number }: { number: string }) {
  return (
    <ReviewForm action={rejectAction.bind(null, number)} testId="reject-form">
      <TextArea name="reason" label="Reason" />
      <div className="form-actions">
        <Submit variant="danger">Reject</Submit>
      </div>
    </ReviewForm>
  );
}

/** Withdraw the request. */
export function WithdrawForm({ number }: { number: string }) {
  return (
    <ReviewForm action={withdrawAction.bind(null, number)} testId="withdraw-form" className="form-inline review-form">
      <Submit variant="plain">Withdraw</Submit>
    </ReviewForm>
  );
}
