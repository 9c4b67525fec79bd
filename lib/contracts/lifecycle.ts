import "server-only";
import { driftOnCatalogChange } from "@/lib/drift/hooks.ts";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { contractVersion, teamMember, type Application } from "@/db/schema.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { defineCommand, type AuthorizeContext } from "@/lib/service.ts";
import { evaluateChange } from "@/registry/index.ts";
import { emitEvent } from "@/lib/notifications/events.ts";
import { consumersOf } from "@/lib/reviews/impact.ts";
import { currentVersions } from "@/lib/catalog/applications.ts";
import { registerContractSubjects, subjectsAuditDetails } from "@/lib/schema-registry/contracts.ts";
import { policyOf, storedVersionsOf } from "./evaluate.ts";
import { applyContractDeclaration, authorizeContract, changeRequestsPath, rebuildIndex, withoutContent, type PublishOutcome } from "./publish.ts";
import type { Transaction } from "@/db/client.ts";
import type { ContractVersion } from "@/db/schema.ts";
import type { Principal } from "@/lib/auth/principal.ts";

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

/** The state change asked for, with its reason (deprecating and retiring need one). */
function readStateChange(raw: unknown): z.output<typeof setStateInput> {
  const data = parseInput(setStateInput, raw);
  if (data.state !== "released" && data.reason === "") {
    throw new MeshportError("invalid_input", "Say why.", { details: { fieldErrors: { reason: ["Give a reason."] }, formErrors: [] } });
  }
  return data;
}

/** `authorize` of a command on one version: the contract's application, writable and locked (the version is read in `run`). */
function authorizeVersionOf(ctx: AuthorizeContext<unknown>, appSlug: string, _version: string): Promise<Application> {
  void _version;
  return authorizeContract(ctx, appSlug);
}

const STATE_ACTIONS = { released: "contract.release", deprecated: "contract.deprecate", retired: "contract.retire" } as const;

/** Releases a draft, deprecates or retires a version (deprecating and retiring need a reason). */
export const setVersionState = defineCommand({
  permission: "contracts:write",
  input: readStateChange,
  audit: Object.values(STATE_ACTIONS),
  authorize: authorizeVersionOf,
  run: async ({ tx, principal, input: data, target: app, audit }, appSlug: string, version: string): Promise<PublishOutcome["version"]> => {
    const [found] = await tx
      .select()
      .from(contractVersion)
      .where(and(eq(contractVersion.applicationId, app.id), eq(contractVersion.version, version)));
    if (!found) throw new MeshportError("not_found", `${appSlug} has no version ${version}.`, { subject: "version" });
    if (!ALLOWED_TRANSITIONS[found.state]!.includes(data.state)) {
      throw new MeshportError("conflict", `A ${found.state} version cannot become ${data.state}.`, { subject: "lifecycle" });
    }
    if (found.state === "draft" && data.state === "released") await assertReleasable(tx, principal, app, found);
    const currentBefore = (await currentVersions(tx, [app.id])).get(app.id)?.id ?? null;
    const [updated] = await tx
      .update(contractVersion)
      .set({ state: data.state, stateReason: data.reason || null })
      .where(eq(contractVersion.id, found.id))
      .returning();
    // A draft released now gets its registry subjects; deprecated and retired versions keep theirs.
    const subjects = data.state === "released" && found.subjectsRegisteredAt === null ? await registerContractSubjects(tx, principal, app, found) : null;
    audit({
      action: STATE_ACTIONS[data.state],
      targetType: "application",
      targetId: app.id,
      details: { application: app.slug, version, from: found.state, to: data.state, reason: data.reason, ...(subjects ? subjectsAuditDetails(subjects) : {}) },
    });
    // The current version speaks for the application: when this change makes another version current (a draft
    // released above the others, the current one deprecated or retired), its mesh extensions set the kind and systems.
    const currentAfter = (await currentVersions(tx, [app.id])).get(app.id) ?? null;
    if (currentAfter && currentAfter.id !== currentBefore) {
      const [now] = await tx.select({ contract: contractVersion.contract }).from(contractVersion).where(eq(contractVersion.id, currentAfter.id));
      if (now) await applyContractDeclaration(tx, principal, app, now.contract, currentAfter.version);
    }
    await rebuildIndex(tx, app);
    await driftOnCatalogChange(tx, principal, app);
    if (data.state === "deprecated" || data.state === "retired") await notifyConsumers(tx, principal, app, version, data.state, data.reason);
    return withoutContent(updated!);
  },
});

/**
 * Releasing a draft is publishing it: judged against the versions stored now, a draft that breaks someone (or
 * any draft of an application that reviews every change) needs a change request, as a direct publish would.
 */
async function assertReleasable(tx: Transaction, principal: Principal, app: Application, draft: ContractVersion): Promise<void> {
  if (principal.kind === "system") return;
  const others = (await storedVersionsOf(tx, app.id)).filter((v) => v.id !== draft.id);
  const evaluation = evaluateChange({ contract: draft.contract, diagnostics: [], version: draft.version }, others, policyOf(app));
  const review = evaluation.blockers.find((b) => b.kind === "review");
  if (!review) return;
  throw new MeshportError("conflict", `Draft ${draft.version}: ${review.message}`, {
    subject: "review_required",
    details: { report: evaluation.report, suggestedVersion: evaluation.suggestedVersion, changeRequestsUrl: changeRequestsPath(app.slug) },
  });
}

/** Tells the teams of the applications that consume this one that a version they may read is going away. */
async function notifyConsumers(tx: Transaction, principal: Principal, app: Application, version: string, state: "deprecated" | "retired", reason: string): Promise<void> {
  const consumers = await consumersOf(tx, app);
  const teamIds = [...new Set([app.teamId, ...consumers.map((c) => c.teamId)])];
  const members = await tx.select({ userId: teamMember.userId }).from(teamMember).where(inArray(teamMember.teamId, consumers.map((c) => c.teamId).filter((id) => id !== app.teamId).concat("")));
  await emitEvent(tx, {
    type: state === "deprecated" ? "version.deprecated" : "version.retired",
    summary: `${app.slug} ${version} was ${state}${reason ? `: ${reason}` : ""}.`,
    link: `/catalog/${encodeURIComponent(app.slug)}/versions/${encodeURIComponent(version)}`,
    actor: principal,
    teamIds,
    recipients: [...new Set(members.map((m) => m.userId))],
    data: { application: { slug: app.slug, name: app.name }, version, state, reason, consumers: consumers.map((c) => c.slug) },
  });
}
