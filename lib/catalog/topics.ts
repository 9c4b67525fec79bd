/**
 * The catalog's view of topics: search narrowing and display helpers over the one topic
 * algebra in registry/topics (MQTT §4.7 semantics, AsyncAPI parameters, no RegExp).
 */
import {
  filterOverlapsTemplate,
  firstLiteralLevel,
  isValidFilter,
  parseFilter,
  subscriptionFilterFor as registrySubscriptionFilterFor,
} from "@/registry/topics/index.ts";

/** Splits an address or filter into levels. */
export function levelsOf(address: string): string[] {
  return address.split("/");
}

/** True when a template level holds a `{parameter}`, alone or inside text (`line-{id}`). */
export function isParameterLevel(level: string): boolean {
  // Some "{" followed, after at least one character, by the next "}" (one pass: no "}" skipped twice).
  for (let open = level.indexOf("{"); open >= 0; ) {
    const close = level.indexOf("}", open + 1);
    if (close < 0) return false;
    if (close > open + 1) return true;
    open = level.indexOf("{", close + 1);
  }
  return false;
}

/**
 * True when the query (a subscription filter or a concrete topic) reaches the channel
 * template: a subscriber with that filter would receive some of its messages, or the
 * concrete topic is an instance of it. Invalid queries and templates match nothing.
 */
export function topicMatchesTemplate(query: string, template: string): boolean {
  return filterOverlapsTemplate(query, template);
}

/** What narrows topic candidates in the index: level count (exact or at least) and first literal level. */
export function topicQueryShape(query: string): { levels: number; atLeast: boolean; firstLevel: string | null } {
  const parsed = parseFilter(query);
  const levels = parsed.ok ? parsed.value.levels : levelsOf(query).map((text) => ({ kind: "literal" as const, text }));
  const hasHash = levels[levels.length - 1]?.kind === "multi";
  const first = levels[0];
  return {
    // `a/#` also matches the parent `a` itself, hence one level less.
    levels: hasHash ? levels.length - 1 : levels.length,
    atLeast: hasHash,
    firstLevel: first?.kind === "literal" ? first.text : null,
  };
}

/** The first level of a template when it is literal, else null (stored to narrow searches). */
export function literalFirstLevel(template: string): string | null {
  const first = levelsOf(template)[0]!;
  // An invalid address keeps its first level as text, as it was stored before.
  return isParameterLevel(first) ? null : (firstLiteralLevel(template) ?? first);
}

/** The subscription filter that receives every topic of a channel template. */
export function subscriptionFilterFor(template: string): string {
  // Addresses stored before validation may be invalid: show them with their parameter levels as `+`.
  return registrySubscriptionFilterFor(template) ?? levelsOf(template).map((level) => (isParameterLevel(level) ? "+" : level)).join("/");
}

/** True for a valid MQTT topic filter (MQTT 3.1.1 §4.7): + and # stand alone in a level, # comes last. */
export function isValidMqttFilter(filter: string): boolean {
  return isValidFilter(filter);
}
