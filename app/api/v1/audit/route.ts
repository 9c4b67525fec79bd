import { listAudit } from "@/lib/audit/audit.ts";
import { authenticated, json } from "../_lib/http.ts";
import { otherMethods } from "../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Audit entries, newest first; `?limit&before&action&actorId&targetType&targetId` (admin, reviewer). */
export const GET = authenticated(async (request, principal) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return json(await listAudit(principal, query));
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
