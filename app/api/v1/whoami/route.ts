import { allowedActions } from "@/lib/auth/permissions.ts";
import { authenticated, json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Who the caller is: a user (by session or token) with role, scopes and permissions. */
export const GET = authenticated(async (_request, principal) => {
  const permissions = allowedActions(principal);
  switch (principal.kind) {
    case "user":
      return json({ kind: "user", id: principal.id, email: principal.email, name: principal.name, role: principal.role, permissions });
    case "token":
      return json({
        kind: "token",
        id: principal.id,
        name: principal.name,
        scopes: principal.scopes,
        teamId: principal.teamId,
        createdBy: principal.createdBy,
        permissions,
      });
    case "system":
      return json({ kind: "system", id: principal.id, name: principal.name, permissions });
  }
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
