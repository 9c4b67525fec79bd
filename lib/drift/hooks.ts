import "server-only";
import { and, asc, eq, gte, inArray, ne, or, sql, type SQL } from "drizzle-orm";
import type { AgentReport } from "@/agents/protocol.ts";
import type { Transaction } from "@/db/client.ts";
import { brokerTopic, contractVersion, driftFinding, flow, type Application, type BrokerTopic } from "@/db/schema.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { mayOverlap } from "@/lib/reviews/impact.ts";
import { evaluateObservedTopics, silentChannels } from "@/registry/drift/index.ts";
import type { ObservedTopic } from "@/registry/drift/types.ts";
import { bumpCatalogGeneration, loadDriftCatalog } from "./catalog.ts";
import { applyEvaluation } from "./findings.ts";
import { brokerFactsOf, channelActivityOf, observedFromReport, observedFromTopic, observingSince, recordChannelActivity, silentAfterSeconds } from "./observed.ts";
import { requestDriftSweep } from "./sweep.ts";

/**
 * Where drift is evaluated, in the transaction of the change that causes it: every stored report,
 * every change of what the contracts declare (a publish, a lifecycle change, new client-id patterns).
 */

/** Broker topics judged again after a catalog change at most. */
export const MAX_REJUDGED_TOPICS = 5_000;
/** Channel addresses of an application considered at most. */
const MAX_APP_CHANNELS = 5_000;

/** After an agent report is stored: the rules over the report's topics, and the channel activity. */
export async function driftOnReport(tx: Transaction, principal: Principal, report: AgentReport): Promise<void> {
  if (report.topics.length === 0) return;
  const { compiled, validators } = await loadDriftCatalog(tx);
  const observed = report.topics.map((t) => observedFromReport(report, t));
  const evaluation = evaluateObservedTopics(compiled, observed, validators);
  await recordChannelActivity(tx, compiled, observed);
  await applyEvaluation(tx, principal, evaluation, { now: new Date(), resolution: "stopped" });
  requestDriftSweep();
}

/** After an application's contracts or client-id patterns changed: a new catalog generation, the app's topics judged again. */
export async function driftOnCatalogChange(tx: Transaction, principal: Principal, app: Application): Promise<void> {
  await bumpCatalogGeneration(tx);
  // What this transaction sees may still roll back: judged from a copy that is not cached.
  const loaded = await loadDriftCatalog(tx, { cache: false });
  const now = new Date();
  const windowSeconds = silentAfterSeconds();
  // Only what was seen within the stale window is judged again: an older topic's findings stay resolved as not seen.
  const recent = gte(brokerTopic.lastSeen, new Date(now.getTime() - windowSeconds * 1000));

  // Every channel any version of the app declares: the old current version's and the new one's among them.
  const channelRows = await tx
    .selectDistinct({ channel: flow.channel })
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .where(eq(contractVersion.applicationId, app.id))
    .orderBy(asc(flow.channel))
    .limit(MAX_APP_CHANNELS);
  const addresses = channelRows.map((r) => r.channel);

  const topics = new Map<string, BrokerTopic>();
  const keep = (rows: BrokerTopic[]) => {
    for (const row of rows) if (topics.size < MAX_REJUDGED_TOPICS) topics.set(`${row.brokerId}\u0000${row.template}`, row);
  };
  if (addresses.length > 0) {
    keep(await tx.select().from(brokerTopic).where(and(mayOverlap(brokerTopic.template, addresses), recent)).orderBy(asc(brokerTopic.brokerId), asc(brokerTopic.template)).limit(MAX_REJUDGED_TOPICS));
  }
  // Clients whose mapping may have changed: the undeclared ones of this app, and the unknown or undeclared ones its patterns now match.
  const likes = app.clientIdPatterns.map(globToLike);
  const clientRules: SQL[] = [and(eq(driftFinding.applicationId, app.id), inArray(driftFinding.rule, ["UNDECLARED_PRODUCER", "UNDECLARED_CONSUMER"]))!];
  if (likes.length > 0) {
    clientRules.push(
      and(
        inArray(driftFinding.rule, ["UNDECLARED_PRODUCER", "UNDECLARED_CONSUMER"]),
        sql`exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${driftFinding.evidence}->'clients') = 'array' then ${driftFinding.evidence}->'clients' else '[]'::jsonb end) c
          where c->>'clientId' like any (array[${sql.join(likes.map((l) => sql`${l}`), sql`, `)}]::text[]))`,
      )!,
    );
  }
  const undeclared = topics.size < MAX_REJUDGED_TOPICS
    ? await tx
        .select({ brokerId: driftFinding.brokerId, template: driftFinding.template })
        .from(driftFinding)
        .where(and(ne(driftFinding.status, "resolved"), or(...clientRules)))
        .orderBy(asc(driftFinding.id))
        .limit(MAX_REJUDGED_TOPICS)
    : [];
  const unknown = likes.length > 0 && topics.size < MAX_REJUDGED_TOPICS
    ? await tx
        .select({ brokerId: driftFinding.brokerId, clientId: driftFinding.clientId })
        .from(driftFinding)
        .where(and(eq(driftFinding.rule, "UNKNOWN_CLIENT"), ne(driftFinding.status, "resolved"), sql`${driftFinding.clientId} like any (array[${sql.join(likes.map((l) => sql`${l}`), sql`, `)}]::text[])`))
        .orderBy(asc(driftFinding.id))
        .limit(MAX_REJUDGED_TOPICS)
    : [];
  const scopes = new Map<string, Set<string>>();
  for (const u of undeclared) if (u.brokerId !== null && u.template !== null) scopes.set(u.brokerId, (scopes.get(u.brokerId) ?? new Set()).add(u.template));
  for (const [brokerId, set] of scopes) {
    const templates = [...set];
    for (let i = 0; i < templates.length && topics.size < MAX_REJUDGED_TOPICS; i += 500) {
      keep(await tx.select().from(brokerTopic).where(and(eq(brokerTopic.brokerId, brokerId), inArray(brokerTopic.template, templates.slice(i, i + 500)), recent)));
    }
  }
  const unknownByBroker = new Map<string, string[]>();
  for (const u of unknown) if (u.brokerId && u.clientId) unknownByBroker.set(u.brokerId, [...(unknownByBroker.get(u.brokerId) ?? []), u.clientId]);
  for (const [brokerId, clientIds] of unknownByBroker) {
    if (topics.size >= MAX_REJUDGED_TOPICS) break;
    keep(
      await tx
        .select()
        .from(brokerTopic)
        .where(
          and(
            eq(brokerTopic.brokerId, brokerId),
            recent,
            sql`exists (select 1 from jsonb_array_elements(${brokerTopic.producers} || ${brokerTopic.consumers}) c where c->>'clientId' in (${sql.join(clientIds.map((c) => sql`${c}`), sql`, `)}))`,
          ),
        )
        .orderBy(asc(brokerTopic.template))
        .limit(MAX_REJUDGED_TOPICS),
    );
  }

  const rows = [...topics.values()];
  const brokers = await brokerFactsOf(tx, rows.map((r) => r.brokerId));
  const observed: ObservedTopic[] = rows.map((row) => observedFromTopic(row, brokers.get(row.brokerId) ?? null, now));
  const evaluation = evaluateObservedTopics(loaded.compiled, observed, loaded.validators);

  // The app's declared send channels judged for silence; a silent channel it no longer declares is documented away.
  const sends = loaded.catalog.flows.filter((f) => f.application.id === app.id && f.action === "send");
  const silent = silentChannels({
    flows: sends,
    activity: await channelActivityOf(tx, [app.id]),
    now,
    windowSeconds,
    observingSince: await observingSince(tx, now, windowSeconds),
  });
  const declared = new Set(sends.map((f) => f.channel));
  const gone = await tx
    .select({ id: driftFinding.id, channel: driftFinding.channel })
    .from(driftFinding)
    .where(and(eq(driftFinding.rule, "SILENT_CHANNEL"), eq(driftFinding.applicationId, app.id), ne(driftFinding.status, "resolved")))
    .limit(MAX_APP_CHANNELS);

  await applyEvaluation(
    tx,
    principal,
    {
      findings: [...evaluation.findings, ...silent.findings],
      judged: evaluation.judged,
      judgedClients: evaluation.judgedClients,
      judgedChannels: silent.judged,
      resolveIds: gone.filter((g) => g.channel === null || !declared.has(g.channel)).map((g) => g.id),
    },
    { now, resolution: "documented", recount: false },
  );
}

/** A `*` client-id pattern as a LIKE pattern: `*` is any run of characters, everything else literal. */
function globToLike(pattern: string): string {
  return pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, "%");
}
