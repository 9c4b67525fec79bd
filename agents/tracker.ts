/**
 * Consumer tracking: the live subscriptions of each client as the broker
 * tells them (Mosquitto `$SYS/broker/log/M/*` lines, aedes hooks), indexed
 * by filter so the consumers of a topic template are found without scanning
 * every subscription. Parsing and matching are the shared topic algebra's
 * (registry/topics: a {@link FilterIndex} of the subscriptions), so the agent and
 * the portal decide every filter, topic and template the same way. Bounded in
 * clients and filters per client; the index holds only live subscriptions.
 */
import { FilterIndex, MQTT_DIALECT, parseFilter, parseTemplate, parseTopic, type StepCounter, type TopicDialect } from "../registry/topics/index.ts";
import { fitsBytes, MAX_CLIENT_ID_BYTES, MAX_TOPIC_BYTES, type Consumer } from "./protocol.ts";
import type { SubscriptionSnapshot } from "./source.ts";

/** Options of a {@link ConsumerTracker}. */
export interface ConsumerTrackerOptions {
  /** most clients tracked (default 10,000) */
  maxClients?: number;
  /** most filters per client (default 100) */
  maxFiltersPerClient?: number;
  /** client ids never reported (the agent itself) */
  ignoreClientIds?: readonly string[];
  /** topic syntax of the broker's filters (default MQTT) */
  dialect?: TopicDialect;
}

/** Live subscriptions by client, with a filter index for template look-ups. */
export class ConsumerTracker {
  /** clients with at least one subscription */
  private readonly clients = new Map<string, Map<string, number>>();
  /** session kind per connected client (true: clean); kept apart so publishers never crowd out subscribers */
  private readonly sessions = new Map<string, boolean>();
  /** live subscriptions by filter: filter → (clientId → qos) */
  private readonly index: FilterIndex<Map<string, number>>;
  /** matching work done by {@link consumersOf} (trie nodes and candidate levels), since start */
  readonly matching: StepCounter = { steps: 0 };
  private readonly maxClients: number;
  private readonly maxFilters: number;
  private readonly ignore: Set<string>;
  /** subscriptions of the last snapshot that were refused, so a steady snapshot is not counted again at every poll */
  private refused = new Set<string>();
  /** topic syntax of the filters */
  readonly dialect: TopicDialect;
  /** subscriptions refused because a cap was reached, since start */
  dropped = 0;
  /** subscriptions ignored because the filter is no valid filter in the broker's syntax (or filter or client id is too long to report), since start */
  invalid = 0;
  /** true once the broker has told the agent anything about subscriptions */
  informed = false;

  /** Creates an empty tracker. */
  constructor(options: ConsumerTrackerOptions = {}) {
    this.maxClients = options.maxClients ?? 10_000;
    this.maxFilters = options.maxFiltersPerClient ?? 100;
    this.ignore = new Set(options.ignoreClientIds ?? []);
    this.dialect = options.dialect ?? MQTT_DIALECT;
    this.index = new FilterIndex(this.dialect);
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

  /** Records a subscription; false when it was ignored (invalid, over a cap, or the agent's own). */
  subscribed(clientId: string, filter: string, qos: number): boolean {
    this.informed = true;
    if (this.ignore.has(clientId)) return false;
    // An invalid filter matches nothing (and a broker refuses it): not worth a slot.
    // Nor is one the portal could not store (see MAX_TOPIC_BYTES).
    const parsed = fitsBytes(filter, MAX_TOPIC_BYTES) && fitsBytes(clientId, MAX_CLIENT_ID_BYTES) ? parseFilter(filter, this.dialect) : null;
    if (!parsed?.ok) {
      this.invalid++;
      return false;
    }
    let filters = this.clients.get(clientId);
    if (!filters) {
      if (this.clients.size >= this.maxClients) {
        this.dropped++;
        return false;
      }
      filters = new Map();
      this.clients.set(clientId, filters);
    }
    if (!filters.has(filter) && filters.size >= this.maxFilters) {
      this.dropped++;
      return false;
    }
    filters.set(filter, qos);
    let subscribers = this.index.get(parsed.value);
    if (!subscribers) this.index.set(parsed.value, (subscribers = new Map()));
    subscribers.set(clientId, qos);
    return true;
  }

  /** Records an unsubscription. */
  unsubscribed(clientId: string, filter: string): void {
    this.informed = true;
    const filters = this.clients.get(clientId);
    if (!filters?.has(filter)) return;
    filters.delete(filter);
    this.removeFromIndex(clientId, filter);
    if (filters.size === 0) this.clients.delete(clientId);
  }

  /**
   * Replaces every subscription with a polled snapshot (NATS `/connz`, RabbitMQ's consumers):
   * only what changed touches the index, so polling a large, steady broker stays cheap.
   * Caps and validity count as for {@link subscribed}.
   */
  replaceAll(subscriptions: readonly SubscriptionSnapshot[]): void {
    this.informed = true;
    const wanted = new Map<string, Map<string, number>>();
    for (const s of subscriptions) {
      if (this.ignore.has(s.clientId)) continue;
      let filters = wanted.get(s.clientId);
      if (!filters) wanted.set(s.clientId, (filters = new Map()));
      filters.set(s.filter, s.qos);
    }
    // Gone first, so freed slots are there for newcomers.
    let freed = false;
    for (const [clientId, filters] of [...this.clients]) {
      const keep = wanted.get(clientId);
      if (!keep) {
        this.forget(clientId);
        freed = true;
        continue;
      }
      for (const f of [...filters.keys()]) {
        if (keep.has(f)) continue;
        this.unsubscribed(clientId, f);
        freed = true;
      }
    }
    // Something left: what a cap refused last time may fit now.
    if (freed) this.refused.clear();
    const refused = new Set<string>();
    for (const [clientId, filters] of wanted) {
      for (const [filter, qos] of filters) {
        if (this.clients.get(clientId)?.get(filter) === qos) continue;
        const key = `${clientId}\u0000${filter}`;
        if (this.refused.has(key)) refused.add(key);
        else if (!this.subscribed(clientId, filter, qos)) refused.add(key);
      }
    }
    this.refused = refused;
  }

  /** Forgets a client entirely. */
  forget(clientId: string): void {
    const filters = this.clients.get(clientId);
    if (!filters) return;
    for (const f of filters.keys()) this.removeFromIndex(clientId, f);
    this.clients.delete(clientId);
  }

  // The index reads filter text in its own dialect.
  private removeFromIndex(clientId: string, filter: string): void {
    const subscribers = this.index.get(filter);
    if (!subscribers) return;
    subscribers.delete(clientId);
    // Drop emptied filters (the index prunes its branches) so it never outgrows the live subscriptions.
    if (subscribers.size === 0) this.index.delete(filter);
  }

  /** Distinct filters and trie nodes in the index, for bounds and tests. */
  get indexSize(): { filters: number; nodes: number } {
    return { filters: this.index.size, nodes: this.index.nodes };
  }

  /**
   * The subscriptions that can receive messages of an observed template or topic, sorted by
   * client id: the template is read as a channel address (`plant/{p1}/temperature`,
   * `plant/line-{id}/x`; a parameter is one non-empty level value, `$` included), anything that
   * is no valid address as a concrete topic name; filters match by MQTT §4.7, so `#` and `+`
   * at the first level never reach `$` topics.
   */
  consumersOf(template: string, limit = Infinity): { consumers: Consumer[]; omitted: number } {
    const address = parseTemplate(template, this.dialect);
    let matches;
    if (address.ok) matches = this.index.matchTemplate(address.value, {}, this.matching);
    else {
      const topic = parseTopic(template, this.dialect);
      matches = topic.ok ? this.index.matchTopic(topic.value, this.matching) : [];
    }
    const found: Consumer[] = [];
    for (const { filter, value } of matches) {
      for (const [clientId, qos] of value) found.push({ clientId, filter: filter.filter, qos });
    }
    found.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : a.filter < b.filter ? -1 : 1));
    return { consumers: found.slice(0, limit), omitted: Math.max(0, found.length - limit) };
  }
}

/** A producer sink: where publish events go (the observer's producer table). */
export type ProducerSink = (topic: string, clientId: string, bytes: number) => void;
