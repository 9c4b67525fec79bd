import "server-only";
import { createHash } from "node:crypto";
import { and, asc, eq, inArray, isNull, ne, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { storableJson } from "@/agents/protocol.ts";
import type { Executor, Transaction } from "@/db/client.ts";
import { application, driftFinding, driftFindingEvent, type DriftFinding } from "@/db/schema.ts";
import type { AuditAction } from "@/lib/audit/actions.ts";
import { can } from "@/lib/auth/permissions.ts";
import { principalLabel, type Principal } from "@/lib/auth/principal.ts";
import { mayWriteForTeam } from "@/lib/catalog/applications.ts";
import { MeshportError } from "@/lib/errors.ts";
import { newId } from "@/lib/ids.ts";
import { defineCommand, noInput, type AuthorizeContext } from "@/lib/service.ts";
import { subjectKey } from "@/registry/drift/index.ts";
import type { DriftEvaluation, DriftEvidence, DriftFindingDraft, DriftRuleId, FindingSubject } from "@/registry/drift/types.ts";
import { silentAfterSeconds } from "./observed.ts";
import { emitDriftEvents, lockAuditChain, recordAudits, type DriftEvent } from "./record.ts";

/** Why a finding was resolved: it stopped, the catalog now documents it, or it was not seen for the stale window. */
export type DriftResolution = "stopped" | "documented" | "not_seen";

/** What an evaluation drew and what it judged: findings in a judged scope it did not draw again are resolved. */
export interface EvaluationToApply {
  findings: readonly DriftFindingDraft[];
  judged?: DriftEvaluation["judged"];
  judgedClients?: DriftEvaluation["judgedClients"];
  /** (application, channel) pairs judged for SILENT_CHANNEL */
  judgedChannels?: ReadonlyArray<{ applicationId: string; channel: string }>;
  /** findings resolved whatever was drawn (the stale sweep) */
  resolveIds?: readonly string[];
}

/** What applying an evaluation changed. */
export interface ApplyOutcome {
  opened: string[];
  reopened: string[];
  resolved: string[];
  /** open or acknowledged findings drawn again (last seen, occurrences, evidence refreshed) */
  refreshed: number;
}

/** Most characters of a finding's summary. */
export const MAX_SUMMARY_CHARS = 500;
/** Most characters of an acknowledgement note. */
export const MAX_NOTE_CHARS = 2_000;

const CHUNK = 500;
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/** The stored key of a subject: sha256 of its canonical text, whatever the lengths of its parts. */
export function findingKey(subject: FindingSubject): string {
  return createHash("sha256").update(subjectKey(subject)).digest("hex");
}

// A cut can fall inside a surrogate pair (an emoji in a topic name): its half becomes U+FFFD.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text).replace(LONE_SURROGATE, "\ufffd");
const count = (n: number) => (Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), MAX_COUNT) : 0);
const instant = (text: string, fallback: Date) => {
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms) : fallback;
};
const pair = (a: string | null, b: string | null) => `${a ?? ""}\u0000${b ?? ""}`;
/** Evidence as jsonb can store it: a payload cut inside a surrogate pair would otherwise refuse the whole batch. */
const storableEvidence = (evidence: DriftEvidence): string => storableJson(JSON.stringify(evidence));

type Row = Pick<
  DriftFinding,
  "id" | "subjectKey" | "rule" | "status" | "brokerId" | "template" | "channel" | "applicationId" | "clientId" | "summary"
>;
const rowColumns = {
  id: driftFinding.id,
  subjectKey: driftFinding.subjectKey,
  rule: driftFinding.rule,
  status: driftFinding.status,
  brokerId: driftFinding.brokerId,
  template: driftFinding.template,
  channel: driftFinding.channel,
  applicationId: driftFinding.applicationId,
  clientId: driftFinding.clientId,
  summary: driftFinding.summary,
};

/** The stored findings the evaluation touches: those it drew (by key) and the unresolved ones of its judged scopes. */
async function readState(tx: Executor, keys: readonly string[], input: EvaluationToApply, lock: boolean): Promise<{ drawn: Map<string, Row>; inScope: Row[] }> {
  const select = async (where: SQL) => {
    const query = tx.select(rowColumns).from(driftFinding).where(where).orderBy(asc(driftFinding.id));
    return lock ? query.for("update") : query;
  };
  const drawn = new Map<string, Row>();
  for (let i = 0; i < keys.length; i += CHUNK) {
    for (const row of await select(inArray(driftFinding.subjectKey, keys.slice(i, i + CHUNK)))) drawn.set(row.subjectKey, row);
  }
  const candidates = new Map<string, Row>();
  const unresolved = ne(driftFinding.status, "resolved");
  const scopes = input.judged ?? [];
  const rulesOf = new Map<string, Set<DriftRuleId>>();
  for (const s of scopes) {
    const key = pair(s.brokerId, s.template);
    const set = rulesOf.get(key) ?? new Set<DriftRuleId>();
    for (const r of s.rules) set.add(r);
    rulesOf.set(key, set);
  }
  // Per broker, `broker_id = … and template in (…)`: an index scan of drift_finding_broker_idx.
  const templatesOf = new Map<string, string[]>();
  for (const s of scopes) {
    const list = templatesOf.get(s.brokerId) ?? [];
    if (list.length === 0) templatesOf.set(s.brokerId, list);
    list.push(s.template);
  }
  for (const [brokerId, all] of templatesOf) {
    const templates = [...new Set(all)];
    for (let i = 0; i < templates.length; i += CHUNK) {
      const rows = await select(and(eq(driftFinding.brokerId, brokerId), inArray(driftFinding.template, templates.slice(i, i + CHUNK)), unresolved)!);
      for (const row of rows) if (rulesOf.get(pair(row.brokerId, row.template))?.has(row.rule)) candidates.set(row.id, row);
    }
  }
  for (const { brokerId, clientIds } of input.judgedClients ?? []) {
    for (let i = 0; i < clientIds.length; i += CHUNK) {
      const rows = await select(
        // A client finding has no template: (broker_id, template is null) is served by drift_finding_broker_idx.
        and(eq(driftFinding.brokerId, brokerId), isNull(driftFinding.template), inArray(driftFinding.clientId, clientIds.slice(i, i + CHUNK)), eq(driftFinding.rule, "UNKNOWN_CLIENT"), unresolved)!,
      );
      for (const row of rows) candidates.set(row.id, row);
    }
  }
  // Unresolved silent-channel findings of the applications judged, the pairs picked in code.
  const channels = new Set((input.judgedChannels ?? []).map((c) => pair(c.applicationId, c.channel)));
  const judgedApps = [...new Set((input.judgedChannels ?? []).map((c) => c.applicationId))];
  for (let i = 0; i < judgedApps.length; i += CHUNK) {
    const rows = await select(and(eq(driftFinding.rule, "SILENT_CHANNEL"), inArray(driftFinding.applicationId, judgedApps.slice(i, i + CHUNK)), unresolved)!);
    for (const row of rows) if (channels.has(pair(row.applicationId, row.channel))) candidates.set(row.id, row);
  }
  const ids = input.resolveIds ?? [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    for (const row of await select(and(inArray(driftFinding.id, ids.slice(i, i + CHUNK)), unresolved)!)) candidates.set(row.id, row);
  }
  const drawnKeys = new Set(keys);
  return { drawn, inScope: [...candidates.values()].filter((row) => !drawnKeys.has(row.subjectKey)) };
}

/**
 * Merges an evaluation into the stored findings, in the caller's transaction: a subject drawn for the first time
 * opens a finding, a resolved one drawn again reopens, an open or acknowledged one is refreshed (last seen,
 * occurrences, evidence); an unresolved finding in a judged scope that was not drawn again is resolved. Every
 * change of state is audited, recorded as a finding event, and (opened, reopened) announced to the webhooks.
 * A handful of multi-row statements whatever the number of findings. `recount: false` (a re-judgement of what was
 * already counted, after a catalog change) leaves the occurrences of existing findings as they are.
 */
export async function applyEvaluation(
  tx: Transaction,
  principal: Principal,
  input: EvaluationToApply,
  options: { now: Date; resolution: DriftResolution; recount?: boolean },
): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { opened: [], reopened: [], resolved: [], refreshed: 0 };
  const drafts = new Map<string, DriftFindingDraft>();
  for (const draft of input.findings) {
    const key = findingKey(draft.subject);
    const before = drafts.get(key);
    drafts.set(key, before ? { ...draft, occurrences: count(before.occurrences) + count(draft.occurrences) } : draft);
  }
  const keys = [...drafts.keys()].sort();
  if (keys.length === 0 && !input.judged?.length && !input.judgedClients?.length && !input.judgedChannels?.length && !input.resolveIds?.length) return outcome;
  // What was last seen longer ago than the stale window reopens nothing: the sweep would resolve it again as not seen.
  const staleBefore = options.now.getTime() - silentAfterSeconds() * 1000;
  const stale = (key: string) => instant(drafts.get(key)!.lastSeen, options.now).getTime() < staleBefore;
  const reopens = (row: Row | undefined, key: string) => row?.status === "resolved" && !stale(key);

  // A first look without locks: when the state of any finding changes, the audit chain is locked before the
  // findings, in the order every audited change takes them, so two changes never wait on each other.
  const changes = (state: { drawn: Map<string, Row>; inScope: Row[] }) =>
    state.inScope.length > 0 || keys.some((k) => !state.drawn.has(k) || reopens(state.drawn.get(k), k));
  const glance = await readState(tx, keys, input, false);
  if (!changes(glance) && glance.drawn.size === 0) return outcome;
  let locked = changes(glance);
  if (locked) await lockAuditChain(tx);
  const state = await readState(tx, keys, input, true);
  if (!locked && changes(state)) {
    await lockAuditChain(tx);
    locked = true;
  }

  const now = options.now;
  const label = principalLabel(principal);
  const fresh: Array<typeof driftFinding.$inferInsert> = [];
  const existing: Array<{ row: Row; draft: DriftFindingDraft }> = [];
  for (const key of keys) {
    const draft = drafts.get(key)!;
    const row = state.drawn.get(key);
    if (row) {
      if (row.status !== "resolved" || reopens(row, key)) existing.push({ row, draft });
      continue;
    }
    const s = draft.subject;
    fresh.push({
      id: newId("drift"),
      subjectKey: key,
      rule: s.rule,
      severity: draft.severity,
      status: "open",
      brokerId: s.brokerId,
      template: s.template,
      channel: s.channel,
      applicationId: s.applicationId,
      clientId: s.clientId,
      messageKey: s.messageKey,
      summary: clip(draft.summary, MAX_SUMMARY_CHARS),
      evidence: JSON.parse(storableEvidence(draft.evidence)) as DriftEvidence,
      firstSeen: instant(draft.firstSeen, now),
      lastSeen: instant(draft.lastSeen, now),
      occurrences: count(draft.occurrences),
    });
  }

  type Change = { id: string; kind: "opened" | "reopened" | "resolved"; rule: DriftRuleId; subject: Omit<Row, "id" | "subjectKey" | "status">; summary: string; before?: Row["status"] };
  const changed: Change[] = [];
  for (let i = 0; i < fresh.length; i += CHUNK) {
    // A concurrent evaluation may have opened the same subject meanwhile: it recorded the opening.
    const inserted = await tx
      .insert(driftFinding)
      .values(fresh.slice(i, i + CHUNK))
      .onConflictDoNothing({ target: driftFinding.subjectKey })
      .returning(rowColumns);
    for (const row of inserted) changed.push({ id: row.id, kind: "opened", rule: row.rule, subject: row, summary: row.summary });
  }

  for (let i = 0; i < existing.length; i += CHUNK) {
    const chunk = existing.slice(i, i + CHUNK);
    const values = sql.join(
      chunk.map(
        ({ row, draft }) =>
          sql`(${row.id}, ${draft.severity}, ${clip(draft.summary, MAX_SUMMARY_CHARS)}, ${storableEvidence(draft.evidence)}::jsonb, ${instant(draft.lastSeen, now)}::timestamptz, ${options.recount === false ? 0 : count(draft.occurrences)}::bigint)`,
      ),
      sql`, `,
    );
    // Reopened: open again, its acknowledgement and resolution cleared. Refreshed: last seen only moves forward.
    await tx.execute(sql`
      update ${driftFinding} as f set
        severity = v.severity,
        summary = v.summary,
        evidence = v.evidence,
        last_seen = case when f.status = 'resolved' then v.last_seen else greatest(f.last_seen, v.last_seen) end,
        occurrences = least(f.occurrences + v.occurrences, ${MAX_COUNT}::bigint),
        status = case when f.status = 'resolved' then 'open'::drift_status else f.status end,
        reopened_count = f.reopened_count + case when f.status = 'resolved' then 1 else 0 end,
        resolved_at = case when f.status = 'resolved' then null else f.resolved_at end,
        resolution = case when f.status = 'resolved' then null else f.resolution end,
        note = case when f.status = 'resolved' then null else f.note end,
        acknowledged_by_label = case when f.status = 'resolved' then null else f.acknowledged_by_label end,
        acknowledged_at = case when f.status = 'resolved' then null else f.acknowledged_at end,
        updated_at = ${now}::timestamptz
      from (values ${values}) as v(id, severity, summary, evidence, last_seen, occurrences)
      where f.id = v.id`);
    for (const { row, draft } of chunk) {
      if (row.status === "resolved") changed.push({ id: row.id, kind: "reopened", rule: row.rule, subject: row, summary: clip(draft.summary, MAX_SUMMARY_CHARS) });
      else outcome.refreshed++;
    }
  }

  const resolving = state.inScope.map((r) => r.id);
  for (let i = 0; i < resolving.length; i += CHUNK) {
    await tx
      .update(driftFinding)
      .set({ status: "resolved", resolvedAt: now, resolution: options.resolution, updatedAt: now })
      .where(inArray(driftFinding.id, resolving.slice(i, i + CHUNK)));
  }
  for (const row of state.inScope) changed.push({ id: row.id, kind: "resolved", rule: row.rule, subject: row, summary: row.summary, before: row.status });
  if (changed.length === 0) return outcome;
  if (!locked) await lockAuditChain(tx);

  const apps = await applicationsOf(tx, changed.map((c) => c.subject.applicationId));
  const eventRows = changed.map((c) => ({ findingId: c.id, kind: c.kind, rule: c.rule, actorLabel: label, note: c.kind === "resolved" ? options.resolution : "", at: now }));
  for (let i = 0; i < eventRows.length; i += CHUNK) await tx.insert(driftFindingEvent).values(eventRows.slice(i, i + CHUNK));
  const action: Record<Change["kind"], AuditAction> = { opened: "drift.finding.open", reopened: "drift.finding.reopen", resolved: "drift.finding.resolve" };
  await recordAudits(
    tx,
    principal,
    changed.map((c) => ({
      action: action[c.kind],
      targetType: "drift_finding",
      targetId: c.id,
      details: {
        ...findingDetails(c.subject, apps),
        ...(c.kind === "resolved"
          ? { resolution: options.resolution, before: { status: c.before }, after: { status: "resolved", resolution: options.resolution } }
          : c.kind === "reopened"
            ? { before: { status: "resolved" }, after: { status: "open" } }
            : {}),
      },
    })),
  );
  const events: DriftEvent[] = changed
    .filter((c) => c.kind !== "resolved")
    .map((c) => {
      const app = c.subject.applicationId ? apps.get(c.subject.applicationId) : undefined;
      return {
        type: c.kind === "opened" ? "drift.finding.opened" : "drift.finding.reopened",
        summary: c.summary,
        link: `/drift/${c.id}`,
        teamId: app?.teamId ?? null,
        data: { findingId: c.id, ...findingDetails(c.subject, apps) },
      };
    });
  await emitDriftEvents(tx, principal, events);
  for (const c of changed) outcome[c.kind === "opened" ? "opened" : c.kind === "reopened" ? "reopened" : "resolved"].push(c.id);
  return outcome;
}

async function applicationsOf(db: Executor, ids: readonly (string | null)[]): Promise<Map<string, { slug: string; teamId: string }>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  const found = new Map<string, { slug: string; teamId: string }>();
  for (let i = 0; i < wanted.length; i += CHUNK) {
    const rows = await db.select({ id: application.id, slug: application.slug, teamId: application.teamId }).from(application).where(inArray(application.id, wanted.slice(i, i + CHUNK)));
    for (const r of rows) found.set(r.id, { slug: r.slug, teamId: r.teamId });
  }
  return found;
}

type Described = Pick<Row, "rule" | "brokerId" | "template" | "channel" | "applicationId" | "clientId">;

function findingDetails(f: Described, apps: ReadonlyMap<string, { slug: string }>): Record<string, unknown> {
  return {
    rule: f.rule,
    broker: f.brokerId,
    template: f.template,
    channel: f.channel,
    application: f.applicationId ? (apps.get(f.applicationId)?.slug ?? null) : null,
    client: f.clientId,
  };
}

// --- What a person does with a finding ---

/**
 * The finding, locked for the change, once the principal may act on it. The audit chain is locked first, as
 * applyEvaluation locks it before the findings: the other order would deadlock with a report or a sweep.
 */
async function actionableFinding({ tx, principal }: Pick<AuthorizeContext<unknown>, "tx" | "principal">, id: string): Promise<{ finding: DriftFinding; appSlug: string | null }> {
  const valid = typeof id === "string" && id.length <= 100;
  if (valid) await lockAuditChain(tx);
  const [finding] = valid ? await tx.select().from(driftFinding).where(eq(driftFinding.id, id)).for("update") : [];
  if (!finding) throw new MeshportError("not_found", `No drift finding ${String(id).slice(0, 100)}.`, { subject: "drift_finding" });
  if (finding.applicationId) {
    const [app] = await tx.select({ slug: application.slug, teamId: application.teamId }).from(application).where(eq(application.id, finding.applicationId));
    if (can(principal, "reviews:decide") || (app && (await mayWriteForTeam(tx, principal, app.teamId)))) return { finding, appSlug: app?.slug ?? null };
    throw new MeshportError("forbidden", "Only the owning team of the application (or a reviewer) can acknowledge this finding.", { subject: "team" });
  }
  if (can(principal, "reviews:decide") || can(principal, "brokers:manage")) return { finding, appSlug: null };
  throw new MeshportError("forbidden", "Only reviewers and broker managers can acknowledge a finding that concerns no application.", { subject: "drift_finding" });
}

function describe(finding: DriftFinding, appSlug: string | null): Record<string, unknown> {
  return {
    rule: finding.rule,
    broker: finding.brokerId,
    template: finding.template,
    channel: finding.channel,
    application: appSlug,
    client: finding.clientId,
  };
}

/** Input of {@link acknowledgeFinding}. */
export const acknowledgeInput = z.object({ note: z.string().trim().min(1, "Say why the finding is acknowledged.").max(MAX_NOTE_CHARS) });

/**
 * Acknowledges an open finding with a note (`acknowledgeFinding(principal, id, { note })`): it stays visible, but
 * someone has looked at it. Acknowledged again, the note is replaced. A resolved finding cannot be acknowledged.
 */
export const acknowledgeFinding = defineCommand({
  permission: "contracts:write",
  input: acknowledgeInput,
  audit: "drift.finding.acknowledge",
  authorize: actionableFinding,
  run: async ({ tx, principal, input, target: { finding, appSlug }, audit }, id: string): Promise<DriftFinding> => {
    if (finding.status === "resolved") {
      throw new MeshportError("conflict", "This finding is resolved; it can only be acknowledged once it is open again.", { subject: "drift_finding" });
    }
    const now = new Date();
    const [updated] = await tx
      .update(driftFinding)
      .set({ status: "acknowledged", note: input.note, acknowledgedByLabel: principalLabel(principal), acknowledgedAt: now, updatedAt: now })
      .where(eq(driftFinding.id, id))
      .returning();
    await tx.insert(driftFindingEvent).values({ findingId: id, kind: "acknowledged", rule: finding.rule, actorLabel: principalLabel(principal), note: input.note, at: now });
    audit({
      targetType: "drift_finding",
      targetId: id,
      details: { ...describe(finding, appSlug), before: { status: finding.status, note: finding.note }, after: { status: "acknowledged", note: input.note } },
    });
    return updated!;
  },
});

/** Takes an acknowledgement back (`unacknowledgeFinding(principal, id, undefined)`): the finding is open again. */
export const unacknowledgeFinding = defineCommand({
  permission: "contracts:write",
  input: noInput,
  audit: "drift.finding.unacknowledge",
  authorize: actionableFinding,
  run: async ({ tx, principal, target: { finding, appSlug }, audit }, id: string): Promise<DriftFinding> => {
    if (finding.status !== "acknowledged") {
      throw new MeshportError("conflict", `This finding is ${finding.status}, not acknowledged.`, { subject: "drift_finding" });
    }
    const now = new Date();
    const [updated] = await tx
      .update(driftFinding)
      .set({ status: "open", note: null, acknowledgedByLabel: null, acknowledgedAt: null, updatedAt: now })
      .where(eq(driftFinding.id, id))
      .returning();
    await tx.insert(driftFindingEvent).values({ findingId: id, kind: "unacknowledged", rule: finding.rule, actorLabel: principalLabel(principal), at: now });
    audit({
      targetType: "drift_finding",
      targetId: id,
      details: { ...describe(finding, appSlug), before: { status: "acknowledged", note: finding.note }, after: { status: "open", note: null } },
    });
    return updated!;
  },
});

/** The same command under the name the finding page uses: an acknowledged finding reopened by a person. */
export const reopenFinding = unacknowledgeFinding;
