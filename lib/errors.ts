import { z } from "zod";

/** The kinds of failure a service can report; each maps to one HTTP status. */
export const ERROR_STATUS = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  too_large: 413,
  invalid_input: 422,
  rate_limited: 429,
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
  /** Present when only the first MAX_REPORTED_ISSUES problems are listed. */
  truncated?: true;
  /** How many problems the input had in all (set with `truncated`). */
  issueCount?: number;
}

/** Most problems one error lists: a hostile body can hold millions, the client needs the first few. */
export const MAX_REPORTED_ISSUES = 50;
/** Paths and messages can echo user keys (`Unrecognized keys: …`); keep each short. */
const MAX_ISSUE_TEXT = 200;

function clip(text: string): string {
  return text.length > MAX_ISSUE_TEXT ? `${text.slice(0, MAX_ISSUE_TEXT - 1)}…` : text;
}

/** Turns a zod error into the details of an `invalid_input` error, listing at most MAX_REPORTED_ISSUES problems. */
export function zodErrorDetails(error: z.ZodError): InputErrorDetails {
  // A Map, not a plain object: paths come from user keys such as `__proto__`.
  const fieldErrors = new Map<string, string[]>();
  const formErrors: string[] = [];
  const shown = error.issues.slice(0, MAX_REPORTED_ISSUES);
  for (const issue of shown) {
    const message = clip(issue.message);
    if (issue.path.length === 0) {
      formErrors.push(message);
      continue;
    }
    const key = clip(issue.path.map(String).join("."));
    const list = fieldErrors.get(key);
    if (list) list.push(message);
    else fieldErrors.set(key, [message]);
  }
  const details: InputErrorDetails = { fieldErrors: Object.fromEntries(fieldErrors), formErrors };
  if (error.issues.length > shown.length) {
    details.truncated = true;
    details.issueCount = error.issues.length;
  }
  return details;
}

/** The message of an `invalid_input` error for these details: says how many problems there were when the list is cut. */
export function invalidInputMessage(details: InputErrorDetails): string {
  if (!details.truncated) return "The input is not valid.";
  return `The input is not valid: ${details.issueCount} problems, the first ${MAX_REPORTED_ISSUES} are listed.`;
}

/** Validates input with a zod schema; throws `invalid_input` with field errors when it does not match. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const details = zodErrorDetails(result.error);
    throw new MeshportError("invalid_input", invalidInputMessage(details), { details });
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
