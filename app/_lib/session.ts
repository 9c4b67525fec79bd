import "server-only";
import { headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { cache } from "react";
import { principalFromHeaders } from "@/lib/auth/authenticate.ts";
import { can, type Action } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";

/**
 * The signed-in user of this request (memoised per render), or null. Pages and their actions serve people in
 * browsers: a bearer token is an API credential and signs nobody in here (it would bounce between sign-in and
 * the page it cannot open).
 */
export const currentPrincipal = cache(async (): Promise<(Principal & { kind: "user" }) | null> => {
  const requestHeaders = await headers();
  // A bearer token would be looked up only to be turned away: with one, nobody is signed in here.
  if (requestHeaders.has("authorization")) return null;
  const principal = await principalFromHeaders(requestHeaders);
  return principal?.kind === "user" ? principal : null;
});

/** The signed-in user; redirects to sign-in when nobody is. */
export async function requireUser(): Promise<Principal & { kind: "user" }> {
  const principal = await currentPrincipal();
  if (!principal || principal.kind !== "user") redirect("/sign-in");
  return principal;
}

/** The signed-in user holding the permission; otherwise the 403 page. */
export async function requirePermission(action: Action): Promise<Principal & { kind: "user" }> {
  const principal = await requireUser();
  if (!can(principal, action)) forbidden();
  return principal;
}

/**
 * The caller of a server action. Actions are public endpoints: each authenticates
 * again and leaves authorisation to lib/; an expired session is an expected failure.
 */
export async function requireActor(): Promise<Principal> {
  const principal = await currentPrincipal();
  if (!principal) throw new MeshportError("unauthenticated", "Your session has ended; sign in again.");
  return principal;
}
