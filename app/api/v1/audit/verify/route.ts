import { verifyAuditChain } from "@/lib/audit/audit.ts";
import { authenticated, json } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** Recomputes the audit hash chain and reports the first tampered entry, if any. */
export const GET = authenticated(async (_request, principal) => json(await verifyAuditChain(principal)));

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
