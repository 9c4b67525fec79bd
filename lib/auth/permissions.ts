import { MeshportError } from "@/lib/errors.ts";
import type { Principal, TokenScope } from "./principal.ts";
import type { Role } from "@/db/schema.ts";

/** Everything a principal may be allowed to do, checked by services before acting. */
export const ACTIONS = [
  "catalog:read",
  "contracts:write",
  "reviews:decide",
  "audit:read",
  "users:manage",
  "teams:manage",
  "tokens:manage",
  "brokers:manage",
  "agent:report",
] as const;
/** One permission. */
export type Action = (typeof ACTIONS)[number];

/** What each portal role may do. Roles are cumulative from viewer up. */
const ROLE_ACTIONS: Record<Role, readonly Action[]> = {
  viewer: ["catalog:read"],
  editor: ["catalog:read", "contracts:write"],
  reviewer: ["catalog:read", "contracts:write", "reviews:decide", "audit:read"],
  admin: ACTIONS.filter((action) => action !== "agent:report"),
};

/** What each API token scope allows. */
const SCOPE_ACTIONS: Record<TokenScope, readonly Action[]> = {
  read: ["catalog:read"],
  "contracts:write": ["catalog:read", "contracts:write"],
  // An agent only reports what it sees; it reads the channel templates it labels observations with.
  "agent:report": ["agent:report", "catalog:read"],
  admin: ACTIONS.filter((action) => action !== "agent:report"),
};

/**
 * The least role a token's creator must hold now for the token to keep a scope: a token
 * never grants more than the person who made it could do themselves. `agent:report` is
 * an admin's to hand out (agents write the mesh picture everyone reads).
 */
export const SCOPE_MIN_ROLE: Record<TokenScope, Role> = {
  read: "viewer",
  "contracts:write": "editor",
  "agent:report": "admin",
  admin: "admin",
};

const ROLE_RANK: Record<Role, number> = { viewer: 0, editor: 1, reviewer: 2, admin: 3 };

/** True when a creator with this role may hand out (and keep alive) a token with this scope. */
export function roleGrantsScope(role: Role, scope: TokenScope): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[SCOPE_MIN_ROLE[scope]];
}

/**
 * The scopes a token carries in effect, given its creator now: a disabled creator's
 * tokens carry none, a demoted one's keep only what the new role allows. System-made
 * tokens (no creator) keep theirs.
 */
export function effectiveTokenScopes(
  scopes: readonly TokenScope[],
  creator: { role: Role; disabled: boolean } | null,
): TokenScope[] {
  if (!creator) return [...scopes];
  if (creator.disabled) return [];
  return scopes.filter((scope) => roleGrantsScope(creator.role, scope));
}

/** True when the principal may perform the action (ownership checks come on top). */
export function can(principal: Principal, action: Action): boolean {
  switch (principal.kind) {
    case "system":
      return true;
    case "user":
      return ROLE_ACTIONS[principal.role].includes(action);
    case "token":
      return principal.scopes.some((scope) => SCOPE_ACTIONS[scope].includes(action));
  }
}

/** Throws `forbidden` unless the principal may perform the action. */
export function assertCan(principal: Principal, action: Action): void {
  if (!can(principal, action)) {
    throw new MeshportError("forbidden", `You are not allowed to ${describeAction(action)}.`, {
      details: { action },
    });
  }
}

/** The actions a principal holds, for display. */
export function allowedActions(principal: Principal): Action[] {
  return ACTIONS.filter((action) => can(principal, action));
}

function describeAction(action: Action): string {
  const phrases: Record<Action, string> = {
    "catalog:read": "read the catalog",
    "contracts:write": "publish contracts",
    "reviews:decide": "decide on reviews",
    "audit:read": "read the audit log",
    "users:manage": "manage users",
    "teams:manage": "manage teams",
    "tokens:manage": "manage API tokens",
    "brokers:manage": "manage brokers",
    "agent:report": "send agent reports",
  };
  return phrases[action];
}
