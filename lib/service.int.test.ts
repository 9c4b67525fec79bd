import { count, eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { z } from "zod";
import { auditEntry, team } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { MeshportError } from "@/lib/errors.ts";
import { defineCommand, defineQuery, idInput } from "./service.ts";

const admin = systemPrincipal("test");
const reader: Principal = { kind: "token", id: "tok_r", name: "reader", scopes: ["read"], teamId: null, createdBy: null };

const input = z.object({ slug: z.string().min(2), fail: z.enum(["after-insert", "no-audit", "twice", "undeclared"]).optional() });

// A command over a real table: the team insert and its audit entry commit together or not at all.
const makeTeam = defineCommand({
  permission: "teams:manage",
  input,
  audit: "team.create",
  run: async ({ tx, input: data, audit }, suffix: string) => {
    const id = `team_${data.slug}${suffix}`;
    await tx.insert(team).values({ id, slug: `${data.slug}${suffix}`, name: data.slug });
    if (data.fail !== "no-audit") audit({ targetType: "team", targetId: id, details: { slug: data.slug } });
    if (data.fail === "twice") audit({ targetType: "team", targetId: id, details: { again: true } });
    if (data.fail === "undeclared") audit({ action: "team.member.set" as "team.create", targetType: "team", targetId: id });
    if (data.fail === "after-insert") throw new MeshportError("conflict", "Refused after the insert.", { subject: "test" });
    return id;
  },
});

const teamBySlug = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, input: slug }) => (await db.select().from(team).where(eq(team.slug, slug)))[0] ?? null,
});

describeEachBackend("service skeleton", ({ handle }) => {
  const counts = async () => ({
    teams: (await handle().db.select({ n: count() }).from(team))[0]!.n,
    audit: (await handle().db.select({ n: count() }).from(auditEntry))[0]!.n,
  });

  it("checks the permission before reading the input, then validates it", async () => {
    await expect(makeTeam(reader, "-x", "not even an object")).rejects.toMatchObject({ status: 403, code: "forbidden" });
    await expect(makeTeam(admin, "-x", { slug: "a" })).rejects.toMatchObject({
      status: 422,
      code: "invalid_input",
      details: { fieldErrors: { slug: [expect.any(String)] } },
    });
    expect(await counts()).toEqual({ teams: 0, audit: 0 });
  });

  it("commits the change with exactly one audit entry of the declared action", async () => {
    expect(await makeTeam(admin, "-1", { slug: "ops" })).toBe("team_ops-1");
    const [entry] = await handle().db.select().from(auditEntry);
    expect(entry).toMatchObject({ action: "team.create", targetType: "team", targetId: "team_ops-1", details: { slug: "ops" }, actorId: admin.id });
    expect(await teamBySlug(reader, "ops-1")).toMatchObject({ id: "team_ops-1" });
  });

  it("rolls the change back with its audit entry when the command fails, or forgets or repeats its entry", async () => {
    const before = await counts();
    await expect(makeTeam(admin, "-2", { slug: "ops", fail: "after-insert" })).rejects.toMatchObject({ code: "conflict:test" });
    await expect(makeTeam(admin, "-3", { slug: "ops", fail: "no-audit" })).rejects.toThrow(/must record its audit entry/);
    await expect(makeTeam(admin, "-4", { slug: "ops", fail: "undeclared" })).rejects.toThrow(/declared the audit actions/);
    expect(await counts()).toEqual(before);
  });

  it("writes one entry per state change a command records, in order, in its transaction", async () => {
    const before = await counts();
    await makeTeam(admin, "-5", { slug: "ops", fail: "twice" });
    const entries = await handle().db.select().from(auditEntry).where(eq(auditEntry.targetId, "team_ops-5")).orderBy(auditEntry.seq);
    expect(entries.map((e) => e.details)).toEqual([{ slug: "ops" }, { again: true }]);
    expect(await counts()).toEqual({ teams: before.teams + 1, audit: before.audit + 2 });
  });

  it("checks a query's permission", async () => {
    const stranger: Principal = { kind: "token", id: "tok_a", name: "agent", scopes: ["agent:report"], teamId: null, createdBy: null };
    expect(await teamBySlug(stranger, "ops-1")).not.toBeNull();
    const nobody: Principal = { kind: "token", id: "tok_n", name: "none", scopes: [], teamId: null, createdBy: null };
    await expect(teamBySlug(nobody, "ops-1")).rejects.toMatchObject({ status: 403 });
  });
});
