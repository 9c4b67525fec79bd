/**
 * The shared table of topic cases: the registry, the portal's search and the agent's
 * labelling are all tested against it, so they cannot drift apart again.
 * Concrete topics here hold no `{`/`}`: the agent reads a whole-level `{x}` as its own
 * placeholder, the portal as literal text.
 */

/** A concrete topic or a subscription filter against a channel address template. */
export interface TemplateCase {
  /** a concrete topic, or an MQTT filter when it holds `+` or `#` */
  query: string;
  template: string;
  expected: boolean;
  why: string;
}

/** A subscription filter against a concrete topic. */
export interface FilterCase {
  filter: string;
  topic: string;
  expected: boolean;
  why: string;
}

export const templateCases: readonly TemplateCase[] = [
  { query: "plant/line-7/temperature", template: "plant/{lineId}/temperature", expected: true, why: "a parameter takes one level" },
  { query: "plant/line-7/temperature", template: "plant/line-{lineId}/temperature", expected: true, why: "a parameter inside a level takes the rest of it (agent said no)" },
  { query: "plant/line-/temperature", template: "plant/line-{lineId}/temperature", expected: false, why: "a parameter takes at least one character" },
  { query: "plant/l1/x", template: "plant/line-{n}/x", expected: false, why: "the literal part of the level must match" },
  { query: "plant//temperature", template: "plant/{lineId}/temperature", expected: false, why: "an empty level is no parameter value (agent said yes)" },
  { query: "plant/line-7/temperature/extra", template: "plant/{lineId}/temperature", expected: false, why: "a parameter never spans a /" },
  { query: "plant/line-7", template: "plant/{lineId}/temperature", expected: false, why: "level counts differ" },
  { query: "Plant/line-7/temperature", template: "plant/{lineId}/temperature", expected: false, why: "topics are case-sensitive" },
  { query: "a.b/c", template: "a.b/c", expected: true, why: "literal levels compare exactly" },
  { query: "axb/c", template: "a.b/c", expected: false, why: "a dot is no regular-expression wildcard" },
  { query: "site/eu-west-1/meter-42", template: "site/{region}-{zone}/meter-{id}", expected: true, why: "several parameters in one level" },
  { query: "line-7", template: "line-{a}-{b}", expected: false, why: "every literal between parameters must appear" },
  { query: "line-7-8", template: "line-{a}-{b}", expected: true, why: "each parameter gets one value" },
  { query: "dev/abc/x", template: "dev/{a}{b}{c}/x", expected: true, why: "adjacent parameters take one character each at least" },
  { query: "dev/ab/x", template: "dev/{a}{b}{c}/x", expected: false, why: "three adjacent parameters need three characters" },
  { query: "ab", template: "{x}b", expected: true, why: "parameter before a literal suffix" },
  { query: "b", template: "{x}b", expected: false, why: "the parameter before the suffix is empty" },
  { query: "/finance", template: "/{x}", expected: true, why: "a leading / makes an empty first level" },
  { query: "/finance", template: "{x}", expected: false, why: "two levels against one" },
  { query: "plant/größe/x", template: "plant/{p}/x", expected: true, why: "any Unicode text is a value" },
  { query: "$SYS/broker/uptime", template: "{root}/broker/uptime", expected: true, why: "the $ rule is about wildcard filters, not parameters" },
  { query: "$SYS/broker/uptime", template: "$SYS/broker/uptime", expected: true, why: "a literal $ template" },

  { query: "plant/+/temperature", template: "plant/{lineId}/temperature", expected: true, why: "+ against a parameter" },
  { query: "plant/+/temperature", template: "plant/line-{lineId}/temperature", expected: true, why: "+ against a parameter inside a level" },
  { query: "plant/#", template: "plant/{lineId}/temperature", expected: true, why: "# takes the remaining levels" },
  { query: "plant/#", template: "plant", expected: true, why: "# also matches the parent level (MQTT §4.7.1.2)" },
  { query: "#", template: "plant/{lineId}/temperature", expected: true, why: "# matches everything not reserved" },
  { query: "+/+/+", template: "plant/{lineId}/temperature", expected: true, why: "+ per level" },
  { query: "plant/+/vibration", template: "plant/{lineId}/temperature", expected: false, why: "literal level differs" },
  { query: "plant/+", template: "plant/{lineId}/temperature", expected: false, why: "+ is exactly one level" },
  { query: "orders/#", template: "plant/{lineId}/temperature", expected: false, why: "first level differs" },
  { query: "plant/line-7/#", template: "plant/line-{lineId}/temperature", expected: true, why: "literal then # against a parameter level" },
  { query: "plant/7/#", template: "plant/line-{lineId}/temperature", expected: false, why: "literal outside the parameter pattern" },
  { query: "#", template: "$SYS/broker/uptime", expected: false, why: "# does not reach $ topics (MQTT §4.7.2; portal said yes)" },
  { query: "+/broker/uptime", template: "$SYS/broker/uptime", expected: false, why: "+ first does not reach $ topics (MQTT §4.7.2)" },
  { query: "#", template: "${x}/y", expected: false, why: "every instance starts with $" },
  { query: "$SYS/#", template: "$SYS/broker/uptime", expected: true, why: "a literal $ first level is fine" },
  { query: "#", template: "{tenant}/events", expected: true, why: "the channel has instances that do not start with $" },
  { query: "sport/+", template: "sport", expected: false, why: "sport/+ needs a second level (MQTT §4.7.1.3)" },
  { query: "sport/+", template: "sport/", expected: true, why: "+ matches an empty level" },
  { query: "+", template: "/finance", expected: false, why: "+ is one level, /finance is two (MQTT §4.7.1.3)" },
  { query: "+/+", template: "/finance", expected: true, why: "MQTT §4.7.1.3 example" },
  { query: "+/#", template: "a", expected: true, why: "# after + matches the parent" },
  { query: "plant//temperature", template: "plant/{lineId}/temperature", expected: false, why: "an empty literal level is no parameter value" },
  { query: "plant/#/x", template: "plant/{lineId}/x", expected: false, why: "invalid filter: # not last" },
  { query: "plant/te+/x", template: "plant/{lineId}/x", expected: false, why: "invalid filter: + not alone" },
  { query: "plant/x", template: "plant/+", expected: false, why: "invalid template: wildcards are no channel address" },
  { query: "plant/x", template: "plant/{id", expected: false, why: "invalid template: unclosed parameter" },
];

export const filterCases: readonly FilterCase[] = [
  { filter: "#", topic: "a/b", expected: true, why: "# matches everything not reserved" },
  { filter: "#", topic: "$SYS/broker/uptime", expected: false, why: "MQTT §4.7.2" },
  { filter: "+/broker/uptime", topic: "$SYS/broker/uptime", expected: false, why: "MQTT §4.7.2" },
  { filter: "$SYS/#", topic: "$SYS/broker/uptime", expected: true, why: "literal $ first level" },
  { filter: "$SYS/#", topic: "$SYS", expected: true, why: "# matches the parent" },
  { filter: "$SYS/monitor/+", topic: "$SYS/monitor/Clients", expected: true, why: "MQTT §4.7.2 example" },
  { filter: "a/#", topic: "a", expected: true, why: "# matches the parent" },
  { filter: "a/+", topic: "a", expected: false, why: "+ needs a level" },
  { filter: "a/+", topic: "a/", expected: true, why: "+ matches an empty level" },
  { filter: "a/+/c", topic: "a//c", expected: true, why: "+ matches an empty level" },
  { filter: "a/+", topic: "a/b/c", expected: false, why: "+ is one level" },
  { filter: "a/b", topic: "a/b/c", expected: false, why: "no wildcard, no extra levels" },
  { filter: "+", topic: "/finance", expected: false, why: "MQTT §4.7.1.3" },
  { filter: "+/+", topic: "/finance", expected: true, why: "MQTT §4.7.1.3" },
  { filter: "/+", topic: "/finance", expected: true, why: "MQTT §4.7.1.3" },
  { filter: "sport/tennis/#", topic: "sport/tennis/player1/ranking", expected: true, why: "MQTT §4.7.1.2" },
  { filter: "sport/tennis/player1/#", topic: "sport/tennis/player1", expected: true, why: "MQTT §4.7.1.2" },
  { filter: "A", topic: "a", expected: false, why: "case-sensitive" },
  { filter: "a/+", topic: "a/+", expected: false, why: "a topic name holds no wildcard" },
  { filter: "a/#/b", topic: "a/x/b", expected: false, why: "invalid filter" },
];

/** A case in a dialect other than MQTT, where a query's wildcards cannot be told from its text (an AMQP routing key may hold `*`). */
export interface DialectTemplateCase extends TemplateCase {
  /** whether the query is a concrete name or a filter */
  queryKind: "topic" | "filter";
}

/** The cases of one dialect: queries against templates, filters against concrete names. */
export interface DialectCases {
  templates: readonly DialectTemplateCase[];
  filters: readonly FilterCase[];
}

/** NATS subjects (`.` tokens, `*` one token, `>` one or more, last only; no empty tokens, no reserved `$`). */
export const natsCases: DialectCases = {
  templates: [
    { queryKind: "topic", query: "orders.eu.created", template: "orders.{region}.created", expected: true, why: "a parameter takes one token" },
    { queryKind: "topic", query: "orders.eu.west.created", template: "orders.{region}.created", expected: false, why: "a parameter never spans a ." },
    { queryKind: "topic", query: "orders.line-7.x", template: "orders.line-{n}.x", expected: true, why: "a parameter inside a token" },
    { queryKind: "topic", query: "plant/7", template: "plant/{n}", expected: true, why: "/ is an ordinary character of a NATS token" },
    { queryKind: "topic", query: "$JS.API.INFO", template: "{root}.API.INFO", expected: true, why: "$ subjects are ordinary" },
    { queryKind: "filter", query: "orders.>", template: "orders.{region}.created", expected: true, why: "> takes the remaining tokens" },
    { queryKind: "filter", query: "orders.>", template: "orders", expected: false, why: "> takes at least one token, never the parent" },
    { queryKind: "filter", query: "orders.*.created", template: "orders.{region}.created", expected: true, why: "* against a parameter" },
    { queryKind: "filter", query: "orders.*", template: "orders.{region}.created", expected: false, why: "* is exactly one token" },
    { queryKind: "filter", query: ">", template: "{x}", expected: true, why: "> matches every subject" },
    { queryKind: "filter", query: ">", template: "$SYS.ACCOUNT.{a}.CONNECT", expected: true, why: "no reserved prefix in NATS" },
    { queryKind: "filter", query: "*.events", template: "$G.events", expected: true, why: "* first reaches $ tokens too" },
    { queryKind: "filter", query: "orders.>.x", template: "orders.{r}.x", expected: false, why: "invalid filter: > not last" },
    { queryKind: "filter", query: "orders.e*", template: "orders.{r}", expected: false, why: "invalid filter: * not alone" },
    { queryKind: "topic", query: "orders.eu", template: "orders..{r}", expected: false, why: "invalid template: empty token" },
    { queryKind: "topic", query: "orders.eu", template: "orders.*", expected: false, why: "invalid template: wildcards are no channel address" },
  ],
  filters: [
    { filter: "foo.*", topic: "foo.bar", expected: true, why: "NATS docs: * one token" },
    { filter: "foo.*", topic: "foo.bar.baz", expected: false, why: "NATS docs: * is exactly one token" },
    { filter: "foo.*", topic: "foo", expected: false, why: "* needs a token" },
    { filter: "foo.>", topic: "foo.bar", expected: true, why: "NATS docs: > one token" },
    { filter: "foo.>", topic: "foo.bar.baz", expected: true, why: "NATS docs: > several tokens" },
    { filter: "foo.>", topic: "foo", expected: false, why: "NATS docs: > never matches the parent" },
    { filter: ">", topic: "foo.bar.baz", expected: true, why: "NATS docs: > matches everything" },
    { filter: ">", topic: "$JS.API.STREAM.LIST", expected: true, why: "no reserved prefix" },
    { filter: "*.bar.>", topic: "foo.bar.baz.qux", expected: true, why: "* then >" },
    { filter: "*.*", topic: "foo.bar", expected: true, why: "* per token" },
    { filter: "Foo.*", topic: "foo.bar", expected: false, why: "case-sensitive" },
    { filter: "foo.bar", topic: "foo.bar", expected: true, why: "a literal filter is the subject" },
    { filter: "foo..bar", topic: "foo..bar", expected: false, why: "invalid: empty token" },
    { filter: "foo.>.bar", topic: "foo.x.bar", expected: false, why: "invalid filter: > not last" },
    { filter: "foo.*", topic: "foo.*", expected: false, why: "a subject holds no wildcard" },
    { filter: "foo.*", topic: "foo.b r", expected: false, why: "a subject holds no whitespace" },
  ],
};

/** AMQP 0-9-1 topic exchanges (`.` words, `*` one word, `#` zero or more anywhere; `""` is zero words; no reserved `$`). */
export const amqpCases: DialectCases = {
  templates: [
    { queryKind: "topic", query: "orders.eu.created", template: "orders.{region}.created", expected: true, why: "a parameter takes one word" },
    { queryKind: "topic", query: "orders..created", template: "orders.{region}.created", expected: false, why: "an empty word is no parameter value" },
    { queryKind: "topic", query: "orders..created", template: "orders..created", expected: true, why: "empty words are words" },
    { queryKind: "topic", query: "a.b*c", template: "a.b*c", expected: true, why: "* inside a word is text" },
    { queryKind: "topic", query: "", template: "{x}", expected: false, why: "the empty routing key has no word for a parameter" },
    { queryKind: "filter", query: "orders.#", template: "orders.{region}.created", expected: true, why: "# takes the remaining words" },
    { queryKind: "filter", query: "orders.#", template: "orders", expected: true, why: "# takes zero words" },
    { queryKind: "filter", query: "#.created", template: "orders.{region}.created", expected: true, why: "# first" },
    { queryKind: "filter", query: "#.eu.#", template: "orders.{region}.created", expected: true, why: "# on both sides of a word a parameter takes" },
    { queryKind: "filter", query: "#.eu.#", template: "orders.us-{n}.created", expected: false, why: "no value of us-{n} is eu" },
    { queryKind: "filter", query: "orders.#.created", template: "orders.created", expected: true, why: "# in the middle takes zero words" },
    { queryKind: "filter", query: "orders.#.created", template: "orders.{a}.{b}.created", expected: true, why: "# in the middle takes two words" },
    { queryKind: "filter", query: "*.*", template: "orders.{region}.created", expected: false, why: "* is exactly one word" },
    { queryKind: "filter", query: "#", template: "$SYS.x", expected: true, why: "no reserved prefix in AMQP" },
    { queryKind: "filter", query: "*.b*c", template: "a.b*c", expected: true, why: "b*c in a binding key is a literal word" },
    { queryKind: "topic", query: "a.x", template: "a.*", expected: false, why: "invalid template: a whole-word wildcard" },
  ],
  filters: [
    { filter: "*.orange.*", topic: "quick.orange.rabbit", expected: true, why: "RabbitMQ tutorial 5" },
    { filter: "*.*.rabbit", topic: "quick.orange.rabbit", expected: true, why: "RabbitMQ tutorial 5" },
    { filter: "*.orange.*", topic: "lazy.orange.elephant", expected: true, why: "RabbitMQ tutorial 5" },
    { filter: "lazy.#", topic: "lazy.orange.elephant", expected: true, why: "RabbitMQ tutorial 5" },
    { filter: "*.orange.*", topic: "quick.orange.fox", expected: true, why: "RabbitMQ tutorial 5" },
    { filter: "*.*.rabbit", topic: "quick.orange.fox", expected: false, why: "RabbitMQ tutorial 5" },
    { filter: "lazy.#", topic: "lazy.brown.fox", expected: true, why: "RabbitMQ tutorial 5" },
    { filter: "*.orange.*", topic: "quick.brown.fox", expected: false, why: "RabbitMQ tutorial 5: discarded" },
    { filter: "*.orange.*", topic: "orange", expected: false, why: "RabbitMQ tutorial 5: one word" },
    { filter: "*.orange.*", topic: "quick.orange.new.rabbit", expected: false, why: "RabbitMQ tutorial 5: four words" },
    { filter: "*.*.rabbit", topic: "quick.orange.new.rabbit", expected: false, why: "RabbitMQ tutorial 5: four words" },
    { filter: "lazy.#", topic: "lazy.orange.new.rabbit", expected: true, why: "RabbitMQ tutorial 5: lazy.# takes any number" },
    { filter: "lazy.#", topic: "lazy", expected: true, why: "# takes zero words" },
    { filter: "#.error", topic: "app.db.error", expected: true, why: "# first" },
    { filter: "#.error", topic: "error", expected: true, why: "# first takes zero words" },
    { filter: "#.error", topic: "app.error.retry", expected: false, why: "the last word must be error" },
    { filter: "a.#.b", topic: "a.b", expected: true, why: "# in the middle takes zero words" },
    { filter: "a.#.b", topic: "a.x.y.b", expected: true, why: "# in the middle takes two words" },
    { filter: "a.#.b", topic: "a.b.c", expected: false, why: "b must be last" },
    { filter: "#.#", topic: "a", expected: true, why: "two # share the words" },
    { filter: "#", topic: "", expected: true, why: "the empty routing key is zero words" },
    { filter: "#.#", topic: "", expected: true, why: "the empty routing key is zero words" },
    { filter: "*", topic: "", expected: false, why: "the empty routing key has no word for *" },
    { filter: "", topic: "", expected: true, why: "the empty binding key takes the empty routing key" },
    { filter: "", topic: "a", expected: false, why: "the empty binding key takes nothing else" },
    { filter: "*", topic: "a.", expected: false, why: "a. is two words, the second empty" },
    { filter: "*.*", topic: "a.", expected: true, why: "* takes an empty word" },
    { filter: "a*", topic: "a*", expected: true, why: "* inside a word is text" },
    { filter: "a*", topic: "ab", expected: false, why: "* inside a word is no wildcard" },
    { filter: "a.*", topic: "a.*", expected: true, why: "a routing key may hold * as a word" },
    { filter: "#", topic: "$SYS.x", expected: true, why: "no reserved prefix" },
    { filter: "a.#", topic: "x".repeat(256), expected: false, why: "a routing key is at most 255 bytes" },
  ],
};

/** The dialect cases by broker kind. */
export const casesByProtocol = { nats: natsCases, amqp: amqpCases } as const;
