import "server-only";
import { isMeshportError, MeshportError } from "@/lib/errors.ts";

/** What a form's server action returns: nothing on success, or what to show the user. */
export type FormState<T = undefined> =
  | { ok: true; data?: T; message?: string }
  | { ok: false; message: string; fieldErrors?: Record<string, string[]> }
  | null;

/** Runs a server action body and turns expected failures into form state instead of throwing. */
export async function runAction<T>(body: () => Promise<T>, success?: string): Promise<FormState<T>> {
  try {
    const data = await body();
    return { ok: true, data, message: success };
  } catch (error) {
    if (isMeshportError(error)) {
      const details = error.details as { fieldErrors?: Record<string, string[]> } | undefined;
      return { ok: false, message: error.message, fieldErrors: details?.fieldErrors };
    }
    console.error("meshport: unexpected error in a form action", error);
    return { ok: false, message: "Something went wrong on our side." };
  }
}

/**
 * Reads the string fields of a form. A NUL (U+0000) in a name or value is refused with `invalid_input`: the
 * database cannot store it. Fields land in a Map first so a field named `__proto__` stays a field.
 */
export function formFields(formData: FormData): Record<string, string> {
  const fields = new Map<string, string>();
  for (const [key, value] of formData.entries()) {
    if (typeof value !== "string" || key.startsWith("$")) continue;
    if (key.includes("\u0000") || value.includes("\u0000")) {
      const name = key.replaceAll("\u0000", "").slice(0, 40);
      const message = "Contains a NUL character (U+0000), which cannot be stored.";
      throw new MeshportError("invalid_input", `Field ${name} contains a NUL character.`, {
        subject: "nul",
        details: { fieldErrors: { [name]: [message] }, formErrors: [] },
      });
    }
    fields.set(key, value);
  }
  return Object.fromEntries(fields);
}
