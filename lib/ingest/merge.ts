import { MAX_CLIENTS_PER_TEMPLATE, MAX_CONCRETE_TOPICS_PER_TEMPLATE, MAX_COUNT, MAX_INT32, MAX_SAMPLES_PER_TEMPLATE, type TopicObservation } from "@/agents/protocol.ts";
import type { KnownClient } from "@/db/schema.ts";

/** a + b, held at the largest count the portal stores (bigint read as a JS number) instead of overflowing. */
export function addCounts(a: number, b: number, max = MAX_COUNT): number {
  return Math.min(max, a + b);
}

/** Sums counts, saturating at `max`. */
export function sumCounts(values: Iterable<number>, max = MAX_COUNT): number {
  let total = 0;
  for (const v of values) total = addCounts(total, v, max);
  return total;
}

/** Most producers or consumers remembered per topic; the least recently seen go first. */
export const MAX_KNOWN_CLIENTS = 200;

/**
 * Merges the clients of a new report into those remembered: a client seen again gets
 * the new time (and its message count added); clients not in this report are kept,
 * so a consumer that was briefly disconnected is not forgotten.
 */
export function mergeClients(
  known: readonly KnownClient[],
  seen: ReadonlyArray<{ clientId: string; filter?: string; messages?: number }>,
  at: string,
  limit = MAX_KNOWN_CLIENTS,
): KnownClient[] {
  const key = (c: { clientId: string; filter?: string }) => `${c.clientId}\u0000${c.filter ?? ""}`;
  const merged = new Map<string, KnownClient>();
  for (const client of known) merged.set(key(client), { ...client });
  for (const client of seen) {
    const previous = merged.get(key(client));
    const messages =
      client.messages === undefined ? previous?.messages : addCounts(previous?.messages ?? 0, client.messages);
    merged.set(key(client), {
      clientId: client.clientId,
      ...(client.filter !== undefined ? { filter: client.filter } : {}),
      ...(messages !== undefined ? { messages } : {}),
      lastSeen: previous && previous.lastSeen > at ? previous.lastSeen : at,
    });
  }
  return [...merged.values()]
    .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : a.clientId.localeCompare(b.clientId)))
    .slice(0, limit);
}

/**
 * Folds observations of the same template in one batch into one (a hand-made or buggy
 * agent may repeat one): counts add up (saturating), clients and topics unite, the
 * earliest firstSeen and latest lastSeen win, and lists stay within the wire caps.
 * The first occurrence keeps its position.
 */
export function mergeDuplicateTemplates(topics: readonly TopicObservation[]): TopicObservation[] {
  const byTemplate = new Map<string, TopicObservation>();
  for (const t of topics) {
    const seen = byTemplate.get(t.template);
    byTemplate.set(t.template, seen ? mergeObservations(seen, t) : t);
  }
  return [...byTemplate.values()];
}

function mergeObservations(a: TopicObservation, b: TopicObservation): TopicObservation {
  const messages = addCounts(a.messages, b.messages);
  const bytes = addCounts(a.bytes, b.bytes);
  const content = {
    json: addCounts(a.content.json, b.content.json),
    text: addCounts(a.content.text, b.content.text),
    binary: addCounts(a.content.binary, b.content.binary),
    empty: addCounts(a.content.empty, b.content.empty),
  };
  const topicCounts = new Map<string, number>();
  for (const t of [...a.topics, ...b.topics]) topicCounts.set(t.topic, addCounts(topicCounts.get(t.topic) ?? 0, t.messages));
  const producers = new Map<string, TopicObservation["producers"][number]>();
  for (const p of [...a.producers, ...b.producers]) {
    const known = producers.get(p.clientId);
    producers.set(p.clientId, known ? { clientId: p.clientId, messages: addCounts(known.messages, p.messages), bytes: addCounts(known.bytes, p.bytes) } : p);
  }
  const consumers = new Map<string, TopicObservation["consumers"][number]>();
  for (const c of [...a.consumers, ...b.consumers]) consumers.set(`${c.clientId}\u0000${c.filter}`, c);
  const listedProducers = [...producers.values()].sort((x, y) => y.messages - x.messages);
  const listedConsumers = [...consumers.values()];
  return {
    template: a.template,
    channel: a.channel ?? b.channel,
    topics: [...topicCounts].map(([topic, n]) => ({ topic, messages: n })).sort((x, y) => y.messages - x.messages).slice(0, MAX_CONCRETE_TOPICS_PER_TEMPLATE),
    distinctTopics: Math.max(a.distinctTopics, b.distinctTopics, Math.min(topicCounts.size, MAX_INT32)),
    messages,
    bytes,
    minSize: Math.min(a.minSize, b.minSize),
    maxSize: Math.max(a.maxSize, b.maxSize),
    avgSize: messages > 0 ? bytes / messages : 0,
    ratePerSecond: Math.min(Number.MAX_VALUE, a.ratePerSecond + b.ratePerSecond),
    firstSeen: Date.parse(a.firstSeen) <= Date.parse(b.firstSeen) ? a.firstSeen : b.firstSeen,
    lastSeen: Date.parse(a.lastSeen) >= Date.parse(b.lastSeen) ? a.lastSeen : b.lastSeen,
    qos: { q0: addCounts(a.qos.q0, b.qos.q0), q1: addCounts(a.qos.q1, b.qos.q1), q2: addCounts(a.qos.q2, b.qos.q2) },
    retained: addCounts(a.retained, b.retained),
    content: { kind: a.content.kind === b.content.kind ? a.content.kind : "mixed", ...content },
    schema: a.schema ?? b.schema,
    schemaSamples: addCounts(a.schemaSamples, b.schemaSamples),
    samples: [...a.samples, ...b.samples].slice(0, MAX_SAMPLES_PER_TEMPLATE),
    producers: listedProducers.slice(0, MAX_CLIENTS_PER_TEMPLATE),
    consumers: listedConsumers.slice(0, MAX_CLIENTS_PER_TEMPLATE),
    omittedProducers: addCounts(addCounts(a.omittedProducers, b.omittedProducers), Math.max(0, listedProducers.length - MAX_CLIENTS_PER_TEMPLATE)),
    omittedConsumers: addCounts(addCounts(a.omittedConsumers, b.omittedConsumers), Math.max(0, listedConsumers.length - MAX_CLIENTS_PER_TEMPLATE)),
  };
}
