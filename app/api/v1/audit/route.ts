import { auditFilterParams, listAudit } from "@/lib/audit/audit.ts";
import { authenticated, json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/**
 * Audit entries, newest first (admin, reviewer): `?limit&before` to page, and the report's filters
 * `from&to` (ISO date or date and time), `actor` (id, email or label), `actorId`, `application` (slug),
 * `action` (repeated or comma-separated; `change_request.` names every action under it), `targetType&targetId`.
 */
export const GET = authenticated(async (request, principal) => {
  const params = new URL(request.url).searchParams;
  const paging = Object.fromEntries(["limit", "before"].flatMap((name) => (params.has(name) ? [[name, params.get(name)!]] : [])));
  return json(await listAudit(principal, { ...paging, ...auditFilterParams(params) }));
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
