import "server-only";
import { isMeshportError } from "@/lib/errors.ts";

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

/** Reads the string fields of a form. */
export function formFields(formData: FormData): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of formData.entries()) {
    if (typeof value === "string" && !key.startsWith("$")) fields[key] = value;
  }
  return fields;
}
