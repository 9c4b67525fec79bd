/**
 * MQTT topic matching between a subscription filter or concrete topic and a
 * channel address template (`plant/{lineId}/temperature`). MQTT 3.1.1 §4.7: `+`
 * matches one level, `#` (last) matches any number of levels, including none.
 */

/** Splits an address or filter into levels. */
export function levelsOf(address: string): string[] {
  return address.split("/");
}

/** True when a template level holds a `{parameter}`, alone or inside text (`line-{id}`). */
export function isParameterLevel(level: string): boolean {
  return /\{[^}]+\}/.test(level);
}

function templateLevelMatches(templateLevel: string, queryLevel: string): boolean {
  if (!isParameterLevel(templateLevel)) return templateLevel === queryLevel;
  if (queryLevel === "+") return true;
  // A query level that is itself a parameter (`{x}`) matches any parameter level.
  if (/^\{[^}]+\}$/.test(queryLevel)) return true;
  const pattern = templateLevel
    .split(/(\{[^}]+\})/)
    .map((part) => (/^\{[^}]+\}$/.test(part) ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${pattern}$`).test(queryLevel);
}

/**
 * True when the query (a subscription filter, a concrete topic, or another template)
 * reaches the channel template: a subscriber with that filter would receive its messages,
 * or the concrete topic is an instance of it.
 */
export function topicMatchesTemplate(query: string, template: string): boolean {
  const q = levelsOf(query);
  const t = levelsOf(template);
  for (let i = 0; i < q.length; i++) {
    const level = q[i]!;
    if (level === "#") return i === q.length - 1;
    const templateLevel = t[i];
    if (templateLevel === undefined) return false;
    if (level === "+") continue;
    if (!templateLevelMatches(templateLevel, level)) return false;
  }
  return q.length === t.length;
}

/** What narrows topic candidates in the index: level count (exact or at least) and first literal level. */
export function topicQueryShape(query: string): { levels: number; atLeast: boolean; firstLevel: string | null } {
  const q = levelsOf(query);
  const hasHash = q[q.length - 1] === "#";
  const first = q[0]!;
  return {
    // `a/#` also matches the parent `a` itself, hence one level less.
    levels: hasHash ? q.length - 1 : q.length,
    atLeast: hasHash,
    firstLevel: first === "+" || first === "#" || isParameterLevel(first) ? null : first,
  };
}

/** The first level of a template when it is literal, else null (stored to narrow searches). */
export function literalFirstLevel(template: string): string | null {
  const first = levelsOf(template)[0]!;
  return isParameterLevel(first) ? null : first;
}

/** The subscription filter that receives every topic of a channel template. */
export function subscriptionFilterFor(template: string): string {
  return levelsOf(template)
    .map((level) => (isParameterLevel(level) ? "+" : level))
    .join("/");
}

/** True for a valid MQTT topic filter (MQTT 3.1.1 §4.7): + and # stand alone in a level, # comes last. */
export function isValidMqttFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes("\u0000")) return false;
  const levels = filter.split("/");
  return levels.every((level, i) => {
    if (level.includes("#")) return level === "#" && i === levels.length - 1;
    if (level.includes("+")) return level === "+";
    return true;
  });
}
