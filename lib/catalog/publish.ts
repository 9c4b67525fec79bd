import "server-only";
import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Transaction } from "@/db/client.ts";
import { application, catalogEntry, contractVersion, team, type Application, type ContractVersion } from "@/db/schema.ts";
import {
  compare,
  type CompareReport,
  type CompatibilityMode,
  type Contract,
  type Diagnostic,
} from "@/registry/index.ts";
import { recordAudit } from "@/lib/audit/audit.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { parseInPool } from "@/lib/parse-pool/pool.ts";
import { assertWritesForTeam, currentVersions, effectiveMode } from "./applications.ts";
import { writeFlows } from "./flows.ts";
import { buildIndexEntries } from "./index-entries.ts";
import { bumpBetween, bumpSatisfies, compareSemver, parseSemver, type SemverParts } from "./semver.ts";

/** Largest upload accepted, all files together. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/** Input to publish a version: the uploaded files (name → text), optionally the version and state. */
export const publishInput = z.object({
  files: z
    .record(z.string().min(1).max(200), z.string())
    .refine((files) => Object.keys(files).length > 0, { message: "Upload at least one file." })
    .refine((files) => Object.keys(files).length <= 50, { message: "At most 50 files." })
    .refine((files) => Object.values(files).reduce((n, text) => n + Buffer.byteLength(text), 0) <= MAX_UPLOAD_BYTES, {
      message: `The files exceed ${MAX_UPLOAD_BYTES / 1024 / 1024} MB together.`,
    }),
  /** Defaults to the document's `info.version`. */
  version: z.string().trim().max(100).optional(),
  /** Root file name when several files are uploaded. */
  root: z.string().trim().max(200).optional(),
  state: z.enum(["released", "draft"]).default("released"),
});

/** The outcome of a publish: the version, the compare report, and whether it was created now. */
export interface PublishOutcome {
  version: Omit<ContractVersion, "files" | "contract">;
  report: CompareReport | null;
  created: boolean;
}

// One lock key space per application: publishes of one contract take turns, others run freely.
const PUBLISH_LOCK_NAMESPACE = 7_316_543;

/** sha256 of the upload, independent of file order. */
export function uploadHash(files: Record<string, string>): string {
  const hash = createHash("sha256");
  for (const name of Object.keys(files).sort()) hash.update(`${name}\u0000${files[name]}\u0000`);
  return `sha256:${hash.digest("hex")}`;
}

function invalidDocument(diagnostics: Diagnostic[]): MeshportError {
  const errors = diagnostics.filter((d) => d.severity === "error");
  return new MeshportError("invalid_input", `The contract is not valid: ${errors[0]?.message ?? "see diagnostics"}`, {
    subject: "contract",
    details: { diagnostics },
  });
}

/** Parses and validates an upload without storing anything (live validation, dry runs). */
export async function validateUpload(files: Record<string, string>, root?: string): Promise<{ contract: Contract | null; diagnostics: Diagnostic[] }> {
  const parsed = await parseInPool(files, root ? { root } : {});
  return { contract: parsed.contract ?? null, diagnostics: parsed.diagnostics };
}

/**
 * Publishes a new version of an application's contract. Refused, storing nothing, when the
 * document is invalid (422), when the version is not above the latest or its bump is
 * smaller than the change needs, or when the change is incompatible under the contract's
 * mode within its major version (409, with the report). A major version starts a new
 * line: breaking changes are allowed there and recorded in the changelog. Publishing
 * content identical to an existing version returns that version.
 */
export async function publishVersion(principal: Principal, appSlug: string, input: z.input<typeof publishInput>): Promise<PublishOutcome> {
  const data = parseInput(publishInput, input);
  const db = await getDb();
  const [app] = await db.select().from(application).where(eq(application.slug, appSlug));
  if (!app) throw new MeshportError("not_found", `No application ${appSlug}.`, { subject: "application" });
  await assertWritesForTeam(db, principal, app.teamId);

  // Parsing is the slow part; it happens before any lock is taken.
  const parsed = await parseInPool(data.files, data.root ? { root: data.root } : {});
  if (!parsed.contract || parsed.diagnostics.some((d) => d.severity === "error")) throw invalidDocument(parsed.diagnostics);
  const contract = parsed.contract;
  const versionText = data.version ?? contract.version;
  const semver = parseSemver(versionText);
  if (!semver) {
    throw new MeshportError("invalid_input", `The version ${versionText} is not a semantic version (such as 1.4.0).`, {
      subject: "version",
      details: { fieldErrors: { version: ["Not a semantic version."] }, formErrors: [] },
    });
  }
  const contentHash = uploadHash(data.files);

  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${PUBLISH_LOCK_NAMESPACE}, hashtext(${app.id}))`);
    const existing = await tx
      .select()
      .from(contractVersion)
      .where(eq(contractVersion.applicationId, app.id));
    // Identical content is the same version, whatever number it is offered under: never a duplicate.
    const identical = existing.find((v) => v.contentHash === contentHash);
    if (identical) {
      return { version: withoutContent(identical), report: identical.changelog ?? null, created: false };
    }
    if (existing.some((v) => v.version === versionText)) {
      throw new MeshportError("conflict", `Version ${versionText} of ${appSlug} already exists with other content; versions are immutable.`, {
        subject: "version_exists",
      });
    }
    const report = checkAgainstHistory(app, existing, contract, semver, versionText);
    const created = await insertVersion(tx, principal, app, {
      versionText,
      semver,
      state: data.state,
      files: data.files,
      root: parsed.root ?? Object.keys(data.files)[0]!,
      contract,
      contentHash,
      report,
    });
    if (data.state === "released") await rebuildIndex(tx, app);
    return { version: created, report, created: true };
  });
}

/** A version without its files and contract, as lists and API answers show it. */
export function withoutContent(v: ContractVersion): PublishOutcome["version"] {
  const { files: _files, contract: _contract, ...rest } = v;
  void _files;
  void _contract;
  return rest;
}

function describeVersion(v: ContractVersion): SemverParts {
  return { major: v.major, minor: v.minor, patch: v.patch, prerelease: v.prerelease };
}

/** Applies the version rules against the published history; returns the compare report with the previous version. */
function checkAgainstHistory(
  app: Application,
  existing: ContractVersion[],
  contract: Contract,
  semver: SemverParts,
  versionText: string,
): CompareReport | null {
  const published = existing.filter((v) => v.state !== "draft").sort((a, b) => compareSemver(describeVersion(b), describeVersion(a)));
  const latest = published[0];
  if (!latest) return null;
  if (compareSemver(semver, describeVersion(latest)) <= 0) {
    throw new MeshportError("conflict", `Version ${versionText} is not above the latest version ${latest.version}.`, {
      subject: "version_order",
      details: { latest: latest.version },
    });
  }
  const mode: CompatibilityMode = effectiveMode(app);
  // Transitive modes check every earlier version of the same major line, newest first.
  const sameLine = published.filter((v) => v.major === semver.major && v.state !== "retired");
  const previous = latest;
  const report = compare(previous.contract, contract, {
    mode,
    against: sameLine.filter((v) => v.id !== previous.id).map((v) => v.contract),
  });
  const bump = bumpBetween(describeVersion(previous), semver);
  if (!bumpSatisfies(bump, report.semver)) {
    throw new MeshportError(
      "conflict",
      `The changes need a ${report.semver} version bump from ${previous.version}, but ${versionText} is a ${bump === "none" ? "pre-release" : bump} bump.`,
      { subject: "semver", details: { required: report.semver, actual: bump, report } },
    );
  }
  if (!report.compatible && semver.major === previous.major) {
    const breaking = report.findings.filter((f) => f.verdict === "breaking").length;
    throw new MeshportError(
      "conflict",
      `The change is incompatible under ${mode}: ${breaking} breaking change${breaking === 1 ? "" : "s"}. Publish it as a new major version, or fix it.`,
      { subject: "incompatible", details: { report } },
    );
  }
  return report;
}

async function insertVersion(
  tx: Transaction,
  principal: Principal,
  app: Application,
  v: {
    versionText: string;
    semver: SemverParts;
    state: "released" | "draft";
    files: Record<string, string>;
    root: string;
    contract: Contract;
    contentHash: string;
    report: CompareReport | null;
  },
): Promise<PublishOutcome["version"]> {
  const [row] = await tx
    .insert(contractVersion)
    .values({
      id: newId("ver"),
      applicationId: app.id,
      version: v.versionText,
      major: v.semver.major,
      minor: v.semver.minor,
      patch: v.semver.patch,
      prerelease: v.semver.prerelease,
      state: v.state,
      files: v.files,
      rootFile: v.root,
      asyncapiVersion: v.contract.asyncapi,
      contract: v.contract,
      contentHash: v.contentHash,
      changelog: v.report,
      publishedById: principal.id,
      publishedByLabel: principalLabel(principal),
    })
    .returning();
  // The flows and schemas of the version are committed with it, or not at all.
  await writeFlows(tx, row!.id, v.contract);
  await recordAudit(tx, principal, {
    action: "contract.publish",
    targetType: "application",
    targetId: app.id,
    details: {
      application: app.slug,
      version: v.versionText,
      state: v.state,
      contentHash: v.contentHash,
      semver: v.report?.semver ?? null,
      breaking: v.report?.findings.filter((f) => f.verdict === "breaking").length ?? 0,
    },
  });
  return withoutContent(row!);
}

/** Rebuilds an application's search index from its current version. */
export async function rebuildIndex(tx: Transaction, app: Application): Promise<void> {
  await tx.delete(catalogEntry).where(eq(catalogEntry.applicationId, app.id));
  const current = (await currentVersions(tx, [app.id])).get(app.id);
  if (!current?.id) return;
  const [version] = await tx.select({ contract: contractVersion.contract }).from(contractVersion).where(eq(contractVersion.id, current.id));
  if (!version) return;
  const entries = buildIndexEntries(app, version.contract);
  for (let i = 0; i < entries.length; i += 500) {
    await tx.insert(catalogEntry).values(entries.slice(i, i + 500).map((e) => ({ ...e, applicationId: app.id, versionId: current.id })));
  }
}

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
  input: z.input<typeof setStateInput>,
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

/** The team of an application (for pages that show who to contact). */
export async function teamOfApplication(appId: string): Promise<{ slug: string; name: string; contact: string } | null> {
  const db = await getDb();
  const [row] = await db
    .select({ slug: team.slug, name: team.name, contact: team.contact })
    .from(application)
    .innerJoin(team, eq(team.id, application.teamId))
    .where(eq(application.id, appId));
  return row ?? null;
}
