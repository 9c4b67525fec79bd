import "server-only";
import { driftOnCatalogChange } from "@/lib/drift/hooks.ts";
import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, type Transaction } from "@/db/client.ts";
import { application, catalogEntry, contractVersion, team, type Application, type ContractVersion } from "@/db/schema.ts";
import { evaluateChange, parseSemver, type ChangeEvaluation, type CompareReport, type Contract, type Diagnostic, type LintFinding, type SemverParts } from "@/registry/index.ts";
import { defineCommand, type AuthorizeContext } from "@/lib/service.ts";
import { assertCan } from "@/lib/auth/permissions.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { parseInPool } from "@/lib/parse-pool/pool.ts";
import { assertWritesForTeam, currentVersions, writableApplication } from "@/lib/catalog/applications.ts";
import { writeFlows } from "@/lib/catalog/flows.ts";
import { registerContractSubjects, subjectsAuditDetails } from "@/lib/schema-registry/contracts.ts";
import { buildIndexEntries } from "@/lib/catalog/index-entries.ts";
import { announceCatalogChange } from "@/lib/catalog/channel-index.ts";
import { recordAudit } from "@/lib/audit/record.ts";
import { contractDeclaration } from "@/lib/systems/declaration.ts";
import { applyDeclaration } from "@/lib/systems/systems.ts";
import { policyOf, storedVersionsOf } from "./evaluate.ts";

/** Largest upload accepted, all files together. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

/** PostgreSQL text cannot hold U+0000; the entry points refuse it first, this keeps every caller honest. */
const storableText = (schema: z.ZodString) => schema.refine((text) => !text.includes("\u0000"), { message: "Contains a NUL character (U+0000)." });

/** Input to publish a version: the uploaded files (name → text), optionally the version and state. */
export const publishInput = z.object({
  files: z
    .record(storableText(z.string().min(1).max(200)), storableText(z.string()))
    .refine((files) => Object.keys(files).length > 0, { message: "Upload at least one file." })
    .refine((files) => Object.keys(files).length <= 50, { message: "At most 50 files." })
    .refine((files) => Object.values(files).reduce((n, text) => n + Buffer.byteLength(text), 0) <= MAX_UPLOAD_BYTES, {
      message: `The files exceed ${MAX_UPLOAD_BYTES / 1024 / 1024} MB together.`,
    }),
  /** Defaults to the document's `info.version`. */
  version: storableText(z.string().trim().max(100)).optional(),
  /** Root file name when several files are uploaded. */
  root: storableText(z.string().trim().max(200)).optional(),
  state: z.enum(["released", "draft"]).default("released"),
});

/** The outcome of a publish: the version, the compare report, its lint findings, and whether it was created now. */
export interface PublishOutcome {
  version: Omit<ContractVersion, "files" | "contract">;
  report: CompareReport | null;
  lint: LintFinding[];
  created: boolean;
}

// One lock key space per application: publishes of one contract take turns, others run freely.
export const PUBLISH_LOCK_NAMESPACE = 7_316_543;

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

/** Turns the first blocker of an evaluation into the error a direct publish answers with. */
function refusal(evaluation: ChangeEvaluation, appSlug: string): MeshportError | null {
  const report = evaluation.report;
  const summary = { blockers: evaluation.blockers, versionFindings: evaluation.versionFindings, suggestedVersion: evaluation.suggestedVersion, lint: evaluation.lint };
  for (const finding of evaluation.versionFindings) {
    if (finding.code === "not-semver") {
      return new MeshportError("invalid_input", finding.message, { subject: "version", details: { fieldErrors: { version: ["Not a semantic version."] }, formErrors: [] } });
    }
    if (finding.code === "version-exists") {
      return new MeshportError("conflict", `Version ${evaluation.version} of ${appSlug} already exists with other content; versions are immutable.`, { subject: "version_exists" });
    }
    if (finding.code === "not-above-latest") return new MeshportError("conflict", finding.message, { subject: "version_order", details: { latest: finding.latest, ...summary } });
    if (finding.code === "bump-too-small") {
      return new MeshportError("conflict", finding.message, { subject: "semver", details: { required: finding.required, actual: finding.actual, report, ...summary, changeRequestsUrl: changeRequestsPath(appSlug) } });
    }
  }
  const incompatible = evaluation.blockers.find((b) => b.kind === "incompatible");
  if (incompatible) return new MeshportError("conflict", incompatible.message, { subject: "incompatible", details: { report, ...summary, changeRequestsUrl: changeRequestsPath(appSlug) } });
  // Whatever else blocks (lint, where the application says so) refuses the publish too; an invalid document
  // never gets here: reading the upload refused it with its diagnostics. The need for a review is answered apart.
  const other = evaluation.blockers.find((b) => b.kind !== "review");
  return other ? new MeshportError("conflict", other.message, { subject: other.kind, details: { report, ...summary } }) : null;
}

/** A parsed upload, ready to be judged: what the slow part of a publish produces, outside any transaction. */
export interface ParsedUpload {
  data: z.output<typeof publishInput>;
  contract: Contract;
  diagnostics: Diagnostic[];
  root: string;
  versionText: string;
  contentHash: string;
}

/** Validates the request, then parses and validates the document in the parse pool (before any lock is taken). */
export async function readUpload(raw: unknown): Promise<ParsedUpload> {
  const data = parseInput(publishInput, raw);
  const parsed = await parseInPool(data.files, data.root ? { root: data.root } : {});
  if (!parsed.contract || parsed.diagnostics.some((d) => d.severity === "error")) throw invalidDocument(parsed.diagnostics);
  // The mesh extensions on `info` are checked with the document: a bad one refuses the upload, naming the field.
  contractDeclaration(parsed.contract);
  const versionText = data.version ?? parsed.contract.version;
  if (!parseSemver(versionText)) {
    throw new MeshportError("invalid_input", `The version ${versionText} is not a semantic version (such as 1.4.0).`, {
      subject: "version",
      details: { fieldErrors: { version: ["Not a semantic version."] }, formErrors: [] },
    });
  }
  return { data, contract: parsed.contract, diagnostics: parsed.diagnostics, root: parsed.root ?? Object.keys(data.files)[0]!, versionText, contentHash: uploadHash(data.files) };
}

/** The application a contract command names, writable by the principal, locked for the change. */
export async function lockedApplication(tx: Transaction, principal: Principal, appSlug: string): Promise<Application> {
  const app = await writableApplication({ tx, principal }, appSlug);
  // Publishes and lifecycle changes of one contract take turns; other contracts run freely.
  await tx.execute(sql`select pg_advisory_xact_lock(${PUBLISH_LOCK_NAMESPACE}, hashtext(${app.id}))`);
  return app;
}

/**
 * {@link publishCommand}, with the principal's right to write for the application checked before the upload is
 * parsed: a caller who may not publish here costs the portal no parse (and is answered 403, whatever they sent).
 */
export async function publishVersion(principal: Principal, appSlug: string, input: unknown): Promise<PublishOutcome> {
  assertCan(principal, "contracts:write");
  const db = await getDb();
  const [app] = await db.select({ teamId: application.teamId }).from(application).where(eq(application.slug, appSlug));
  if (!app) throw new MeshportError("not_found", `No application ${appSlug}.`, { subject: "application" });
  await assertWritesForTeam(db, principal, app.teamId);
  return publishCommand(principal, appSlug, input);
}

/** `authorize` of the contract commands: the application, writable by the principal, locked for the change. */
export function authorizeContract({ tx, principal }: AuthorizeContext<unknown>, appSlug: string): Promise<Application> {
  return lockedApplication(tx, principal, appSlug);
}

/**
 * Publishes a new version of an application's contract: evaluate, then commit in one transaction if nothing
 * blocks. Refused, storing nothing, when the document is invalid (422), when the version is not above the latest
 * or its bump is smaller than the change needs, or when the change is incompatible under the contract's mode
 * within its major version (409, with the report and the evaluation). A major version starts a new line where
 * breaking changes are allowed, but only through an approved change request (409 `review_required` here, with
 * the report and where to open one), as is every change of an application whose review policy says `review`.
 * The system principal (the operator's own tooling: the CLI's database commands, the demo) is exempt.
 * Publishing content identical to an existing
 * version returns that version (and audits nothing: nothing changed).
 */
const publishCommand = defineCommand({
  permission: "contracts:write",
  input: readUpload,
  audit: "contract.publish",
  auditOptional: true,
  authorize: authorizeContract,
  run: async ({ tx, principal, input, target: app, audit }, appSlug: string): Promise<PublishOutcome> => {
    const stored = await storedVersionsOf(tx, app.id);
    // Identical content is the same version, whatever number it is offered under: never a duplicate.
    const identical = stored.find((v) => v.contentHash === input.contentHash);
    if (identical) {
      const [row] = await tx.select().from(contractVersion).where(eq(contractVersion.id, identical.id));
      return { version: withoutContent(row!), report: row!.changelog ?? null, created: false, lint: row!.lint ?? [] };
    }
    const evaluation = evaluateChange({ contract: input.contract, diagnostics: input.diagnostics, version: input.versionText }, stored, policyOf(app));
    const refused = refusal(evaluation, appSlug) ?? (principal.kind === "system" ? null : reviewRequired(evaluation, app));
    if (refused) throw refused;
    return commitVersion({ tx, principal, app, audit }, input, evaluation, input.data.state);
  },
});

/** Where a change request for an application is opened (the API path; the page is under /catalog). */
export function changeRequestsPath(appSlug: string): string {
  return `/api/v1/applications/${encodeURIComponent(appSlug)}/change-requests`;
}

/**
 * The review policy of a direct publish (the evaluation's `review` blocker): a change that breaks someone under
 * the application's mode (a new major version) goes through a change request, and so does every change of an
 * application whose policy says `review`.
 */
function reviewRequired(evaluation: ChangeEvaluation, app: Application): MeshportError | null {
  const review = evaluation.blockers.find((b) => b.kind === "review");
  if (!review) return null;
  return new MeshportError("conflict", `${review.message} Open a change request.`, {
    subject: "review_required",
    details: {
      report: evaluation.report,
      blockers: evaluation.blockers,
      versionFindings: evaluation.versionFindings,
      suggestedVersion: evaluation.suggestedVersion,
      lint: evaluation.lint,
      changeRequestsUrl: changeRequestsPath(app.slug),
      changeRequestPage: `/catalog/${encodeURIComponent(app.slug)}/publish`,
    },
  });
}

/** How a change request or an override published a version. */
export interface PublishProvenance {
  changeRequestId: string;
  overrideReason?: string;
}

/**
 * Commits a judged upload as a new version: the version row, its flows and schemas, its `contract.publish`
 * audit entry and the search index, in the caller's transaction. The one commit of a direct publish and of a
 * change request's.
 */
export async function commitVersion(
  ctx: { tx: Transaction; principal: Principal; app: Application; audit: (record: { action?: "contract.publish"; targetType: string; targetId: string; details?: Record<string, unknown> }) => void },
  input: Pick<ParsedUpload, "versionText" | "root" | "contract" | "contentHash"> & { data: { files: Record<string, string> } },
  evaluation: ChangeEvaluation,
  state: "released" | "draft",
  provenance?: PublishProvenance,
): Promise<PublishOutcome> {
  const { tx, principal, app, audit } = ctx;
  const created = await insertVersion(tx, principal, app, {
    versionText: input.versionText,
    semver: evaluation.semver!,
    state,
    files: input.data.files,
    root: input.root,
    contract: input.contract,
    contentHash: input.contentHash,
    report: evaluation.report,
    lint: evaluation.lint,
    ...(provenance ? { provenance } : {}),
  });
  // A released version's schemas are registry subjects from the same transaction on; a draft's wait for its release.
  const subjects = state === "released" ? await registerContractSubjects(tx, principal, app, { id: created.id, version: input.versionText, contract: input.contract }) : null;
  audit({
    action: "contract.publish",
    targetType: "application",
    targetId: app.id,
    details: {
      application: app.slug,
      version: input.versionText,
      state,
      contentHash: input.contentHash,
      semver: evaluation.report?.semver ?? null,
      breaking: evaluation.report?.findings.filter((f) => f.verdict === "breaking").length ?? 0,
      lint: evaluation.lint.length,
      ...(provenance ? { changeRequestId: provenance.changeRequestId } : {}),
      ...(provenance?.overrideReason ? { overrideReason: provenance.overrideReason } : {}),
      ...(subjects ? subjectsAuditDetails(subjects) : {}),
    },
  });
  // Only the current version speaks for the application: an older patch line released later leaves its word.
  if (state === "released" && (await currentVersions(tx, [app.id])).get(app.id)?.id === created.id) {
    await applyContractDeclaration(tx, principal, app, input.contract, input.versionText);
  }
  if (state === "released") await rebuildIndex(tx, app);
  await driftOnCatalogChange(tx, principal, app);
  return { version: created, report: evaluation.report, created: true, lint: evaluation.lint };
}

/**
 * The application's current version carrying `x-meshport-kind` / `x-meshport-systems` on `info` sets its kind and
 * systems (`kindSource` `contract`), audited in the caller's transaction; one without them leaves what is there.
 */
export async function applyContractDeclaration(tx: Transaction, principal: Principal, app: Application, contract: Contract, version: string): Promise<void> {
  const declaration = contractDeclaration(contract);
  if (!declaration) return;
  await applyDeclaration(tx, app, declaration, "contract", (event) => recordAudit(tx, principal, event), { version });
}

/** A version without its files and contract, as lists and API answers show it. */
export function withoutContent(v: ContractVersion): PublishOutcome["version"] {
  const { files: _files, contract: _contract, ...rest } = v;
  void _files;
  void _contract;
  return rest;
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
    lint: LintFinding[];
    provenance?: PublishProvenance;
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
      lint: v.lint,
      publishedById: principal.id,
      publishedByLabel: principalLabel(principal),
      changeRequestId: v.provenance?.changeRequestId ?? null,
      overrideReason: v.provenance?.overrideReason ?? null,
      overrideByLabel: v.provenance?.overrideReason ? principalLabel(principal) : null,
    })
    .returning();
  // The flows and schemas of the version are committed with it, or not at all.
  await writeFlows(tx, row!.id, v.contract);
  return withoutContent(row!);
}

/** Rebuilds an application's search index from its current version, and tells every portal instance at commit. */
export async function rebuildIndex(tx: Transaction, app: Application): Promise<void> {
  // Topic search holds the catalog's channels in memory: each instance drops them when this commits.
  await announceCatalogChange(tx, app.slug);
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
