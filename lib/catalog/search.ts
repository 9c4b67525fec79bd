import "server-only";
import { and, asc, eq, gte, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client.ts";
import { application, catalogEntry, contractVersion, system, team, type SystemType } from "@/db/schema.ts";
import { MeshportError } from "@/lib/errors.ts";
import { defineQuery } from "@/lib/service.ts";
import { parseFilter, TemplateIndex, type Filter } from "@/registry/topics/index.ts";
import { actionLabel, directionKey, directionsOf, participantsOf } from "./participants.ts";
import { topicQueryShape } from "./topics.ts";

/** An application on the other end of a hit's channel: it sends or receives there in its current version. */
export interface HitParticipant {
  application: { slug: string; name: string };
  team: { slug: string; name: string };
  version: string;
}

/** One search hit: what it is, where it lives, and who owns it. */
export interface SearchHit {
  kind: "application" | "channel" | "message" | "field";
  application: { slug: string; name: string };
  team: { slug: string; name: string };
  version: string;
  address: string | null;
  messageKey: string | null;
  fieldPath: string | null;
  /**
   * What the hit's application does with it, from `flow`: `send`, `receive` or `receive,send` on the channel (for a
   * message or field, with that message); null for an application, or when no operation uses it.
   */
  action: string | null;
  /** Who sends on the hit's channel, from the current versions' flows (at most {@link MAX_HIT_PARTICIPANTS}). */
  producers: HitParticipant[];
  /** Who receives on the hit's channel, likewise. */
  consumers: HitParticipant[];
  /** More producers or consumers exist than are listed. */
  participantsCapped?: boolean;
  title: string;
  snippet: string;
  rank: number;
}

/** A system whose name has every word searched for (systems are catalog entries of their own, outside the contract index). */
export interface SystemHit {
  slug: string;
  name: string;
  type: SystemType;
}

/** Systems a word search lists at most, beside its hits. */
export const MAX_SYSTEM_HITS = 10;

/** Totals above this are reported as "more than" it, not counted. */
export const MAX_COUNTED = 1000;

/** Producers and consumers listed per hit, each. */
export const MAX_HIT_PARTICIPANTS = 10;

/** Distinct channel addresses a topic search matches in code at most: beyond, the total is reported as capped. */
export const MAX_TOPIC_CANDIDATES = 5000;

/** Search input: free text, a topic filter, or a field name, paged on the server. */
export const searchInput = z
  .object({
    q: z.string().trim().max(200).optional(),
    topic: z.string().trim().max(500).optional(),
    field: z.string().trim().max(200).optional(),
    kind: z.enum(["application", "channel", "message", "field"]).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    offset: z.coerce.number().int().min(0).max(10_000).default(0),
  })
  .refine((v) => Boolean(v.q || v.topic || v.field), { message: "Give words, a topic filter or a field name." });

const hitColumns = {
  kind: catalogEntry.kind,
  appSlug: application.slug,
  appName: application.name,
  teamSlug: team.slug,
  teamName: team.name,
  version: contractVersion.version,
  address: catalogEntry.address,
  messageKey: catalogEntry.messageKey,
  fieldPath: catalogEntry.fieldPath,
  versionId: catalogEntry.versionId,
  title: catalogEntry.title,
  body: catalogEntry.body,
};

type HitRow = { [K in keyof typeof hitColumns]: unknown } & { rank?: number };

function toHit(row: HitRow, rank: number): Omit<SearchHit, "action" | "producers" | "consumers"> {
  return {
    kind: row.kind as SearchHit["kind"],
    application: { slug: String(row.appSlug), name: String(row.appName) },
    team: { slug: String(row.teamSlug), name: String(row.teamName) },
    version: String(row.version),
    address: (row.address as string | null) ?? null,
    messageKey: (row.messageKey as string | null) ?? null,
    fieldPath: (row.fieldPath as string | null) ?? null,
    title: String(row.title),
    snippet: String(row.body).slice(0, 240),
    rank,
  };
}

/**
 * Adds who sends and who receives to a page of hits, from `flow`: the hit application's own direction (in the
 * indexed version) and the producers and consumers of its channel across the current versions. Two bounded
 * queries per page, whatever its size; the index only found the hits.
 */
async function withFlows(db: Executor, rows: HitRow[]): Promise<SearchHit[]> {
  const located = rows.filter((r) => r.address !== null && r.address !== undefined);
  const directions = await directionsOf(
    db,
    located.map((r) => ({ versionId: String(r.versionId), channel: String(r.address) })),
  );
  const participants = await participantsOf(
    db,
    located.map((r) => String(r.address)),
    MAX_HIT_PARTICIPANTS,
  );
  const brief = (p: { application: HitParticipant["application"]; team: HitParticipant["team"]; version: string }): HitParticipant => ({
    application: p.application,
    team: p.team,
    version: p.version,
  });
  // One application may reach the channel with several templates: list it once per side.
  const once = (list: HitParticipant[]) => [...new Map(list.map((p) => [p.application.slug, p])).values()];
  return rows.map((row) => {
    const hit = toHit(row, Number(row.rank ?? 0));
    if (hit.address === null) return { ...hit, action: null, producers: [], consumers: [] };
    const messageKey = hit.kind === "message" || hit.kind === "field" ? hit.messageKey : null;
    const action = actionLabel(directions.get(directionKey(String(row.versionId), hit.address, messageKey)));
    const found = participants.get(hit.address);
    return {
      ...hit,
      action,
      producers: once((found?.producers ?? []).map(brief)),
      consumers: once((found?.consumers ?? []).map(brief)),
      ...(found?.truncated ? { participantsCapped: true } : {}),
    };
  });
}

/**
 * Searches the catalog. Words use PostgreSQL full-text search (ranked, prefix-matching
 * the last word as you type); a topic uses MQTT wildcard semantics against channel
 * templates; a field finds the messages that carry it, and who sends them.
 */
export const searchCatalog = defineQuery({
  permission: "catalog:read",
  input: searchInput,
  run: async ({ db, input }) => {
    const found = await search(db, input);
    // Words alone also find systems by name, on the first page.
    const systems = input.q && !input.topic && !input.field && !input.kind && input.offset === 0 ? await systemsNamed(db, input.q) : [];
    return { ...found, systems };
  },
});

/** The systems whose name holds every word of the text (at most {@link MAX_SYSTEM_HITS}, by name). */
async function systemsNamed(db: Executor, text: string): Promise<SystemHit[]> {
  const words = text
    .toLowerCase()
    .split(/[\s,]+/u)
    .filter(Boolean)
    .slice(0, 12);
  if (words.length === 0) return [];
  // position(), not LIKE: the words need no escaping.
  return db
    .select({ slug: system.slug, name: system.name, type: system.type })
    .from(system)
    .where(and(...words.map((w) => sql`position(${w} in lower(${system.name})) > 0`)))
    .orderBy(sql`lower(${system.name})`, asc(system.slug))
    .limit(MAX_SYSTEM_HITS);
}

async function search(db: Database, query: z.output<typeof searchInput>): Promise<{ hits: SearchHit[]; total: number; totalCapped?: boolean }> {
  const conditions: SQL[] = [];
  if (query.kind) conditions.push(eq(catalogEntry.kind, query.kind));

  let rank: SQL<number> = sql<number>`0::real`;
  if (query.q) {
    const tsquery = toPrefixTsquery(query.q);
    if (!tsquery) return { hits: [], total: 0 };
    const ts = sql`(to_tsquery('simple', ${tsquery}) || to_tsquery('english', ${tsquery}))`;
    conditions.push(sql`${catalogEntry.search} @@ ${ts}`);
    rank = sql<number>`ts_rank(${catalogEntry.search}, ${ts})`;
  }
  if (query.field) {
    const name = query.field.toLowerCase();
    conditions.push(
      name.includes(".")
        ? sql`lower(${catalogEntry.fieldPath}) = ${name}`
        : eq(catalogEntry.fieldName, name.replace(/\[\]$/, "")),
    );
  }
  let topicFilter: Filter | null = null;
  if (query.topic) {
    const parsed = parseFilter(query.topic);
    if (!parsed.ok) {
      throw new MeshportError("invalid_input", `Not a valid topic or filter: ${parsed.reason}`, {
        details: { fieldErrors: { topic: [parsed.reason] }, formErrors: [] },
      });
    }
    topicFilter = parsed.value;
    const shape = topicQueryShape(query.topic);
    conditions.push(query.kind ? sql`true` : eq(catalogEntry.kind, "channel"));
    conditions.push(shape.atLeast ? gte(catalogEntry.levelCount, shape.levels) : eq(catalogEntry.levelCount, shape.levels));
    if (shape.firstLevel !== null) {
      // Templates starting with a parameter may still match a literal first level.
      conditions.push(or(eq(catalogEntry.firstLevel, shape.firstLevel), isNull(catalogEntry.firstLevel))!);
    }
  }

  const found = await db.transaction(async (tx) => {
    if (query.q) {
      // A frequent word matches a few percent of the index, where the planner prefers a
      // sequential scan that evaluates @@ on every row; the GIN index is far cheaper (bench/catalog.ts).
      await tx.execute(sql`set local enable_seqscan = off`);
    }
    const base = tx
      .select({ ...hitColumns, rank })
      .from(catalogEntry)
      .innerJoin(application, eq(application.id, catalogEntry.applicationId))
      .innerJoin(team, eq(team.id, application.teamId))
      .innerJoin(contractVersion, eq(contractVersion.id, catalogEntry.versionId))
      .$dynamic();

    if (topicFilter) {
      // Candidates are narrowed in SQL; the wildcard match itself is exact in code, once per distinct address.
      const candidates = await tx
        .selectDistinct({ address: catalogEntry.address })
        .from(catalogEntry)
        .where(and(...conditions))
        .orderBy(asc(catalogEntry.address))
        .limit(MAX_TOPIC_CANDIDATES + 1);
      const index = new TemplateIndex<string>();
      for (const { address } of candidates.slice(0, MAX_TOPIC_CANDIDATES)) if (address !== null) index.add(address, address);
      const matched = [...new Set(index.matchFilter(topicFilter).map((hit) => hit.value))].sort();
      if (matched.length === 0) return { rows: [], total: 0, totalCapped: false };
      const where = and(...conditions, inArray(catalogEntry.address, matched));
      const counted = await countUpTo(tx, where);
      const rows = await base
        .where(where)
        .orderBy(asc(catalogEntry.address), asc(application.slug), asc(catalogEntry.id))
        .limit(query.limit)
        .offset(query.offset);
      const capped = counted > MAX_COUNTED || candidates.length > MAX_TOPIC_CANDIDATES;
      return { total: Math.min(counted, MAX_COUNTED), totalCapped: capped, rows: rows.map((r) => ({ ...r, rank: 1 })) };
    }
    const where = and(...conditions);
    const total = await countUpTo(tx, where);
    const rows = await base
      .where(where)
      .orderBy(sql`${rank} desc`, asc(application.slug), asc(catalogEntry.id))
      .limit(query.limit)
      .offset(query.offset);
    return { total: Math.min(total, MAX_COUNTED), totalCapped: total > MAX_COUNTED, rows };
  });
  // Outside the transaction: the planner setting above is for the word search only.
  const hits = await withFlows(db, found.rows);
  return { total: found.total, totalCapped: found.totalCapped, hits };
}

/** Counts the index rows matching, stopping past MAX_COUNTED: "more than 1,000 results" is all a reader needs. */
async function countUpTo(tx: Executor, where: SQL | undefined): Promise<number> {
  const matching = tx.select({ one: sql`1` }).from(catalogEntry).where(where).limit(MAX_COUNTED + 1).as("matching");
  const [counted] = await tx.select({ n: sql<number>`count(*)::int` }).from(matching);
  return counted?.n ?? 0;
}

/** Turns typed words into a safe tsquery: every word required, the last one as a prefix. */
export function toPrefixTsquery(text: string): string | null {
  const words = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter(Boolean)
    .slice(0, 12);
  if (words.length === 0) return null;
  return words.map((w, i) => (i === words.length - 1 ? `${w}:*` : w)).join(" & ");
}
