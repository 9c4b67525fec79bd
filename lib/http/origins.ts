/**
 * The portal's own origins, without server-only imports: the proxy, the API's cookie-write check and
 * better-auth all use the same list.
 */

/** The portal's public URL; cookies and origin checks depend on it. */
export function portalUrl(): string {
  return (
    process.env.MESHPORT_URL ||
    process.env.BETTER_AUTH_URL ||
    `http://localhost:${process.env.PORT || "3000"}`
  ).replace(/\/+$/, "");
}

/** Origins allowed to send state-changing requests with the session cookie. */
export function trustedOrigins(): string[] {
  const base = new URL(portalUrl());
  const origins = new Set([base.origin]);
  // localhost and 127.0.0.1 are the same portal to a local user.
  if (base.hostname === "localhost") origins.add(`${base.protocol}//127.0.0.1${base.port ? `:${base.port}` : ""}`);
  if (base.hostname === "127.0.0.1") origins.add(`${base.protocol}//localhost${base.port ? `:${base.port}` : ""}`);
  for (const origin of (process.env.MESHPORT_TRUSTED_ORIGINS ?? "").split(",")) {
    if (origin.trim()) origins.add(origin.trim());
  }
  return [...origins];
}

/** The origin of a URL, or null when it is not an absolute http(s) URL. */
function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * Whether a state-changing browser request comes from the portal itself: its Origin is trusted, or, when a
 * browser sent no Origin, its Referer's origin is. A request with neither cannot prove where it came from.
 */
export function comesFromTrustedOrigin(headers: Headers): { trusted: boolean; origin: string | null } {
  const trusted = trustedOrigins();
  const origin = headers.get("origin");
  // Browsers send the literal `null` for opaque origins (sandboxed frames, file:); it is never trusted.
  if (origin !== null) return { trusted: trusted.includes(origin), origin };
  const referer = headers.get("referer");
  const refererOrigin = referer ? originOf(referer) : null;
  return { trusted: refererOrigin !== null && trusted.includes(refererOrigin), origin: refererOrigin };
}
