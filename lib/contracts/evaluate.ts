import "server-only";
import { eq } from "drizzle-orm";
import { getDb, type Executor } from "@/db/client.ts";
import { application, contractVersion, type Application } from "@/db/schema.ts";
import { evaluateChange, type ChangeEvaluation, type ChangePolicy, type Contract, type Diagnostic, type StoredVersion } from "@/registry/index.ts";
import { assertCan } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { effectiveMode } from "@/lib/catalog/applications.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { isRefusal, parseInPool } from "@/lib/parse-pool/pool.ts";
import { publishInput } from "./publish.ts";

/** The policy an application's changes are judged by: its compatibility mode, its review policy and its lint policy. */
export function policyOf(app: Application): ChangePolicy {
  return { mode: effectiveMode(app), review: app.reviewPolicy === "review" ? "review" : "direct", lint: { policy: app.lintPolicy === "block" ? "block" : "warn" } };
}

/** Every stored version of an application, as the evaluation reads them. */
export async function storedVersionsOf(db: Executor, applicationId: string): Promise<(StoredVersion & { id: string; contentHash: string })[]> {
  const rows = await db
    .select({ id: contractVersion.id, version: contractVersion.version, state: contractVersion.state, contract: contractVersion.contract, contentHash: contractVersion.contentHash })
    .from(contractVersion)
    .where(eq(contractVersion.applicationId, applicationId));
  return rows;
}

/** Evaluates a parsed proposal against an application's stored versions, as a publish would. */
export async function evaluateFor(
  db: Executor,
  app: Application,
  proposal: { contract?: Contract; diagnostics: readonly Diagnostic[]; version?: string },
): Promise<ChangeEvaluation> {
  return evaluateChange(proposal, await storedVersionsOf(db, app.id), policyOf(app));
}

/**
 * Parses an upload and evaluates it against an application's stored versions without storing anything: the
 * live evaluation of the publish page and of `POST /api/v1/applications/{app}/evaluate`.
 */
export async function evaluateUpload(principal: Principal, appSlug: string, input: unknown): Promise<ChangeEvaluation> {
  assertCan(principal, "catalog:read");
  const data = parseInput(publishInput, input);
  const db = await getDb();
  const [app] = await db.select().from(application).where(eq(application.slug, appSlug));
  if (!app) throw new MeshportError("not_found", `No application ${appSlug}.`, { subject: "application" });
  const parsed = await parseInPool(data.files, data.root ? { root: data.root } : {});
  const refused = parsed.diagnostics.find(isRefusal);
  if (refused) throw new MeshportError("invalid_input", `The contract was refused: ${refused.message}`, { subject: "contract", details: { diagnostics: parsed.diagnostics } });
  return evaluateFor(db, app, { ...(parsed.contract ? { contract: parsed.contract } : {}), diagnostics: parsed.diagnostics, ...(data.version ? { version: data.version } : {}) });
}
