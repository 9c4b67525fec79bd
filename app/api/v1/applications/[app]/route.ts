import { approvalRuleOf, getApplication, reviewPolicyOf, updateApplication } from "@/lib/catalog/applications.ts";
import { authenticated, json, readJson } from "../../_lib/http.ts";
import { otherMethods } from "../../_lib/methods.ts";

export const dynamic = "force-dynamic";

/** One application with its team, versions, compatibility mode, governance settings (with their defaults), kind and systems. */
export const GET = authenticated<{ app: string }>(async (_request, principal, { app }) => {
  const found = await getApplication(principal, app);
  return json({
    ...found,
    governance: { reviewPolicy: reviewPolicyOf(found.application), approvalRule: approvalRuleOf(found.application), clientIdPatterns: found.application.clientIdPatterns },
  });
});

/**
 * Changes `{ name?, description?, domain?, tags?, compatibilityMode?, lintPolicy?, reviewPolicy?, approvalRule?,
 * clientIdPatterns? }` (team members): `reviewPolicy` `direct` | `review`; `approvalRule` `{ owner, consumer }`,
 * each 0–10 (default 1); `clientIdPatterns` at most 20, `*` for any characters; `kind` source-integration |
 * target-integration | service | gateway and `systems` (as `x-meshport-systems`: names or `{ name, type?, role?,
 * description? }`, at most 20, found by name or created for the team) set what the portal says it is and connects.
 */
export const PATCH = authenticated<{ app: string }>(async (request, principal, { app }) => {
  const body = await readJson(request);
  return json({ application: await updateApplication(principal, app, body) });
});

/** Other methods are refused with 405 in the error shape. */
export const { POST, PUT, DELETE } = otherMethods("GET", "PATCH");
