import { verifyAuditChain } from "@/lib/audit/audit.ts";
import { authenticated, json } from "../../_lib/http.ts";

export const dynamic = "force-dynamic";

/** Recomputes the audit hash chain and reports the first tampered entry, if any. */
export const GET = authenticated(async (_request, principal) => json(await verifyAuditChain(principal)));
