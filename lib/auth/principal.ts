import type { Role } from "@/db/schema.ts";

/** Scopes an API token can carry. */
export const TOKEN_SCOPES = ["read", "contracts:write", "agent:report", "admin"] as const;
/** One API token scope. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Portal roles, most privileged first. */
export const ROLES = ["admin", "reviewer", "editor", "viewer"] as const satisfies readonly Role[];

/** Who is acting: a signed-in user, an API token, or the system itself (start-up, CLI). */
export type Principal =
  | { kind: "user"; id: string; email: string; name: string; role: Role; address?: string | null }
  | {
      kind: "token";
      id: string;
      name: string;
      scopes: TokenScope[];
      teamId: string | null;
      createdBy: string | null;
      /** Where the request came from (the client address), recorded in audit entries as `from`. */
      address?: string | null;
    }
  | { kind: "system"; id: string; name: string };

/** The system principal used for start-up tasks and the operator's CLI. */
export function systemPrincipal(name = "system"): Principal {
  return { kind: "system", id: `system:${name}`, name };
}

/** A short human label for audit entries and logs. */
export function principalLabel(principal: Principal): string {
  switch (principal.kind) {
    case "user":
      return principal.email;
    case "token":
      return `token ${principal.name}`;
    case "system":
      return principal.name;
  }
}
