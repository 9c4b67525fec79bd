/**
 * Topic syntax per kind of broker. The algebra (templates, filters, topics, the tries) is one:
 * a dialect only says how a name splits into levels and which tokens are wildcards, and the
 * few ways the wildcards differ.
 *
 * - MQTT (3.1.1 / 5.0 §4.7): levels split on `/`; `+` one level, `#` the rest (last only, also
 *   matches the parent: `a/#` matches `a`); wildcards at the first level skip `$` topics; empty
 *   levels are valid.
 * - NATS subjects: tokens split on `.`; `*` one token, `>` one or more tokens (last only, so
 *   `a.>` does not match `a`); no empty tokens; no reserved prefix (`$JS.…` is an ordinary subject).
 * - AMQP 0-9-1 topic exchanges: words split on `.`; `*` exactly one word, `#` zero or more words,
 *   anywhere in a binding key (`#.error`, `a.#.b`); routing keys are short strings (255 bytes).
 *   The empty routing key is zero words (RabbitMQ splits `""` into none: `#` and the empty binding
 *   key match it, `*` does not); `*` and `#` inside a word are plain characters.
 */

/** Kinds of broker whose topic syntax the algebra knows. */
export type TopicProtocol = "mqtt" | "nats" | "amqp";

/** How one kind of broker spells topics and filters. */
export interface TopicDialect {
  readonly protocol: TopicProtocol;
  /** what separates levels */
  readonly separator: "/" | ".";
  /** the one-level wildcard */
  readonly single: "+" | "*";
  /** the many-levels wildcard */
  readonly multi: "#" | ">";
  /** fewest levels the many-levels wildcard stands for: 0 for MQTT and AMQP `#`, 1 for NATS `>` */
  readonly multiMinLevels: 0 | 1;
  /** the many-levels wildcard may stand at any level (AMQP), not only last; the algebra supports it with a minimum of 0 levels only */
  readonly multiAnywhere: boolean;
  /** wildcards at the first level never match a topic whose first level starts with `$` (MQTT §4.7.2) */
  readonly reservedDollar: boolean;
  /** topics and filters may have empty levels (`a//b`) */
  readonly emptyLevels: boolean;
  /** names may hold spaces and other whitespace (NATS splits its protocol lines on them) */
  readonly whitespace: boolean;
  /** most UTF-8 bytes of a topic or filter */
  readonly maxBytes: number;
  /** what the algebra calls a concrete name and a filter in this kind's words, for messages */
  readonly words: { readonly topic: string; readonly filter: string };
}

export const MQTT_DIALECT: TopicDialect = Object.freeze({
  protocol: "mqtt",
  separator: "/",
  single: "+",
  multi: "#",
  multiMinLevels: 0,
  multiAnywhere: false,
  reservedDollar: true,
  emptyLevels: true,
  whitespace: true,
  maxBytes: 65_535,
  words: Object.freeze({ topic: "topic", filter: "topic filter" }),
});

export const NATS_DIALECT: TopicDialect = Object.freeze({
  protocol: "nats",
  separator: ".",
  single: "*",
  multi: ">",
  multiMinLevels: 1,
  multiAnywhere: false,
  reservedDollar: false,
  emptyLevels: false,
  whitespace: false,
  maxBytes: 65_535,
  words: Object.freeze({ topic: "subject", filter: "subject filter" }),
});

export const AMQP_DIALECT: TopicDialect = Object.freeze({
  protocol: "amqp",
  separator: ".",
  single: "*",
  multi: "#",
  multiMinLevels: 0,
  multiAnywhere: true,
  reservedDollar: false,
  emptyLevels: true,
  whitespace: true,
  maxBytes: 255,
  words: Object.freeze({ topic: "routing key", filter: "binding key" }),
});

const DIALECTS: Record<TopicProtocol, TopicDialect> = { mqtt: MQTT_DIALECT, nats: NATS_DIALECT, amqp: AMQP_DIALECT };

/** The dialect of a broker kind (`mqtt`, `nats`, `amqp`; AsyncAPI's `mqtt5`, `secure-mqtt`, `amqps`… too); MQTT for anything else. */
export function dialectFor(protocol: string | null | undefined): TopicDialect {
  const p = (protocol ?? "").toLowerCase();
  if (p in DIALECTS) return DIALECTS[p as TopicProtocol];
  if (p.startsWith("nats")) return NATS_DIALECT;
  if (p.startsWith("amqp")) return AMQP_DIALECT;
  return MQTT_DIALECT;
}
