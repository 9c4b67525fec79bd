/**
 * One topic algebra for the event mesh, shared by the portal and the broker agent:
 * AsyncAPI channel address templates (`plant/{lineId}/temperature`, `plant/line-{lineId}/x`),
 * MQTT subscription filters (`plant/+/temperature`, `orders/#`) and concrete topic names,
 * with tries for matching many against many: templates by topic or filter ({@link TemplateIndex}),
 * subscription filters by topic or template ({@link FilterIndex}).
 * Pure and dependency-free (the agent imports it as source); no regular expression is ever
 * built from input, and every match is linear in the lengths involved.
 *
 * Decisions, from MQTT 3.1.1 / 5.0 §4.7 and AsyncAPI channel address expressions:
 * - a parameter `{name}` stands for one value of at least one character without `/`;
 *   inside a level it takes the rest of the text: `line-{lineId}` matches `line-7`, not `line-`;
 *   an empty level never matches a parameter (`plant//t` is not an instance of `plant/{id}/t`);
 * - `+` matches exactly one level, an empty one included; `#` (last) matches any number of
 *   levels including none, so `a/#` matches `a`;
 * - a filter starting with `+` or `#` never matches a topic starting with `$` (§4.7.2), so `#`
 *   does not reach `$SYS/x` and overlaps no template whose first level starts with a literal `$`;
 * - topic names and channel addresses contain no `+`, `#` or NUL and are 1–65535 UTF-8 bytes;
 *   a template that breaks these rules matches nothing;
 * - the same parameter name used twice is matched as two independent values.
 */
import { MQTT_DIALECT, type TopicDialect } from "./dialect.ts";
import { matchLevel, parseLevel, patternsOverlap, type LevelPattern, type StepCounter } from "./level.ts";

export { AMQP_DIALECT, dialectFor, MQTT_DIALECT, NATS_DIALECT, type TopicDialect, type TopicProtocol } from "./dialect.ts";

export { isWholeParameter, literalLength, matchLevel, MAX_OVERLAP_STATES, patternsOverlap, type LevelPattern, type StepCounter } from "./level.ts";

/** Outcome of parsing: the value, or why the text is not valid. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A level of a channel template: literal text, or text with parameters. */
export type TemplateLevel = { kind: "literal"; text: string } | { kind: "pattern"; pattern: LevelPattern };

/** A parsed channel address template. */
export interface Template {
  readonly address: string;
  /** the syntax the address was parsed in */
  readonly dialect: TopicDialect;
  readonly levels: readonly TemplateLevel[];
  /** parameter names in order of appearance */
  readonly parameters: readonly string[];
}

/** A level of a subscription filter: literal, `+` (one level) or `#` (the rest, last only). */
export type FilterLevel = { kind: "literal"; text: string } | { kind: "single" } | { kind: "multi" };

/** A parsed MQTT subscription filter. */
export interface Filter {
  readonly filter: string;
  readonly dialect: TopicDialect;
  readonly levels: readonly FilterLevel[];
}

/** A parsed concrete topic name. */
export interface Topic {
  readonly topic: string;
  readonly dialect: TopicDialect;
  readonly levels: readonly string[];
}

/** MQTT's UTF-8 string limit for topic names and filters. */
export const MAX_TOPIC_BYTES = 65_535;

function checkText(text: string, what: string, dialect: TopicDialect): string | null {
  if (text.length === 0) return `A ${what} is at least one character.`;
  if (text.includes("\u0000")) return `A ${what} contains no NUL character.`;
  if (text.length > dialect.maxBytes || utf8Length(text) > dialect.maxBytes) return `A ${what} is at most ${dialect.maxBytes} UTF-8 bytes.`;
  return null;
}

/** Bytes of a string in UTF-8, without Node's Buffer (the agent protocol uses it too, and runs in edge code). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function hasWildcard(text: string, dialect: TopicDialect): boolean {
  return text.includes(dialect.single) || text.includes(dialect.multi);
}

// A wildcard character is an ordinary one where the kind has no wildcards in names: AMQP routing keys may hold `*` and `#`.
const wildcardsInNames = (dialect: TopicDialect) => dialect.protocol !== "amqp";

/** Parses a concrete topic name in the dialect (MQTT by default): no wildcards (MQTT §4.7.1), no NUL, bounded bytes. */
export function parseTopic(topic: string, dialect: TopicDialect = MQTT_DIALECT): Parsed<Topic> {
  const { topic: word, filter: filterWord } = dialect.words;
  const problem = checkText(topic, word, dialect);
  if (problem) return { ok: false, reason: problem };
  if (wildcardsInNames(dialect) && hasWildcard(topic, dialect)) {
    return { ok: false, reason: `A ${word} contains no ${dialect.single} or ${dialect.multi}: those belong in ${filterWord}s.` };
  }
  const levels = topic.split(dialect.separator);
  if (!dialect.emptyLevels && levels.includes("")) return { ok: false, reason: `A ${word} has no empty token.` };
  return { ok: true, value: { topic, dialect, levels } };
}

/** Parses a subscription filter in the dialect (MQTT by default): wildcards fill a whole level; the many-levels one comes last unless the dialect lets it stand anywhere. */
export function parseFilter(filter: string, dialect: TopicDialect = MQTT_DIALECT): Parsed<Filter> {
  const word = dialect.words.filter;
  const problem = checkText(filter, word, dialect);
  if (problem) return { ok: false, reason: problem };
  const texts = filter.split(dialect.separator);
  const levels: FilterLevel[] = [];
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i]!;
    if (text === dialect.multi) {
      if (!dialect.multiAnywhere && i !== texts.length - 1) return { ok: false, reason: `${dialect.multi} comes last in a ${word}.` };
      levels.push({ kind: "multi" });
    } else if (text === dialect.single) levels.push({ kind: "single" });
    else if (text === "" && !dialect.emptyLevels) return { ok: false, reason: `A ${word} has no empty token.` };
    else if (wildcardsInNames(dialect) && hasWildcard(text, dialect)) return { ok: false, reason: `${dialect.single} and ${dialect.multi} stand alone in a level of a ${word}.` };
    else levels.push({ kind: "literal", text });
  }
  return { ok: true, value: { filter, dialect, levels } };
}

/** Parses a channel address template (`plant/{lineId}/temperature`, `orders.{region}.created`) in the dialect (MQTT by default). */
export function parseTemplate(address: string, dialect: TopicDialect = MQTT_DIALECT): Parsed<Template> {
  const problem = checkText(address, "channel address", dialect);
  if (problem) return { ok: false, reason: problem };
  if (hasWildcard(address, dialect)) {
    return { ok: false, reason: `A channel address contains no ${dialect.single} or ${dialect.multi}: it names ${dialect.words.topic}s, filters are derived from it.` };
  }
  const levels: TemplateLevel[] = [];
  const parameters: string[] = [];
  for (const text of address.split(dialect.separator)) {
    if (text === "" && !dialect.emptyLevels) return { ok: false, reason: `A channel address has no empty ${dialect.words.topic} level.` };
    const level = parseLevel(text);
    if (!level.ok) return { ok: false, reason: level.reason };
    if ("literal" in level) levels.push({ kind: "literal", text: level.literal });
    else {
      levels.push({ kind: "pattern", pattern: level.pattern });
      parameters.push(...level.pattern.names);
    }
  }
  return { ok: true, value: { address, dialect, levels, parameters } };
}

/** True for a valid concrete topic name. */
export function isValidTopic(topic: string): boolean {
  return parseTopic(topic).ok;
}

/** True for a valid MQTT subscription filter. */
export function isValidFilter(filter: string): boolean {
  return parseFilter(filter).ok;
}

/** True for a valid channel address template. */
export function isValidTemplate(address: string): boolean {
  return parseTemplate(address).ok;
}

function asTemplate(template: string | Template): Template | null {
  if (typeof template !== "string") return template;
  const parsed = parseTemplate(template);
  return parsed.ok ? parsed.value : null;
}

function asFilter(filter: string | Filter): Filter | null {
  if (typeof filter !== "string") return filter;
  const parsed = parseFilter(filter);
  return parsed.ok ? parsed.value : null;
}

function asTopic(topic: string | Topic): Topic | null {
  if (typeof topic !== "string") return topic;
  const parsed = parseTopic(topic);
  return parsed.ok ? parsed.value : null;
}

/** True when a template level has an instance equal to the text. */
export function levelAccepts(level: TemplateLevel, text: string, counter?: StepCounter): boolean {
  return level.kind === "literal" ? level.text === text : matchLevel(level.pattern, text, counter);
}

/** True when every instance of the level starts with `$`: wildcards at the first level cannot reach it. */
function reservedOnly(level: TemplateLevel): boolean {
  return (level.kind === "literal" ? level.text : level.pattern.chunks[0]!).startsWith("$");
}

/** Options of filter matching. */
export interface FilterOptions {
  /**
   * Let wildcards at the first level reach `$` topics too. Off for MQTT subscriptions (§4.7.2);
   * on for placeholders that are not subscriptions, such as the agent's learned templates.
   */
  reservedTopics?: boolean;
}

function overlaps(query: readonly FilterLevel[], template: readonly TemplateLevel[], options: FilterOptions, counter?: StepCounter): boolean {
  const first = query[0];
  if (!options.reservedTopics && first && first.kind !== "literal" && template[0] && reservedOnly(template[0])) return false;
  for (let i = 0; i < query.length; i++) {
    const level = query[i]!;
    if (level.kind === "multi") return true;
    const templateLevel = template[i];
    if (templateLevel === undefined) return false;
    if (level.kind === "literal" && !levelAccepts(templateLevel, level.text, counter)) return false;
  }
  return query.length === template.length;
}

const literalLevels = (levels: readonly string[]): FilterLevel[] => levels.map((text) => ({ kind: "literal", text }));

/** True when the concrete topic is an instance of the channel template. Invalid input matches nothing. */
export function topicMatchesTemplate(topic: string | Topic, template: string | Template, counter?: StepCounter): boolean {
  const t = asTopic(topic);
  const tpl = asTemplate(template);
  return t !== null && tpl !== null && overlaps(literalLevels(t.levels), tpl.levels, {}, counter);
}

/** True when a subscriber with the filter receives messages published on the topic (MQTT §4.7). */
export function filterMatchesTopic(filter: string | Filter, topic: string | Topic): boolean {
  const f = asFilter(filter);
  const t = asTopic(topic);
  if (f === null || t === null) return false;
  return overlaps(f.levels, t.levels.map((text) => ({ kind: "literal", text })), {});
}

/**
 * True when a subscriber with the filter would receive some message of the channel: some
 * instance of the template matches the filter. A filter without wildcards is a topic, so this
 * also answers "is this topic an instance of the template".
 */
export function filterOverlapsTemplate(filter: string | Filter, template: string | Template, options: FilterOptions = {}, counter?: StepCounter): boolean {
  const f = asFilter(filter);
  const tpl = asTemplate(template);
  return f !== null && tpl !== null && overlaps(f.levels, tpl.levels, options, counter);
}

/**
 * True when two channel templates share a topic: as many levels, and every pair of levels has a common value
 * (`plant/{line}/temperature` and `plant/line-{n}/{metric}` share `plant/line-1/temperature`). Symmetric;
 * invalid input overlaps nothing. Two contracts that name one channel differently meet here.
 */
export function templatesOverlap(a: string | Template, b: string | Template, counter?: StepCounter): boolean {
  const x = asTemplate(a);
  const y = asTemplate(b);
  if (x === null || y === null || x.levels.length !== y.levels.length) return false;
  for (let i = 0; i < x.levels.length; i++) {
    const p = x.levels[i]!;
    const q = y.levels[i]!;
    if (p.kind === "literal") {
      if (!levelAccepts(q, p.text, counter)) return false;
    } else if (q.kind === "literal") {
      if (!matchLevel(p.pattern, q.text, counter)) return false;
    } else if (!patternsOverlap(p.pattern, q.pattern, counter)) return false;
  }
  return true;
}

/**
 * The narrowest single subscription filter that receives every topic of the template: each
 * level with a parameter becomes `+` (`line-{id}` too: MQTT has no partial-level wildcard).
 * Null for an invalid template.
 */
export function subscriptionFilterFor(template: string | Template): string | null {
  const tpl = asTemplate(template);
  if (tpl === null) return null;
  return tpl.levels.map((level) => (level.kind === "literal" ? level.text : "+")).join("/");
}

/** The first level of a template when it is literal, else null. */
export function firstLiteralLevel(template: string | Template): string | null {
  const first = asTemplate(template)?.levels[0];
  return first?.kind === "literal" ? first.text : null;
}

/** A template in an index, with the value it was added with. */
export interface IndexedTemplate<T> {
  readonly template: Template;
  readonly value: T;
}

interface TrieNode<T> {
  /** children by literal level */
  literals: Map<string, TrieNode<T>> | null;
  /** children by parameter pattern, keyed by what they match (`line-{a}` and `line-{b}` share one) */
  patterns: Map<string, { pattern: LevelPattern; node: TrieNode<T> }> | null;
  /** templates that end here */
  entries: IndexedTemplate<T>[] | null;
}

const newNode = <T>(): TrieNode<T> => ({ literals: null, patterns: null, entries: null });

/**
 * A trie of channel templates, one level per edge. A topic or filter walks only the branches
 * that can match: literal children by hash look-up, parameter children by the linear level
 * matcher, `+` and `#` fan out. Iterative, so a template with thousands of levels cannot
 * exhaust the stack.
 */
export class TemplateIndex<T> {
  private readonly root: TrieNode<T> = newNode();
  private count = 0;

  /** Number of templates added. */
  get size(): number {
    return this.count;
  }

  /** Adds a template with its value; false (and nothing added) when the address is invalid. */
  add(template: string | Template, value: T): boolean {
    const tpl = asTemplate(template);
    if (tpl === null) return false;
    let node = this.root;
    for (const level of tpl.levels) {
      if (level.kind === "literal") {
        const literals = (node.literals ??= new Map());
        let next = literals.get(level.text);
        if (!next) literals.set(level.text, (next = newNode()));
        node = next;
      } else {
        const patterns = (node.patterns ??= new Map());
        let next = patterns.get(level.pattern.key);
        if (!next) patterns.set(level.pattern.key, (next = { pattern: level.pattern, node: newNode() }));
        node = next.node;
      }
    }
    (node.entries ??= []).push({ template: tpl, value });
    this.count++;
    return true;
  }

  /** The templates the concrete topic is an instance of (none for an invalid topic). */
  matchTopic(topic: string | Topic, counter?: StepCounter): IndexedTemplate<T>[] {
    const t = asTopic(topic);
    return t === null ? [] : this.search(literalLevels(t.levels), {}, counter);
  }

  /** The templates a subscriber with the filter would receive messages of (none for an invalid filter). */
  matchFilter(filter: string | Filter, options: FilterOptions = {}, counter?: StepCounter): IndexedTemplate<T>[] {
    const f = asFilter(filter);
    return f === null ? [] : this.search(f.levels, options, counter);
  }

  private search(query: readonly FilterLevel[], options: FilterOptions, counter?: StepCounter): IndexedTemplate<T>[] {
    const found: IndexedTemplate<T>[] = [];
    const guardReserved = !options.reservedTopics;
    const stack: { node: TrieNode<T>; depth: number }[] = [{ node: this.root, depth: 0 }];
    while (stack.length > 0) {
      const { node, depth } = stack.pop()!;
      if (depth === query.length) {
        if (node.entries) found.push(...node.entries);
        continue;
      }
      const level = query[depth]!;
      // Wildcards at the first level skip branches whose topics all start with `$` (§4.7.2).
      const skipReserved = guardReserved && depth === 0 && level.kind !== "literal";
      if (level.kind === "literal") {
        const exact = node.literals?.get(level.text);
        if (exact) stack.push({ node: exact, depth: depth + 1 });
        for (const { pattern, node: child } of node.patterns?.values() ?? []) {
          if (matchLevel(pattern, level.text, counter)) stack.push({ node: child, depth: depth + 1 });
        }
      } else if (level.kind === "single") {
        for (const [text, child] of node.literals ?? []) if (!(skipReserved && text.startsWith("$"))) stack.push({ node: child, depth: depth + 1 });
        for (const { pattern, node: child } of node.patterns?.values() ?? []) {
          if (!(skipReserved && pattern.chunks[0]!.startsWith("$"))) stack.push({ node: child, depth: depth + 1 });
        }
      } else {
        // `#` matches the parent level too, then everything below.
        if (node.entries) found.push(...node.entries);
        for (const [text, child] of node.literals ?? []) if (!(skipReserved && text.startsWith("$"))) collectAll(child, found);
        for (const { pattern, node: child } of node.patterns?.values() ?? []) {
          if (!(skipReserved && pattern.chunks[0]!.startsWith("$"))) collectAll(child, found);
        }
      }
    }
    return found;
  }
}

function collectAll<T>(start: TrieNode<T>, found: IndexedTemplate<T>[]): void {
  const stack = [start];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.entries) found.push(...node.entries);
    for (const child of node.literals?.values() ?? []) stack.push(child);
    for (const { node: child } of node.patterns?.values() ?? []) stack.push(child);
  }
}

/** A filter in a {@link FilterIndex}, with the value stored under it. */
export interface IndexedFilter<T> {
  readonly filter: Filter;
  readonly value: T;
}

interface FilterNode<T> {
  /** children by literal level */
  literals: Map<string, FilterNode<T>> | null;
  /** child by `+` */
  single: FilterNode<T> | null;
  /** the filter that ends here with `#` (always its last level) */
  multi: IndexedFilter<T> | null;
  /** the filter that ends exactly here */
  entry: IndexedFilter<T> | null;
}

const newFilterNode = <T>(): FilterNode<T> => ({ literals: null, single: null, multi: null, entry: null });

/**
 * A trie of MQTT subscription filters, one level per edge, the reverse of {@link TemplateIndex}:
 * a topic or a channel template walks only the branches that can match (literal children by
 * hash look-up, `+` and `#` children directly), so finding the subscribers of a topic does not
 * scan every subscription. Answers exactly as {@link filterMatchesTopic} and
 * {@link filterOverlapsTemplate}; one value per distinct filter; empty branches are pruned on
 * delete, so the trie never outgrows the filters it holds. Iterative throughout.
 */
export class FilterIndex<T> {
  private readonly root: FilterNode<T> = newFilterNode();
  private count = 0;
  private nodeCount = 1;

  /** Number of filters held. */
  get size(): number {
    return this.count;
  }

  /** Number of trie nodes, root included (for memory bounds). */
  get nodes(): number {
    return this.nodeCount;
  }

  private find(filter: Filter): { node: FilterNode<T>; multi: boolean } | null {
    let node = this.root;
    const levels = filter.levels;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      if (level.kind === "multi") return { node, multi: true };
      const next = level.kind === "single" ? node.single : node.literals?.get(level.text);
      if (!next) return null;
      node = next;
    }
    return { node, multi: false };
  }

  /** The value stored under the filter, if any. */
  get(filter: string | Filter): T | undefined {
    const f = asFilter(filter);
    const at = f && this.find(f);
    if (!at) return undefined;
    return (at.multi ? at.node.multi : at.node.entry)?.value;
  }

  /** Stores a value under the filter (replacing any); false (and nothing stored) when the filter is invalid. */
  set(filter: string | Filter, value: T): boolean {
    const f = asFilter(filter);
    if (f === null) return false;
    let node = this.root;
    for (const level of f.levels) {
      if (level.kind === "multi") break;
      let next: FilterNode<T> | null | undefined;
      if (level.kind === "single") next = node.single ??= this.counted();
      else {
        const literals = (node.literals ??= new Map());
        next = literals.get(level.text);
        if (!next) literals.set(level.text, (next = this.counted()));
      }
      node = next;
    }
    const multi = f.levels[f.levels.length - 1]!.kind === "multi";
    if (!(multi ? node.multi : node.entry)) this.count++;
    if (multi) node.multi = { filter: f, value };
    else node.entry = { filter: f, value };
    return true;
  }

  private counted(): FilterNode<T> {
    this.nodeCount++;
    return newFilterNode();
  }

  /** Removes the filter and prunes the branches left empty; false when it was not there. */
  delete(filter: string | Filter): boolean {
    const f = asFilter(filter);
    if (f === null) return false;
    const path: FilterNode<T>[] = [this.root];
    const levels = f.levels;
    const multi = levels[levels.length - 1]!.kind === "multi";
    const depth = multi ? levels.length - 1 : levels.length;
    for (let i = 0; i < depth; i++) {
      const level = levels[i]!;
      const node = path[path.length - 1]!;
      const next = level.kind === "single" ? node.single : level.kind === "literal" ? node.literals?.get(level.text) : null;
      if (!next) return false;
      path.push(next);
    }
    const leaf = path[path.length - 1]!;
    if (multi ? !leaf.multi : !leaf.entry) return false;
    if (multi) leaf.multi = null;
    else leaf.entry = null;
    this.count--;
    for (let i = depth; i > 0; i--) {
      const node = path[i]!;
      if (node.entry || node.multi || node.single || node.literals?.size) break;
      const parent = path[i - 1]!;
      const level = levels[i - 1]!;
      if (level.kind === "single") parent.single = null;
      else if (level.kind === "literal") {
        parent.literals!.delete(level.text);
        if (parent.literals!.size === 0) parent.literals = null;
      }
      this.nodeCount--;
    }
    return true;
  }

  /** The filters whose subscribers receive messages published on the topic (MQTT §4.7; none for an invalid topic). */
  matchTopic(topic: string | Topic, counter?: StepCounter): IndexedFilter<T>[] {
    const t = asTopic(topic);
    return t === null ? [] : this.search(t.levels.map((text) => ({ kind: "literal", text })), {}, counter);
  }

  /**
   * The filters whose subscribers would receive some message of the channel template, as
   * {@link filterOverlapsTemplate} decides (none for an invalid template). The counter, when
   * given, counts trie nodes visited and candidate levels compared.
   */
  matchTemplate(template: string | Template, options: FilterOptions = {}, counter?: StepCounter): IndexedFilter<T>[] {
    const tpl = asTemplate(template);
    return tpl === null ? [] : this.search(tpl.levels, options, counter);
  }

  private search(query: readonly TemplateLevel[], options: FilterOptions, counter?: StepCounter): IndexedFilter<T>[] {
    const found: IndexedFilter<T>[] = [];
    // Wildcards at the first level never reach topics that all start with `$` (§4.7.2).
    const reserved = !options.reservedTopics && query.length > 0 && reservedOnly(query[0]!);
    const stack: { node: FilterNode<T>; depth: number }[] = [{ node: this.root, depth: 0 }];
    while (stack.length > 0) {
      const { node, depth } = stack.pop()!;
      if (counter) counter.steps++;
      const guarded = reserved && depth === 0;
      // `prefix/#` matches the parent level too, then everything below.
      if (node.multi && !guarded) found.push(node.multi);
      if (depth === query.length) {
        if (node.entry) found.push(node.entry);
        continue;
      }
      const level = query[depth]!;
      if (node.single && !guarded) stack.push({ node: node.single, depth: depth + 1 });
      if (!node.literals) continue;
      if (level.kind === "literal") {
        const exact = node.literals.get(level.text);
        if (exact) stack.push({ node: exact, depth: depth + 1 });
      } else {
        for (const [text, child] of node.literals) {
          if (counter) counter.steps++;
          if (matchLevel(level.pattern, text, counter)) stack.push({ node: child, depth: depth + 1 });
        }
      }
    }
    return found;
  }
}
