import { count, eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { auditEntry, team, teamMember, user } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { createTeam, getTeam, removeTeamMember, setTeamMember } from "./teams.ts";
import { createFirstAdmin, createUser, listUsers, needsFirstAdmin, updateUser, type PublicUser } from "./users.ts";

const PASSWORD = "correct horse battery";

function asUser(u: PublicUser): Principal {
  return { kind: "user", id: u.id, email: u.email, name: u.name, role: u.role };
}

async function rejection(promise: Promise<unknown>): Promise<MeshportError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MeshportError);
  return error as MeshportError;
}

describeEachBackend("accounts", ({ handle }) => {
  let admin: Principal;
  let viewer: Principal;

  it("lets exactly one of several racing first-admin set-ups win", async () => {
    expect(await needsFirstAdmin()).toBe(true);
    const results = await Promise.allSettled(
      [1, 2, 3].map((n) => createFirstAdmin(systemPrincipal("setup"), { name: `Admin ${n}`, email: `admin${n}@example.com`, password: PASSWORD })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect((r.reason as MeshportError).code).toBe("conflict:first_admin");
    const created = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof createFirstAdmin>>>).value;
    expect(created.role).toBe("admin");
    admin = asUser(created);
    expect(await needsFirstAdmin()).toBe(false);
  });

  it("lets an admin create accounts, and audits it in the same transaction", async () => {
    const created = await createUser(admin, { name: "Val", email: "  VAL@Example.com ", password: PASSWORD, role: "viewer" });
    expect(created.email).toBe("val@example.com");
    viewer = asUser(created);
    const [entry] = await handle().db.select().from(auditEntry).where(eq(auditEntry.targetId, created.id));
    expect(entry).toMatchObject({ action: "user.create", actorId: admin.kind === "user" ? admin.id : "", targetType: "user" });
  });

  it("refuses a viewer, and writes nothing", async () => {
    const before = await handle().db.select({ n: count() }).from(user);
    const error = await rejection(createUser(viewer, { name: "X", email: "x@example.com", password: PASSWORD }));
    expect(error.status).toBe(403);
    expect(await handle().db.select({ n: count() }).from(user)).toEqual(before);
    expect((await rejection(listUsers(viewer))).status).toBe(403);
  });

  it("refuses invalid input with field errors, and writes nothing", async () => {
    const users = await handle().db.select({ n: count() }).from(user);
    const audits = await handle().db.select({ n: count() }).from(auditEntry);
    const error = await rejection(createUser(admin, { name: "", email: "not-an-email", password: "short", role: "owner" as never }));
    expect(error.status).toBe(422);
    expect(Object.keys((error.details as { fieldErrors: object }).fieldErrors).sort()).toEqual(["email", "name", "password", "role"]);
    expect(await handle().db.select({ n: count() }).from(user)).toEqual(users);
    expect(await handle().db.select({ n: count() }).from(auditEntry)).toEqual(audits);
  });

  it("refuses a duplicate email with a conflict", async () => {
    const error = await rejection(createUser(admin, { name: "Val 2", email: "val@example.com", password: PASSWORD }));
    expect(error.code).toBe("conflict:user");
  });

  it("keeps the last active admin", async () => {
    const self = admin.kind === "user" ? admin.id : "";
    expect((await rejection(updateUser(admin, self, { role: "viewer" }))).code).toBe("conflict:last_admin");
    expect((await rejection(updateUser(admin, self, { disabled: true }))).code).toBe("conflict:last_admin");
    const viewerId = viewer.kind === "user" ? viewer.id : "";
    const promoted = await updateUser(admin, viewerId, { role: "admin" });
    expect(promoted.role).toBe("admin");
    expect((await updateUser(admin, self, { role: "reviewer" })).role).toBe("reviewer");
    await updateUser(asUser(promoted), self, { role: "admin" });
    await updateUser(admin, viewerId, { role: "viewer" });
  });

  it("manages teams: admins for any team, maintainers for their own", async () => {
    const created = await createTeam(admin, { slug: "plant-ops", name: "Plant Ops", contact: "#plant" });
    expect(created.slug).toBe("plant-ops");
    expect((await rejection(createTeam(admin, { slug: "plant-ops", name: "Again" }))).code).toBe("conflict:team");
    expect((await rejection(createTeam(admin, { slug: "Bad Slug!", name: "x" }))).status).toBe(422);
    expect((await rejection(createTeam(viewer, { slug: "mine", name: "Mine" }))).status).toBe(403);

    const editor = asUser(await createUser(admin, { name: "Eddie", email: "eddie@example.com", password: PASSWORD, role: "editor" }));
    await setTeamMember(admin, "plant-ops", { email: "eddie@example.com", role: "maintainer" });
    // A maintainer adds a member to their own team…
    await setTeamMember(editor, "plant-ops", { email: "val@example.com" });
    const details = await getTeam(viewer, "plant-ops");
    expect(details.members.map((m) => [m.email, m.role])).toEqual([
      ["eddie@example.com", "maintainer"],
      ["val@example.com", "member"],
    ]);
    // …but a plain member cannot.
    const viewerId = viewer.kind === "user" ? viewer.id : "";
    expect((await rejection(removeTeamMember(viewer, "plant-ops", viewerId))).status).toBe(403);
    await removeTeamMember(editor, "plant-ops", viewerId);
    expect(await handle().db.select({ n: count() }).from(teamMember)).toEqual([{ n: 1 }]);
    expect((await rejection(setTeamMember(admin, "nope", { email: "val@example.com" }))).code).toBe("not_found:team");
    expect(await handle().db.select({ n: count() }).from(team)).toEqual([{ n: 1 }]);
  });
});
