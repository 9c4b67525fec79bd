import "server-only";
import { driftOnCatalogChange } from "@/lib/drift/hooks.ts";
import { and, asc, count, desc, eq, getTableColumns, inArray, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client.ts";
import {
  application,
  applicationSystem,
  APPLICATION_KINDS,
  contractVersion,
  system,
  team,
  teamMember,
  type Application,
  type ApplicationKind,
  type ContractVersion,
  type SubjectNaming,
  type Team,
} from "@/db/schema.ts";
import { COMPATIBILITY_MODES, MODE_POLICIES, type CompatibilityMode } from "@/registry/index.ts";
import { assertCan, can } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { MeshportError, slugSchema } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand, defineQuery, idInput, type AuthorizeContext } from "@/lib/service.ts";
import { kindOf, readDeclaration, systemsListSchema } from "@/lib/systems/declaration.ts";
import { applyDeclaration, systemsOfApplications, type ConnectedSystem } from "@/lib/systems/systems.ts";

/** The portal-wide default compatibility mode (`MESHPORT_DEFAULT_COMPATIBILITY`, else BACKWARD). */
export function defaultCompatibilityMode(): CompatibilityMode {
  const configured = process.env.MESHPORT_DEFAULT_COMPATIBILITY?.toUpperCase();
  return COMPATIBILITY_MODES.find((m) => m === configured) ?? "BACKWARD";
}

/** The mode an application's contract is checked with. */
export function effectiveMode(app: Pick<Application, "compatibilityMode">): CompatibilityMode {
  return COMPATIBILITY_MODES.find((m) => m === app.compatibilityMode) ?? defaultCompatibilityMode();
}

const slug = slugSchema(80);

/** How changes reach a version: `direct` publishes compatible changes at once, `review` sends every change through a change request. */
export const REVIEW_POLICIES = ["direct", "review"] as const;
export type ReviewPolicy = (typeof REVIEW_POLICIES)[number];

/** Approvals a change request needs: from the owning team, and from each affected consumer team for a breaking change. */
export interface ApprovalRule {
  owner: number;
  consumer: number;
}

/** The rule when an application sets none: one approval from the owning team, one from each affected consumer team. */
export const DEFAULT_APPROVAL_RULE: ApprovalRule = { owner: 1, consumer: 1 };

/** Most approvals one team can be asked for. */
export const MAX_APPROVALS = 10;
/** Most client-id patterns an application declares, and the longest one. */
export const MAX_CLIENT_ID_PATTERNS = 20;
export const MAX_CLIENT_ID_PATTERN_LENGTH = 256;

/** How the registry names the subjects of a contract's messages (null: `channel-message`). */
export const SUBJECT_NAMINGS = ["channel-message", "topic", "record"] as const satisfies readonly SubjectNaming[];

/** The review policy of an application, `direct` unless it says `review`. */
export function reviewPolicyOf(app: Pick<Application, "reviewPolicy">): ReviewPolicy {
  return app.reviewPolicy === "review" ? "review" : "direct";
}

/** The approval rule of an application, with the defaults for what is missing or out of range. */
export function approvalRuleOf(app: Pick<Application, "approvalRule">): ApprovalRule {
  const value = (app.approvalRule ?? {}) as Partial<Record<keyof ApprovalRule, unknown>>;
  const count = (n: unknown, fallback: number) => (typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= MAX_APPROVALS ? n : fallback);
  return { owner: count(value.owner, DEFAULT_APPROVAL_RULE.owner), consumer: count(value.consumer, DEFAULT_APPROVAL_RULE.consumer) };
}

const approvals = z.number().int().min(0).max(MAX_APPROVALS);

/** An approval rule as given; a missing count takes the default. */
export const approvalRuleSchema = z
  .object({ owner: approvals.default(DEFAULT_APPROVAL_RULE.owner), consumer: approvals.default(DEFAULT_APPROVAL_RULE.consumer) })
  .strict();

/** True when the text has a control or format character (a client id is printable). */
function hasUnprintable(text: string): boolean {
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 || code === 0xfeff || (code >= 0x200b && code <= 0x200f)) return true;
  }
  return false;
}

/** Client-id patterns: printable, `*` for any run of characters; repeated stars fold into one, duplicates go. */
export const clientIdPatternsSchema = z
  .array(
    z
      .string()
      .trim()
      .min(1, { message: "A client-id pattern is at least one character." })
      .max(MAX_CLIENT_ID_PATTERN_LENGTH)
      .refine((v) => !hasUnprintable(v), { message: "A client-id pattern holds printable characters only." })
      .transform((v) => v.replace(/\*+/g, "*")),
  )
  .max(MAX_CLIENT_ID_PATTERNS, { message: `At most ${MAX_CLIENT_ID_PATTERNS} client-id patterns.` })
  .transform((patterns) => [...new Set(patterns)]);

/** Input to register an application. */
export const createApplicationInput = z.object({
  slug,
  name: z.string().trim().min(1).max(120),
  team: z.string().trim().min(1, { message: "Choose the owning team." }),
  description: z.string().trim().max(4000).default(""),
  domain: z.string().trim().max(80).default(""),
  tags: z.array(z.string().trim().min(1).max(40)).max(20).default([]),
  compatibilityMode: z.enum(COMPATIBILITY_MODES).nullable().default(null),
  reviewPolicy: z.enum(REVIEW_POLICIES).nullable().default(null),
  approvalRule: approvalRuleSchema.nullable().default(null),
  clientIdPatterns: clientIdPatternsSchema.default([]),
  subjectNaming: z.enum(SUBJECT_NAMINGS).nullable().default(null),
});

/** True when the principal may change this team's applications: admins, and editors or better in the team. */
export async function mayWriteForTeam(db: Executor, principal: Principal, teamId: string): Promise<boolean> {
  if (!can(principal, "contracts:write")) return false;
  switch (principal.kind) {
    case "system":
      return true;
    case "token":
      // A token acts for its team; only an admin-scoped token acts for every team.
      return principal.scopes.includes("admin") || principal.teamId === teamId;
    case "user": {
      if (principal.role === "admin") return true;
      const [member] = await db
        .select({ role: teamMember.role })
        .from(teamMember)
        .where(and(eq(teamMember.teamId, teamId), eq(teamMember.userId, principal.id)));
      return member !== undefined;
    }
  }
}

/** Throws unless the principal may change this team's applications. */
export async function assertWritesForTeam(db: Executor, principal: Principal, teamId: string): Promise<void> {
  assertCan(principal, "contracts:write");
  if (!(await mayWriteForTeam(db, principal, teamId))) {
    throw new MeshportError("forbidden", "Only members of the owning team (or admins) can change this application.", {
      subject: "team",
    });
  }
}

/** The team named in the input, once the principal is known to write for it. */
async function owningTeam({ tx, principal, input }: AuthorizeContext<{ team: string }>): Promise<Team> {
  const [owner] = await tx.select().from(team).where(eq(team.slug, input.team));
  if (!owner) {
    throw new MeshportError("invalid_input", "The input is not valid.", {
      details: { fieldErrors: { team: [`No team ${input.team}.`] }, formErrors: [] },
    });
  }
  await assertWritesForTeam(tx, principal, owner.id);
  return owner;
}

/** Registers an application for a team. */
export const createApplication = defineCommand({
  permission: "contracts:write",
  input: createApplicationInput,
  audit: "application.create",
  authorize: owningTeam,
  run: async ({ tx, input: data, target: owner, audit }): Promise<Application> => {
    const [created] = await tx
      .insert(application)
      .values({
        id: newId("app"),
        slug: data.slug,
        name: data.name,
        teamId: owner.id,
        description: data.description,
        domain: data.domain,
        tags: data.tags,
        compatibilityMode: data.compatibilityMode,
        reviewPolicy: data.reviewPolicy,
        approvalRule: data.approvalRule,
        clientIdPatterns: data.clientIdPatterns,
        subjectNaming: data.subjectNaming,
      })
      .onConflictDoNothing({ target: application.slug })
      .returning();
    if (!created) {
      throw new MeshportError("conflict", `An application ${data.slug} already exists.`, {
        subject: "application",
        details: { fieldErrors: { slug: ["This slug is taken."] } },
      });
    }
    audit({
      targetType: "application",
      targetId: created.id,
      details: {
        application: created.slug,
        slug: created.slug,
        team: owner.slug,
        compatibilityMode: created.compatibilityMode,
        reviewPolicy: reviewPolicyOf(created),
        approvalRule: approvalRuleOf(created),
        clientIdPatterns: created.clientIdPatterns,
        subjectNaming: created.subjectNaming,
      },
    });
    return created;
  },
});

/** An application as listed, with its team and current version. */
export interface ApplicationSummary {
  id: string;
  slug: string;
  name: string;
  description: string;
  domain: string;
  tags: string[];
  team: { slug: string; name: string };
  /** What it is in the mesh (a service when nobody said). */
  kind: ApplicationKind;
  /** The systems it connects. */
  systems: ConnectedSystem[];
  currentVersion: string | null;
  currentState: string | null;
  versionCount: number;
  updatedAt: Date;
}

/** Filters and paging of the application list. */
export const listApplicationsInput = z.object({
  team: z.string().trim().optional(),
  tag: z.string().trim().optional(),
  domain: z.string().trim().optional(),
  /** `service` also lists the applications whose kind nobody said. */
  kind: z.enum(APPLICATION_KINDS).optional(),
  /** A system's slug: the applications that connect it, as source or target. */
  system: z.string().trim().max(80).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Lists applications by team, tag, domain, kind or system (combined), paged on the server. */
export const listApplications = defineQuery({
  permission: "catalog:read",
  input: listApplicationsInput.default({ limit: 50, offset: 0 }),
  run: async ({ db, input: filter }): Promise<{ applications: ApplicationSummary[]; total: number }> => {
    const conditions: SQL[] = [];
    if (filter.team) conditions.push(eq(team.slug, filter.team));
    if (filter.tag) conditions.push(sql`${filter.tag} = any(${application.tags})`);
    if (filter.domain) conditions.push(eq(application.domain, filter.domain));
    if (filter.kind) conditions.push(filter.kind === "service" ? sql`coalesce(${application.kind}, 'service') = 'service'` : eq(application.kind, filter.kind));
    if (filter.system) {
      conditions.push(
        sql`exists (select 1 from ${applicationSystem} inner join ${system} on ${system.id} = ${applicationSystem.systemId} where ${applicationSystem.applicationId} = ${application.id} and ${system.slug} = ${filter.system})`,
      );
    }
    const where = conditions.length ? and(...conditions) : undefined;
    // The count and the page, then what the page's rows need, each pair side by side.
    const [[totalRow], rows] = await Promise.all([
      db.select({ n: count() }).from(application).innerJoin(team, eq(team.id, application.teamId)).where(where),
      db
        .select({ app: application, teamSlug: team.slug, teamName: team.name })
        .from(application)
        .innerJoin(team, eq(team.id, application.teamId))
        .where(where)
        .orderBy(asc(application.name))
        .limit(filter.limit)
        .offset(filter.offset),
    ]);
    const ids = rows.map((r) => r.app.id);
    const [current, systems] = await Promise.all([currentVersions(db, ids), systemsOfApplications(db, ids)]);
    return {
      total: totalRow?.n ?? 0,
      applications: rows.map(({ app, teamSlug, teamName }) => ({
        id: app.id,
        slug: app.slug,
        name: app.name,
        description: app.description,
        domain: app.domain,
        tags: app.tags,
        team: { slug: teamSlug, name: teamName },
        kind: kindOf(app),
        systems: systems.get(app.id) ?? [],
        currentVersion: current.get(app.id)?.version || null,
        currentState: current.get(app.id)?.state || null,
        versionCount: current.get(app.id)?.count ?? 0,
        updatedAt: app.updatedAt,
      })),
    };
  },
});

/**
 * True for the row of `contract_version` in the query that is its application's current version: released or
 * deprecated, and no released or deprecated version of the same application ranks above it (the order of
 * {@link currentVersions}: major, minor, patch, a release above its pre-releases, then the pre-release text).
 */
export function isCurrentVersion(): SQL {
  return sql`(${contractVersion.state} in ('released', 'deprecated') and not exists (
    select 1 from ${contractVersion} as newer
    where newer.application_id = ${contractVersion.applicationId}
      and newer.state in ('released', 'deprecated')
      and (newer.major, newer.minor, newer.patch, newer.prerelease = '', newer.prerelease)
        > (${contractVersion.major}, ${contractVersion.minor}, ${contractVersion.patch}, ${contractVersion.prerelease} = '', ${contractVersion.prerelease})))`;
}

/**
 * The current version of each application: the highest released or deprecated one
 * (drafts are proposals, retired ones are gone), with the number of versions.
 */
export async function currentVersions(
  db: Executor,
  applicationIds: string[],
): Promise<Map<string, { id: string; version: string; state: string; count: number }>> {
  const result = new Map<string, { id: string; version: string; state: string; count: number }>();
  if (applicationIds.length === 0) return result;
  const rows = await db
    .select({
      applicationId: contractVersion.applicationId,
      id: contractVersion.id,
      version: contractVersion.version,
      state: contractVersion.state,
    })
    .from(contractVersion)
    .where(inArray(contractVersion.applicationId, applicationIds))
    .orderBy(
      desc(contractVersion.major),
      desc(contractVersion.minor),
      desc(contractVersion.patch),
      // Releases rank above their pre-releases; among pre-releases this order is approximate.
      sql`${contractVersion.prerelease} = '' desc`,
      desc(contractVersion.prerelease),
    );
  const counts = new Map<string, number>();
  for (const row of rows) {
    counts.set(row.applicationId, (counts.get(row.applicationId) ?? 0) + 1);
    if (!result.has(row.applicationId) && (row.state === "released" || row.state === "deprecated")) {
      result.set(row.applicationId, { id: row.id, version: row.version, state: row.state, count: 0 });
    }
  }
  for (const [applicationId, n] of counts) {
    const entry = result.get(applicationId);
    if (entry) entry.count = n;
    // Only drafts or retired versions: no current version, but the versions still count.
    else result.set(applicationId, { id: "", version: "", state: "", count: n });
  }
  return result;
}

/** One application by slug, with its team and every version (newest first, without file contents). */
export const getApplication = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({
    db,
    input: appSlug,
  }): Promise<{
    application: Application;
    team: { slug: string; name: string; contact: string };
    versions: Array<Omit<ContractVersion, "files" | "contract">>;
    currentVersionId: string | null;
    mode: CompatibilityMode;
    /** What it is in the mesh (a service when nobody said), and whether the contract or the portal said it. */
    kind: ApplicationKind;
    systems: ConnectedSystem[];
  }> => {
    const [row] = await db
      .select({ app: application, team: { slug: team.slug, name: team.name, contact: team.contact } })
      .from(application)
      .innerJoin(team, eq(team.id, application.teamId))
      .where(eq(application.slug, appSlug));
    if (!row) throw new MeshportError("not_found", `No application ${appSlug}.`, { subject: "application" });
    const { files: _files, contract: _contract, ...columns } = getTableColumns(contractVersion);
    void _files;
    void _contract;
    // Independent reads of the one application: side by side, not one round trip after another.
    const [versions, currents, systemsById] = await Promise.all([
      db
        .select(columns)
        .from(contractVersion)
        .where(eq(contractVersion.applicationId, row.app.id))
        .orderBy(desc(contractVersion.major), desc(contractVersion.minor), desc(contractVersion.patch), desc(contractVersion.publishedAt)),
      currentVersions(db, [row.app.id]),
      systemsOfApplications(db, [row.app.id]),
    ]);
    const current = currents.get(row.app.id);
    const systems = systemsById.get(row.app.id) ?? [];
    return { application: row.app, team: row.team, versions, currentVersionId: current?.id || null, mode: effectiveMode(row.app), kind: kindOf(row.app), systems };
  },
});

/** One version of an application (`getVersion(principal, appSlug, version)`), with its files and normalised contract; `latest` names the current one. */
export const getVersion = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, input: version }, appSlug: string): Promise<ContractVersion & { applicationSlug: string }> => {
    const [app] = await db.select({ id: application.id }).from(application).where(eq(application.slug, appSlug));
    if (!app) throw new MeshportError("not_found", `No application ${appSlug}.`, { subject: "application" });
    let wanted = version;
    if (version === "latest") {
      const current = (await currentVersions(db, [app.id])).get(app.id);
      if (!current?.id) throw new MeshportError("not_found", `${appSlug} has no released version.`, { subject: "version" });
      wanted = current.version;
    }
    const [found] = await db
      .select()
      .from(contractVersion)
      .where(and(eq(contractVersion.applicationId, app.id), eq(contractVersion.version, wanted)));
    if (!found) throw new MeshportError("not_found", `${appSlug} has no version ${version}.`, { subject: "version" });
    return { ...found, applicationSlug: appSlug };
  },
});

/** Input to change an application's catalog record, compatibility mode, lint policy or governance settings. */
export const updateApplicationInput = z
  .object({
    name: z.string().trim().min(1).max(120).optional(),
    description: z.string().trim().max(4000).optional(),
    domain: z.string().trim().max(80).optional(),
    tags: z.array(z.string().trim().min(1).max(40)).max(20).optional(),
    compatibilityMode: z.enum(COMPATIBILITY_MODES).nullable().optional(),
    /** `block`: lint problems refuse a publish; `warn` (or null, the default): they are only shown. */
    lintPolicy: z.enum(["warn", "block"]).nullable().optional(),
    /** `review`: every change needs an approved change request; `direct` (or null, the default): compatible changes publish at once. */
    reviewPolicy: z.enum(REVIEW_POLICIES).nullable().optional(),
    /** Approvals a change request needs; null = the default rule. */
    approvalRule: approvalRuleSchema.nullable().optional(),
    /** The client ids of this application on the brokers (`machine-monitor-*`). */
    clientIdPatterns: clientIdPatternsSchema.optional(),
    /** How the registry names the subjects of the next releases (null: `channel-message`). */
    subjectNaming: z.enum(SUBJECT_NAMINGS).nullable().optional(),
    /** What it is in the mesh (APPLICATION_KINDS); set here, the portal says it until a contract carrying `x-meshport-kind` is published. */
    kind: z.enum(APPLICATION_KINDS).optional(),
    /** The systems it connects (as `x-meshport-systems`: names or `{ name, type?, role?, description? }`), replacing the list. */
    systems: systemsListSchema.optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: "Nothing to change." });

/** The application, locked for the change, once the principal is known to write for its team. */
export async function writableApplication({ tx, principal }: Pick<AuthorizeContext<unknown>, "tx" | "principal">, appSlug: string): Promise<Application> {
  const [found] = await tx.select().from(application).where(eq(application.slug, appSlug)).for("update");
  if (!found) throw new MeshportError("not_found", `No application ${appSlug}.`, { subject: "application" });
  await assertWritesForTeam(tx, principal, found.teamId);
  return found;
}

/**
 * True when checking with `next` keeps every guarantee of `current`: it checks each direction `current`
 * checks, and across all earlier versions when `current` does. NONE guarantees nothing.
 */
export function modeKeepsGuarantees(current: CompatibilityMode, next: CompatibilityMode): boolean {
  const was = MODE_POLICIES[current];
  const will = MODE_POLICIES[next];
  return (!was.backward || will.backward) && (!was.forward || will.forward) && (!was.transitive || will.transitive);
}

/** A governance setting a change can weaken. */
export type GovernanceSetting = "approvalRule.owner" | "approvalRule.consumer" | "reviewPolicy" | "compatibilityMode" | "lintPolicy";

/** The governance settings the change makes less strict than the application has them now (effective values compared). */
export function governanceWeakenings(
  app: Pick<Application, "approvalRule" | "reviewPolicy" | "compatibilityMode" | "lintPolicy">,
  change: Pick<z.output<typeof updateApplicationInput>, "approvalRule" | "reviewPolicy" | "compatibilityMode" | "lintPolicy">,
): GovernanceSetting[] {
  const weakened: GovernanceSetting[] = [];
  if (change.approvalRule !== undefined) {
    const was = approvalRuleOf(app);
    const will = approvalRuleOf({ approvalRule: change.approvalRule });
    if (will.owner < was.owner) weakened.push("approvalRule.owner");
    if (will.consumer < was.consumer) weakened.push("approvalRule.consumer");
  }
  if (change.reviewPolicy !== undefined && reviewPolicyOf(app) === "review" && reviewPolicyOf({ reviewPolicy: change.reviewPolicy }) !== "review") {
    weakened.push("reviewPolicy");
  }
  if (change.compatibilityMode !== undefined && !modeKeepsGuarantees(effectiveMode(app), effectiveMode({ compatibilityMode: change.compatibilityMode }))) {
    weakened.push("compatibilityMode");
  }
  if (change.lintPolicy !== undefined && app.lintPolicy === "block" && change.lintPolicy !== "block") weakened.push("lintPolicy");
  return weakened;
}

/** True for the principals that act for every team (weaken governance, own unowned systems): admins, admin-scoped tokens and the system. */
export function governsEveryTeam(principal: Principal): boolean {
  switch (principal.kind) {
    case "system":
      return true;
    case "token":
      return principal.scopes.includes("admin");
    case "user":
      return principal.role === "admin";
  }
}

const SETTING_LABELS: Record<GovernanceSetting, string> = {
  "approvalRule.owner": "the owner approvals required",
  "approvalRule.consumer": "the consumer approvals required",
  reviewPolicy: "the review policy",
  compatibilityMode: "the compatibility mode",
  lintPolicy: "the lint policy",
};

/**
 * The application, once the principal is known to write for its team and, for a change that makes its
 * governance less strict, to be an admin: otherwise a team could switch review off, publish a breaking
 * change past its consumers, and switch it back on.
 */
async function governedApplication(ctx: AuthorizeContext<z.output<typeof updateApplicationInput>>, appSlug: string): Promise<Application> {
  const found = await writableApplication(ctx, appSlug);
  const weakened = governanceWeakenings(found, ctx.input);
  if (weakened.length > 0 && !governsEveryTeam(ctx.principal)) {
    const what = weakened.map((s) => SETTING_LABELS[s]);
    const list = what.length === 1 ? what[0] : `${what.slice(0, -1).join(", ")} and ${what.at(-1)}`;
    throw new MeshportError("forbidden", `This change would weaken ${list} of ${appSlug}; only an admin can do that.`, {
      subject: "governance",
      details: { weakened },
    });
  }
  return found;
}

/**
 * Changes an application's catalog record, compatibility mode, lint policy, governance settings, kind or systems
 * (team members; weakening governance: admins). A kind or systems set here are the portal's (`kindSource`
 * `portal`) until a published contract carrying the extensions sets them again.
 */
export const updateApplication = defineCommand({
  permission: "contracts:write",
  input: updateApplicationInput,
  audit: ["application.update", "application.kind.set", "system.create"],
  // Setting the kind and systems they already have changes nothing, and records nothing; a column change always records.
  auditOptional: true,
  authorize: governedApplication,
  run: async ({ tx, principal, input: data, target: found, audit }, appSlug: string): Promise<Application> => {
    const { kind, systems, ...rest } = data;
    const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as typeof rest;
    let current = found;
    if (kind !== undefined || systems !== undefined) {
      // Roles default from the kind given, else the one it has; the list is checked as a contract's would be.
      const declaration = readDeclaration({ kind, systems }, { kind: "kind", systems: "systems" }, found.kind);
      current = await applyDeclaration(tx, found, declaration, "portal", audit);
    }
    if (Object.keys(given).length === 0) return current;
    const [updated] = await tx.update(application).set(given).where(eq(application.id, found.id)).returning();
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const key of Object.keys(given) as Array<keyof typeof given>) {
      const from = found[key] ?? null;
      const to = updated![key] ?? null;
      if (JSON.stringify(from) === JSON.stringify(to)) continue;
      before[key] = from;
      after[key] = to;
    }
    audit({ action: "application.update", targetType: "application", targetId: found.id, details: { application: appSlug, before, after } });
    if ("clientIdPatterns" in after) await driftOnCatalogChange(tx, principal, updated!);
    return updated!;
  },
});
