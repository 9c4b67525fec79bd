import "server-only";
import { and, asc, desc, eq, inArray, not, sql } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { application, catalogGeneration, contractVersion, flow, registrySchema } from "@/db/schema.ts";
import { isCurrentVersion } from "@/lib/catalog/applications.ts";
import { clientMapper, patternOwners } from "@/lib/reviews/impact.ts";
import { compileDriftCatalog, PayloadValidators, type CompiledDriftCatalog, type StoredSchema } from "@/registry/drift/index.ts";
import type { DeclaredFlow, DriftApp, DriftCatalog, OtherVersionFlow } from "@/registry/drift/types.ts";

/**
 * What drift judges against, loaded from the catalog and kept in process per catalog generation: the flows of every
 * application's current version, the flows of its other versions, the applications, the client mapping, and the
 * payload schemas those flows name. One tiny query per use tells whether the cached copy is still the catalog's.
 */

/** Flows of current versions read at most. */
export const MAX_DRIFT_FLOWS = 20_000;
/** Flows of other versions read at most (the newest versions first). */
export const MAX_OTHER_VERSION_FLOWS = 20_000;
/** Applications with a current version read at most. */
export const MAX_DRIFT_APPLICATIONS = 5_000;
/** Payload schemas kept parsed at most. */
export const MAX_DRIFT_SCHEMAS = 20_000;

/** The catalog of one generation, compiled, with its payload validators. */
export interface LoadedDriftCatalog {
  generation: number;
  /** when the generation was counted: with it, the cache key tells databases apart (tests swap them in one process) */
  stamp: string;
  catalog: DriftCatalog;
  compiled: CompiledDriftCatalog;
  validators: PayloadValidators;
  /** the payload schemas of the flows, parsed, by registry schema id */
  schemas: ReadonlyMap<number, StoredSchema>;
  /** the same schemas by content hash, for the next generation to reuse */
  schemasByHash: ReadonlyMap<string, StoredSchema>;
  /** true when a bound cut the catalog short (the rules then see part of it) */
  truncated: boolean;
}

const globalForDrift = globalThis as typeof globalThis & { __meshportDriftCatalog?: LoadedDriftCatalog };

/** The catalog generation as the executor sees it, and when it was counted. */
export async function catalogGenerationOf(db: Executor): Promise<{ generation: number; stamp: string }> {
  const [row] = await db.select({ generation: catalogGeneration.generation, updatedAt: catalogGeneration.updatedAt }).from(catalogGeneration).where(eq(catalogGeneration.id, 1));
  return { generation: row?.generation ?? 0, stamp: row?.updatedAt.toISOString() ?? "" };
}

/** Counts a change of what drift judges against: cached catalogs of earlier generations are no longer used. */
export async function bumpCatalogGeneration(db: Executor): Promise<number> {
  const [row] = await db
    .insert(catalogGeneration)
    .values({ id: 1, generation: 1 })
    .onConflictDoUpdate({ target: catalogGeneration.id, set: { generation: sql`${catalogGeneration.generation} + 1`, updatedAt: new Date() } })
    .returning({ generation: catalogGeneration.generation });
  return row!.generation;
}

/**
 * The drift catalog of the generation the executor sees. `cache: false` in a transaction that changed the catalog:
 * what it sees may still roll back, so it is neither taken from nor kept in the process cache.
 */
export async function loadDriftCatalog(db: Executor, { cache = true }: { cache?: boolean } = {}): Promise<LoadedDriftCatalog> {
  const { generation, stamp } = await catalogGenerationOf(db);
  const cached = globalForDrift.__meshportDriftCatalog;
  if (cache && cached && cached.generation === generation && cached.stamp === stamp) return cached;
  const loaded = await buildDriftCatalog(db, generation, stamp, cached);
  // An instance that is behind (its reader saw an older generation) does not replace a newer copy.
  const held = globalForDrift.__meshportDriftCatalog;
  if (cache && (!held || held.stamp !== stamp || held.generation <= generation)) globalForDrift.__meshportDriftCatalog = loaded;
  return loaded;
}

/** Forgets the cached catalog (tests that swap databases). */
export function forgetDriftCatalog(): void {
  globalForDrift.__meshportDriftCatalog = undefined;
}

type Rank = [number, number, number, boolean, string];

/** The order of {@link isCurrentVersion}: major, minor, patch, a release above its pre-releases, then the pre-release text. */
function compareRank(a: Rank, b: Rank): number {
  for (let i = 0; i < 5; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

async function buildDriftCatalog(db: Executor, generation: number, stamp: string, previous: LoadedDriftCatalog | undefined): Promise<LoadedDriftCatalog> {
  let truncated = false;
  const current = await db
    .select({
      versionId: contractVersion.id,
      version: contractVersion.version,
      major: contractVersion.major,
      minor: contractVersion.minor,
      patch: contractVersion.patch,
      prerelease: contractVersion.prerelease,
      publishedAt: contractVersion.publishedAt,
      id: application.id,
      slug: application.slug,
      name: application.name,
      teamId: application.teamId,
    })
    .from(contractVersion)
    .innerJoin(application, eq(application.id, contractVersion.applicationId))
    .where(isCurrentVersion())
    .orderBy(asc(application.slug))
    .limit(MAX_DRIFT_APPLICATIONS + 1);
  if (current.length > MAX_DRIFT_APPLICATIONS) truncated = true;
  const apps = new Map<string, { app: DriftApp; versionId: string; version: string; rank: Rank; publishedAt: string }>();
  for (const row of current.slice(0, MAX_DRIFT_APPLICATIONS)) {
    apps.set(row.id, {
      app: { id: row.id, slug: row.slug, name: row.name, teamId: row.teamId },
      versionId: row.versionId,
      version: row.version,
      rank: [row.major, row.minor, row.patch, row.prerelease === "", row.prerelease],
      publishedAt: row.publishedAt.toISOString(),
    });
  }

  const flowRows = await db
    .select({
      versionId: flow.versionId,
      applicationId: contractVersion.applicationId,
      channel: flow.channel,
      action: flow.action,
      messageKey: flow.messageKey,
      payloadSchemaId: flow.payloadSchemaId,
      format: registrySchema.format,
    })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .leftJoin(registrySchema, eq(registrySchema.id, flow.payloadSchemaId))
    .where(isCurrentVersion())
    .orderBy(asc(contractVersion.applicationId), asc(flow.channel), asc(flow.action), asc(flow.messageKey))
    .limit(MAX_DRIFT_FLOWS + 1);
  if (flowRows.length > MAX_DRIFT_FLOWS) truncated = true;
  const flows: DeclaredFlow[] = [];
  for (const row of flowRows.slice(0, MAX_DRIFT_FLOWS)) {
    const owner = apps.get(row.applicationId);
    if (!owner || owner.versionId !== row.versionId) continue;
    flows.push({
      application: owner.app,
      versionId: row.versionId,
      version: owner.version,
      channel: row.channel,
      action: row.action,
      messageKey: row.messageKey,
      payloadSchemaId: row.payloadSchemaId,
      payloadFormat: row.format,
      publishedAt: owner.publishedAt,
    });
  }

  const otherRows = await db
    .select({
      versionId: flow.versionId,
      applicationId: contractVersion.applicationId,
      version: contractVersion.version,
      major: contractVersion.major,
      minor: contractVersion.minor,
      patch: contractVersion.patch,
      prerelease: contractVersion.prerelease,
      channel: flow.channel,
      action: flow.action,
      messageKey: flow.messageKey,
      payloadSchemaId: flow.payloadSchemaId,
      format: registrySchema.format,
    })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .leftJoin(registrySchema, eq(registrySchema.id, flow.payloadSchemaId))
    .where(and(not(isCurrentVersion()), inArray(contractVersion.applicationId, db.select({ id: contractVersion.applicationId }).from(contractVersion).where(isCurrentVersion()))))
    .orderBy(desc(contractVersion.publishedAt), asc(flow.versionId), asc(flow.channel), asc(flow.action), asc(flow.messageKey))
    .limit(MAX_OTHER_VERSION_FLOWS + 1);
  if (otherRows.length > MAX_OTHER_VERSION_FLOWS) truncated = true;
  const otherVersions: OtherVersionFlow[] = [];
  for (const row of otherRows.slice(0, MAX_OTHER_VERSION_FLOWS)) {
    const owner = apps.get(row.applicationId);
    if (!owner) continue;
    const order = compareRank([row.major, row.minor, row.patch, row.prerelease === "", row.prerelease], owner.rank);
    if (order === 0) continue;
    otherVersions.push({
      applicationId: row.applicationId,
      versionId: row.versionId,
      version: row.version,
      relation: order < 0 ? "older" : "newer",
      channel: row.channel,
      action: row.action,
      messageKey: row.messageKey,
      payloadSchemaId: row.payloadSchemaId,
      payloadFormat: row.format,
    });
  }

  const { owners, truncated: ownersCut } = await patternOwners(db);
  if (ownersCut) truncated = true;
  const mapper = clientMapper(owners);
  const mapClient = (clientId: string): readonly DriftApp[] => mapper(clientId).applications;

  const { byId: schemas, byHash } = await loadSchemas(db, [...flows, ...otherVersions].map((f) => f.payloadSchemaId), previous?.schemasByHash);
  const catalog: DriftCatalog = { flows, otherVersions, applications: [...apps.values()].map((a) => a.app), mapClient };
  const validators = new PayloadValidators((id) => schemas.get(id));
  return { generation, stamp, catalog, compiled: compileDriftCatalog(catalog), validators, schemas, schemasByHash: byHash, truncated };
}

/**
 * The payload schemas by id, parsed. Those a previous catalog held with the same content hash are reused: a
 * schema's content never changes, and the hash (not the id) also holds when the process saw another database.
 */
async function loadSchemas(
  db: Executor,
  ids: readonly (number | null)[],
  known: ReadonlyMap<string, StoredSchema> | undefined,
): Promise<{ byId: Map<number, StoredSchema>; byHash: Map<string, StoredSchema> }> {
  const wanted = [...new Set(ids.filter((id): id is number => id !== null))].slice(0, MAX_DRIFT_SCHEMAS);
  const byId = new Map<number, StoredSchema>();
  const byHash = new Map<string, StoredSchema>();
  const missing: number[] = [];
  for (let i = 0; i < wanted.length; i += 1_000) {
    const rows = await db.select({ id: registrySchema.id, hash: registrySchema.hash }).from(registrySchema).where(inArray(registrySchema.id, wanted.slice(i, i + 1_000)));
    for (const row of rows) {
      const held = known?.get(row.hash);
      if (held) {
        byId.set(row.id, held);
        byHash.set(row.hash, held);
      } else missing.push(row.id);
    }
  }
  for (let i = 0; i < missing.length; i += 1_000) {
    const rows = await db
      .select({ id: registrySchema.id, hash: registrySchema.hash, format: registrySchema.format, canonical: registrySchema.canonical })
      .from(registrySchema)
      .where(inArray(registrySchema.id, missing.slice(i, i + 1_000)));
    for (const row of rows) {
      try {
        const stored: StoredSchema = { format: row.format, schema: JSON.parse(row.canonical) as unknown };
        byId.set(row.id, stored);
        byHash.set(row.hash, stored);
      } catch {
        // Not JSON (cannot happen for stored canonical text): the validators say it cannot be judged.
      }
    }
  }
  return { byId, byHash };
}
