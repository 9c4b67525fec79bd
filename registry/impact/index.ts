/**
 * The impact of a proposed contract change on the other applications of the mesh: which channels change, which
 * applications meet the change there (from their contracts' flows and from the clients the agents observed),
 * what breaks for each and which side must upgrade first. Pure: the portal loads the counterparts and the
 * observations, this decides.
 *
 * - A finding is placed on a channel through its JSON Pointer into the document it was found in (the baseline
 *   for `previousPath`, the proposal for `currentPath`): the longest prefix that is a channel, message or
 *   operation of that contract.
 * - A channel the owner sends on is met by the applications that receive on an overlapping channel (consumers);
 *   one it receives on, by those that send there (producers). Templates meet templates when they share a topic;
 *   observed clients meet a channel through the topic template they were seen on, else their filter.
 * - A finding not on any channel whose rule breaks every client of a server (servers, security) reaches every
 *   counterpart of the owner, on every channel.
 * - Output is bounded and ordered: breaking first, then by application name.
 */
import { encodePointer, decodePointer } from "../parse/refs.ts";
import { ruleById } from "../rules/index.ts";
import { filterOverlapsTemplate, isValidTemplate, templatesOverlap } from "../topics/index.ts";
import type { Action, CompareReport, Contract, Finding, RuleId, Verdict } from "../types.ts";

/** An application as impact names it. */
export interface AppRef {
  id: string;
  slug: string;
  name: string;
  teamId: string;
  teamSlug: string;
  teamName: string;
}

/** The flows another application's current contract declares. */
export interface ContractCounterpart {
  application: AppRef;
  version: string;
  flows: { channel: string; action: Action; messageKey: string }[];
}

/**
 * A client an agent saw on a topic template of a broker, and one application its client id maps to: a client
 * matched by several applications' patterns comes once per application; `application` is null only when no
 * application's pattern matches it.
 */
export interface ObservedClient {
  brokerId: string;
  clientId: string;
  role: "consumer" | "producer";
  template: string;
  filter?: string;
  lastSeen: string;
  application: AppRef | null;
}

/** Everything {@link impactOf} needs. */
export interface ImpactInput {
  owner: AppRef;
  baseline: Contract | null;
  proposed: Contract;
  findings: readonly Finding[];
  upgradeOrder: CompareReport["upgradeOrder"] | null;
  contracts: readonly ContractCounterpart[];
  observed: readonly ObservedClient[];
}

/** A channel of the owner that the change touches. */
export interface ImpactChannel {
  address: string;
  /** What the owner does there, in the baseline and the proposal together; null when no operation says. */
  action: Action | "both" | null;
  /** Keys of the messages the findings name there, sorted. */
  messages: string[];
  breaking: boolean;
  findingCount: number;
}

/** A finding as an affected application sees it. */
export interface ImpactFinding {
  rule: RuleId;
  verdict: Verdict;
  message: string;
  /** JSON Pointer in the proposal, else in the baseline. */
  path: string | null;
  /** The owner's channel it is on; null for a server or security finding. */
  channel: string | null;
  /** Index of the earlier version it was found against (transitive modes), if any. */
  baseline?: number;
  /** True when it breaks this application's side. */
  breaking: boolean;
}

/** Why an application is affected. */
export type ImpactEvidence =
  | { kind: "contract"; version: string; channel: string; messageKey: string; meets: string }
  | { kind: "observed"; brokerId: string; clientId: string; template: string; filter?: string; lastSeen: string; meets: string };

/** Who must upgrade first, for one counterpart: itself, the owner, either, or both together. */
export type UpgradeFirst = "counterpart" | "owner" | "either" | "together";

/** An application the change reaches. */
export interface AffectedApplication {
  application: AppRef;
  /** `consumer` of what the owner sends, `producer` of what the owner receives. */
  role: "consumer" | "producer";
  breaking: boolean;
  findings: ImpactFinding[];
  findingCount: number;
  /** The owner's changed channels it meets, sorted. */
  channels: string[];
  evidence: ImpactEvidence[];
  upgradeFirst: UpgradeFirst | null;
  /** The upgrade order as a sentence about this application. */
  upgrade: string | null;
  /** Findings or evidence were cut to the bounds. */
  truncated: boolean;
}

/** An observed client on a changed channel that no application's client-id patterns claim. */
export interface UnknownClient {
  brokerId: string;
  clientId: string;
  role: "consumer" | "producer";
  template: string;
  filter?: string;
  lastSeen: string;
  channels: string[];
}

/** The impact of one proposed change. */
export interface Impact {
  channels: ImpactChannel[];
  applications: AffectedApplication[];
  unknownClients: UnknownClient[];
  /** Some affected application is broken by the change. */
  breaking: boolean;
  /** Some list was cut to its bound. */
  truncated: boolean;
}

/** Bounds of the output. */
export const IMPACT_LIMITS = {
  channels: 500,
  applications: 500,
  findingsPerApplication: 50,
  evidencePerApplication: 50,
  unknownClients: 500,
} as const;

type Role = "consumer" | "producer";

interface Located {
  finding: Finding;
  /** Owner channels the finding is on; empty for a finding on no channel. */
  channels: string[];
  messageKey: string | null;
  /** Reaches every counterpart (a server or security change that breaks every client). */
  everyone: boolean;
}

interface PathTarget {
  address: string;
  messageKey?: string;
  action?: Action;
}

/** Pointer → channel, message or operation of one contract. */
function pathIndex(contract: Contract | null): Map<string, PathTarget> {
  const index = new Map<string, PathTarget>();
  if (!contract) return index;
  for (const channel of Object.values(contract.channels)) {
    index.set(encodePointer(channel.sourcePath), { address: channel.address });
    index.set(encodePointer(["channels", channel.address]), { address: channel.address });
    for (const message of Object.values(channel.messages)) {
      index.set(encodePointer(message.sourcePath), { address: channel.address, messageKey: message.key });
    }
  }
  for (const op of Object.values(contract.operations)) {
    if (op.channel === "") continue;
    const target = { address: op.channel, action: op.action, ...(op.messages.length === 1 ? { messageKey: op.messages[0]! } : {}) };
    index.set(encodePointer(op.sourcePath), target);
    index.set(encodePointer(["operations", op.id]), target);
  }
  return index;
}

/** The longest prefix of the pointer that names a channel, message or operation. */
function locate(pointer: string | undefined, index: Map<string, PathTarget>): PathTarget | null {
  if (!pointer) return null;
  const keys = decodePointer(pointer);
  // Messages and operations sit at most a few levels down: try the short prefixes only, longest first.
  for (let n = Math.min(keys.length, 6); n >= 2; n--) {
    const hit = index.get(encodePointer(keys.slice(0, n)));
    if (hit) return hit;
  }
  return null;
}

function findingKey(f: Finding): string {
  return [f.rule, f.previousPath ?? "", f.currentPath ?? "", f.schemaPath ?? "", f.baseline ?? "", f.message].join("\u0000");
}

/** What the owner does on each channel, baseline and proposal together. */
function ownerActions(contracts: readonly (Contract | null)[]): Map<string, Set<Action>> {
  const actions = new Map<string, Set<Action>>();
  for (const contract of contracts) {
    if (!contract) continue;
    for (const address of Object.keys(contract.channels)) if (!actions.has(address)) actions.set(address, new Set());
    for (const op of Object.values(contract.operations)) {
      if (op.channel === "") continue;
      (actions.get(op.channel) ?? actions.set(op.channel, new Set()).get(op.channel)!).add(op.action);
    }
  }
  return actions;
}

/** The roles that meet a channel: consumers where the owner sends, producers where it receives. */
function rolesOn(actions: ReadonlySet<Action> | undefined, direction: Finding["direction"]): Role[] {
  const roles = new Set<Role>();
  if (actions?.has("send")) roles.add("consumer");
  if (actions?.has("receive")) roles.add("producer");
  // A channel no operation uses: the finding's own direction says which side reads it.
  if (roles.size === 0) {
    if (direction === "send" || direction === "both") roles.add("consumer");
    if (direction === "receive" || direction === "both") roles.add("producer");
  }
  return [...roles];
}

function breaksRole(finding: Finding, role: Role): boolean {
  if (finding.verdict !== "breaking") return false;
  return finding.breaks === "both" || finding.breaks === (role === "consumer" ? "consumers" : "producers");
}

/** A finding on a channel concerns a role unless its direction is the other one. */
function concernsRole(finding: Finding, role: Role): boolean {
  if (finding.direction === "send") return role === "consumer";
  if (finding.direction === "receive") return role === "producer";
  return true;
}

function upgradeFor(order: CompareReport["upgradeOrder"] | null, role: Role, owner: AppRef, app: AppRef): { first: UpgradeFirst | null; sentence: string | null } {
  if (order === null) return { first: null, sentence: null };
  if (order === "any") return { first: "either", sentence: `${app.name} and ${owner.name} may upgrade in any order.` };
  if (order === "coordinated") return { first: "together", sentence: `${app.name} and ${owner.name} must upgrade together: no order keeps them compatible.` };
  const counterpartFirst = (order === "consumers-first") === (role === "consumer");
  return counterpartFirst
    ? { first: "counterpart", sentence: `${app.name} upgrades first, then ${owner.name} publishes the new version.` }
    : { first: "owner", sentence: `${owner.name} publishes the new version first, then ${app.name} upgrades.` };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Builder {
  application: AppRef;
  role: Role;
  channels: Set<string>;
  evidence: ImpactEvidence[];
  evidenceKeys: Set<string>;
  evidenceCut: boolean;
}

/**
 * Computes the impact of a proposed contract on the other applications, from the compare findings, the flows
 * other contracts declare and the clients the agents observed.
 * @example impactOf({ owner, baseline, proposed, findings: evaluation.report.findings, upgradeOrder: evaluation.upgradeOrder, contracts, observed }).applications
 */
export function impactOf(input: ImpactInput): Impact {
  const { owner, baseline, proposed } = input;
  const previousIndex = pathIndex(baseline);
  const currentIndex = pathIndex(proposed);
  const actions = ownerActions([baseline, proposed]);

  // Each finding once (the baseline's report is also the first of the reports against each version), placed.
  const seen = new Set<string>();
  const located: Located[] = [];
  for (const finding of input.findings) {
    const key = findingKey(finding);
    if (seen.has(key)) continue;
    seen.add(key);
    const targets = [locate(finding.currentPath, currentIndex), locate(finding.previousPath, previousIndex)].filter((t): t is PathTarget => t !== null);
    const channels = [...new Set(targets.map((t) => t.address))].sort(byText);
    const messageKey = targets.find((t) => t.messageKey !== undefined)?.messageKey ?? null;
    const rule = ruleById(finding.rule);
    const everyone = channels.length === 0 && finding.breaks !== "none" && (rule?.breaks === "everyone" || finding.category === "server" || finding.category === "security");
    located.push({ finding, channels, messageKey, everyone });
  }

  // The changed channels.
  const changed = new Map<string, { messages: Set<string>; breaking: boolean; count: number; roles: Set<Role> }>();
  for (const l of located) {
    for (const address of l.channels) {
      const entry = changed.get(address) ?? changed.set(address, { messages: new Set(), breaking: false, count: 0, roles: new Set() }).get(address)!;
      entry.count++;
      if (l.messageKey !== null) entry.messages.add(l.messageKey);
      if (l.finding.verdict === "breaking") entry.breaking = true;
      for (const role of rolesOn(actions.get(address), l.finding.direction)) entry.roles.add(role);
    }
  }
  const everyoneFindings = located.filter((l) => l.everyone);
  // A server or security break reaches the counterparts of every channel of the owner.
  const reach = new Map<string, Set<Role>>();
  for (const [address, entry] of changed) reach.set(address, new Set(entry.roles));
  if (everyoneFindings.length > 0) {
    for (const [address, owned] of actions) {
      if (owned.size === 0) continue;
      const roles = reach.get(address) ?? reach.set(address, new Set()).get(address)!;
      for (const role of rolesOn(owned, undefined)) roles.add(role);
    }
  }
  const reached = [...reach.entries()].filter(([, roles]) => roles.size > 0).sort(([a], [b]) => byText(a, b));
  const validReached = reached.filter(([address]) => isValidTemplate(address));

  // Overlap answers are shared by every flow and client on the same template.
  const overlapCache = new Map<string, boolean>();
  const meets = (theirs: string, ours: string, viaFilter: boolean): boolean => {
    const key = `${viaFilter ? "f" : "t"}\u0000${theirs}\u0000${ours}`;
    let hit = overlapCache.get(key);
    if (hit === undefined) {
      hit = viaFilter ? filterOverlapsTemplate(theirs, ours) : templatesOverlap(theirs, ours) || filterOverlapsTemplate(theirs, ours, { reservedTopics: true });
      overlapCache.set(key, hit);
    }
    return hit;
  };

  const builders = new Map<string, Builder>();
  const builderFor = (app: AppRef, role: Role): Builder => {
    const key = `${app.id}\u0000${role}`;
    let b = builders.get(key);
    if (!b) builders.set(key, (b = { application: app, role, channels: new Set(), evidence: [], evidenceKeys: new Set(), evidenceCut: false }));
    return b;
  };
  const addEvidence = (b: Builder, evidence: ImpactEvidence) => {
    const key = JSON.stringify(evidence);
    if (b.evidenceKeys.has(key)) return;
    b.evidenceKeys.add(key);
    if (b.evidence.length >= IMPACT_LIMITS.evidencePerApplication) b.evidenceCut = true;
    else b.evidence.push(evidence);
  };

  for (const counterpart of input.contracts) {
    if (counterpart.application.id === owner.id) continue;
    for (const flow of counterpart.flows) {
      // A flow that receives meets what the owner sends; one that sends, what the owner receives.
      const role: Role = flow.action === "receive" ? "consumer" : "producer";
      for (const [address, roles] of validReached) {
        if (!roles.has(role) || !meets(flow.channel, address, false)) continue;
        const b = builderFor(counterpart.application, role);
        b.channels.add(address);
        addEvidence(b, { kind: "contract", version: counterpart.version, channel: flow.channel, messageKey: flow.messageKey, meets: address });
      }
    }
  }

  const unknown = new Map<string, UnknownClient & { channelSet: Set<string> }>();
  for (const client of input.observed) {
    if (client.application?.id === owner.id) continue;
    for (const [address, roles] of validReached) {
      if (!roles.has(client.role)) continue;
      const hit = meets(client.template, address, false) || (client.filter !== undefined && meets(client.filter, address, true));
      if (!hit) continue;
      const evidence: ImpactEvidence = {
        kind: "observed",
        brokerId: client.brokerId,
        clientId: client.clientId,
        template: client.template,
        ...(client.filter !== undefined ? { filter: client.filter } : {}),
        lastSeen: client.lastSeen,
        meets: address,
      };
      if (client.application) {
        const b = builderFor(client.application, client.role);
        b.channels.add(address);
        addEvidence(b, evidence);
      } else {
        const key = [client.brokerId, client.clientId, client.role, client.template].join("\u0000");
        const entry =
          unknown.get(key) ??
          unknown
            .set(key, {
              brokerId: client.brokerId,
              clientId: client.clientId,
              role: client.role,
              template: client.template,
              ...(client.filter !== undefined ? { filter: client.filter } : {}),
              lastSeen: client.lastSeen,
              channels: [],
              channelSet: new Set(),
            })
            .get(key)!;
        if (client.lastSeen > entry.lastSeen) entry.lastSeen = client.lastSeen;
        entry.channelSet.add(address);
      }
    }
  }

  let truncated = false;
  const applications: AffectedApplication[] = [];
  for (const b of builders.values()) {
    const all: ImpactFinding[] = [];
    for (const l of located) {
      const onChannel = l.channels.some((c) => b.channels.has(c)) && concernsRole(l.finding, b.role);
      if (!onChannel && !l.everyone) continue;
      all.push({
        rule: l.finding.rule,
        verdict: l.finding.verdict,
        message: l.finding.message,
        path: l.finding.currentPath ?? l.finding.previousPath ?? null,
        channel: l.channels.find((c) => b.channels.has(c)) ?? null,
        ...(l.finding.baseline !== undefined ? { baseline: l.finding.baseline } : {}),
        breaking: breaksRole(l.finding, b.role),
      });
    }
    // Only channels that changed (or a server-wide break) make an application affected.
    const channels = [...b.channels].filter((c) => changed.has(c)).sort(byText);
    if (all.length === 0 && channels.length === 0) continue;
    // Breaking findings first, then in the order the report gave them.
    const ordered = [...all.map((f, i) => ({ f, i }))].sort((x, y) => Number(y.f.breaking) - Number(x.f.breaking) || x.i - y.i).map((x) => x.f);
    const findings = ordered.slice(0, IMPACT_LIMITS.findingsPerApplication);
    const evidence = [...b.evidence].sort((x, y) => byText(evidenceOrder(x), evidenceOrder(y)));
    const upgrade = upgradeFor(input.upgradeOrder, b.role, owner, b.application);
    const cut = b.evidenceCut || ordered.length > findings.length;
    applications.push({
      application: b.application,
      role: b.role,
      breaking: all.some((f) => f.breaking),
      findings,
      findingCount: all.length,
      channels: channels.length > 0 ? channels : [...b.channels].sort(byText),
      evidence,
      upgradeFirst: upgrade.first,
      upgrade: upgrade.sentence,
      truncated: cut,
    });
  }
  applications.sort(
    (x, y) =>
      Number(y.breaking) - Number(x.breaking) ||
      byText(x.application.name, y.application.name) ||
      byText(x.application.slug, y.application.slug) ||
      byText(x.role, y.role),
  );
  if (applications.length > IMPACT_LIMITS.applications) truncated = true;
  if (applications.some((a) => a.truncated)) truncated = true;

  const unknownClients: UnknownClient[] = [...unknown.values()]
    .filter((u) => [...u.channelSet].some((c) => changed.has(c)) || everyoneFindings.length > 0)
    .map(({ channelSet, ...u }) => ({ ...u, channels: [...channelSet].sort(byText) }))
    .sort((x, y) => byText(x.brokerId, y.brokerId) || byText(x.clientId, y.clientId) || byText(x.role, y.role) || byText(x.template, y.template));
  if (unknownClients.length > IMPACT_LIMITS.unknownClients) truncated = true;

  const channelList: ImpactChannel[] = [...changed.entries()]
    .sort(([a], [b]) => byText(a, b))
    .map(([address, entry]) => {
      const owned = actions.get(address);
      const action = owned?.has("send") && owned.has("receive") ? "both" : owned?.has("send") ? "send" : owned?.has("receive") ? "receive" : null;
      return { address, action, messages: [...entry.messages].sort(byText), breaking: entry.breaking, findingCount: entry.count };
    });
  if (channelList.length > IMPACT_LIMITS.channels) truncated = true;

  const kept = applications.slice(0, IMPACT_LIMITS.applications);
  return {
    channels: channelList.slice(0, IMPACT_LIMITS.channels),
    applications: kept,
    unknownClients: unknownClients.slice(0, IMPACT_LIMITS.unknownClients),
    breaking: applications.some((a) => a.breaking),
    truncated,
  };
}

function evidenceOrder(e: ImpactEvidence): string {
  return e.kind === "contract"
    ? ["0", e.meets, e.channel, e.messageKey, e.version].join("\u0000")
    : ["1", e.meets, e.brokerId, e.clientId, e.template].join("\u0000");
}
