import "server-only";
import { eq } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { application, team, teamMember, type Application, type RegistrySubject, type Team } from "@/db/schema.ts";
import { mayWriteForTeam } from "@/lib/catalog/applications.ts";
import { assertCan } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";

/*
 * Who may do what in the registry. Reads: `catalog:read`, checked without the database (the id look-up is a hot
 * path). Writes on a subject: `contracts:write` for the subject's team (a governed or linked subject: its
 * application's team; a direct one: its own team; no team: admins only). The registry-wide config: admins.
 */

/** Throws unless the principal may read the registry (no database round trip). */
export function assertReadsRegistry(principal: Principal): void {
  assertCan(principal, "catalog:read");
}

/** An admin of the whole portal: an admin user, an admin-scoped token, or the system. */
export function isRegistryAdmin(principal: Principal): boolean {
  switch (principal.kind) {
    case "system":
      return true;
    case "user":
      return principal.role === "admin";
    case "token":
      return principal.scopes.includes("admin");
  }
}

/**
 * Throws unless the principal is a registry admin: for the registry-wide level and mode, and for importing
 * (IMPORT mode, `force`, a registration under a given id), which places schemas under ids of the caller's choice.
 */
export function assertRegistryAdmin(principal: Principal, what = "change the registry-wide configuration"): void {
  if (!isRegistryAdmin(principal)) {
    throw new MeshportError("forbidden", `Only admins can ${what}.`, { subject: "registry" });
  }
}

/** The application a subject belongs to (governed by, or linked to), with its team. */
export interface SubjectOwner {
  application: Application | null;
  team: Team | null;
}

/** The application and team that own a subject (nulls for a direct subject without a team). */
export async function ownerOfSubject(tx: Executor, subject: RegistrySubject): Promise<SubjectOwner> {
  if (subject.applicationId) {
    const [row] = await tx
      .select({ app: application, team })
      .from(application)
      .innerJoin(team, eq(team.id, application.teamId))
      .where(eq(application.id, subject.applicationId));
    if (row) return { application: row.app, team: row.team };
  }
  if (subject.teamId) {
    const [row] = await tx.select().from(team).where(eq(team.id, subject.teamId));
    return { application: null, team: row ?? null };
  }
  return { application: null, team: null };
}

/** Throws unless the principal may register, delete and configure this subject; returns its owner. */
export async function assertWritesSubject(tx: Executor, principal: Principal, subject: RegistrySubject): Promise<SubjectOwner> {
  assertCan(principal, "contracts:write");
  const owner = await ownerOfSubject(tx, subject);
  const allowed = owner.team ? await mayWriteForTeam(tx, principal, owner.team.id) : isRegistryAdmin(principal);
  if (!allowed) {
    throw new MeshportError(
      "forbidden",
      owner.team
        ? `Only the team '${owner.team.slug}' (or admins) can change subject '${subject.name}'.`
        : `Only admins can change subject '${subject.name}'.`,
      { subject: "registry_subject" },
    );
  }
  return owner;
}

/**
 * The team a new direct subject belongs to: a team-bound token's team; none for an admin (the subject is then
 * admins' only); a user who writes for exactly one team: that team. Anyone else must say which team, with a token.
 */
export async function teamForNewSubject(tx: Executor, principal: Principal): Promise<string | null> {
  assertCan(principal, "contracts:write");
  if (principal.kind === "token" && principal.teamId) return principal.teamId;
  if (isRegistryAdmin(principal)) return null;
  if (principal.kind === "user") {
    const teams = await tx.select({ teamId: teamMember.teamId }).from(teamMember).where(eq(teamMember.userId, principal.id)).limit(2);
    if (teams.length === 1) return teams[0]!.teamId;
  }
  throw new MeshportError(
    "forbidden",
    "A new subject needs an owning team: register it with an API token bound to the team that owns it.",
    { subject: "registry_subject" },
  );
}
