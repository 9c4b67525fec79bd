import "server-only";
import { inArray } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { application, type ApplicationKind, type ContractVersion } from "@/db/schema.ts";
import { defineQuery, idInput } from "@/lib/service.ts";
import { contractDeclaration } from "@/lib/systems/declaration.ts";
import { systemsOfApplications, type ConnectedSystem } from "@/lib/systems/systems.ts";
import { getApplication } from "./applications.ts";
import { participantsOf } from "./participants.ts";
import { flowsOfVersion, versionById, type ChannelFlow } from "./views.ts";

/** An application on the other side of a channel, with its kind and the systems it connects. */
export interface FlowCounterpart {
  application: { slug: string; name: string; kind: ApplicationKind };
  team: { slug: string; name: string };
  systems: ConnectedSystem[];
}

/** One channel of the application's current version and who is on its other side. */
export interface MeshChannel {
  action: "send" | "receive";
  channel: string;
  messages: string[];
  /** Receivers of what it sends, or senders of what it receives (itself left out). */
  counterparts: FlowCounterpart[];
  truncated: boolean;
}

/** Applications listed on the other side of one channel at most. */
export const MAX_COUNTERPARTS = 20;

type ApplicationRecord = Awaited<ReturnType<typeof getApplication>>;

/** The record's current version and its flows, read side by side (both follow from its id); none without one. */
async function currentVersionOf(db: Executor, app: ApplicationRecord): Promise<{ version: ContractVersion | null; flows: ChannelFlow[]; truncated: boolean }> {
  if (!app.currentVersionId) return { version: null, flows: [], truncated: false };
  const [version, { flows, truncated }] = await Promise.all([versionById(db, app.currentVersionId), flowsOfVersion(db, app.currentVersionId)]);
  return { version, flows, truncated };
}

/**
 * The flow through an application, left to right: the systems it reads from (source) → the application → the
 * channels it sends and receives → the applications on their other side → the systems those connect; and the
 * systems it delivers into (target). Also whether its current contract declares the kind and systems, which a
 * portal setting gives way to at the next publish carrying them.
 */
export const applicationMesh = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, principal, input: appSlug }) => {
    const app = await getApplication(principal, appSlug);
    const { version, flows, truncated } = await currentVersionOf(db, app);
    return meshOf(db, appSlug, app, version, flows, truncated);
  },
});

/**
 * What the application page shows, each read once: the catalog record and current contract (as `currentContract`
 * gives them), the current version's flows (as `applicationFlows`) and the mesh around it (as {@link applicationMesh}).
 */
export const applicationOverview = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, principal, input: appSlug }) => {
    const app = await getApplication(principal, appSlug);
    const { version, flows, truncated } = await currentVersionOf(db, app);
    const mesh = await meshOf(db, appSlug, app, version, flows, truncated);
    return { ...app, version, contract: version?.contract ?? null, flows, truncated, mesh };
  },
});

async function meshOf(db: Executor, appSlug: string, app: ApplicationRecord, current: ContractVersion | null, flows: ChannelFlow[], truncated: boolean) {
  const participants = await participantsOf(
    db,
    flows.map((f) => f.channel),
    MAX_COUNTERPARTS + 1,
  );
  const slugs = new Set<string>();
  for (const p of participants.values()) for (const x of [...p.producers, ...p.consumers]) slugs.add(x.application.slug);
  slugs.delete(appSlug);
  const others = slugs.size
    ? await db.select({ id: application.id, slug: application.slug, kind: application.kind }).from(application).where(inArray(application.slug, [...slugs]))
    : [];
  const systems = await systemsOfApplications(
    db,
    others.map((o) => o.id),
  );
  const bySlug = new Map(others.map((o) => [o.slug, o]));
  const channels: MeshChannel[] = flows.map((f) => {
    const found = participants.get(f.channel);
    const side = (f.action === "send" ? found?.consumers : found?.producers) ?? [];
    const counterparts = [...new Map(side.filter((p) => p.application.slug !== appSlug).map((p) => [p.application.slug, p])).values()];
    return {
      action: f.action,
      channel: f.channel,
      messages: f.messages.map((m) => m.key),
      counterparts: counterparts.slice(0, MAX_COUNTERPARTS).map((p) => {
        const other = bySlug.get(p.application.slug);
        return {
          application: { ...p.application, kind: other?.kind ?? "service" },
          team: p.team,
          systems: other ? (systems.get(other.id) ?? []) : [],
        };
      }),
      truncated: counterparts.length > MAX_COUNTERPARTS || Boolean(found?.truncated),
    };
  });
  let declared: { version: string; kind: boolean; systems: boolean } | null = null;
  const mesh = current?.contract.mesh;
  if (current && mesh && (mesh.kind !== undefined || mesh.systems !== undefined)) {
    // Stored contracts were checked at upload; one that no longer reads counts as declaring nothing.
    let readable = true;
    try {
      contractDeclaration(current.contract);
    } catch {
      readable = false;
    }
    if (readable) declared = { version: current.version, kind: mesh.kind !== undefined, systems: mesh.systems !== undefined };
  }
  return {
    kind: app.kind,
    kindSource: app.application.kindSource,
    sources: app.systems.filter((s) => s.role === "source"),
    targets: app.systems.filter((s) => s.role === "target"),
    channels,
    truncated,
    declared,
  };
}
