/** Where the portal goes after sign-in when the asked-for page is missing or not the portal's own. */
export const DEFAULT_NEXT_PATH = "/catalog";

/** Longest `next` value followed; a longer one is not a page of the portal anyway. */
const MAX_NEXT_LENGTH = 2048;

/**
 * The same-origin path to go to after sign-in, or DEFAULT_NEXT_PATH. Browsers read `/\host`,
 * `//host` and `/\t/host` as another site, and the URL parser drops tabs and newlines, so only a
 * plain absolute path is considered: one slash, no backslash, no control character or space; then
 * it must resolve to the portal's own origin.
 */
export function safeNextPath(next: string | null | undefined, portalUrl: string): string {
  if (typeof next !== "string" || next.length === 0 || next.length > MAX_NEXT_LENGTH) return DEFAULT_NEXT_PATH;
  if (next[0] !== "/" || next[1] === "/" || next[1] === "\\") return DEFAULT_NEXT_PATH;
  for (let i = 0; i < next.length; i += 1) {
    const code = next.charCodeAt(i);
    // Control characters (C0, DEL, C1), space, and the backslash browsers treat as a slash.
    if (code <= 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x5c) return DEFAULT_NEXT_PATH;
  }
  let base: URL;
  let resolved: URL;
  try {
    base = new URL(portalUrl);
    resolved = new URL(next, base);
  } catch {
    return DEFAULT_NEXT_PATH;
  }
  if (resolved.origin !== base.origin) return DEFAULT_NEXT_PATH;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
