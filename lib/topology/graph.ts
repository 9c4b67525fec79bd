/**
 * The topology of the mesh as a graph: applications, channels, brokers and clients no application claims, with the
 * flows the contracts declare and the ones the agents observed. Pure: lib/topology/topology.ts loads the input,
 * lib/topology/layout.ts places the nodes.
 */
import { brokerDialect, ChannelIndexes, kindLabel } from "@/lib/brokers/dialect.ts";
import { MQTT_DIALECT, type TopicDialect } from "@/registry/topics/index.ts";

/** Nodes drawn at most; past it the graph says `truncated`. */
export const MAX_NODES = 800;
/** Edges drawn at most. */
export const MAX_EDGES = 4_000;
/** Above this many nodes the graph is grouped by team unless a grouping was asked for. */
export const AUTO_GROUP_THRESHOLD = 300;
/** Clients per observed topic and role considered at most. */
export const MAX_CLIENTS_PER_TOPIC = 200;
/** Listed concrete topics per observed template considered at most (the agent lists up to 50). */
export const MAX_LISTED_TOPICS = 50;

export type NodeKind = "application" | "channel" | "broker" | "client" | "group";
export type EdgeKind = "send" | "receive" | "carried" | "bridge";
export type EdgeState = "declared" | "observed" | "both";
export type AppRole = "producer" | "consumer" | "both" | "none";
export type Grouping = "team" | "domain";

export interface TopologyApplication {
  id: string;
  slug: string;
  name: string;
  teamSlug: string;
  teamName: string;
  domain: string;
}

export interface TopologyFlow {
  applicationId: string;
  channel: string;
  action: "send" | "receive";
}

export interface TopologyBroker {
  id: string;
  name: string;
  /** its kind (mqtt, nats, amqp…): the syntax its observed templates are matched in; MQTT when absent */
  protocol?: string;
}

export interface TopologyBridge {
  id: string;
  fromBrokerId: string;
  toBrokerId: string;
  topicFilter: string;
  direction: "out" | "both";
}

/** A link to another broker that a broker told its agent of, with its far end resolved to a broker of the mesh. */
export interface TopologyLink {
  brokerId: string;
  kind: string;
  remoteBrokerId: string;
  /** seen from `brokerId` */
  direction: "in" | "out" | "both";
  topics: readonly string[];
}

export interface TopologyObservation {
  brokerId: string;
  template: string;
  /** listed concrete topics (possibly fewer than distinctTopics) */
  topics: readonly string[];
  distinctTopics: number;
  messages: number;
  lastSeen: string;
  producers: readonly { clientId: string; messages?: number }[];
  consumers: readonly { clientId: string; filter?: string }[];
}

/** Everything the builder needs, loaded by the query. */
export interface TopologyInput {
  applications: readonly TopologyApplication[];
  /** flows of each application's current version (or the version current at the date asked) */
  flows: readonly TopologyFlow[];
  brokers: readonly TopologyBroker[];
  bridges: readonly TopologyBridge[];
  /** discovered links whose far end is a broker of the mesh: drawn as bridges where no declared bridge links the two */
  links?: readonly TopologyLink[];
  observations: readonly TopologyObservation[];
  /** client id → ids of the applications whose client-id patterns match it, most specific first */
  mapClient: (clientId: string) => readonly string[];
  /** set when the loader cut one of its reads */
  truncated?: boolean;
}

/** What to draw. Filters narrow the graph; grouping collapses applications (and their channels) into one node per team or domain. */
export interface TopologyOptions {
  team?: string;
  domain?: string;
  broker?: string;
  /** channel address (or observed template) prefix, compared as text */
  prefix?: string;
  /** `none`: never group; `auto` (default): by team above {@link AUTO_GROUP_THRESHOLD} nodes */
  group?: Grouping | "none" | "auto";
  /** group keys drawn open (`team:<slug>`, `domain:<name>`, `channels:<first level>`) */
  expand?: readonly string[];
  /** only this node and its neighbourhood (one channel away) */
  focus?: { kind: "application"; slug: string } | { kind: "channel"; address: string } | { kind: "broker"; id: string };
  maxNodes?: number;
  maxEdges?: number;
  /** further page parameters a group's link keeps (the window, the date) */
  linkParams?: Readonly<Record<string, string>>;
}

export interface TopologyNode {
  /** unique in the graph: `<kind>:<key>` */
  id: string;
  kind: NodeKind;
  /** slug, address, broker id, client id or group key */
  key: string;
  label: string;
  /** a second line: the team, the broker count, the members of a group */
  detail?: string;
  role?: AppRole;
  team?: string;
  domain?: string;
  /** an observed template that meets no declared channel */
  undocumented?: boolean;
  /** for a group node: what it groups and how many */
  group?: { by: Grouping | "channels"; members: number };
  href: string;
  driftHref?: string;
  /** 0 producers, 1 channels and brokers, 2 consumers: the layered layout's hint */
  column: 0 | 1 | 2;
}

export interface TopologyEdge {
  id: string;
  kind: EdgeKind;
  source: string;
  target: string;
  state: EdgeState;
  /** the bridge's filter */
  label?: string;
  /** edges aggregated into this one (groups) */
  count: number;
  /** a bridge forwarding both ways */
  bidirectional?: boolean;
}

export interface TopologyGraph {
  nodes: TopologyNode[];
  edges: TopologyEdge[];
  /** a bound cut the graph (or what it was built from) */
  truncated: boolean;
  /** the grouping applied, and whether it was chosen automatically */
  grouping: Grouping | null;
  autoGrouped: boolean;
  /** what exists before filters and grouping: the empty state says "none yet" only when both are zero */
  totals: { applications: number; brokers: number; channels: number; observedTopics: number };
}

const nodeId = (kind: NodeKind, key: string) => `${kind}:${key}`;

function mergeState(a: EdgeState, b: EdgeState): EdgeState {
  return a === b ? a : "both";
}

const enc = encodeURIComponent;

/** Where a click on a channel goes: its page in the catalog (first declaring application), or discovery for an undocumented template. */
function channelHref(address: string, owner: string | undefined): string {
  return owner ? `/catalog/${enc(owner)}/channel/${enc(address)}` : `/discover?${new URLSearchParams({ q: address })}`;
}

interface ChannelInfo {
  address: string;
  undocumented: boolean;
  /** first application that sends on it, else first that receives */
  owner?: string;
  ownerSends?: boolean;
  brokers: Set<string>;
}

/**
 * The observed template meets the declared channels: one of its listed topics is an instance of the channel, or
 * (when it lists no topics, or fewer than it saw) the template overlaps the channel; both read in the dialect of
 * the broker it was observed on.
 */
export function channelsMet(
  index: ChannelIndexes<string>,
  obs: Pick<TopologyObservation, "template" | "topics" | "distinctTopics">,
  dialect: TopicDialect = MQTT_DIALECT,
): string[] {
  return index.met(dialect, { template: obs.template, topics: obs.topics.slice(0, MAX_LISTED_TOPICS), distinctTopics: obs.distinctTopics }).sort();
}

/** Most topics of discovered links named on one bridge edge. */
const MAX_LINK_LABEL_TOPICS = 3;

/**
 * The bridge edges of the mesh: declared bridges, then discovered links between two brokers no declared bridge
 * links (either way), one edge per pair whatever the agents of both ends told, both ways when either end says so
 * or the links run both ways.
 */
export function bridgeEdges(brokers: ReadonlySet<string>, bridges: readonly TopologyBridge[], links: readonly TopologyLink[]): Array<{ from: string; to: string; label: string; bidirectional: boolean }> {
  const out: Array<{ from: string; to: string; label: string; bidirectional: boolean }> = [];
  const pair = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);
  const declared = new Set<string>();
  for (const bridge of bridges) {
    if (!brokers.has(bridge.fromBrokerId) || !brokers.has(bridge.toBrokerId)) continue;
    declared.add(pair(bridge.fromBrokerId, bridge.toBrokerId));
    out.push({ from: bridge.fromBrokerId, to: bridge.toBrokerId, label: bridge.topicFilter, bidirectional: bridge.direction === "both" });
  }
  const discovered = new Map<string, { ways: Set<string>; topics: Set<string>; kinds: Set<string> }>();
  for (const link of links) {
    if (link.brokerId === link.remoteBrokerId || !brokers.has(link.brokerId) || !brokers.has(link.remoteBrokerId)) continue;
    const key = pair(link.brokerId, link.remoteBrokerId);
    if (declared.has(key)) continue;
    let entry = discovered.get(key);
    if (!entry) discovered.set(key, (entry = { ways: new Set(), topics: new Set(), kinds: new Set() }));
    if (link.direction !== "in") entry.ways.add(`${link.brokerId}\u0000${link.remoteBrokerId}`);
    if (link.direction !== "out") entry.ways.add(`${link.remoteBrokerId}\u0000${link.brokerId}`);
    for (const t of link.topics) entry.topics.add(t);
    entry.kinds.add(link.kind);
  }
  for (const [key, entry] of [...discovered].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [a, b] = key.split("\u0000") as [string, string];
    const both = entry.ways.size > 1;
    const [from, to] = both || entry.ways.has(`${a}\u0000${b}`) ? [a, b] : [b, a];
    const topics = [...entry.topics].sort();
    const label =
      topics.length > 0
        ? topics.slice(0, MAX_LINK_LABEL_TOPICS).join(", ") + (topics.length > MAX_LINK_LABEL_TOPICS ? ", …" : "")
        : [...entry.kinds].sort().join(", ");
    out.push({ from, to, label, bidirectional: both });
  }
  return out;
}

/** Builds the graph: nodes, edges with their declared / observed state, filters, grouping and bounds. */
export function buildTopology(input: TopologyInput, options: TopologyOptions = {}): TopologyGraph {
  const maxNodes = options.maxNodes ?? MAX_NODES;
  const maxEdges = options.maxEdges ?? MAX_EDGES;
  let truncated = false;
  const apps = new Map(input.applications.map((a) => [a.id, a]));
  const brokers = new Map(input.brokers.map((b) => [b.id, b]));
  // An observation of a broker the graph does not know is read as MQTT, as before kinds existed.
  const dialectOf = (brokerId: string) => brokerDialect(brokers.get(brokerId)?.protocol);

  // --- the full picture: channels and edges keyed by their ends ---
  const channels = new Map<string, ChannelInfo>();
  const declaredBy = new Map<string, Set<string>>(); // "send|app|channel"
  const index = new ChannelIndexes<string>();
  for (const f of input.flows) {
    const app = apps.get(f.applicationId);
    if (!app) continue;
    let info = channels.get(f.channel);
    if (!info) {
      info = { address: f.channel, undocumented: false, brokers: new Set() };
      channels.set(f.channel, info);
      index.add(f.channel, f.channel);
    }
    if (!info.owner || (f.action === "send" && !info.ownerSends)) {
      info.owner = app.slug;
      info.ownerSends = f.action === "send";
    }
    const key = `${f.action}|${f.channel}`;
    let set = declaredBy.get(key);
    if (!set) declaredBy.set(key, (set = new Set()));
    set.add(app.id);
  }

  interface RawEdge {
    kind: EdgeKind;
    source: string;
    target: string;
    state: EdgeState;
    label?: string;
    bidirectional?: boolean;
  }
  const edges = new Map<string, RawEdge>();
  const addEdge = (edge: RawEdge) => {
    const key = `${edge.kind}|${edge.source}|${edge.target}|${edge.label ?? ""}`;
    const known = edges.get(key);
    if (known) known.state = mergeState(known.state, edge.state);
    else edges.set(key, { ...edge });
  };
  for (const [key, ids] of declaredBy) {
    const [action, channel] = [key.slice(0, key.indexOf("|")), key.slice(key.indexOf("|") + 1)];
    for (const id of ids) {
      const app = apps.get(id)!;
      if (action === "send") addEdge({ kind: "send", source: nodeId("application", app.slug), target: nodeId("channel", channel), state: "declared" });
      else addEdge({ kind: "receive", source: nodeId("channel", channel), target: nodeId("application", app.slug), state: "declared" });
    }
  }

  const clients = new Set<string>();
  let observedTopics = 0;
  for (const obs of input.observations) {
    observedTopics++;
    let met = channelsMet(index, obs, dialectOf(obs.brokerId));
    if (met.length === 0) {
      // An observed template that meets no declared channel is a channel of its own, undocumented.
      if (!channels.has(obs.template)) channels.set(obs.template, { address: obs.template, undocumented: true, brokers: new Set() });
      met = [obs.template];
    }
    for (const address of met) {
      channels.get(address)!.brokers.add(obs.brokerId);
      if (brokers.has(obs.brokerId)) addEdge({ kind: "carried", source: nodeId("channel", address), target: nodeId("broker", obs.brokerId), state: "observed" });
    }
    for (const [role, list] of [
      ["send", obs.producers],
      ["receive", obs.consumers],
    ] as const) {
      if (list.length > MAX_CLIENTS_PER_TOPIC) truncated = true;
      for (const client of list.slice(0, MAX_CLIENTS_PER_TOPIC)) {
        if (typeof client?.clientId !== "string") continue;
        const mapped = input.mapClient(client.clientId).filter((id) => apps.has(id));
        // A client of several applications does what any of them declares; otherwise it counts for the most
        // specific one. When one of the channels the template meets is declared for it, the flow is that one.
        const declared = met.filter((address) => mapped.some((id) => declaredBy.get(`${role}|${address}`)?.has(id)));
        for (const address of mapped.length > 0 && declared.length > 0 ? declared : met) {
          const declaring = declaredBy.get(`${role}|${address}`);
          const appId = mapped.find((id) => declaring?.has(id)) ?? mapped[0];
          let end: string;
          if (appId) end = nodeId("application", apps.get(appId)!.slug);
          else {
            clients.add(client.clientId);
            end = nodeId("client", client.clientId);
          }
          const channel = nodeId("channel", address);
          if (role === "send") addEdge({ kind: "send", source: end, target: channel, state: "observed" });
          else addEdge({ kind: "receive", source: channel, target: end, state: "observed" });
        }
      }
    }
  }
  for (const bridge of bridgeEdges(new Set(brokers.keys()), input.bridges, input.links ?? [])) {
    addEdge({
      kind: "bridge",
      source: nodeId("broker", bridge.from),
      target: nodeId("broker", bridge.to),
      state: "observed",
      label: bridge.label,
      bidirectional: bridge.bidirectional,
    });
  }

  // --- the nodes of the full picture ---
  const all = new Map<string, TopologyNode>();
  const roles = new Map<string, { send: boolean; receive: boolean }>();
  for (const e of edges.values()) {
    if (e.kind === "send") (roles.get(e.source) ?? roles.set(e.source, { send: false, receive: false }).get(e.source)!).send = true;
    if (e.kind === "receive") (roles.get(e.target) ?? roles.set(e.target, { send: false, receive: false }).get(e.target)!).receive = true;
  }
  const roleOf = (id: string): AppRole => {
    const r = roles.get(id);
    return !r ? "none" : r.send && r.receive ? "both" : r.send ? "producer" : r.receive ? "consumer" : "none";
  };
  const columnOf = (role: AppRole): 0 | 1 | 2 => (role === "consumer" ? 2 : 0);
  for (const app of input.applications) {
    const id = nodeId("application", app.slug);
    const role = roleOf(id);
    all.set(id, {
      id,
      kind: "application",
      key: app.slug,
      label: app.name,
      detail: app.teamName,
      role,
      team: app.teamSlug,
      domain: app.domain,
      href: `/catalog/${enc(app.slug)}`,
      driftHref: `/drift?${new URLSearchParams({ application: app.slug })}`,
      column: columnOf(role),
    });
  }
  for (const info of channels.values()) {
    const id = nodeId("channel", info.address);
    all.set(id, {
      id,
      kind: "channel",
      key: info.address,
      label: info.address,
      ...(info.undocumented ? { undocumented: true, detail: "undocumented" } : {}),
      href: channelHref(info.address, info.undocumented ? undefined : info.owner),
      driftHref: `/drift?${new URLSearchParams({ channel: info.address })}`,
      column: 1,
    });
  }
  for (const b of input.brokers) {
    const id = nodeId("broker", b.id);
    all.set(id, {
      id,
      kind: "broker",
      key: b.id,
      label: b.name,
      ...(b.protocol && b.protocol !== "mqtt" ? { detail: b.name !== b.id ? `${kindLabel(b.protocol)} · ${b.id}` : kindLabel(b.protocol) } : b.name !== b.id ? { detail: b.id } : {}),
      href: `/brokers/${enc(b.id)}`,
      driftHref: `/drift?${new URLSearchParams({ broker: b.id })}`,
      column: 1,
    });
  }
  for (const c of clients) {
    const id = nodeId("client", c);
    const role = roleOf(id);
    all.set(id, { id, kind: "client", key: c, label: c, detail: "unknown client", role, href: `/discover?${new URLSearchParams({ q: c })}`, column: columnOf(role) });
  }

  // --- filters: seed nodes, then what touches them across one channel ---
  const keep = selectNodes(all, [...edges.values()], options);

  const kept = [...edges.values()].filter((e) => keep.has(e.source) && keep.has(e.target));
  const visible = [...all.values()].filter((n) => keep.has(n.id));

  // --- grouping ---
  let grouping: Grouping | null = null;
  let autoGrouped = false;
  const asked = options.group ?? "auto";
  if (asked === "team" || asked === "domain") grouping = asked;
  else if (asked === "auto" && visible.length > AUTO_GROUP_THRESHOLD && !options.focus) {
    grouping = "team";
    autoGrouped = true;
  }
  let nodes = visible;
  let finalEdges: TopologyEdge[];
  if (grouping) {
    const grouped = groupGraph(visible, kept, grouping, new Set(options.expand ?? []), options);
    nodes = grouped.nodes;
    finalEdges = grouped.edges;
  } else {
    finalEdges = kept.map((e) => ({ ...e, id: edgeId(e), count: 1 }));
  }

  // --- bounds ---
  nodes.sort(nodeOrder);
  if (nodes.length > maxNodes) {
    truncated = true;
    // Keep whole neighbourhoods, breadth first from the first nodes, so the part drawn still shows who talks to whom.
    const adjacent = new Map<string, string[]>();
    for (const e of finalEdges) {
      (adjacent.get(e.source) ?? adjacent.set(e.source, []).get(e.source)!).push(e.target);
      (adjacent.get(e.target) ?? adjacent.set(e.target, []).get(e.target)!).push(e.source);
    }
    const chosen = new Set<string>();
    for (const start of nodes) {
      if (chosen.size >= maxNodes) break;
      const queue = [start.id];
      for (let i = 0; i < queue.length && chosen.size < maxNodes; i++) {
        const id = queue[i]!;
        if (chosen.has(id)) continue;
        chosen.add(id);
        for (const next of adjacent.get(id) ?? []) if (!chosen.has(next)) queue.push(next);
      }
    }
    nodes = nodes.filter((n) => chosen.has(n.id));
  }
  const present = new Set(nodes.map((n) => n.id));
  finalEdges = finalEdges.filter((e) => present.has(e.source) && present.has(e.target)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (finalEdges.length > maxEdges) {
    truncated = true;
    finalEdges = finalEdges.slice(0, maxEdges);
  }
  return {
    nodes,
    edges: finalEdges,
    // Read last: the loader's client mapping may have been cut while the graph was built.
    truncated: truncated || (input.truncated ?? false),
    grouping,
    autoGrouped,
    totals: { applications: input.applications.length, brokers: input.brokers.length, channels: channels.size, observedTopics },
  };
}

const KIND_ORDER: Record<NodeKind, number> = { group: 0, application: 1, channel: 2, broker: 3, client: 4 };

/** Groups and applications first, so a cut keeps who talks before what they talk on. */
function nodeOrder(a: TopologyNode, b: TopologyNode): number {
  return KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

const edgeId = (e: { kind: EdgeKind; source: string; target: string; label?: string }) => `${e.kind}|${e.source}|${e.target}${e.label ? `|${e.label}` : ""}`;

/** The nodes the filters keep. No filter: everything. */
function selectNodes(all: Map<string, TopologyNode>, edges: { kind: EdgeKind; source: string; target: string }[], options: TopologyOptions): Set<string> {
  const { team, domain, broker, prefix, focus } = options;
  if (!team && !domain && !broker && !prefix && !focus) return new Set(all.keys());
  const neighbours = new Map<string, string[]>();
  for (const e of edges) {
    (neighbours.get(e.source) ?? neighbours.set(e.source, []).get(e.source)!).push(e.target);
    (neighbours.get(e.target) ?? neighbours.set(e.target, []).get(e.target)!).push(e.source);
  }
  const near = (id: string, kind: NodeKind) => (neighbours.get(id) ?? []).filter((n) => all.get(n)?.kind === kind);
  // Channels in scope: what every filter allows.
  let scope: Set<string> | null = null;
  const narrow = (ids: Iterable<string>) => {
    const next = new Set(ids);
    scope = scope === null ? next : new Set([...scope].filter((id) => next.has(id)));
  };
  const channelIds = [...all.values()].filter((n) => n.kind === "channel").map((n) => n.id);
  if (prefix) narrow(channelIds.filter((id) => all.get(id)!.key.startsWith(prefix)));
  if (broker) narrow(near(nodeId("broker", broker), "channel"));
  const appFilter = (n: TopologyNode) => (!team || n.team === team) && (!domain || n.domain === domain);
  let seedApps: string[] | null = null;
  if (team || domain) {
    seedApps = [...all.values()].filter((n) => n.kind === "application" && appFilter(n)).map((n) => n.id);
    narrow(seedApps.flatMap((id) => near(id, "channel")));
  }
  if (focus) {
    const id = focus.kind === "application" ? nodeId("application", focus.slug) : focus.kind === "channel" ? nodeId("channel", focus.address) : nodeId("broker", focus.id);
    if (focus.kind === "application") {
      seedApps = [id];
      narrow(near(id, "channel"));
    } else if (focus.kind === "channel") narrow([id]);
    else narrow(near(id, "channel"));
  }
  const keep = new Set<string>();
  for (const id of scope ?? []) {
    if (!all.has(id)) continue;
    keep.add(id);
    for (const n of neighbours.get(id) ?? []) keep.add(n);
  }
  // The seed applications stay even when they touch no channel in scope; a broker asked for stays too.
  for (const id of seedApps ?? []) if (all.has(id) && !prefix && !broker) keep.add(id);
  if (broker && all.has(nodeId("broker", broker))) {
    keep.add(nodeId("broker", broker));
    for (const n of near(nodeId("broker", broker), "broker")) keep.add(n);
  }
  if (focus && focus.kind === "broker" && all.has(nodeId("broker", focus.id))) keep.add(nodeId("broker", focus.id));
  return keep;
}

/** The first level of an address, for grouping channels. */
function firstLevel(address: string): string {
  const slash = address.indexOf("/");
  return slash < 0 ? address : address.slice(0, slash);
}

/**
 * Collapses applications into one node per team or domain, and the channels that only closed groups use into one
 * node per first address level; edges between collapsed nodes aggregate (their count, and `both` when declared and
 * observed meet). A key in `expand` draws that group open.
 */
function groupGraph(nodes: TopologyNode[], edges: Omit<TopologyEdge, "id" | "count">[], by: Grouping, expand: Set<string>, options: TopologyOptions) {
  const groupOf = new Map<string, string>();
  const groups = new Map<string, TopologyNode>();
  const ensureGroup = (key: string, label: string, groupBy: Grouping | "channels", column: 0 | 1 | 2) => {
    const id = nodeId("group", key);
    let g = groups.get(id);
    if (!g) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ team: options.team, domain: options.domain, broker: options.broker, prefix: options.prefix, ...options.linkParams })) if (v) params.set(k, v);
      params.set("group", by);
      params.set("expand", [...expand, key].join(","));
      g = { id, kind: "group", key, label, group: { by: groupBy, members: 0 }, href: `/topology?${params}`, column };
      groups.set(id, g);
    }
    g.group!.members++;
    return id;
  };
  const openApps = new Set<string>();
  for (const n of nodes) {
    if (n.kind !== "application") continue;
    const value = (by === "team" ? n.team : n.domain) || "";
    const key = `${by}:${value}`;
    if (expand.has(key)) openApps.add(n.id);
    else groupOf.set(n.id, ensureGroup(key, value || (by === "team" ? "no team" : "no domain"), by, 0));
  }
  const touchesOpen = new Set<string>();
  for (const e of edges) {
    if (openApps.has(e.source)) touchesOpen.add(e.target);
    if (openApps.has(e.target)) touchesOpen.add(e.source);
  }
  for (const n of nodes) {
    if (n.kind !== "channel") continue;
    const key = `channels:${firstLevel(n.key)}`;
    if (expand.has(key) || touchesOpen.has(n.id)) continue;
    groupOf.set(n.id, ensureGroup(key, `${firstLevel(n.key)}/…`, "channels", 1));
  }
  for (const g of groups.values()) {
    g.detail = g.group!.by === "channels" ? `${g.group!.members} channels` : `${g.group!.members} applications`;
  }
  const out = new Map<string, TopologyEdge>();
  for (const e of edges) {
    const source = groupOf.get(e.source) ?? e.source;
    const target = groupOf.get(e.target) ?? e.target;
    if (source === target) continue;
    const id = edgeId({ kind: e.kind, source, target, ...(e.label ? { label: e.label } : {}) });
    const known = out.get(id);
    if (known) {
      known.state = mergeState(known.state, e.state);
      known.count++;
    } else out.set(id, { ...e, id, source, target, count: 1 });
  }
  const kept = nodes.filter((n) => !groupOf.has(n.id));
  // Group roles: producers left, consumers right.
  const sends = new Set<string>();
  const receives = new Set<string>();
  for (const e of out.values()) {
    if (e.kind === "send") sends.add(e.source);
    if (e.kind === "receive") receives.add(e.target);
  }
  for (const g of groups.values()) {
    if (g.group!.by === "channels") continue;
    g.role = sends.has(g.id) && receives.has(g.id) ? "both" : sends.has(g.id) ? "producer" : receives.has(g.id) ? "consumer" : "none";
    g.column = g.role === "consumer" ? 2 : 0;
  }
  return { nodes: [...groups.values(), ...kept], edges: [...out.values()] };
}
