import "server-only";
import { eq, isNull, sql } from "drizzle-orm";
import { getDb, type Executor } from "@/db/client.ts";
import { application, registryConfig, registrySubject, registrySubjectVersion, type RegistryMode, type RegistrySubject } from "@/db/schema.ts";
import { COMPATIBILITY_MODES, type CompatibilityMode } from "@/registry/index.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { effectiveMode } from "@/lib/catalog/applications.ts";
import { defineCommand } from "@/lib/service.ts";
import { assertReadsRegistry, assertRegistryAdmin, assertWritesSubject, teamForNewSubject, type SubjectOwner } from "./access.ts";
import { registryErrors } from "./errors.ts";
import { ensureSubject, findSubject, lockSubject, validSubjectName } from "./subjects.ts";

/*
 * Compatibility levels and modes: registry-wide (the one `registry_config` row) and per subject. A subject without
 * its own level inherits its application's (a governed or linked subject), then the registry's, then BACKWARD.
 */

export const REGISTRY_MODES = ["READWRITE", "READONLY", "IMPORT"] as const satisfies readonly RegistryMode[];
/** Confluent's default level. */
export const DEFAULT_LEVEL: CompatibilityMode = "BACKWARD";

/** A level named case-insensitively, else 42203. */
export function parseLevel(level: unknown): CompatibilityMode {
  const name = typeof level === "string" ? level.trim().toUpperCase() : "";
  const found = COMPATIBILITY_MODES.find((m) => m === name);
  if (!found) throw registryErrors.invalidCompatibilityLevel(String(level).slice(0, 64));
  return found;
}

/** A mode named case-insensitively, else 42204. */
export function parseRegistryMode(mode: unknown): RegistryMode {
  const name = typeof mode === "string" ? mode.trim().toUpperCase() : "";
  const found = REGISTRY_MODES.find((m) => m === name);
  if (!found) throw registryErrors.invalidMode(String(mode).slice(0, 64));
  return found;
}

/** A stored level, or null when it is none of the known ones. */
function storedLevel(value: string | null | undefined): CompatibilityMode | null {
  return COMPATIBILITY_MODES.find((m) => m === value) ?? null;
}

function storedMode(value: string | null | undefined): RegistryMode | null {
  return REGISTRY_MODES.find((m) => m === value) ?? null;
}

/** The registry-wide settings as stored (null: not set). */
export interface GlobalConfig {
  compatibility: CompatibilityMode | null;
  mode: RegistryMode | null;
}

/** Reads the registry-wide row (the migration creates it). */
export async function globalConfig(tx: Executor): Promise<GlobalConfig> {
  const [row] = await tx.select().from(registryConfig).where(eq(registryConfig.id, 1));
  return { compatibility: storedLevel(row?.compatibility), mode: storedMode(row?.mode) };
}

/** Where a subject's level comes from. */
export type LevelSource = "subject" | "application" | "global";

/**
 * The one rule for a subject's level: its own; for a subject a contract governs, the mode its contract is checked
 * with (the application's, else the portal default); for a subject linked to an application, the application's
 * level when it sets one; else the registry's, then Confluent's BACKWARD.
 */
export function resolveSubjectLevel(
  subject: Pick<RegistrySubject, "compatibility" | "governed"> | undefined,
  app: { compatibilityMode: string | null } | null | undefined,
  globalLevel: CompatibilityMode | null,
): { level: CompatibilityMode; source: LevelSource } {
  const own = storedLevel(subject?.compatibility);
  if (own) return { level: own, source: "subject" };
  if (app && subject?.governed) return { level: effectiveMode(app), source: "application" };
  const appLevel = storedLevel(app?.compatibilityMode);
  if (app && appLevel) return { level: appLevel, source: "application" };
  return { level: globalLevel ?? DEFAULT_LEVEL, source: "global" };
}

/** The level a subject is checked under (resolveSubjectLevel), loading its application when needed. */
export async function effectiveLevel(tx: Executor, subject: RegistrySubject | undefined, global: GlobalConfig, owner?: SubjectOwner): Promise<CompatibilityMode> {
  if (storedLevel(subject?.compatibility) || !subject?.applicationId) return resolveSubjectLevel(subject, null, global.compatibility).level;
  const app =
    owner?.application ??
    (await tx.select({ compatibilityMode: application.compatibilityMode }).from(application).where(eq(application.id, subject.applicationId)))[0];
  return resolveSubjectLevel(subject, app ?? null, global.compatibility).level;
}

/** The mode a subject is in: its own, the registry's, READWRITE. */
export function effectiveRegistryMode(subject: RegistrySubject | undefined, global: GlobalConfig): RegistryMode {
  return storedMode(subject?.mode) ?? global.mode ?? "READWRITE";
}

function auditTarget(subject: RegistrySubject | null) {
  return subject ? { targetType: "registry_subject", targetId: subject.id } : { targetType: "registry_config", targetId: "global" };
}

function subjectDetails(subject: RegistrySubject | null, owner: SubjectOwner | null): Record<string, unknown> {
  if (!subject) return { scope: "global" };
  return { subject: subject.name, ...(owner?.application ? { application: owner.application.slug } : {}) };
}

/** The subject a config change applies to, locked, authorised, and created (without versions) when new. */
async function configurableSubject(tx: Executor, principal: Principal, name: string): Promise<{ subject: RegistrySubject; owner: SubjectOwner }> {
  await lockSubject(tx, name);
  const existing = await findSubject(tx, name);
  if (existing) return { subject: existing, owner: await assertWritesSubject(tx, principal, existing) };
  // Confluent keeps the config of a subject before its first schema: a row without versions (not listed).
  const teamId = await teamForNewSubject(tx, principal);
  const subject = await ensureSubject(tx, name, teamId);
  return { subject, owner: await assertWritesSubject(tx, principal, subject) };
}

/** An existing subject for a config delete, locked and authorised (40401 when there is none). */
async function existingSubject(tx: Executor, principal: Principal, name: string): Promise<{ subject: RegistrySubject; owner: SubjectOwner }> {
  await lockSubject(tx, name);
  const subject = await findSubject(tx, name);
  if (!subject) throw registryErrors.subjectNotFound(name);
  return { subject, owner: await assertWritesSubject(tx, principal, subject) };
}

/** `GET /config[/{s}]`. */
export async function getCompatibility(principal: Principal, subject: string | null, options: { defaultToGlobal?: boolean }): Promise<{ compatibilityLevel: CompatibilityMode }> {
  assertReadsRegistry(principal);
  const db = await getDb();
  const global = await globalConfig(db);
  if (subject === null) return { compatibilityLevel: global.compatibility ?? DEFAULT_LEVEL };
  const row = await findSubject(db, subject);
  const own = storedLevel(row?.compatibility);
  if (own) return { compatibilityLevel: own };
  // A contract configures the subjects it governs: their level is the contract's, not "not configured" (a serializer
  // that finds none would set its own default as an override, binding the contract's releases).
  if (!options.defaultToGlobal && !row?.governed) throw registryErrors.compatibilityNotConfigured(subject);
  return { compatibilityLevel: await effectiveLevel(db, row, global) };
}

const setCompatibilityCommand = defineCommand({
  permission: "contracts:write",
  input: parseLevel,
  audit: "registry.config.set",
  run: async ({ tx, principal, input: level, audit }, name: string | null): Promise<{ compatibility: CompatibilityMode }> => {
    if (name === null) {
      assertRegistryAdmin(principal);
      const before = await globalConfig(tx);
      await tx.update(registryConfig).set({ compatibility: level, updatedAt: new Date() }).where(eq(registryConfig.id, 1));
      audit({ ...auditTarget(null), details: { ...subjectDetails(null, null), before: before.compatibility, after: level } });
      return { compatibility: level };
    }
    const { subject, owner } = await configurableSubject(tx, principal, validSubjectName(name));
    await tx.update(registrySubject).set({ compatibility: level, updatedAt: new Date() }).where(eq(registrySubject.id, subject.id));
    audit({ ...auditTarget(subject), details: { ...subjectDetails(subject, owner), before: storedLevel(subject.compatibility), after: level } });
    return { compatibility: level };
  },
});

/** `PUT /config[/{s}]`. */
export async function setCompatibility(principal: Principal, subject: string | null, level: string): Promise<{ compatibility: CompatibilityMode }> {
  return setCompatibilityCommand(principal, subject, level);
}

const deleteCompatibilityCommand = defineCommand({
  permission: "contracts:write",
  input: (raw: unknown) => raw as string | null,
  audit: "registry.config.delete",
  run: async ({ tx, principal, input: name, audit }): Promise<{ compatibilityLevel: CompatibilityMode }> => {
    if (name === null) {
      assertRegistryAdmin(principal);
      const before = await globalConfig(tx);
      await tx.update(registryConfig).set({ compatibility: null, updatedAt: new Date() }).where(eq(registryConfig.id, 1));
      audit({ ...auditTarget(null), details: { ...subjectDetails(null, null), before: before.compatibility, after: null } });
      return { compatibilityLevel: before.compatibility ?? DEFAULT_LEVEL };
    }
    const { subject, owner } = await existingSubject(tx, principal, name);
    const before = storedLevel(subject.compatibility);
    if (!before) throw registryErrors.compatibilityNotConfigured(name);
    await tx.update(registrySubject).set({ compatibility: null, updatedAt: new Date() }).where(eq(registrySubject.id, subject.id));
    audit({ ...auditTarget(subject), details: { ...subjectDetails(subject, owner), before, after: null } });
    return { compatibilityLevel: before };
  },
});

/** `DELETE /config[/{s}]`: the level that was set. */
export async function deleteCompatibility(principal: Principal, subject: string | null): Promise<{ compatibilityLevel: CompatibilityMode }> {
  return deleteCompatibilityCommand(principal, subject);
}

/** `GET /mode[/{s}]`. */
export async function getMode(principal: Principal, subject: string | null, options: { defaultToGlobal?: boolean }): Promise<{ mode: RegistryMode }> {
  assertReadsRegistry(principal);
  const db = await getDb();
  const global = await globalConfig(db);
  if (subject === null) return { mode: global.mode ?? "READWRITE" };
  const row = await findSubject(db, subject);
  const own = storedMode(row?.mode);
  if (own) return { mode: own };
  if (!options.defaultToGlobal) throw registryErrors.modeNotConfigured(subject);
  return { mode: effectiveRegistryMode(row, global) };
}

const setModeCommand = defineCommand({
  permission: "contracts:write",
  input: parseRegistryMode,
  audit: "registry.mode.set",
  run: async ({ tx, principal, input: mode, audit }, name: string | null, force: boolean): Promise<{ mode: RegistryMode }> => {
    // Importing chooses global ids (and moves the id sequence past them): a registry admin's, not a team's. Admin-only
    // is the whole guard; ids stay int4 and the sequence is never lowered (store.ts).
    if (mode === "IMPORT") assertRegistryAdmin(principal, "put the registry or a subject in IMPORT mode");
    if (force) assertRegistryAdmin(principal, "force a mode change");
    if (name === null) {
      assertRegistryAdmin(principal);
      const before = await globalConfig(tx);
      if (mode === "IMPORT" && before.mode !== "IMPORT" && !force) {
        const [any] = await tx.select({ one: sql<number>`1` }).from(registrySubjectVersion).where(isNull(registrySubjectVersion.deletedAt)).limit(1);
        if (any) throw registryErrors.operationNotPermitted("Cannot import since found existing subjects");
      }
      await tx.update(registryConfig).set({ mode, updatedAt: new Date() }).where(eq(registryConfig.id, 1));
      audit({ ...auditTarget(null), details: { ...subjectDetails(null, null), before: before.mode, after: mode, ...(force ? { force } : {}) } });
      return { mode };
    }
    const { subject, owner } = await configurableSubject(tx, principal, validSubjectName(name));
    const before = storedMode(subject.mode);
    if (mode === "IMPORT" && before !== "IMPORT" && !force) {
      const [any] = await tx
        .select({ one: sql<number>`1` })
        .from(registrySubjectVersion)
        .where(sql`${registrySubjectVersion.subjectId} = ${subject.id} and ${registrySubjectVersion.deletedAt} is null`)
        .limit(1);
      if (any) throw registryErrors.operationNotPermitted(`Cannot import since found existing subjects: subject '${name}' has versions`);
    }
    await tx.update(registrySubject).set({ mode, updatedAt: new Date() }).where(eq(registrySubject.id, subject.id));
    audit({ ...auditTarget(subject), details: { ...subjectDetails(subject, owner), before, after: mode, ...(force ? { force } : {}) } });
    return { mode };
  },
});

/** `PUT /mode[/{s}]`: IMPORT needs an empty registry or subject unless `force`. */
export async function setMode(principal: Principal, subject: string | null, mode: string, options: { force?: boolean }): Promise<{ mode: RegistryMode }> {
  return setModeCommand(principal, subject, options.force === true, mode);
}

const deleteModeCommand = defineCommand({
  permission: "contracts:write",
  input: (raw: unknown) => String(raw),
  audit: "registry.mode.delete",
  run: async ({ tx, principal, input: name, audit }): Promise<{ mode: RegistryMode }> => {
    const { subject, owner } = await existingSubject(tx, principal, name);
    const before = storedMode(subject.mode);
    if (!before) throw registryErrors.modeNotConfigured(name);
    await tx.update(registrySubject).set({ mode: null, updatedAt: new Date() }).where(eq(registrySubject.id, subject.id));
    audit({ ...auditTarget(subject), details: { ...subjectDetails(subject, owner), before, after: null } });
    return { mode: before };
  },
});

/** `DELETE /mode/{s}`: the mode that was set. */
export async function deleteMode(principal: Principal, subject: string): Promise<{ mode: RegistryMode }> {
  return deleteModeCommand(principal, subject);
}
