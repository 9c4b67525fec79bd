"use client";

import Link from "next/link";
import { startTransition, useActionState, useEffect, useRef, useState, type FormEvent } from "react";
import type { ChangeEvaluation, Diagnostic } from "@/registry/index.ts";
import { submitForReviewAction, type SubmitForReviewState } from "../../../reviews/actions.ts";
import { publishAction, type PublishState } from "../../actions.ts";

/** What the last submit answered: a publish, or the opening of a change request (which shows it when it opens). */
type Submitted = null | { intent: "publish"; result: PublishState } | { intent: "review"; result: SubmitForReviewState };

/** Refusals of a direct publish that a change request can get past. */
const REVIEW_CODES: ReadonlySet<string> = new Set(["conflict:review_required", "conflict:incompatible"]);

interface Validation {
  valid: boolean;
  diagnostics: Diagnostic[];
  evaluation?: ChangeEvaluation;
}

/** What a publish of the pasted document would decide, before publishing it. */
function EvaluationSummary({ evaluation }: { evaluation: ChangeEvaluation }) {
  const report = evaluation.report;
  return (
    <div className="panel small" data-testid="live-evaluation">
      {report ? (
        <p>
          Against {evaluation.baseline} under <code>{report.mode}</code>:{" "}
          <strong className={report.compatible ? "finding-non-breaking" : "finding-breaking"}>{report.compatible ? "compatible" : "incompatible"}</strong>, {report.findings.length} change
          {report.findings.length === 1 ? "" : "s"}; needs a <strong>{report.semver}</strong> bump (suggested version <code>{evaluation.suggestedVersion}</code>); upgrade order{" "}
          {report.upgradeOrder.replace("-", " ")}.
        </p>
      ) : (
        <p>First version of this contract.</p>
      )}
      {evaluation.blockers.length > 0 ? (
        <ul data-testid="live-blockers">
          {evaluation.blockers.map((b, i) => (
            <li key={i} className="finding-breaking">
              {b.message}
            </li>
          ))}
        </ul>
      ) : (
        <p className="finding-non-breaking">A publish would be accepted.</p>
      )}
      {evaluation.lint.length > 0 ? (
        <details>
          <summary>Lint: {evaluation.lint.length} finding{evaluation.lint.length === 1 ? "" : "s"}</summary>
          <ul>
            {evaluation.lint.slice(0, 50).map((f, i) => (
              <li key={i}>
                {f.severity} <code>{f.rule}</code>: {f.message}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

function Diagnostics({ items }: { items: Diagnostic[] }) {
  const shown = items.filter((d) => d.severity === "error" || d.severity === "warning").slice(0, 50);
  if (shown.length === 0) return null;
  return (
    <ul className="diagnostics" data-testid="diagnostics">
      {shown.map((d, i) => (
        <li key={i} className={d.severity === "error" ? "finding-breaking" : "finding-unclassified"}>
          {d.severity} {d.line ? `line ${d.line}` : ""} <code>{d.path.join(".")}</code>: {d.message}
        </li>
      ))}
    </ul>
  );
}

/** Paste or upload a contract, see it validated as you type, and publish it or submit it for review. */
export function PublishForm({ appSlug }: { appSlug: string }) {
  const [submitted, dispatch, pending] = useActionState<Submitted, FormData>(async (_previous, data) => {
    if (data.get("intent") === "review") return { intent: "review", result: await submitForReviewAction(appSlug, null, data) };
    return { intent: "publish", result: await publishAction(appSlug, null, data) };
  }, null);
  const state = submitted?.intent === "publish" ? submitted.result : null;
  const review = submitted?.intent === "review" ? submitted.result : null;
  const offerReview = state !== null && !state.ok && state.code !== undefined && REVIEW_CODES.has(state.code);
  const [text, setText] = useState("");
  const [validation, setValidation] = useState<Validation | null>(null);
  const requestId = useRef(0);

  // Submitted by hand, not as a form action: the fields (files included) stay as they were, so a refused
  // publish can go to review with the same upload.
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget, (event.nativeEvent as SubmitEvent).submitter);
    startTransition(() => dispatch(data));
  };
  const reviewButton = (
    <button type="submit" name="intent" value="review" className="btn btn-plain" disabled={pending}>
      Submit for review
    </button>
  );

  useEffect(() => {
    if (!text.trim()) return;
    const id = ++requestId.current;
    // Validate once typing pauses; answers to older requests are dropped.
    const timer = setTimeout(async () => {
      const response = await fetch(`/api/v1/applications/${encodeURIComponent(appSlug)}/evaluate`, { method: "POST", headers: { "content-type": "application/yaml" }, body: text });
      const body = (await response.json()) as { evaluation: ChangeEvaluation } | { error: { message: string } };
      if (id !== requestId.current) return;
      if ("error" in body) setValidation({ valid: false, diagnostics: [{ code: "request", severity: "error", message: body.error.message, file: "", path: [] }] });
      else {
        const valid = !body.evaluation.diagnostics.some((d) => d.severity === "error");
        setValidation({ valid, diagnostics: body.evaluation.diagnostics, ...(valid ? { evaluation: body.evaluation } : {}) });
      }
    }, 600);
    return () => clearTimeout(timer);
  }, [text, appSlug]);

  return (
    <form onSubmit={onSubmit} className="form" style={{ maxWidth: "none" }} data-testid="publish-form">
      {state?.ok ? (
        <p className="alert alert-ok" role="status" data-testid="publish-result">
          {state.created ? `Published version ${state.version}.` : `Version ${state.version} already has this content.`}{" "}
          <Link href={`/catalog/${appSlug}`}>Open the application</Link>
        </p>
      ) : null}
      {state && !state.ok ? (
        <div className="alert alert-error" role="alert" data-testid="publish-error">
          <p>{state.message}</p>
          {state.findings ? (
            <ul>
              {state.findings
                .filter((f) => f.verdict === "breaking")
                .map((f, i) => (
                  <li key={i}>
                    <code>{f.rule}</code>: {f.message} {f.breaks !== "none" ? `(breaks ${f.breaks})` : ""}
                  </li>
                ))}
            </ul>
          ) : null}
          {state.diagnostics ? <Diagnostics items={state.diagnostics} /> : null}
          {offerReview ? (
            <p data-testid="publish-offer-review">
              A change request can publish it once its reviewers approve: {reviewButton}
            </p>
          ) : null}
        </div>
      ) : null}
      {review && !review.ok ? (
        <div className="alert alert-error" role="alert" data-testid="review-error">
          <p>{review.message}</p>
          {review.diagnostics ? <Diagnostics items={review.diagnostics} /> : null}
        </div>
      ) : null}
      <div className="field">
        <label htmlFor="document">AsyncAPI document (YAML or JSON)</label>
        <textarea id="document" name="document" className="document" value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </div>
      {text.trim() && validation ? (
        <p className={validation.valid ? "alert alert-ok" : "alert alert-error"} data-testid="live-validation">
          {validation.valid ? `Valid: ${validation.evaluation?.version ?? ""}` : "Not valid yet:"}
        </p>
      ) : null}
      {text.trim() && validation?.evaluation ? <EvaluationSummary evaluation={validation.evaluation} /> : null}
      {text.trim() && validation && !validation.valid ? <Diagnostics items={validation.diagnostics} /> : null}
      <div className="field">
        <label htmlFor="files">Or upload files (several for a multi-file contract)</label>
        <input id="files" name="files" type="file" multiple accept=".yaml,.yml,.json" />
      </div>
      <div className="field" style={{ maxWidth: "14rem" }}>
        <label htmlFor="version">Version (default: info.version)</label>
        <input id="version" name="version" placeholder="1.2.0" />
      </div>
      <div className="publish-review-fields">
        <div className="field">
          <label htmlFor="review-title">Title</label>
          <input id="review-title" name="title" maxLength={200} placeholder="Default: the application and the version" />
        </div>
        <div className="field">
          <label htmlFor="review-description">Description</label>
          <textarea id="review-description" name="description" rows={3} maxLength={10000} />
        </div>
      </div>
      <div className="form-actions">
        <button type="submit" name="intent" value="publish" className="btn btn-primary" disabled={pending}>
          {pending ? "Checking…" : "Publish"}
        </button>
        {offerReview ? null : reviewButton}
      </div>
      <p className="small muted">Title and description are for a change request: reviewers see them with the evaluation and the impact.</p>
    </form>
  );
}
