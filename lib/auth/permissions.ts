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
