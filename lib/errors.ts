import { z } from "zod";

/** The kinds of failure a service can report; each maps to one HTTP status. */
export const ERROR_STATUS = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  invalid_input: 422,
  unavailable: 503,
} as const;

/** A failure kind. */
export type ErrorKind = keyof typeof ERROR_STATUS;

/**
 * The one error type services throw for expected failures. `code` is the kind,
 * optionally narrowed by subject (`not_found:user`), and is what API clients see.
 */
export class MeshportError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details?: unknown;

  constructor(kind: ErrorKind, message: string, options: { subject?: string; details?: unknown } = {}) {
    super(message);
    this.name = "MeshportError";
    this.kind = kind;
    this.code = options.subject ? `${kind}:${options.subject}` : kind;
    this.details = options.details;
  }

  /** The HTTP status for this error. */
  get status(): number {
    return ERROR_STATUS[this.kind];
  }
}

/** True when the value is a MeshportError (also across module copies). */
export function isMeshportError(value: unknown): value is MeshportError {
  return value instanceof MeshportError || (value instanceof Error && value.name === "MeshportError" && "kind" in value);
}

/** Field errors of invalid input, keyed by dotted path. */
export interface InputErrorDetails {
  fieldErrors: Record<string, string[]>;
  formErrors: string[];
}

/** Turns a zod error into the details of an `invalid_input` error. */
export function zodErrorDetails(error: z.ZodError): InputErrorDetails {
  const fieldErrors: Record<string, string[]> = {};
  const formErrors: string[] = [];
  for (const issue of error.issues) {
    if (issue.path.length === 0) {
      formErrors.push(issue.message);
      continue;
    }
    const key = issue.path.map(String).join(".");
    (fieldErrors[key] ??= []).push(issue.message);
  }
  return { fieldErrors, formErrors };
}

/** Validates input with a zod schema; throws `invalid_input` with field errors when it does not match. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new MeshportError("invalid_input", "The input is not valid.", { details: zodErrorDetails(result.error) });
  }
  return result.data;
}

/** A URL-safe identifier: lowercase letters and digits, single hyphens between them. */
export function slugSchema(maxLength: number) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, { message: "Use lowercase letters, digits and single hyphens." })
    .min(2)
    .max(maxLength);
}
