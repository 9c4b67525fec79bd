import { and, asc, eq, gte, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import { afterEach, beforeAll, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client.ts";
import { application, catalogEntry, catalogWord, contractVersion, team } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createTeam } from "@/lib/accounts/teams.ts";
import { systemPrincipal } from "@/lib/auth/principal.ts";
import { setVersionState } from "@/lib/contracts/lifecycle.ts";
import { publishVersion } from "@/lib/contracts/publish.ts";
import { announceChange, changeFeedLive } from "@/lib/events/changes.ts";
import type { Contract } from "@/registry/index.ts";
import { parseFilter, TemplateIndex } from "@/registry/topics/index.ts";
import { createApplication } from "./applications.ts";
import { ChannelIndexCache, channelIndexCache } from "./channel-index.ts";
import { buildIndexEntries } from "./index-entries.ts";
import { MAX_COUNTED, MAX_TOPIC_CANDIDATES, searchCatalog, toPrefixTsquery } from "./search.ts";
import { topicQueryShape } from "./topics.ts";

const system = systemPrincipal("test");

// Addresses several applications share (ordered by application within one address), parameters first and inside
// a level, parents of `#`, and one address stored before validation (it matches nothing).
const ADDRESSES = [
  "plant/{lineId}/temperature",
  "plant/line-{n}/status",
  "plant/{lineId}/temperature/raw",
  "plant",
  "{site}/orders/created",
  "orders/{id}",
  "orders/{id}/items/{item}",
  "orders/eu/created",
  "orders/#bad",
];

function syntheticContract(appIndex: number): Contract {
  const channels: Contract["channels"] = {};
  const operations: Contract["operations"] = {};
  ADDRESSES.forEach((address, c) => {
    if ((appIndex + c) % 3 === 0) return;
    const key = `m${c}`;
    channels[address] = {
      address,
      id: `c${c}`,
      description: `channel ${c}`,
      parameters: {},
      messages: {
        [key]: {
          key, name: key, title: `message ${c}`, summary: "", schemaFormat: "application/schema+json;version=draft-07",
          payload: { type: "object", properties: { lineId: { type: "string" }, value: { type: "number" } } },
          payloadComparable: true, headersComparable: true, bindings: {}, examples: [], tags: [], sourcePath: [],
        },
      },
      servers: [], bindings: {}, tags: [], sourcePath: [],
    };
    operations[`op${c}`] = { id: `op${c}`, action: c % 2 ? "send" : "receive", channel: address, messages: [key], security: [], bindings: {}, tags: [], sourcePath: [] };
  });
  return { asyncapi: "3.0.0", title: `Service ${appIndex}`, version: "1.0.0", owners: [], tags: [], servers: {}, channels, operations, securitySchemes: {} };
}

/** Inserts applications with their index rows directly (as the catalog benchmark does); slugs out of insertion order. */
async function seed(handle: DatabaseHandle, prefix: string, count: number, extraChannels: string[] = [], late: (address: string) => boolean = () => false): Promise<void> {
  await handle.db.insert(team).values({ id: `${prefix}_team`, slug: `${prefix}-team`, name: `Team ${prefix}` }).onConflictDoNothing();
  for (let i = 0; i < count; i++) {
    const id = `${prefix}_app_${i}`;
    const app = { id, slug: `${prefix}-${(i * 7) % count}-svc`, name: `Service ${i}`, teamId: `${prefix}_team`, description: "", domain: "", tags: [] };
    const contract = syntheticContract(i);
    for (const address of i === 0 ? extraChannels : []) {
      // A late channel has a word, a message and a field of its own: found only past the first candidate addresses.
      const messages: Contract["channels"][string]["messages"] = late(address)
        ? {
            tardy: {
              key: "tardy", name: "tardy", title: "tardy reading", summary: "", schemaFormat: "application/schema+json;version=draft-07",
              payload: { type: "object", properties: { lateValue: { type: "number" } } },
              payloadComparable: true, headersComparable: true, bindings: {}, examples: [], tags: [], sourcePath: [],
            },
          }
        : {};
      contract.channels[address] = { address, id: address, description: late(address) ? "belated" : "", parameters: {}, messages, servers: [], bindings: {}, tags: [], sourcePath: [] };
    }
    await handle.db.insert(application).values(app);
    await handle.db.insert(contractVersion).values({
      id: `${id}_v`, applicationId: id, version: "1.0.0", major: 1, minor: 0, patch: 0, state: "released",
      files: { "asyncapi.yaml": "generated" }, rootFile: "asyncapi.yaml", asyncapiVersion: "3.0.0", contract, contentHash: `sha256:${id}`,
      publishedById: "test", publishedByLabel: "test",
    });
    const rows = buildIndexEntries(app, contract).map((e) => ({ ...e, applicationId: id, versionId: `${id}_v` }));
    for (let r = 0; r < rows.length; r += 1000) await handle.db.insert(catalogEntry).values(rows.slice(r, r + 1000));
  }
}

/** An entry's words, derived from its text here as the database's trigger derives them into `catalog_word`. */
const entryWords = sql`(setweight(to_tsvector('simple', coalesce(${catalogEntry.title}, '')), 'A') || setweight(to_tsvector('english', coalesce(${catalogEntry.body}, '')), 'B'))`;

/**
 * Topic search as it was done in SQL before the index in memory: candidates narrowed by shape, at most
 * MAX_TOPIC_CANDIDATES distinct addresses matched in code, counted and paged in SQL. The oracle of the tests.
 */
async function reference(handle: DatabaseHandle, input: Query) {
  const db = handle.db;
  const conditions: SQL[] = [];
  if (input.kind) conditions.push(eq(catalogEntry.kind, input.kind));
  if (input.q) {
    const tsquery = toPrefixTsquery(input.q);
    conditions.push(sql`${entryWords} @@ (to_tsquery('simple', ${tsquery}) || to_tsquery('english', ${tsquery}))`);
  }
  if (input.field) conditions.push(eq(catalogEntry.fieldName, input.field.toLowerCase()));
  const shape = topicQueryShape(input.topic);
  conditions.push(input.kind ? sql`true` : eq(catalogEntry.kind, "channel"));
  conditions.push(shape.atLeast ? gte(catalogEntry.levelCount, shape.levels) : eq(catalogEntry.levelCount, shape.levels));
  if (shape.firstLevel !== null) conditions.push(or(eq(catalogEntry.firstLevel, shape.firstLevel), isNull(catalogEntry.firstLevel))!);
  const candidates = await db.selectDistinct({ address: catalogEntry.address }).from(catalogEntry).where(and(...conditions)).orderBy(asc(catalogEntry.address)).limit(MAX_TOPIC_CANDIDATES + 1);
  const index = new TemplateIndex<string>();
  for (const { address } of candidates.slice(0, MAX_TOPIC_CANDIDATES)) if (address !== null) index.add(address, address);
  const filter = parseFilter(input.topic);
  if (!filter.ok) throw new Error(filter.reason);
  const matched = [...new Set(index.matchFilter(filter.value).map((h) => h.value))];
  if (matched.length === 0) return { total: 0, totalCapped: false, hits: [] as string[] };
  const where = and(...conditions, inArray(catalogEntry.address, matched));
  const all = await db
    .select({ kind: catalogEntry.kind, slug: application.slug, address: catalogEntry.address, messageKey: catalogEntry.messageKey, fieldPath: catalogEntry.fieldPath })
    .from(catalogEntry)
    .innerJoin(application, eq(application.id, catalogEntry.applicationId))
    .where(where)
    .orderBy(asc(catalogEntry.address), asc(application.slug), asc(catalogEntry.id));
  const offset = input.offset ?? 0;
  const page = all.slice(offset, offset + (input.limit ?? 20));
  return {
    total: Math.min(all.length, MAX_COUNTED),
    totalCapped: all.length > MAX_COUNTED || candidates.length > MAX_TOPIC_CANDIDATES,
    hits: page.map((h) => `${h.kind} ${h.slug} ${h.address} ${h.messageKey ?? ""} ${h.fieldPath ?? ""}`),
  };
}

async function searched(input: Parameters<typeof searchCatalog>[1]) {
  const found = await searchCatalog(system, input);
  return {
    total: found.total,
    totalCapped: Boolean(found.totalCapped),
    hits: found.hits.map((h) => `${h.kind} ${h.application.slug} ${h.address} ${h.messageKey ?? ""} ${h.fieldPath ?? ""}`),
  };
}

type Query = { topic: string; q?: string; field?: string; kind?: "application" | "channel" | "message" | "field"; limit?: number; offset?: number };

const QUERIES: Query[] = [
  { topic: "plant/#" },
  { topic: "plant/#", limit: 7, offset: 5 },
  { topic: "plant/#", offset: 10_000 },
  { topic: "plant/+/temperature" },
  { topic: "plant/line-4/status" },
  { topic: "plant/line-4/temperature" },
  { topic: "plant" },
  { topic: "#" },
  { topic: "#", limit: 100, offset: 40 },
  { topic: "+/orders/created" },
  { topic: "eu/orders/created" },
  { topic: "orders/eu/created" },
  { topic: "orders/+" },
  { topic: "orders/+/items/#" },
  { topic: "+/+" },
  { topic: "nothing/here" },
  { topic: "plant/#", kind: "message" },
  { topic: "orders/#", kind: "field", limit: 50 },
  { topic: "plant/#", kind: "channel", offset: 3 },
  { topic: "plant/#", kind: "application" },
  { topic: "plant/#", q: "channel" },
  { topic: "plant/#", q: "message", kind: "message" },
  { topic: "orders/#", field: "lineId", kind: "field" },
  { topic: "orders/#", field: "lineId" },
];

/** Subscribes the index to the feed (a topic search does) and waits until the feed is live: an index is then held until a change is heard. */
async function feedLive(): Promise<void> {
  await searchCatalog(system, { topic: "x/y" });
  for (let i = 0; i < 400 && !changeFeedLive(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(changeFeedLive()).toBe(true);
}

describeEachBackend("catalog search", ({ handle }) => {
  const defaultCache = channelIndexCache();
  const globalForIndex = globalThis as typeof globalThis & { __meshportChannelIndex?: ChannelIndexCache };
  afterEach(() => {
    globalForIndex.__meshportChannelIndex = defaultCache;
    defaultCache.invalidate();
  });

  beforeAll(async () => {
    await seed(handle(), "s", 40);
  });

  it("finds by topic from memory exactly what the search in SQL found: hits, order, totals", async () => {
    for (const query of QUERIES) expect({ query, ...(await searched(query)) }).toEqual({ query, ...(await reference(handle(), query)) });
  });

  it("finds the same beyond the channels it may hold in memory, in SQL", async () => {
    globalForIndex.__meshportChannelIndex = new ChannelIndexCache({ load: async () => null });
    for (const query of QUERIES) expect({ query, ...(await searched(query)) }).toEqual({ query, ...(await reference(handle(), query)) });
  });

  it("caps the candidates as before: past the bound only the first addresses are matched, and the total says more", async () => {
    const late = (address: string) => address >= "bulk/04990";
    await seed(handle(), "bulk", 1, Array.from({ length: MAX_TOPIC_CANDIDATES + 50 }, (_, i) => `bulk/${String(i).padStart(5, "0")}/{id}`), late);
    defaultCache.invalidate();
    const queries: Query[] = [
      { topic: "bulk/#" }, { topic: "bulk/+/x" }, { topic: "bulk/04999/x" }, { topic: "bulk/05010/x" }, { topic: "bulk/#", offset: 990 },
      // Words, a field or another kind narrow the candidates before the bound, as the search in SQL always did.
      { topic: "bulk/#", q: "belated" }, { topic: "bulk/+/x", q: "belated", offset: 50 }, { topic: "bulk/#", q: "tardy", kind: "message" },
      { topic: "bulk/#", field: "lateValue", kind: "field" }, { topic: "bulk/#", field: "lateValue" }, { topic: "bulk/#", kind: "message" },
      { topic: "bulk/05010/x", kind: "field" },
    ];
    for (const query of queries) {
      const mine = await searched(query);
      expect({ query, ...mine }).toEqual({ query, ...(await reference(handle(), query)) });
      globalForIndex.__meshportChannelIndex = new ChannelIndexCache({ load: async () => null });
      expect({ query, ...(await searched(query)) }).toEqual({ query, ...mine });
      globalForIndex.__meshportChannelIndex = defaultCache;
    }
    expect((await searched({ topic: "bulk/#" })).totalCapped).toBe(true);
    // The 5,011th candidate address is past the bound: not matched, as before.
    expect((await searched({ topic: "bulk/05010/x" })).hits).toEqual([]);
    // Combined, the 60 late addresses are the only candidates: all found, the count exact.
    expect(await searched({ topic: "bulk/#", q: "belated", limit: 100 })).toMatchObject({ total: 60, totalCapped: false });
    expect(await searched({ topic: "bulk/#", q: "tardy", kind: "message", limit: 100 })).toMatchObject({ total: 60, totalCapped: false });
    // Without words, every message of the shape is a candidate: the late ones and those under a parameter first.
    expect((await searched({ topic: "bulk/#", kind: "message", limit: 100 })).totalCapped).toBe(false);
    expect(await searched({ topic: "bulk/#", field: "lateValue", kind: "field", limit: 100 })).toMatchObject({ total: 60, totalCapped: false });
    expect((await searched({ topic: "bulk/05010/x", q: "belated" })).total).toBe(1);
  });

  it("answers words, fields and their combinations with a topic in one page with its count", async () => {
    const words = await searchCatalog(system, { q: "message" });
    expect(words.total).toBeGreaterThan(20);
    expect(words.hits).toHaveLength(20);
    const ranks = words.hits.map((h) => h.rank);
    expect([...ranks].sort((a, b) => b - a)).toEqual(ranks);
    const past = await searchCatalog(system, { q: "message", offset: 10_000 });
    expect(past).toMatchObject({ hits: [], total: words.total });
    const fields = await searchCatalog(system, { field: "lineId", limit: 100 });
    expect(fields.hits.every((h) => h.kind === "field" && h.fieldPath === "lineId")).toBe(true);
    const slugs = fields.hits.map((h) => h.application.slug);
    expect([...slugs].sort()).toEqual(slugs);
    expect((await searchCatalog(system, { field: "LINEID" })).total).toBe(fields.total);
    const narrowed = await searchCatalog(system, { q: "channel", topic: "plant/#" });
    expect(narrowed.hits.length).toBeGreaterThan(0);
    expect(narrowed.hits.every((h) => h.address?.startsWith("plant"))).toBe(true);
    expect(await searchCatalog(system, { q: "***" })).toMatchObject({ hits: [], total: 0 });
  });

  it("pages words by rank and fields by application exactly as ordering every match would, past the counted cap", async () => {
    // Enough applications that a word and a field match more entries than are counted.
    await seed(handle(), "many", 180);
    const all = async (where: SQL, rank: SQL) => {
      const rows = await handle()
        .db.select({ kind: catalogEntry.kind, slug: application.slug, address: catalogEntry.address, messageKey: catalogEntry.messageKey, fieldPath: catalogEntry.fieldPath, rank: sql<number>`${rank}` })
        .from(catalogEntry)
        .innerJoin(application, eq(application.id, catalogEntry.applicationId))
        .where(where)
        .orderBy(sql`${rank} desc`, asc(application.slug), asc(catalogEntry.id));
      return rows.map((h) => `${h.kind} ${h.slug} ${h.address} ${h.messageKey ?? ""} ${h.fieldPath ?? ""} ${Number(h.rank).toFixed(5)}`);
    };
    const shown = (found: Awaited<ReturnType<typeof searchCatalog>>) =>
      found.hits.map((h) => `${h.kind} ${h.application.slug} ${h.address} ${h.messageKey ?? ""} ${h.fieldPath ?? ""} ${h.rank.toFixed(5)}`);
    for (const q of ["message", "mess", "channel 4", "lineid"]) {
      const ts = sql`(to_tsquery('simple', ${toPrefixTsquery(q)}) || to_tsquery('english', ${toPrefixTsquery(q)}))`;
      const expected = await all(sql`${entryWords} @@ ${ts}`, sql`ts_rank(${entryWords}, ${ts})`);
      expect(expected.length).toBeGreaterThan(q === "channel 4" ? 20 : MAX_COUNTED);
      for (const page of [{ offset: 0, limit: 20 }, { offset: 37, limit: 100 }, { offset: 990, limit: 30 }]) {
        const found = await searchCatalog(system, { q, ...page });
        expect({ q, ...page, hits: shown(found) }).toEqual({ q, ...page, hits: expected.slice(page.offset, page.offset + page.limit) });
        expect({ total: found.total, capped: Boolean(found.totalCapped) }).toEqual({ total: Math.min(expected.length, MAX_COUNTED), capped: expected.length > MAX_COUNTED });
      }
    }
    const fields = await all(eq(catalogEntry.fieldName, "lineid"), sql`0::real`);
    expect(fields.length).toBeGreaterThan(MAX_COUNTED);
    for (const page of [{ offset: 0, limit: 20 }, { offset: 500, limit: 100 }, { offset: fields.length - 5, limit: 20 }]) {
      for (const field of ["lineId", "LINEID"]) {
        const found = await searchCatalog(system, { field, ...page });
        expect({ field, ...page, hits: shown(found) }).toEqual({ field, ...page, hits: fields.slice(page.offset, page.offset + page.limit) });
        expect({ total: found.total, capped: found.totalCapped }).toEqual({ total: MAX_COUNTED, capped: true });
      }
    }
  });

  it("keeps an entry's words with the entry: written with it, changed with its text, gone with it", async () => {
    await seed(handle(), "wordy", 1);
    const [entry] = await handle().db.select({ id: catalogEntry.id }).from(catalogEntry).where(eq(catalogEntry.applicationId, "wordy_app_0")).orderBy(asc(catalogEntry.id)).limit(1);
    const wordsOf = async (id: number) => (await handle().db.select().from(catalogWord).where(eq(catalogWord.entryId, id))).length;
    expect(await wordsOf(entry!.id)).toBe(1);
    const found = async (q: string) => (await searchCatalog(system, { q, limit: 100 })).hits.filter((h) => h.application.slug === "wordy-0-svc").length;
    expect(await found("zanzibar")).toBe(0);
    await handle().db.update(catalogEntry).set({ title: "Zanzibar spice", body: "Harbours of the islands" }).where(eq(catalogEntry.id, entry!.id));
    expect(await found("zanzibar")).toBe(1);
    // The body is stemmed in English: "harbour" finds "Harbours".
    expect(await found("harbour islands")).toBe(1);
    await handle().db.delete(catalogEntry).where(eq(catalogEntry.id, entry!.id));
    expect(await wordsOf(entry!.id)).toBe(0);
    expect(await found("zanzibar")).toBe(0);
  });

  it("finds a version by topic right after it is published, and no longer once it is retired", async () => {
    await createTeam(system, { slug: "fresh-team", name: "Fresh" });
    await createApplication(system, { slug: "fresh-app", name: "Fresh app", team: "fresh-team" });
    // The index is built and held before the publish (the feed live: held until a change is heard).
    await feedLive();
    expect((await searchCatalog(system, { topic: "fresh/+/made" })).hits).toEqual([]);
    const yaml = (address: string, version: string) =>
      [
        "asyncapi: 3.0.0",
        `info: { title: Fresh, version: ${version} }`,
        "channels:",
        "  made:",
        `    address: '${address}'`,
        "    parameters: { lineId: {} }",
        "    messages: { made: { name: Made, payload: { type: object } } }",
        "operations:",
        "  send: { action: send, channel: { $ref: '#/channels/made' } }",
      ].join("\n");
    await publishVersion(system, "fresh-app", { files: { "asyncapi.yaml": yaml("fresh/{lineId}/made", "1.0.0") } });
    expect((await searchCatalog(system, { topic: "fresh/+/made" })).hits.map((h) => h.application.slug)).toEqual(["fresh-app"]);
    expect((await searchCatalog(system, { topic: "fresh/line-1/made" })).total).toBe(1);
    await setVersionState(system, "fresh-app", "1.0.0", { state: "retired", reason: "Gone" });
    expect(await searchCatalog(system, { topic: "fresh/+/made" })).toMatchObject({ hits: [], total: 0 });
    expect((await searchCatalog(system, { topic: "fresh/line-1/made" })).total).toBe(0);
  });

  it("keeps its index until a change is announced, then reads the catalog again", async () => {
    await feedLive();
    expect((await searchCatalog(system, { topic: "unheard/zz" })).total).toBe(0);
    // Written around the services, unannounced: the index in memory does not know yet.
    await seed(handle(), "unheard", 1, ["unheard/{x}"]);
    expect((await searchCatalog(system, { topic: "unheard/zz" })).total).toBe(0);
    await handle().db.transaction((tx) => announceChange(tx, "catalog", "elsewhere unheard"));
    let total = 0;
    for (let i = 0; i < 200 && total === 0; i++) {
      total = (await searchCatalog(system, { topic: "unheard/zz" })).total;
      if (total === 0) await new Promise((r) => setTimeout(r, 25));
    }
    expect(total).toBe(1);
  });
});
