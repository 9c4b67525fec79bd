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
