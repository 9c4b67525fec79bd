import "server-only";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { contractVersion, type Application } from "@/db/schema.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { defineCommand, type AuthorizeContext } from "@/lib/service.ts";
import { authorizeContract, rebuildIndex, withoutContent, type PublishOutcome } from "./publish.ts";

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
  run: async ({ tx, input: data, target: app, audit }, appSlug: string, version: string): Promise<PublishOutcome["version"]> => {
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
    audit({
      action: STATE_ACTIONS[data.state],
      targetType: "application",
      targetId: app.id,
      details: { application: app.slug, version, from: found.state, to: data.state, reason: data.reason },
    });
    await rebuildIndex(tx, app);
    return withoutContent(updated!);
  },
});
