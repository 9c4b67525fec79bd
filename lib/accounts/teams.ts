import "server-only";
import { and, asc, count, eq } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Executor } from "@/db/client.ts";
import { team, teamMember, teamRoleEnum, user, type Team, type TeamRole } from "@/db/schema.ts";
import { can } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError, slugSchema } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand, defineQuery, idInput, noInput, type AuthorizeContext } from "@/lib/service.ts";

/** A team with its member count. */
export type TeamSummary = Team & { memberCount: number };

/** A member of a team as shown in lists. */
export interface TeamMemberView {
  userId: string;
  name: string;
  email: string;
  role: TeamRole;
}

const slug = slugSchema(60);

/** Input to create a team. */
export const createTeamInput = z.object({
  slug,
  name: z.string().trim().min(1, { message: "Enter a name." }).max(120),
  description: z.string().trim().max(2000).default(""),
  contact: z.string().trim().max(300).default(""),
});

/** Creates a team. Admins only. */
export const createTeam = defineCommand({
  permission: "teams:manage",
  input: createTeamInput,
  audit: "team.create",
  run: async ({ tx, input: data, audit }): Promise<Team> => {
    const [created] = await tx
      .insert(team)
      .values({ id: newId("team"), ...data })
      .onConflictDoNothing({ target: team.slug })
      .returning();
    if (!created) {
      throw new MeshportError("conflict", `A team with the slug ${data.slug} already exists.`, {
        subject: "team",
        details: { fieldErrors: { slug: ["This slug is taken."] } },
      });
    }
    audit({ targetType: "team", targetId: created.id, details: { slug: created.slug, name: created.name } });
    return created;
  },
});

/** Lists teams with their member counts. Any reader may see teams: they own the catalog. */
export const listTeams = defineQuery({
  permission: "catalog:read",
  input: noInput,
  run: async ({ db }): Promise<TeamSummary[]> => {
    const rows = await db
      .select({ team, memberCount: count(teamMember.userId) })
      .from(team)
      .leftJoin(teamMember, eq(teamMember.teamId, team.id))
      .groupBy(team.id)
      .orderBy(asc(team.name));
    return rows.map((row) => ({ ...row.team, memberCount: row.memberCount }));
  },
});

/** One team by slug, with its members. */
export const getTeam = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, input: teamSlug }): Promise<Team & { members: TeamMemberView[] }> => {
    const found = await findTeam(db, teamSlug);
    const members = await db
      .select({ userId: user.id, name: user.name, email: user.email, role: teamMember.role })
      .from(teamMember)
      .innerJoin(user, eq(user.id, teamMember.userId))
      .where(eq(teamMember.teamId, found.id))
      .orderBy(asc(user.name));
    return { ...found, members };
  },
});

/** Input to add or update a team member. */
export const teamMemberInput = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email({ message: "Enter a valid email address." })),
  role: z.enum(teamRoleEnum.enumValues).default("member"),
});

/** Loads a team and checks that the principal administers teams or maintains this one. */
async function managedTeam({ tx, principal }: AuthorizeContext<unknown>, teamSlug: string): Promise<Team> {
  const found = await findTeam(tx, teamSlug);
  await assertManagesTeam(tx, principal, found.id);
  return found;
}

/**
 * Adds a user to a team, or changes their team role. Admins may do it for any team,
 * maintainers for their own team.
 */
export const setTeamMember = defineCommand({
  // Maintainers hold no portal role for it: the team's membership decides (authorize).
  permission: null,
  input: teamMemberInput,
  audit: "team.member.set",
  authorize: managedTeam,
  run: async ({ tx, input: data, target: found, audit }, _teamSlug: string): Promise<TeamMemberView> => {
    const [member] = await tx
      .select({ id: user.id, name: user.name, email: user.email })
      .from(user)
      .where(eq(user.email, data.email));
    if (!member) {
      throw new MeshportError("not_found", `No account has the email ${data.email}.`, {
        subject: "user",
        details: { fieldErrors: { email: ["No account has this email."] } },
      });
    }
    await tx
      .insert(teamMember)
      .values({ teamId: found.id, userId: member.id, role: data.role })
      .onConflictDoUpdate({ target: [teamMember.teamId, teamMember.userId], set: { role: data.role } });
    audit({ targetType: "team", targetId: found.id, details: { team: found.slug, email: member.email, role: data.role } });
    return { userId: member.id, name: member.name, email: member.email, role: data.role };
  },
});

/** Removes a user from a team: `removeTeamMember(principal, teamSlug, userId)`. */
export const removeTeamMember = defineCommand({
  permission: null,
  input: idInput,
  audit: "team.member.remove",
  authorize: managedTeam,
  run: async ({ tx, input: userId, target: found, audit }, _teamSlug: string): Promise<void> => {
    const removed = await tx
      .delete(teamMember)
      .where(and(eq(teamMember.teamId, found.id), eq(teamMember.userId, userId)))
      .returning({ userId: teamMember.userId });
    if (removed.length === 0) {
      throw new MeshportError("not_found", "That user is not a member of this team.", { subject: "team_member" });
    }
    audit({ targetType: "team", targetId: found.id, details: { team: found.slug, userId } });
  },
});

/** The teams a user belongs to. */
export async function teamsOfUser(userId: string): Promise<Array<{ slug: string; name: string; role: TeamRole }>> {
  const db = await getDb();
  return db
    .select({ slug: team.slug, name: team.name, role: teamMember.role })
    .from(teamMember)
    .innerJoin(team, eq(team.id, teamMember.teamId))
    .where(eq(teamMember.userId, userId))
    .orderBy(asc(team.name));
}

async function findTeam(db: Executor, teamSlug: string): Promise<Team> {
  const [found] = await db.select().from(team).where(eq(team.slug, teamSlug));
  if (!found) throw new MeshportError("not_found", `No team ${teamSlug}.`, { subject: "team" });
  return found;
}

/** Throws unless the principal administers teams or maintains this one. */
async function assertManagesTeam(db: Executor, principal: Principal, teamId: string): Promise<void> {
  if (can(principal, "teams:manage")) return;
  if (principal.kind === "user") {
    const [membership] = await db
      .select({ role: teamMember.role })
      .from(teamMember)
      .where(and(eq(teamMember.teamId, teamId), eq(teamMember.userId, principal.id)));
    if (membership?.role === "maintainer") return;
  }
  throw new MeshportError("forbidden", "Only admins and the team's maintainers can change its members.");
}
