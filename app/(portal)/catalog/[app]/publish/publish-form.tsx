"use client";

import Link from "next/link";
import { useActionState, useEffect, useRef, useState } from "react";
import type { Diagnostic } from "@/registry/index.ts";
import { publishAction, type PublishState } from "../../actions.ts";

interface Validation {
  valid: boolean;
  diagnostics: Diagnostic[];
  title?: string;
  version?: string;
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

/** Paste or upload a contract, see it validated as you type, and publish it. */
export function PublishForm({ appSlug }: { appSlug: string }) {
  const [state, formAction, pending] = useActionState<PublishState, FormData>(publishAction.bind(null, appSlug), null);
  const [text, setText] = useState("");
  const [validation, setValidation] = useState<Validation | null>(null);
  const requestId = useRef(0);

  useEffect(() => {
    if (!text.trim()) return;
    const id = ++requestId.current;
    // Validate once typing pauses; answers to older requests are dropped.
    const timer = setTimeout(async () => {
      const response = await fetch("/api/v1/validate", { method: "POST", headers: { "content-type": "application/yaml" }, body: text });
      const body = (await response.json()) as Validation | { error: { message: string } };
      if (id !== requestId.current) return;
      setValidation("error" in body ? { valid: false, diagnostics: [{ code: "request", severity: "error", message: body.error.message, file: "", path: [] }] } : body);
    }, 600);
    return () => clearTimeout(timer);
  }, [text]);

  return (
    <form action={formAction} className="form" style={{ maxWidth: "none" }} data-testid="publish-form">
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
        </div>
      ) : null}
      <div className="field">
        <label htmlFor="document">AsyncAPI document (YAML or JSON)</label>
        <textarea id="document" name="document" className="document" value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </div>
      {text.trim() && validation ? (
        <p className={validation.valid ? "alert alert-ok" : "alert alert-error"} data-testid="live-validation">
          {validation.valid ? `Valid: ${validation.title ?? ""} ${validation.version ?? ""}` : "Not valid yet:"}
        </p>
      ) : null}
      {text.trim() && validation && !validation.valid ? <Diagnostics items={validation.diagnostics} /> : null}
      <div className="field">
        <label htmlFor="files">Or upload files (several for a multi-file contract)</label>
        <input id="files" name="files" type="file" multiple accept=".yaml,.yml,.json" />
      </div>
      <div className="field" style={{ maxWidth: "14rem" }}>
        <label htmlFor="version">Version (default: info.version)</label>
        <input id="version" name="version" placeholder="1.2.0" />
      </div>
      <button type="submit" className="btn btn-primary" disabled={pending}>
        {pending ? "Checking…" : "Publish"}
      </button>
    </form>
  );
}
