import "server-only";
import { and, asc, eq, gt, inArray, ne, or, sql, type SQL } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { application, brokerTopic, contractVersion, flow, team, type Application } from "@/db/schema.ts";
import { isCurrentVersion } from "@/lib/catalog/applications.ts";
import { globSpecificity, matchesGlob } from "@/lib/text/glob.ts";
import { filterOverlapsTemplate, parseTemplate, templatesOverlap, type Template } from "@/registry/topics/index.ts";
import { impactOf, type AppRef, type ChangeEvaluation, type Contract, type ContractCounterpart, type Impact, type ObservedClient } from "@/registry/index.ts";

/**
 * The impact of a proposed change, loaded: the flows of the current version of every other application and the
 * clients the agents observed on the owner's channels, each client counting for every application whose declared
 * client-id patterns match it. Every query is bounded; past a bound the impact says `truncated`.
 */

/** Counterpart flows read at most. */
export const MAX_IMPACT_FLOWS = 20_000;
/** Observed topic templates read at most. */
export const MAX_IMPACT_TOPICS = 5_000;
/** Clients per topic and role considered at most. */
export const MAX_CLIENTS_PER_TOPIC = 200;
/** Applications with client-id patterns read at most. */
export const MAX_PATTERN_APPLICATIONS = 5_000;
/** Consumers {@link consumersOf} returns at most. */
export const MAX_CONSUMERS = 500;

/** The addresses parsed once, for many overlap checks. */
function parsedAll(addresses: readonly string[]): Template[] {
  return addresses.flatMap((a) => {
    const parsed = parseTemplate(a);
    return parsed.ok ? [parsed.value] : [];
  });
}

/** True when the template (or, for an observed topic that is not a template, the topic) meets one of the addresses. */
function meetsAny(template: string, addresses: readonly Template[], observed = false): boolean {
  const parsed = parseTemplate(template);
  if (parsed.ok) return addresses.some((a) => templatesOverlap(parsed.value, a));
  return observed && addresses.some((a) => filterOverlapsTemplate(template, a, { reservedTopics: true }));
}

const levelCount = (address: string) => address.split("/").length;
const firstLevel = (address: string) => address.split("/")[0]!;

/**
 * Rows whose template column may overlap one of the addresses: as many levels, and the same first level unless
 * either has a parameter there. The exact overlap is decided in code afterwards.
 */
export function mayOverlap(column: SQL | typeof flow.channel | typeof brokerTopic.template, addresses: readonly string[]): SQL {
  const levels = [...new Set(addresses.map(levelCount))];
  const firsts = [...new Set(addresses.map(firstLevel))];
  const anyFirst = firsts.some((f) => f.includes("{"));
  const conditions = [sql`array_length(string_to_array(${column}, '/'), 1) in (${sql.join(levels.map((n) => sql`${n}`), sql`, `)})`];
  if (!anyFirst) conditions.push(or(sql`split_part(${column}, '/', 1) in (${sql.join(firsts.map((f) => sql`${f}`), sql`, `)})`, sql`split_part(${column}, '/', 1) like '%{%'`)!);
  return and(...conditions)!;
}

async function ownerRef(db: Executor, app: Application): Promise<AppRef> {
  const [owner] = await db.select({ slug: team.slug, name: team.name }).from(team).where(eq(team.id, app.teamId));
  return { id: app.id, slug: app.slug, name: app.name, teamId: app.teamId, teamSlug: owner?.slug ?? "", teamName: owner?.name ?? "" };
}

/** The flows of the current version of every other application that may meet one of the addresses. */
async function counterpartFlows(db: Executor, ownerId: string, addresses: readonly string[]): Promise<{ contracts: ContractCounterpart[]; truncated: boolean }> {
  if (addresses.length === 0) return { contracts: [], truncated: false };
  const rows = await db
    .select({
      channel: flow.channel,
      action: flow.action,
      messageKey: flow.messageKey,
      version: contractVersion.version,
      id: application.id,
      slug: application.slug,
      name: application.name,
      teamId: team.id,
      teamSlug: team.slug,
      teamName: team.name,
    })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .innerJoin(application, eq(application.id, contractVersion.applicationId))
    .innerJoin(team, eq(team.id, application.teamId))
    .where(and(ne(application.id, ownerId), isCurrentVersion(), or(inArray(flow.channel, [...new Set(addresses)]), mayOverlap(flow.channel, addresses))))
    .orderBy(asc(application.slug), asc(flow.channel), asc(flow.action), asc(flow.messageKey))
    .limit(MAX_IMPACT_FLOWS + 1);
  const byApp = new Map<string, ContractCounterpart>();
  const parsed = parsedAll(addresses);
  for (const row of rows.slice(0, MAX_IMPACT_FLOWS)) {
    if (!meetsAny(row.channel, parsed)) continue;
    let entry = byApp.get(row.id);
    if (!entry) {
      entry = { application: { id: row.id, slug: row.slug, name: row.name, teamId: row.teamId, teamSlug: row.teamSlug, teamName: row.teamName }, version: row.version, flows: [] };
      byApp.set(row.id, entry);
    }
    entry.flows.push({ channel: row.channel, action: row.action, messageKey: row.messageKey });
  }
  return { contracts: [...byApp.values()], truncated: rows.length > MAX_IMPACT_FLOWS };
}

export interface PatternOwner {
  ref: AppRef;
  patterns: string[];
}

/** Every application that declares client-id patterns, with them. */
export async function patternOwners(db: Executor): Promise<{ owners: PatternOwner[]; truncated: boolean }> {
  const rows = await db
    .select({
      id: application.id,
      slug: application.slug,
      name: application.name,
      teamId: team.id,
      teamSlug: team.slug,
      teamName: team.name,
      patterns: application.clientIdPatterns,
    })
    .from(application)
    .innerJoin(team, eq(team.id, application.teamId))
    .where(gt(sql`cardinality(${application.clientIdPatterns})`, 0))
    .orderBy(asc(application.slug))
    .limit(MAX_PATTERN_APPLICATIONS + 1);
  return {
    owners: rows.slice(0, MAX_PATTERN_APPLICATIONS).map((r) => ({ ref: { id: r.id, slug: r.slug, name: r.name, teamId: r.teamId, teamSlug: r.teamSlug, teamName: r.teamName }, patterns: r.patterns })),
    truncated: rows.length > MAX_PATTERN_APPLICATIONS,
  };
}

/** Applications one client id counts for at most: a `*` pattern declared by many applications cannot explode the work. */
export const MAX_APPLICATIONS_PER_CLIENT = 50;
/** Observed client records (one per client and application it maps to) built at most. */
export const MAX_OBSERVED_RECORDS = 200_000;

/**
 * Maps a client id to every application with a pattern matching it, most specific match first (most characters
 * besides `*`), then by slug; at most {@link MAX_APPLICATIONS_PER_CLIENT}, `cut` when more matched. Every match
 * counts, so no application can hide another's client by declaring a more specific pattern. Each client id is
 * decided once.
 */
export function clientMapper(owners: readonly PatternOwner[]): (clientId: string) => { applications: AppRef[]; cut: boolean } {
  const cache = new Map<string, { applications: AppRef[]; cut: boolean }>();
  return (clientId) => {
    const known = cache.get(clientId);
    if (known !== undefined) return known;
    const matches: { ref: AppRef; score: number }[] = [];
    for (const owner of owners) {
      let score = -1;
      for (const pattern of owner.patterns) if (matchesGlob(pattern, clientId)) score = Math.max(score, globSpecificity(pattern));
      if (score >= 0) matches.push({ ref: owner.ref, score });
    }
    matches.sort((a, b) => b.score - a.score || (a.ref.slug < b.ref.slug ? -1 : a.ref.slug > b.ref.slug ? 1 : 0));
    const found = { applications: matches.slice(0, MAX_APPLICATIONS_PER_CLIENT).map((m) => m.ref), cut: matches.length > MAX_APPLICATIONS_PER_CLIENT };
    cache.set(clientId, found);
    return found;
  };
}

/** The clients the agents observed on topic templates that may meet one of the addresses. */
async function observedClients(db: Executor, addresses: readonly string[], roles: ReadonlyArray<"consumer" | "producer">): Promise<{ observed: ObservedClient[]; truncated: boolean }> {
  if (addresses.length === 0 || roles.length === 0) return { observed: [], truncated: false };
  const rows = await db
    .select({ brokerId: brokerTopic.brokerId, template: brokerTopic.template, producers: brokerTopic.producers, consumers: brokerTopic.consumers })
    .from(brokerTopic)
    .where(mayOverlap(brokerTopic.template, addresses))
    .orderBy(asc(brokerTopic.brokerId), asc(brokerTopic.template))
    .limit(MAX_IMPACT_TOPICS + 1);
  let truncated = rows.length > MAX_IMPACT_TOPICS;
  const parsed = parsedAll(addresses);
  const relevant = rows.slice(0, MAX_IMPACT_TOPICS).filter((row) => meetsAny(row.template, parsed, true));
  const { owners, truncated: patternsCut } = await patternOwners(db);
  truncated ||= patternsCut;
  const mapClient = clientMapper(owners);
  const observed: ObservedClient[] = [];
  for (const row of relevant) {
    for (const role of roles) {
      const clients = (role === "consumer" ? row.consumers : row.producers) ?? [];
      if (clients.length > MAX_CLIENTS_PER_TOPIC) truncated = true;
      for (const client of clients.slice(0, MAX_CLIENTS_PER_TOPIC)) {
        if (typeof client?.clientId !== "string") continue;
        const { applications, cut } = mapClient(client.clientId);
        if (cut) truncated = true;
        const seen = {
          brokerId: row.brokerId,
          clientId: client.clientId,
          role,
          template: row.template,
          ...(typeof client.filter === "string" ? { filter: client.filter } : {}),
          lastSeen: String(client.lastSeen ?? ""),
        };
        // One record per application the client counts for; unknown (null) only when no pattern matches.
        for (const app of applications.length > 0 ? applications : [null]) {
          if (observed.length >= MAX_OBSERVED_RECORDS) {
            truncated = true;
            break;
          }
          observed.push({ ...seen, application: app });
        }
      }
    }
  }
  return { observed, truncated };
}

const addressesOf = (...contracts: (Contract | null)[]) => [...new Set(contracts.flatMap((c) => (c ? Object.keys(c.channels) : [])))].sort();

/**
 * The impact of a proposed contract of the application on the other applications: from the findings of the
 * evaluation (its report against the baseline and against every version the mode requires), the flows of every
 * other application's current version, and the clients the agents observed.
 */
export async function loadImpact(db: Executor, app: Application, baseline: Contract | null, proposed: Contract, evaluation: ChangeEvaluation): Promise<Impact> {
  const owner = await ownerRef(db, app);
  const addresses = addressesOf(baseline, proposed);
  const [{ contracts, truncated: flowsCut }, { observed, truncated: observedCut }] = [
    await counterpartFlows(db, app.id, addresses),
    await observedClients(db, addresses, ["consumer", "producer"]),
  ];
  const findings = [...(evaluation.report?.findings ?? []), ...evaluation.against.flatMap((a) => a.report.findings)];
  const impact = impactOf({ owner, baseline, proposed, findings, upgradeOrder: evaluation.upgradeOrder, contracts, observed });
  if (flowsCut || observedCut) impact.truncated = true;
  return impact;
}

/**
 * The applications that receive what the application's current version sends, declared (their current
 * version's flows) or observed (clients consuming those topics, by client-id pattern): whom to tell that a
 * version they consume was deprecated or retired. Sorted by name; the application itself is left out.
 */
export async function consumersOf(db: Executor, app: Application): Promise<AppRef[]> {
  const sent = await db
    .selectDistinct({ channel: flow.channel })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .where(and(eq(contractVersion.applicationId, app.id), eq(flow.action, "send"), isCurrentVersion()))
    .orderBy(asc(flow.channel))
    .limit(MAX_IMPACT_TOPICS);
  const addresses = sent.map((r) => r.channel);
  if (addresses.length === 0) return [];
  const found = new Map<string, AppRef>();
  const { contracts } = await counterpartFlows(db, app.id, addresses);
  const parsed = parsedAll(addresses);
  for (const c of contracts) {
    if (c.flows.some((f) => f.action === "receive" && meetsAny(f.channel, parsed))) found.set(c.application.id, c.application);
  }
  const { observed } = await observedClients(db, addresses, ["consumer"]);
  for (const client of observed) if (client.application && client.application.id !== app.id) found.set(client.application.id, client.application);
  return [...found.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0))
    .slice(0, MAX_CONSUMERS);
}
