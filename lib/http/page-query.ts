/**
 * Search and path parameters as pages read them. A page cannot answer a 4xx with the API's error shape, so
 * it reads leniently instead: a repeated parameter counts once, an out-of-range page is clamped, and what
 * the services would refuse (overlong text, malformed numbers) is dropped rather than thrown into a 500.
 */

/** What Next.js hands a page for one search parameter. */
export type SearchParamValue = string | string[] | undefined;

/** One value of a search parameter: the first when repeated; undefined when absent, blank or longer than `maxLength`. */
export function queryText(value: SearchParamValue, maxLength = 200): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  const text = first?.trim();
  return text && text.length <= maxLength ? text : undefined;
}

/** A positive whole number (an id, a cursor), or undefined when the value is anything else or past `max`. */
export function positiveInteger(value: SearchParamValue, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = queryText(value, 20);
  if (!text || !/^\d+$/.test(text)) return undefined;
  const number = Number(text);
  return number >= 1 && number <= max ? number : undefined;
}

/** A 1-based page number, clamped to `maxPage` (what the service's offset bound allows); page 1 when not a number. */
export function pageNumber(value: SearchParamValue, maxPage: number): number {
  return Math.min(positiveInteger(value) ?? 1, maxPage);
}

/** A path parameter percent-decoded once more (links encode addresses and keys), or the value itself when it does not decode. */
export function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
