import "server-only";
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb } from "@/db/client.ts";
import { application, contractVersion } from "@/db/schema.ts";
import { recordAudit } from "@/lib/audit/audit.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { assertWritesForTeam } from "@/lib/catalog/applications.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { PUBLISH_LOCK_NAMESPACE, rebuildIndex, withoutContent, type PublishOutcome } from "./publish.ts";

/** Input to move a version through its lifecycle. */
export const setStateInput = z.object({
  state: z.enum(["released", "deprecated", "retired"]),
  reason: z.string().trim().max(1000).default(""),
});

const ALLOWED_TRANSITIONS: Record<string, readonly string[]> = {
  draft: ["released", "retired"],
  released: ["deprecated", "retired"],
  deprecated: ["released", "retired"],
  retired: [],
};

/** Releases a draft, deprecates or retires a version (deprecating and retiring need a reason). */
export async function setVersionState(
  principal: Principal,
  appSlug: string,
  version: string,
  input: unknown,
): Promise<PublishOutcome["version"]> {
  const data = parseInput(setStateInput, input);
  if (data.state !== "released" && data.reason === "") {
    throw new MeshportError("invalid_input", "Say why.", { details: { fieldErrors: { reason: ["Give a reason."] }, formErrors: [] } });
  }
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [app] = await tx.select().from(application).where(eq(application.slug, appSlug));
    if (!app) throw new MeshportError("not_found", `No application ${appSlug}.`, { subject: "application" });
    await assertWritesForTeam(tx, principal, app.teamId);
    await tx.execute(sql`select pg_advisory_xact_lock(${PUBLISH_LOCK_NAMESPACE}, hashtext(${app.id}))`);
    const [found] = await tx
      .select()
      .from(contractVersion)
      .where(and(eq(contractVersion.applicationId, app.id), eq(contractVersion.version, version)));
    if (!found) throw new MeshportError("not_found", `${appSlug} has no version ${version}.`, { subject: "version" });
    if (!ALLOWED_TRANSITIONS[found.state]!.includes(data.state)) {
      throw new MeshportError("conflict", `A ${found.state} version cannot become ${data.state}.`, { subject: "lifecycle" });
    }
    const [updated] = await tx
      .update(contractVersion)
      .set({ state: data.state, stateReason: data.reason || null })
      .where(eq(contractVersion.id, found.id))
      .returning();
    await recordAudit(tx, principal, {
      action: `contract.${data.state === "released" ? "release" : data.state === "deprecated" ? "deprecate" : "retire"}`,
      targetType: "application",
      targetId: app.id,
      details: { application: app.slug, version, from: found.state, to: data.state, reason: data.reason },
    });
    await rebuildIndex(tx, app);
    return withoutContent(updated!);
  });
}

