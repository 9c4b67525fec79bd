import "server-only";
import { and, asc, count, eq, inArray, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Executor, Transaction } from "@/db/client.ts";
import {
  application,
  applicationSystem,
  contractVersion,
  flow,
  system,
  SYSTEM_ROLES,
  SYSTEM_TYPES,
  team,
  type Application,
  type ApplicationKind,
  type System,
  type SystemRole,
  type SystemType,
} from "@/db/schema.ts";
import type { AuditEvent } from "@/lib/audit/record.ts";
import { governsEveryTeam, isCurrentVersion, mayWriteForTeam } from "@/lib/catalog/applications.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError, slugSchema } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand, defineQuery, idInput, type AuthorizeContext } from "@/lib/service.ts";
import { systemDescriptionSchema, systemNameSchema, systemSlugOf, type DeclaredSystem, type MeshDeclaration } from "./declaration.ts";

/** A system with its owning team, as lists and pages show it. */
export interface SystemView {
  id: string;
  slug: string;
  name: string;
  type: SystemType;
  description: string;
  team: { slug: string; name: string } | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A system an application connects, and how. */
export interface ConnectedSystem {
  slug: string;
  name: string;
  type: SystemType;
  role: SystemRole;
}

const columns = {
  id: system.id,
  slug: system.slug,
  name: system.name,
  type: system.type,
  description: system.description,
  teamSlug: team.slug,
  teamName: team.name,
  createdAt: system.createdAt,
  updatedAt: system.updatedAt,
};

function toView(row: { [K in keyof typeof columns]: unknown }): SystemView {
  return {
    id: String(row.id),
    slug: String(row.slug),
    name: String(row.name),
    type: row.type as SystemType,
    description: String(row.description),
    team: row.teamSlug ? { slug: String(row.teamSlug), name: String(row.teamName) } : null,
    createdAt: row.createdAt as Date,
    updatedAt: row.updatedAt as Date,
  };
}

/** True when the principal may change this system: admins, and writers of its owning team (nobody else for an unowned one). */
export async function mayManageSystem(db: Executor, principal: Principal, found: Pick<System, "teamId">): Promise<boolean> {
  if (governsEveryTeam(principal)) return true;
  return found.teamId !== null && (await mayWriteForTeam(db, principal, found.teamId));
}

/** The team a system input names (a slug), checked to exist and to be the principal's; null (no owner) is for admins only. */
async function teamFor(tx: Executor, principal: Principal, teamSlug: string | null): Promise<{ id: string; slug: string } | null> {
  if (teamSlug === null) {
    if (!governsEveryTeam(principal)) {
      throw new MeshportError("forbidden", "Only an admin can leave a system without an owning team; choose your team.", { subject: "system" });
    }
    return null;
  }
  const [owner] = await tx.select({ id: team.id, slug: team.slug }).from(team).where(eq(team.slug, teamSlug));
  if (!owner) throw new MeshportError("invalid_input", `No team ${teamSlug}.`, { details: { fieldErrors: { team: [`No team ${teamSlug}.`] }, formErrors: [] } });
  if (!(await mayWriteForTeam(tx, principal, owner.id))) {
    throw new MeshportError("forbidden", `Only members of ${teamSlug} (or admins) can give it a system.`, { subject: "team" });
  }
  return owner;
}

/** Input to create a system. */
export const createSystemInput = z.object({
  name: systemNameSchema,
  /** Defaults to one made from the name. */
  slug: slugSchema(60).optional(),
  type: z.enum(SYSTEM_TYPES).default("other"),
  /** The owning team's slug; null (no owner) is an admin's choice. */
  team: z.string().trim().max(60).nullable(),
  description: systemDescriptionSchema.default(""),
});

/** Input to change a system. */
export const updateSystemInput = z
  .object({
    name: systemNameSchema.optional(),
    type: z.enum(SYSTEM_TYPES).optional(),
    team: z.string().trim().max(60).nullable().optional(),
    description: systemDescriptionSchema.optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: "Nothing to change." });

function nameTaken(name: string): MeshportError {
  return new MeshportError("conflict", `A system named ${name} already exists.`, { subject: "system", details: { fieldErrors: { name: ["This name is taken."] } } });
}

/** The system with this name, whatever its case. */
async function systemNamed(tx: Executor, name: string): Promise<System | undefined> {
  const [found] = await tx.select().from(system).where(sql`lower(${system.name}) = lower(${name})`).limit(1);
  return found;
}

/** Inserts a system under its slug, or the first free `slug-2`, `slug-3`…; undefined when its name was taken meanwhile. */
async function insertSystem(tx: Executor, values: { name: string; slug?: string; type: SystemType; teamId: string | null; description: string }): Promise<System | undefined> {
  const base = values.slug ?? systemSlugOf(values.name);
  for (let n = 1; n <= 50; n++) {
    const slug = n === 1 ? base : `${base.slice(0, 56)}-${n}`;
    const [created] = await tx
      .insert(system)
      .values({ id: newId("sys"), slug, name: values.name, type: values.type, teamId: values.teamId, description: values.description })
      .onConflictDoNothing()
      .returning();
    if (created) return created;
    if (await systemNamed(tx, values.name)) return undefined;
    if (values.slug) {
      throw new MeshportError("conflict", `A system ${values.slug} already exists.`, { subject: "system", details: { fieldErrors: { slug: ["This slug is taken."] } } });
    }
  }
  throw new MeshportError("conflict", `No free address for a system named ${values.name}.`, { subject: "system" });
}

/** The team a new system goes to, once the principal is known to write for it. */
function ownerOfNew({ tx, principal, input }: AuthorizeContext<{ team: string | null }>): Promise<{ id: string; slug: string } | null> {
  return teamFor(tx, principal, input.team);
}

/** Creates a system (for a team the principal writes for; without a team: admins). */
export const createSystem = defineCommand({
  permission: "contracts:write",
  input: createSystemInput,
  audit: "system.create",
  authorize: ownerOfNew,
  run: async ({ tx, input: data, target: owner, audit }): Promise<System> => {
    if (await systemNamed(tx, data.name)) throw nameTaken(data.name);
    const created = await insertSystem(tx, { name: data.name, ...(data.slug ? { slug: data.slug } : {}), type: data.type, teamId: owner?.id ?? null, description: data.description });
    if (!created) throw nameTaken(data.name);
    audit({ targetType: "system", targetId: created.id, details: { system: created.slug, name: created.name, type: created.type, team: owner?.slug ?? null } });
    return created;
  },
});

/** The system, locked for the change, once the principal may change it. */
async function manageableSystem({ tx, principal }: AuthorizeContext<unknown>, slug: string): Promise<System> {
  const [found] = await tx.select().from(system).where(eq(system.slug, slug)).for("update");
  if (!found) throw new MeshportError("not_found", `No system ${slug}.`, { subject: "system" });
  if (!(await mayManageSystem(tx, principal, found))) {
    throw new MeshportError("forbidden", "Only the owning team (or admins) can change this system.", { subject: "system" });
  }
  return found;
}

async function teamSlugOf(tx: Executor, teamId: string | null): Promise<string | null> {
  if (teamId === null) return null;
  const [row] = await tx.select({ slug: team.slug }).from(team).where(eq(team.id, teamId));
  return row?.slug ?? null;
}

/** Changes a system's name, type, owning team or description (its team, or admins). */
export const updateSystem = defineCommand({
  permission: "contracts:write",
  input: updateSystemInput,
  audit: "system.update",
  authorize: manageableSystem,
  run: async ({ tx, principal, input: data, target: found, audit }, slug: string): Promise<System> => {
    void slug;
    const change: Partial<Pick<System, "name" | "type" | "description" | "teamId">> = {};
    if (data.name !== undefined && data.name !== found.name) {
      const other = await systemNamed(tx, data.name);
      if (other && other.id !== found.id) throw nameTaken(data.name);
      change.name = data.name;
    }
    if (data.type !== undefined) change.type = data.type;
    if (data.description !== undefined) change.description = data.description;
    if (data.team !== undefined) change.teamId = (await teamFor(tx, principal, data.team))?.id ?? null;
    const [updated] = Object.keys(change).length
      ? await tx.update(system).set({ ...change, updatedAt: new Date() }).where(eq(system.id, found.id)).returning()
      : [found];
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const key of ["name", "type", "description"] as const) {
      if (found[key] !== updated![key]) {
        before[key] = found[key];
        after[key] = updated![key];
      }
    }
    if (found.teamId !== updated!.teamId) {
      before.team = await teamSlugOf(tx, found.teamId);
      after.team = await teamSlugOf(tx, updated!.teamId);
    }
    audit({ targetType: "system", targetId: found.id, details: { system: found.slug, before, after } });
    return updated!;
  },
});

/** Deletes a system no application connects any more (its team, or admins); a connected one is refused with who connects it. */
export const deleteSystem = defineCommand({
  permission: "contracts:write",
  input: z.undefined(),
  audit: "system.delete",
  authorize: manageableSystem,
  run: async ({ tx, target: found, audit }, slug: string): Promise<{ deleted: string }> => {
    const connected = await tx
      .selectDistinct({ slug: application.slug })
      .from(applicationSystem)
      .innerJoin(application, eq(application.id, applicationSystem.applicationId))
      .where(eq(applicationSystem.systemId, found.id))
      .orderBy(asc(application.slug))
      .limit(21);
    if (connected.length > 0) {
      const names = connected.slice(0, 20).map((r) => r.slug);
      throw new MeshportError("conflict", `${found.name} is still connected by ${names.join(", ")}${connected.length > 20 ? " and more" : ""}; disconnect them first.`, {
        subject: "system_connected",
        details: { applications: names },
      });
    }
    await tx.delete(system).where(eq(system.id, found.id));
    audit({ targetType: "system", targetId: found.id, details: { system: slug, name: found.name, type: found.type, team: await teamSlugOf(tx, found.teamId) } });
    return { deleted: slug };
  },
});

/** Filters and paging of the system list. */
export const listSystemsInput = z.object({
  type: z.enum(SYSTEM_TYPES).optional(),
  /** Words of the name. */
  q: z.string().trim().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

/** A listed system with how many applications connect it as source and as target. */
export type SystemSummary = SystemView & { sources: number; targets: number };

/** Lists systems by type or name, with how many integrations connect them, paged on the server. */
export const listSystems = defineQuery({
  permission: "catalog:read",
  input: listSystemsInput.default({ limit: 50, offset: 0 }),
  run: async ({ db, input: filter }): Promise<{ systems: SystemSummary[]; total: number }> => {
    const conditions: SQL[] = [];
    if (filter.type) conditions.push(eq(system.type, filter.type));
    // Words, not a pattern: position() needs no escaping of `%` or `_`.
    if (filter.q) conditions.push(sql`position(lower(${filter.q}) in lower(${system.name})) > 0`);
    const where = conditions.length ? and(...conditions) : undefined;
    const [totalRow] = await db.select({ n: count() }).from(system).where(where);
    const rows = await db.select(columns).from(system).leftJoin(team, eq(team.id, system.teamId)).where(where).orderBy(sql`lower(${system.name})`, asc(system.name)).limit(filter.limit).offset(filter.offset);
    const counts = rows.length
      ? await db
          .select({ systemId: applicationSystem.systemId, role: applicationSystem.role, n: count() })
          .from(applicationSystem)
          .where(inArray(applicationSystem.systemId, rows.map((r) => r.id)))
          .groupBy(applicationSystem.systemId, applicationSystem.role)
      : [];
    const countOf = (id: string, role: SystemRole) => counts.find((c) => c.systemId === id && c.role === role)?.n ?? 0;
    return { total: totalRow?.n ?? 0, systems: rows.map((r) => ({ ...toView(r), sources: countOf(r.id, "source"), targets: countOf(r.id, "target") })) };
  },
});

/** An application connecting a system. */
export interface SystemIntegration {
  application: { slug: string; name: string; kind: ApplicationKind | null };
  team: { slug: string; name: string };
  role: SystemRole;
}

/** An event that flows out of or into a system: a message on a channel of one of its integrations' current versions. */
export interface SystemEvent {
  application: { slug: string; name: string };
  channel: string;
  messageKey: string;
  payloadSchemaId: number | null;
}

/** Events a system page lists at most, each way. */
export const MAX_SYSTEM_EVENTS = 500;

/**
 * One system with the integrations that connect it (as source and as target) and the events that flow out of it
 * (sent by its source integrations' current versions) and into it (received by its target integrations').
 */
export const getSystem = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, input: slug }): Promise<{
    system: SystemView;
    integrations: { source: SystemIntegration[]; target: SystemIntegration[] };
    events: { out: SystemEvent[]; in: SystemEvent[]; truncated: boolean };
  }> => {
    const [row] = await db.select(columns).from(system).leftJoin(team, eq(team.id, system.teamId)).where(eq(system.slug, slug));
    if (!row) throw new MeshportError("not_found", `No system ${slug}.`, { subject: "system" });
    const links = await db
      .select({ appId: application.id, slug: application.slug, name: application.name, kind: application.kind, teamSlug: team.slug, teamName: team.name, role: applicationSystem.role })
      .from(applicationSystem)
      .innerJoin(application, eq(application.id, applicationSystem.applicationId))
      .innerJoin(team, eq(team.id, application.teamId))
      .where(eq(applicationSystem.systemId, row.id))
      .orderBy(asc(application.name), asc(application.slug));
    const integration = (l: (typeof links)[number]): SystemIntegration => ({
      application: { slug: l.slug, name: l.name, kind: l.kind },
      team: { slug: l.teamSlug, name: l.teamName },
      role: l.role,
    });
    const eventsOf = async (role: SystemRole, action: "send" | "receive") => {
      const ids = links.filter((l) => l.role === role).map((l) => l.appId);
      if (ids.length === 0) return [];
      return db
        .select({ slug: application.slug, name: application.name, channel: flow.channel, messageKey: flow.messageKey, payloadSchemaId: flow.payloadSchemaId })
        .from(flow)
        .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
        .innerJoin(application, eq(application.id, contractVersion.applicationId))
        .where(and(inArray(application.id, ids), eq(flow.action, action), isCurrentVersion()))
        .orderBy(asc(flow.channel), asc(flow.messageKey), asc(application.slug))
        .limit(MAX_SYSTEM_EVENTS + 1);
    };
    const [out, into] = await Promise.all([eventsOf("source", "send"), eventsOf("target", "receive")]);
    const event = (e: Awaited<ReturnType<typeof eventsOf>>[number]): SystemEvent => ({
      application: { slug: e.slug, name: e.name },
      channel: e.channel,
      messageKey: e.messageKey,
      payloadSchemaId: e.payloadSchemaId,
    });
    return {
      system: toView(row),
      integrations: { source: links.filter((l) => l.role === "source").map(integration), target: links.filter((l) => l.role === "target").map(integration) },
      events: { out: out.slice(0, MAX_SYSTEM_EVENTS).map(event), in: into.slice(0, MAX_SYSTEM_EVENTS).map(event), truncated: out.length > MAX_SYSTEM_EVENTS || into.length > MAX_SYSTEM_EVENTS },
    };
  },
});

/** The systems each application connects (by application id), sorted by role then name. */
export async function systemsOfApplications(db: Executor, applicationIds: readonly string[]): Promise<Map<string, ConnectedSystem[]>> {
  const result = new Map<string, ConnectedSystem[]>();
  const ids = [...new Set(applicationIds)];
  if (ids.length === 0) return result;
  const rows = await db
    .select({ applicationId: applicationSystem.applicationId, slug: system.slug, name: system.name, type: system.type, role: applicationSystem.role })
    .from(applicationSystem)
    .innerJoin(system, eq(system.id, applicationSystem.systemId))
    .where(inArray(applicationSystem.applicationId, ids))
    .orderBy(asc(applicationSystem.role), sql`lower(${system.name})`, asc(system.name));
  for (const { applicationId, ...connected } of rows) (result.get(applicationId) ?? result.set(applicationId, []).get(applicationId)!).push(connected);
  return result;
}

/** What an application is and connects, as an audit entry's `before` and `after` show it. */
interface MeshState {
  kind: ApplicationKind | null;
  kindSource: "contract" | "portal" | null;
  systems: Array<{ name: string; role: SystemRole }>;
}

async function meshStateOf(tx: Executor, app: Pick<Application, "id" | "kind" | "kindSource">): Promise<MeshState> {
  const systems = (await systemsOfApplications(tx, [app.id])).get(app.id) ?? [];
  return { kind: app.kind, kindSource: app.kindSource, systems: systems.map((s) => ({ name: s.name, role: s.role })) };
}

/** The system a declaration names: found by name (whatever its case), else created for the application's team. */
async function resolveSystem(tx: Transaction, app: Application, declared: DeclaredSystem, onCreate: (created: System) => unknown): Promise<System> {
  const existing = await systemNamed(tx, declared.name);
  if (existing) return existing;
  const created = await insertSystem(tx, { name: declared.name, type: declared.type, teamId: app.teamId, description: declared.description });
  if (!created) return (await systemNamed(tx, declared.name))!;
  await onCreate(created);
  return created;
}

/**
 * Sets an application's kind and systems from a declaration (a contract's extensions, or the portal), in the
 * caller's transaction: a part the declaration leaves out stays as it is; systems it names are found by name or
 * created, owned by the application's team. Records a `system.create` entry per system created and one
 * `application.kind.set` with `before` and `after` when anything changed. Returns the application as it is now.
 */
export async function applyDeclaration(
  tx: Transaction,
  app: Application,
  declaration: MeshDeclaration,
  source: "contract" | "portal",
  audit: (event: AuditEvent & { action: "system.create" | "application.kind.set" }) => unknown,
  context: Record<string, unknown> = {},
): Promise<Application> {
  const before = await meshStateOf(tx, app);
  let current = app;
  // Systems alone leave the kind, and whoever said it, as they are.
  if (declaration.kind !== undefined) {
    const [updated] = await tx
      .update(application)
      .set({ kind: declaration.kind, kindSource: source })
      .where(eq(application.id, app.id))
      .returning();
    current = updated!;
  }
  if (declaration.systems !== undefined) {
    const teamSlug = await teamSlugOf(tx, app.teamId);
    const rows: Array<{ applicationId: string; systemId: string; role: SystemRole }> = [];
    for (const declared of declaration.systems) {
      const found = await resolveSystem(tx, app, declared, (created) =>
        audit({
          action: "system.create",
          targetType: "system",
          targetId: created.id,
          details: { system: created.slug, name: created.name, type: created.type, team: teamSlug, application: app.slug, from: source, ...context },
        }),
      );
      if (!rows.some((r) => r.systemId === found.id && r.role === declared.role)) rows.push({ applicationId: app.id, systemId: found.id, role: declared.role });
    }
    await tx.delete(applicationSystem).where(eq(applicationSystem.applicationId, app.id));
    if (rows.length) await tx.insert(applicationSystem).values(rows);
  }
  const after = await meshStateOf(tx, current);
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    await audit({ action: "application.kind.set", targetType: "application", targetId: app.id, details: { application: app.slug, source, before, after, ...context } });
  }
  return current;
}

/** The roles, for pages that list a system's two sides. */
export { SYSTEM_ROLES };
