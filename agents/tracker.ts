/**
 * Consumer tracking: the live subscriptions of each client as the broker
 * tells them (Mosquitto `$SYS/broker/log/M/*` lines, aedes hooks), indexed
 * by filter so the consumers of a topic template are found without scanning
 * every subscription. Bounded in clients and filters per client.
 */
import type { Consumer } from "./protocol.ts";
import { isPlaceholder } from "./templates.ts";

interface FilterNode {
  children: Map<string, FilterNode>;
  /** filters ending at this node: filter → (clientId → qos) */
  here: Map<string, Map<string, number>> | null;
}

const node = (): FilterNode => ({ children: new Map(), here: null });

/** Options of a {@link ConsumerTracker}. */
export interface ConsumerTrackerOptions {
  /** most clients tracked (default 10,000) */
  maxClients?: number;
  /** most filters per client (default 100) */
  maxFiltersPerClient?: number;
  /** client ids never reported (the agent itself) */
  ignoreClientIds?: readonly string[];
}

/** Live subscriptions by client, with a filter index for template look-ups. */
export class ConsumerTracker {
  /** clients with at least one subscription */
  private readonly clients = new Map<string, Map<string, number>>();
  /** session kind per connected client (true: clean); kept apart so publishers never crowd out subscribers */
  private readonly sessions = new Map<string, boolean>();
  private readonly root = node();
  private readonly maxClients: number;
  private readonly maxFilters: number;
  private readonly ignore: Set<string>;
  /** subscriptions refused because a cap was reached, since start */
  dropped = 0;
  /** true once the broker has told the agent anything about subscriptions */
  informed = false;

  /** Creates an empty tracker. */
  constructor(options: ConsumerTrackerOptions = {}) {
    this.maxClients = options.maxClients ?? 10_000;
    this.maxFilters = options.maxFiltersPerClient ?? 100;
    this.ignore = new Set(options.ignoreClientIds ?? []);
  }

  /** Number of clients with at least one live subscription. */
  get consumerCount(): number {
    return this.clients.size;
  }

  /** Ignores a client id from now on (the agent's own id once known). */
  ignoreClient(clientId: string): void {
    this.ignore.add(clientId);
    this.forget(clientId);
  }

  /** Records a connection; `clean` tells whether the session (and its subscriptions) ends with it. */
  connected(clientId: string, clean: boolean): void {
    if (this.ignore.has(clientId)) return;
    this.sessions.delete(clientId);
    this.sessions.set(clientId, clean);
    // Bounded like everything else: the oldest session notes go first (Map keeps insertion order).
    if (this.sessions.size > this.maxClients * 4) this.sessions.delete(this.sessions.keys().next().value!);
    // A clean start discards the previous session's subscriptions (MQTT 3.1.1 §3.1.2.4).
    if (clean) this.forget(clientId);
  }

  /** Records a disconnection: a clean session's subscriptions end, a persistent one's stay. */
  disconnected(clientId: string): void {
    const clean = this.sessions.get(clientId);
    if (clean === false) return;
    this.sessions.delete(clientId);
    this.forget(clientId);
  }

  /** Records a subscription. */
  subscribed(clientId: string, filter: string, qos: number): void {
    this.informed = true;
    if (this.ignore.has(clientId)) return;
    let filters = this.clients.get(clientId);
    if (!filters) {
      if (this.clients.size >= this.maxClients) {
        this.dropped++;
        return;
      }
      filters = new Map();
      this.clients.set(clientId, filters);
    }
    if (!filters.has(filter) && filters.size >= this.maxFilters) {
      this.dropped++;
      return;
    }
    filters.set(filter, qos);
    let n = this.root;
    for (const level of filter.split("/")) {
      let next = n.children.get(level);
      if (!next) n.children.set(level, (next = node()));
      n = next;
    }
    (n.here ??= new Map()).set(filter, (n.here.get(filter) ?? new Map()).set(clientId, qos));
  }

  /** Records an unsubscription. */
  unsubscribed(clientId: string, filter: string): void {
    this.informed = true;
    const filters = this.clients.get(clientId);
    if (!filters) return;
    filters.delete(filter);
    this.removeFromIndex(clientId, filter);
    if (filters.size === 0) this.clients.delete(clientId);
  }

  /** Forgets a client entirely. */
  forget(clientId: string): void {
    const filters = this.clients.get(clientId);
    if (!filters) return;
    for (const f of filters.keys()) this.removeFromIndex(clientId, f);
    this.clients.delete(clientId);
  }

  private removeFromIndex(clientId: string, filter: string): void {
    const path: FilterNode[] = [this.root];
    const levels = filter.split("/");
    for (const level of levels) {
      const next = path[path.length - 1]!.children.get(level);
      if (!next) return;
      path.push(next);
    }
    const leaf = path[path.length - 1]!;
    const subs = leaf.here?.get(filter);
    subs?.delete(clientId);
    if (subs && subs.size === 0) leaf.here!.delete(filter);
    if (leaf.here && leaf.here.size === 0) leaf.here = null;
    // Prune empty branches so the index never outgrows the live subscriptions.
    for (let i = levels.length; i > 0; i--) {
      const n = path[i]!;
      if (n.here || n.children.size) break;
      path[i - 1]!.children.delete(levels[i - 1]!);
    }
  }

  /** The subscriptions that can receive messages of a template (placeholders match any level), sorted by client id. */
  consumersOf(template: string, limit = Infinity): { consumers: Consumer[]; omitted: number } {
    const found: Consumer[] = [];
    const levels = template.split("/");
    const dollar = template.startsWith("$");
    const visit = (n: FilterNode, i: number): void => {
      const hash = n.children.get("#");
      // `#` and `+` at the first level never match $-topics (MQTT 3.1.1 §4.7.2).
      if (hash?.here && !(dollar && i === 0)) collect(hash.here);
      if (i === levels.length) {
        if (n.here) collect(n.here);
        return;
      }
      const level = levels[i]!;
      if (isPlaceholder(level)) {
        for (const [key, child] of n.children) if (key !== "#") visit(child, i + 1);
      } else {
        const exact = n.children.get(level);
        if (exact) visit(exact, i + 1);
        const plus = n.children.get("+");
        if (plus && !(dollar && i === 0) && level !== "+") visit(plus, i + 1);
      }
    };
    const collect = (here: Map<string, Map<string, number>>) => {
      for (const [filter, clients] of here) for (const [clientId, qos] of clients) found.push({ clientId, filter, qos });
    };
    visit(this.root, 0);
    found.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : a.filter < b.filter ? -1 : 1));
    return { consumers: found.slice(0, limit), omitted: Math.max(0, found.length - limit) };
  }
}

/** A producer sink: where publish events go (the observer's producer table). */
export type ProducerSink = (topic: string, clientId: string, bytes: number) => void;
