import "server-only";
import { and, asc, eq, inArray, isNull, notInArray, sql } from "drizzle-orm";
import { getDb, MIGRATION_LOCK_KEY, type Executor } from "@/db/client.ts";
import { contractVersion, flow, registrySchema } from "@/db/schema.ts";
import { flowsOf, schemasOf, type Contract } from "@/registry/index.ts";
import { assertCan } from "@/lib/auth/permissions.ts";
import { bumpCatalogGeneration } from "@/lib/drift/catalog.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { participantsOf, type ChannelParticipant } from "./participants.ts";

// Rows per INSERT statement: far below PostgreSQL's 65,535 bind parameters.
const CHUNK = 500;

/**
 * Registers the schemas of a contract and returns their global ids by hash. Identical content (same format,
 * same canonical JSON) keeps the id it got first. Rows go in hash order, so two transactions registering
 * overlapping sets wait for each other instead of deadlocking.
 */
export async function registerSchemas(tx: Executor, contract: Contract): Promise<Map<string, number>> {
  const schemas = schemasOf(contract);
  const ids = new Map<string, number>();
  for (let i = 0; i < schemas.length; i += CHUNK) {
    const chunk = schemas.slice(i, i + CHUNK);
    await tx
      .insert(registrySchema)
      .values(chunk.map((s) => ({ hash: s.hash, format: s.format, canonical: s.canonical })))
      .onConflictDoNothing({ target: registrySchema.hash });
    const rows = await tx
      .select({ id: registrySchema.id, hash: registrySchema.hash })
      .from(registrySchema)
      .where(inArray(registrySchema.hash, chunk.map((s) => s.hash)));
    for (const row of rows) ids.set(row.hash, row.id);
  }
  return ids;
}

/**
 * Derives and stores the flows and schemas of one version, and marks the version derived. Idempotent: a flow
 * already stored is kept. Runs inside the caller's transaction (the publish, or a backfill batch).
 */
export async function writeFlows(tx: Executor, versionId: string, contract: Contract): Promise<{ flows: number; schemas: number }> {
  const ids = await registerSchemas(tx, contract);
  const idOf = (hash: string | undefined) => {
    if (hash === undefined) return null;
    const id = ids.get(hash);
    if (id === undefined) throw new Error(`schema ${hash} was not registered`);
    return id;
  };
  const rows = flowsOf(contract).map((f) => ({
    versionId,
    channel: f.channel,
    action: f.action,
    messageKey: f.messageKey,
    payloadSchemaId: idOf(f.payload?.hash),
    headersSchemaId: idOf(f.headers?.hash),
    operations: f.operations,
  }));
  for (let i = 0; i < rows.length; i += CHUNK) {
    await tx.insert(flow).values(rows.slice(i, i + CHUNK)).onConflictDoNothing();
  }
  await tx.update(contractVersion).set({ flowsDerivedAt: new Date() }).where(eq(contractVersion.id, versionId));
  return { flows: rows.length, schemas: ids.size };
}

/**
 * Derives the flows and schemas of every version stored without them (by a build that predates them, or
 * written around the publish). Run at start-up after the migrations; idempotent, and safe when several
 * instances start together: each batch holds the migration advisory lock, so one instance derives a version
 * and the others find it done. A version whose stored contract cannot be derived is reported to `onError`
 * and left for the next start, without stopping the others. Returns how many versions it derived.
 */
export async function backfillFlows(
  db: Executor,
  options: { batchSize?: number; onError?: (versionId: string, error: unknown) => void } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 50;
  const onError = options.onError ?? ((id, error) => console.warn(`meshport: cannot derive the flows of version ${id}:`, error));
  const failed: string[] = [];
  let derived = 0;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      const pending = await tx
        .select({ id: contractVersion.id, contract: contractVersion.contract })
        .from(contractVersion)
        .where(and(isNull(contractVersion.flowsDerivedAt), failed.length ? notInArray(contractVersion.id, failed) : undefined))
        .orderBy(asc(contractVersion.id))
        .limit(batchSize);
      let done = 0;
      for (const version of pending) {
        try {
          // A savepoint: a version that fails leaves nothing behind, and the batch goes on.
          await tx.transaction((sp) => writeFlows(sp, version.id, version.contract));
          done++;
        } catch (error) {
          failed.push(version.id);
          onError(version.id, error);
        }
      }
      // Caches of the catalog's channels and flows key on the generation: derived flows count as a change (a publish counts its own).
      if (done > 0) await bumpCatalogGeneration(tx);
      return { seen: pending.length, done };
    });
    derived += batch.done;
    if (batch.seen < batchSize) return derived;
  }
}

/** The flows of one version, with their schema ids, sorted by channel, action and message. */
export async function flowsOfVersion(db: Executor, versionId: string) {
  return db
    .select({
      channel: flow.channel,
      action: flow.action,
      messageKey: flow.messageKey,
      payloadSchemaId: flow.payloadSchemaId,
      headersSchemaId: flow.headersSchemaId,
      operations: flow.operations,
    })
    .from(flow)
    .where(eq(flow.versionId, versionId))
    .orderBy(asc(flow.channel), asc(flow.action), asc(flow.messageKey));
}

export type { ChannelParticipant } from "./participants.ts";

/** Producers and consumers the channel page lists at most, each. */
export const MAX_CHANNEL_PARTICIPANTS = 200;

/**
 * Who sends and who receives a channel: the flows of the current version of every application (its highest
 * released or deprecated version; drafts are proposals, retired versions are gone) whose channel template the
 * address reaches, with MQTT semantics (`plant/{lineId}/temperature` reaches `plant/{line}/temperature`).
 * At most {@link MAX_CHANNEL_PARTICIPANTS} of each; `truncated` is set when there are more.
 */
export async function channelParticipants(
  principal: Principal,
  address: string,
): Promise<{ producers: ChannelParticipant[]; consumers: ChannelParticipant[]; truncated?: true }> {
  assertCan(principal, "catalog:read");
  const db = await getDb();
  const found = (await participantsOf(db, [address], MAX_CHANNEL_PARTICIPANTS)).get(address)!;
  return { producers: found.producers, consumers: found.consumers, ...(found.truncated ? { truncated: true as const } : {}) };
}
