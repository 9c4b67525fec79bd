"use client";

import { createContext, useActionState, useContext, useId, type ReactNode } from "react";
import { useFormStatus } from "react-dom";
import type { FormState } from "@/app/_lib/actions.ts";

type Action<T> = (state: FormState<T>, formData: FormData) => Promise<FormState<T>>;

const FormStateContext = createContext<FormState<unknown>>(null);

/** A form bound to a server action, showing its message and per-field errors. */
export function ActionForm<T>({
  action,
  children,
  testId,
  className,
  resetOnSuccess = true,
  renderSuccess,
}: {
  action: Action<T>;
  children: ReactNode;
  testId?: string;
  className?: string;
  resetOnSuccess?: boolean;
  renderSuccess?: (data: T | undefined) => ReactNode;
}) {
  const [state, formAction] = useActionState(action, null);
  return (
    <FormStateContext.Provider value={state as FormState<unknown>}>
      <form
        action={formAction}
        data-testid={testId}
        className={className ?? "form"}
        key={resetOnSuccess && state?.ok ? JSON.stringify(state) : undefined}
        noValidate
      >
        {state && !state.ok ? (
          <p className="alert alert-error" role="alert">
            {state.message}
          </p>
        ) : null}
        {state?.ok && state.message ? (
          <p className="alert alert-ok" role="status">
            {state.message}
          </p>
        ) : null}
        {state?.ok && renderSuccess ? renderSuccess(state.data) : null}
        {children}
      </form>
    </FormStateContext.Provider>
  );
}

/** A labelled input with its validation errors from the last submit. */
export function Field({
  name,
  label,
  type = "text",
  required,
  defaultValue,
  placeholder,
  autoComplete,
  hint,
}: {
  name: string;
  label: string;
  type?: string;
  required?: boolean;
  defaultValue?: string;
  placeholder?: string;
  autoComplete?: string;
  hint?: string;
}) {
  const state = useContext(FormStateContext);
  const errors = state && !state.ok ? state.fieldErrors?.[name] : undefined;
  const id = `field-${name}-${useId()}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        required={required}
        defaultValue={defaultValue}
        placeholder={placeholder}
        autoComplete={autoComplete}
        aria-invalid={errors ? true : undefined}
        aria-describedby={errors ? `${id}-error` : undefined}
      />
      {hint ? <small className="hint">{hint}</small> : null}
      {errors ? (
        <small id={`${id}-error`} className="field-error">
          {errors.join(" ")}
        </small>
      ) : null}
    </div>
  );
}

/** A labelled select with its validation errors. */
export function SelectField({
  name,
  label,
  options,
  defaultValue,
}: {
  name: string;
  label: string;
  options: ReadonlyArray<{ value: string; label: string }>;
  defaultValue?: string;
}) {
  const state = useContext(FormStateContext);
  const errors = state && !state.ok ? state.fieldErrors?.[name] : undefined;
  const id = `field-${name}-${useId()}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} defaultValue={defaultValue}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {errors ? <small className="field-error">{errors.join(" ")}</small> : null}
    </div>
  );
}

/** A submit button that shows when its form is busy. */
export function SubmitButton({ children, variant = "primary" }: { children: ReactNode; variant?: "primary" | "danger" | "plain" }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className={`btn btn-${variant}`} disabled={pending} aria-busy={pending}>
      {pending ? "Working…" : children}
    </button>
  );
}
