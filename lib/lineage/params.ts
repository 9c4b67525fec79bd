import { MeshportError } from "@/lib/errors.ts";

/** The query parameters a lineage is asked with (each once: a repeated one counts as its first value). */
export const LINEAGE_PARAMS = ["channel", "message", "application", "at"] as const;

/** The lineage's input from query parameters; blank ones are left out, values are validated by the service. */
export function lineageParams(params: URLSearchParams): Partial<Record<(typeof LINEAGE_PARAMS)[number], string>> {
  const input: Partial<Record<(typeof LINEAGE_PARAMS)[number], string>> = {};
  for (const name of LINEAGE_PARAMS) {
    const value = params.get(name);
    if (value !== null && value.trim() !== "") input[name] = value;
  }
  return input;
}

/** The formats `GET /api/v1/lineage` answers in. */
export const LINEAGE_FORMATS = ["json", "csv"] as const;

/** The format asked for (`json` unless `?format=` says otherwise); anything else is refused. */
export function lineageFormat(params: URLSearchParams): (typeof LINEAGE_FORMATS)[number] {
  const format = params.get("format") ?? "json";
  const known = LINEAGE_FORMATS.find((f) => f === format);
  if (!known) {
    throw new MeshportError("invalid_input", "Ask for json or csv.", {
      details: { fieldErrors: { format: [`Use one of ${LINEAGE_FORMATS.join(", ")}.`] }, formErrors: [] },
    });
  }
  return known;
}

/** A portal link with these query parameters (the lineage page, its exports); blank ones are left out. */
export function lineageHref(base: string, input: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams(Object.entries(input).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""));
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}
