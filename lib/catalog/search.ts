import "server-only";
import { and, asc, eq, gte, isNull, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client.ts";
import { application, catalogEntry, contractVersion, team } from "@/db/schema.ts";
import { MeshportError } from "@/lib/errors.ts";
import { defineQuery } from "@/lib/service.ts";
import { parseFilter, TemplateIndex, type Filter } from "@/registry/topics/index.ts";
import { topicQueryShape } from "./topics.ts";

/** One search hit: what it is, where it lives, and who owns it. */
export interface SearchHit {
  kind: "application" | "channel" | "message" | "field";
  application: { slug: string; name: string };
  team: { slug: string; name: string };
  version: string;
  address: string | null;
  messageKey: string | null;
  fieldPath: string | null;
  action: string | null;
  title: string;
  snippet: string;
  rank: number;
}

/** Totals above this are reported as "more than" it, not counted. */
export const MAX_COUNTED = 1000;

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
  action: catalogEntry.action,
  title: catalogEntry.title,
  body: catalogEntry.body,
};

type HitRow = { [K in keyof typeof hitColumns]: unknown } & { rank?: number };

function toHit(row: HitRow, rank: number): SearchHit {
  return {
    kind: row.kind as SearchHit["kind"],
    application: { slug: String(row.appSlug), name: String(row.appName) },
    team: { slug: String(row.teamSlug), name: String(row.teamName) },
    version: String(row.version),
    address: (row.address as string | null) ?? null,
    messageKey: (row.messageKey as string | null) ?? null,
    fieldPath: (row.fieldPath as string | null) ?? null,
    action: (row.action as string | null) ?? null,
    title: String(row.title),
    snippet: String(row.body).slice(0, 240),
    rank,
  };
}

/**
 * Searches the catalog. Words use PostgreSQL full-text search (ranked, prefix-matching
 * the last word as you type); a topic uses MQTT wildcard semantics against channel
 * templates; a field finds the messages that carry it, and who sends them.
 */
export const searchCatalog = defineQuery({
  permission: "catalog:read",
  input: searchInput,
  run: ({ db, input }) => search(db, input),
});

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

  return db.transaction(async (tx) => {
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
      .where(and(...conditions));

    if (topicFilter) {
      // Candidates are narrowed in SQL; the wildcard match itself is exact in code, once per distinct address.
      const candidates = await base.orderBy(asc(catalogEntry.address), asc(application.slug));
      const index = new TemplateIndex<string>();
      for (const address of new Set(candidates.map((row) => row.address as string | null))) if (address !== null) index.add(address, address);
      const matched = new Set(index.matchFilter(topicFilter).map((hit) => hit.value));
      const matches = candidates.filter((row) => matched.has(row.address as string));
      return { total: matches.length, hits: matches.slice(query.offset, query.offset + query.limit).map((r) => toHit(r, 1)) };
    }
    // Counting stops past MAX_COUNTED: "more than 1,000 results" is all a reader needs.
    const matching = tx.select({ one: sql`1` }).from(catalogEntry).where(and(...conditions)).limit(MAX_COUNTED + 1).as("matching");
    const [counted] = await tx.select({ n: sql<number>`count(*)::int` }).from(matching);
    const rows = await base
      .orderBy(sql`${rank} desc`, asc(application.slug), asc(catalogEntry.id))
      .limit(query.limit)
      .offset(query.offset);
    const total = counted?.n ?? 0;
    return { total: Math.min(total, MAX_COUNTED), totalCapped: total > MAX_COUNTED, hits: rows.map((r) => toHit(r, Number(r.rank))) };
  });
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
