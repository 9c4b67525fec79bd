import "server-only";
import { and, asc, eq, gte, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client.ts";
import { application, catalogEntry, catalogWord, contractVersion, system, team, type SystemType } from "@/db/schema.ts";
import { MeshportError } from "@/lib/errors.ts";
import { defineQuery } from "@/lib/service.ts";
import { parseFilter, TemplateIndex, type Filter } from "@/registry/topics/index.ts";
import { channelIndexCache, matchTopic } from "./channel-index.ts";
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

/** One index row of a page, joined for display (the columns named as the page query names them). */
type HitRow = {
  kind: unknown;
  appSlug: unknown;
  appName: unknown;
  teamSlug: unknown;
  teamName: unknown;
  version: unknown;
  address: unknown;
  messageKey: unknown;
  fieldPath: unknown;
  versionId: unknown;
  title: unknown;
  body: unknown;
  rank?: number;
};

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
  // Independent reads: on PostgreSQL they run side by side on two pooled connections.
  const [directions, participants] = await Promise.all([
    directionsOf(
      db,
      located.map((r) => ({ versionId: String(r.versionId), channel: String(r.address) })),
    ),
    participantsOf(
      db,
      located.map((r) => String(r.address)),
      MAX_HIT_PARTICIPANTS,
    ),
  ]);
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
    // Words alone also find systems by name, on the first page: read beside the hits.
    const [found, systems] = await Promise.all([
      search(db, input),
      input.q && !input.topic && !input.field && !input.kind && input.offset === 0 ? systemsNamed(db, input.q) : [],
    ]);
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
  let words: SQL | null = null;
  if (query.q) {
    const tsquery = toPrefixTsquery(query.q);
    if (!tsquery) return { hits: [], total: 0 };
    words = sql`(to_tsquery('simple', ${tsquery}) || to_tsquery('english', ${tsquery}))`;
  }
  const fields: SQL[] = [];
  if (query.field) {
    const name = query.field.toLowerCase();
    fields.push(
      name.includes(".")
        ? sql`lower(${catalogEntry.fieldPath}) = ${name}`
        : eq(catalogEntry.fieldName, name.replace(/\[\]$/, "")),
    );
  }
  let found: Found;
  if (query.topic) {
    const conditions = [...(query.kind ? [eq(catalogEntry.kind, query.kind)] : []), ...(words ? [entryHasWords(words)] : []), ...fields];
    found = await topicSearch(db, query, query.topic, conditions);
  } else if (words) {
    found = await pageOf(db, fields.length > 0 ? and(...fields) : undefined, { by: "rank", words, kind: query.kind }, query);
  } else {
    found = await pageOf(db, and(...(query.kind ? [eq(catalogEntry.kind, query.kind)] : []), ...fields), { by: "application" }, query);
  }
  const hits = await withFlows(db, found.rows);
  return { total: found.total, totalCapped: found.totalCapped, hits };
}

/** True for the entries whose words match the query, found through the words table's index. */
function entryHasWords(words: SQL): SQL {
  return sql`${catalogEntry.id} in (select ${catalogWord.entryId} from ${catalogWord} where ${catalogWord.search} @@ ${words})`;
}

type Found = { rows: HitRow[]; total: number; totalCapped: boolean };

/**
 * A topic search: the channel templates the filter (or concrete topic) reaches, matched in memory against the
 * catalog's channels (see channel-index.ts), then one query for the page. Hits come in address order, then by
 * application and entry. With words, a field or another kind the search runs in SQL: its candidate addresses are
 * those of the entries matching every condition, which the index in memory does not know.
 */
async function topicSearch(db: Database, query: z.output<typeof searchInput>, topic: string, conditions: SQL[]): Promise<Found> {
  const parsed = parseFilter(topic);
  if (!parsed.ok) {
    throw new MeshportError("invalid_input", `Not a valid topic or filter: ${parsed.reason}`, {
      details: { fieldErrors: { topic: [parsed.reason] }, formErrors: [] },
    });
  }
  const shape = topicQueryShape(topic);
  // Only channel, message and field entries have an address.
  if (query.kind === "application") return { rows: [], total: 0, totalCapped: false };
  // With words, a field or another kind the candidate bound applies to the entries matching all of them, as in SQL.
  if (query.q || query.field || (query.kind && query.kind !== "channel")) return topicSearchInSql(db, query, parsed.value, shape, conditions);
  const cache = channelIndexCache();
  for (let attempt = 0; ; attempt++) {
    const index = await cache.get(db);
    if (!index) return topicSearchInSql(db, query, parsed.value, shape, conditions);
    const match = matchTopic(index, parsed.value, shape, MAX_TOPIC_CANDIDATES);
    if (match.addresses.length === 0) return { rows: [], total: 0, totalCapped: false };
    // The channel entries themselves: counted in memory, the page read by id.
    const ids = match.addresses.flatMap((a) => a.entries).slice(query.offset, query.offset + query.limit);
    const rows = ids.length === 0 ? [] : await hitsById(db, ids);
    if (rows.length < ids.length && attempt === 0) {
      // An entry gone since the index was built: the catalog changed unheard. Start over once from a fresh index.
      cache.invalidate();
      continue;
    }
    return { rows, total: Math.min(match.total, MAX_COUNTED), totalCapped: match.total > MAX_COUNTED || match.candidatesCapped };
  }
}

/** The SQL narrowing of a topic search: the kind (channels unless another is asked for) and the shape. */
function shapeConditions(query: z.output<typeof searchInput>, shape: ReturnType<typeof topicQueryShape>): SQL[] {
  const conditions: SQL[] = [];
  if (!query.kind) conditions.push(eq(catalogEntry.kind, "channel"));
  conditions.push(shape.atLeast ? gte(catalogEntry.levelCount, shape.levels) : eq(catalogEntry.levelCount, shape.levels));
  if (shape.firstLevel !== null) {
    // Templates starting with a parameter may still match a literal first level.
    conditions.push(or(eq(catalogEntry.firstLevel, shape.firstLevel), isNull(catalogEntry.firstLevel))!);
  }
  return conditions;
}

/**
 * A topic search without the index in memory (the catalog holds more channels than it may): candidates narrowed in
 * SQL, at most {@link MAX_TOPIC_CANDIDATES} distinct addresses, the wildcard match exact in code, once per address.
 */
async function topicSearchInSql(db: Database, query: z.output<typeof searchInput>, filter: Filter, shape: ReturnType<typeof topicQueryShape>, conditions: SQL[]): Promise<Found> {
  const narrowed = [...conditions, ...shapeConditions(query, shape)];
  const candidates = await db
    .selectDistinct({ address: catalogEntry.address })
    .from(catalogEntry)
    .where(and(...narrowed))
    .orderBy(asc(catalogEntry.address))
    .limit(MAX_TOPIC_CANDIDATES + 1);
  const index = new TemplateIndex<string>();
  for (const { address } of candidates.slice(0, MAX_TOPIC_CANDIDATES)) if (address !== null) index.add(address, address);
  const matched = [...new Set(index.matchFilter(filter).map((hit) => hit.value))].sort();
  if (matched.length === 0) return { rows: [], total: 0, totalCapped: false };
  const page = await pageOf(db, and(...narrowed, inArray(catalogEntry.address, matched)), { by: "address" }, query);
  return { ...page, totalCapped: page.totalCapped || candidates.length > MAX_TOPIC_CANDIDATES };
}

/** The hit columns of the page query, from the joined tables (named as in {@link HitRow}). */
const hitSelection = sql`${catalogEntry.kind} as "kind", ${application.slug} as "appSlug", ${application.name} as "appName",
  ${team.slug} as "teamSlug", ${team.name} as "teamName", ${contractVersion.version} as "version", ${catalogEntry.address} as "address",
  ${catalogEntry.messageKey} as "messageKey", ${catalogEntry.fieldPath} as "fieldPath", ${catalogEntry.versionId} as "versionId",
  ${catalogEntry.title} as "title", ${catalogEntry.body} as "body"`;

const hitTables = sql`${catalogEntry}
  join ${application} on ${application.id} = ${catalogEntry.applicationId}
  join ${team} on ${team.id} = ${application.teamId}
  join ${contractVersion} on ${contractVersion.id} = ${catalogEntry.versionId}`;

/** The index rows with these ids, joined for display, in the order of the ids. */
async function hitsById(db: Executor, ids: readonly number[]): Promise<HitRow[]> {
  const result = await db.execute(sql`select ${catalogEntry.id} as "id", ${hitSelection} from ${hitTables}
    where ${catalogEntry.id} in (${sql.join(
      ids.map((id) => sql`${id}`),
      sql`, `,
    )})`);
  const byId = new Map(rowsOf<HitRow & { id: unknown }>(result).map((row) => [Number(row.id), row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row ? [{ ...row, rank: 1 }] : [];
  });
}

/**
 * How a page of hits is ordered: by rank (words, of one kind or all), by address (a topic search) or by application
 * (a field search); then by application and entry.
 */
type PageOrder = { by: "rank"; words: SQL; kind?: SearchHit["kind"] } | { by: "address" } | { by: "application" };

/**
 * The count (up to one past {@link MAX_COUNTED}) and one page of the index rows matching, in one statement, the page
 * of them joined for display. Ranked, the matches are found and ranked once on the words table (joined to the entries
 * only when they must meet other conditions); by address, on the entries. Either way they are ordered by the
 * application slug the row holds, with no join. By application, the page and the count are read in that order and
 * stop early: a field search reads them from its index.
 */
async function pageOf(db: Executor, where: SQL | undefined, order: PageOrder, page: { limit: number; offset: number }): Promise<Found> {
  // `paged` (id, rank, address, slug) is the page of matches, `total` counts them up to the cap.
  const hitsOf = (ctes: SQL, total: SQL, key: SQL) => sql`
    with ${ctes}
    select (${total}) as "total", paged.rank as "rank", ${hitSelection}
    from (select 1) as one
      left join (${hitTables} join paged on paged.id = ${catalogEntry.id}) on true
    order by ${key}, paged.slug, paged.id`;
  const pagedMatches = (key: SQL) => sql`paged as (
    select matches.id, matches.rank, matches.address, matches.slug from matches
    order by ${key}, matches.slug, matches.id
    limit ${page.limit} offset ${page.offset}
  )`;
  const countedMatches = sql`select count(*)::int from (select 1 from matches limit ${MAX_COUNTED + 1}) as capped`;
  let statement: SQL;
  if (order.by === "application") {
    const matched = where ?? sql`true`;
    statement = hitsOf(
      sql`paged as (
        select ${catalogEntry.id} as id, 0::real as rank, null::text as address, ${catalogEntry.applicationSlug} as slug
        from ${catalogEntry} where ${matched}
        order by ${catalogEntry.applicationSlug}, ${catalogEntry.id}
        limit ${page.limit} offset ${page.offset}
      )`,
      sql`select count(*)::int from (select 1 from ${catalogEntry} where ${matched} limit ${MAX_COUNTED + 1}) as capped`,
      sql`paged.slug`,
    );
  } else if (order.by === "rank") {
    const conditions = [sql`${catalogWord.search} @@ ${order.words}`, ...(order.kind ? [eq(catalogWord.kind, order.kind)] : []), ...(where ? [where] : [])];
    statement = hitsOf(
      sql`matches as (
        select ${catalogWord.entryId} as id, ${catalogWord.applicationSlug} as slug, null::text as address,
          ts_rank(${catalogWord.search}, ${order.words}) as rank
        from ${catalogWord} ${where ? sql`join ${catalogEntry} on ${catalogEntry.id} = ${catalogWord.entryId}` : sql``}
        where ${and(...conditions)}
      ),
      ${pagedMatches(sql`matches.rank desc`)}`,
      countedMatches,
      sql`paged.rank desc`,
    );
  } else {
    statement = hitsOf(
      sql`matches as (
        select ${catalogEntry.id} as id, ${catalogEntry.applicationSlug} as slug, ${catalogEntry.address} as address, 1::real as rank
        from ${catalogEntry} where ${where ?? sql`true`}
      ),
      ${pagedMatches(sql`matches.address`)}`,
      countedMatches,
      sql`paged.address`,
    );
  }
  const result = await db.execute(statement);
  const rows = rowsOf<HitRow & { total: unknown }>(result);
  const total = Number(rows[0]?.total ?? 0);
  // No page (past the end, or nothing found) is one row of the count alone.
  const hits = rows.filter((row) => row.kind !== null && row.kind !== undefined).map(({ total: _total, ...row }) => {
    void _total;
    return { ...row, rank: Number(row.rank) };
  });
  return { rows: hits, total: Math.min(total, MAX_COUNTED), totalCapped: total > MAX_COUNTED };
}

/** The rows of a statement's result, as both drivers return them. */
function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
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
