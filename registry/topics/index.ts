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
 *
 * Other kinds of broker (./dialect.ts) share the algebra: NATS subjects (`*`, `>` one or more tokens, last
 * only) and AMQP topic exchanges (`*`, `#` zero or more words anywhere, matched by an automaton over filter
 * positions, never by backtracking). Every parse takes a dialect (MQTT by default); parsed values carry it;
 * a string argument parses in the dialect asked for, else that of the other argument; names of two kinds
 * never match each other.
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

// The empty routing key of AMQP is a name (zero words); elsewhere a name has at least one character.
const emptyAllowed = (dialect: TopicDialect) => dialect.protocol === "amqp";

function checkText(text: string, what: string, dialect: TopicDialect, allowEmpty = false): string | null {
  if (text.length === 0 && !allowEmpty) return `A ${what} is at least one character.`;
  if (text.includes("\u0000")) return `A ${what} contains no NUL character.`;
  if (text.length > dialect.maxBytes || utf8Length(text) > dialect.maxBytes) return `A ${what} is at most ${dialect.maxBytes} UTF-8 bytes.`;
  if (!dialect.whitespace && hasWhitespace(text)) return `A ${what} contains no whitespace.`;
  return null;
}

function hasWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c) return true;
  }
  return false;
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

/**
 * The levels of a name or filter in the dialect: split on its separator; the empty AMQP routing key is
 * zero words (as RabbitMQ splits it), every other text at least one level.
 */
export function splitLevels(text: string, dialect: TopicDialect = MQTT_DIALECT): string[] {
  if (text === "" && emptyAllowed(dialect)) return [];
  return text.split(dialect.separator);
}

/** Joins levels with the dialect's separator: the inverse of {@link splitLevels}. */
export function joinLevels(levels: readonly string[], dialect: TopicDialect = MQTT_DIALECT): string {
  return levels.join(dialect.separator);
}

function hasWildcard(text: string, dialect: TopicDialect): boolean {
  return text.includes(dialect.single) || text.includes(dialect.multi);
}

// A wildcard character is an ordinary one where the kind has no wildcards in names: AMQP routing keys may hold `*` and `#`.
const wildcardsInNames = (dialect: TopicDialect) => dialect.protocol !== "amqp";

/** Parses a concrete topic name in the dialect (MQTT by default): no wildcards (MQTT §4.7.1), no NUL, bounded bytes. */
export function parseTopic(topic: string, dialect: TopicDialect = MQTT_DIALECT): Parsed<Topic> {
  const { topic: word, filter: filterWord } = dialect.words;
  const problem = checkText(topic, word, dialect, emptyAllowed(dialect));
  if (problem) return { ok: false, reason: problem };
  if (wildcardsInNames(dialect) && hasWildcard(topic, dialect)) {
    return { ok: false, reason: `A ${word} contains no ${dialect.single} or ${dialect.multi}: those belong in ${filterWord}s.` };
  }
  const levels = splitLevels(topic, dialect);
  if (!dialect.emptyLevels && levels.includes("")) return { ok: false, reason: `A ${word} has no empty token.` };
  return { ok: true, value: { topic, dialect, levels } };
}

/** Parses a subscription filter in the dialect (MQTT by default): wildcards fill a whole level; the many-levels one comes last unless the dialect lets it stand anywhere. */
export function parseFilter(filter: string, dialect: TopicDialect = MQTT_DIALECT): Parsed<Filter> {
  const word = dialect.words.filter;
  const problem = checkText(filter, word, dialect, emptyAllowed(dialect));
  if (problem) return { ok: false, reason: problem };
  const texts = splitLevels(filter, dialect);
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
  const texts = address.split(dialect.separator);
  // AMQP words may hold `*` and `#` as text; only a whole-word wildcard is a filter.
  const wildcard = wildcardsInNames(dialect) ? hasWildcard(address, dialect) : texts.some((t) => t === dialect.single || t === dialect.multi);
  if (wildcard) {
    return { ok: false, reason: `A channel address contains no ${dialect.single} or ${dialect.multi}: it names ${dialect.words.topic}s, filters are derived from it.` };
  }
  const levels: TemplateLevel[] = [];
  const parameters: string[] = [];
  for (const text of texts) {
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

// Passed as array callbacks (`filters.filter(isValidFilter)`), these receive an index where the dialect goes: only a dialect counts.
const given = (dialect: unknown): TopicDialect | undefined =>
  typeof dialect === "object" && dialect !== null && "protocol" in dialect ? (dialect as TopicDialect) : undefined;

/** True for a valid concrete topic name in the dialect (MQTT by default). */
export function isValidTopic(topic: string): boolean;
export function isValidTopic(topic: string, dialect: TopicDialect): boolean;
export function isValidTopic(topic: string, dialect?: unknown): boolean {
  return parseTopic(topic, given(dialect)).ok;
}

/** True for a valid subscription filter in the dialect (MQTT by default). */
export function isValidFilter(filter: string): boolean;
export function isValidFilter(filter: string, dialect: TopicDialect): boolean;
export function isValidFilter(filter: string, dialect?: unknown): boolean {
  return parseFilter(filter, given(dialect)).ok;
}

/** True for a valid channel address template in the dialect (MQTT by default). */
export function isValidTemplate(address: string): boolean;
export function isValidTemplate(address: string, dialect: TopicDialect): boolean;
export function isValidTemplate(address: string, dialect?: unknown): boolean {
  return parseTemplate(address, given(dialect)).ok;
}

// A parsed argument keeps its own dialect; a string parses in the one asked for, else the other argument's, else MQTT.
function asTemplate(template: string | Template, dialect: TopicDialect = MQTT_DIALECT): Template | null {
  if (typeof template !== "string") return template;
  const parsed = parseTemplate(template, dialect);
  return parsed.ok ? parsed.value : null;
}

function asFilter(filter: string | Filter, dialect: TopicDialect = MQTT_DIALECT): Filter | null {
  if (typeof filter !== "string") return filter;
  const parsed = parseFilter(filter, dialect);
  return parsed.ok ? parsed.value : null;
}

function asTopic(topic: string | Topic, dialect: TopicDialect = MQTT_DIALECT): Topic | null {
  if (typeof topic !== "string") return topic;
  const parsed = parseTopic(topic, dialect);
  return parsed.ok ? parsed.value : null;
}

/** The dialect a string argument parses in: the one asked for, else that of the other (parsed) argument, else MQTT. */
function dialectOf(asked: TopicDialect | undefined, other: string | { readonly dialect: TopicDialect }): TopicDialect {
  return asked ?? (typeof other === "string" ? MQTT_DIALECT : other.dialect);
}

// Names of two kinds of broker never meet: `a.b` on NATS is not `a.b` on RabbitMQ.
const sameKind = (a: { readonly dialect: TopicDialect }, b: { readonly dialect: TopicDialect }) => a.dialect.protocol === b.dialect.protocol;

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
   * Only MQTT reserves `$`; other dialects ignore it.
   */
  reservedTopics?: boolean;
  /** the syntax string arguments parse in (MQTT by default); a parsed argument keeps its own */
  dialect?: TopicDialect;
}

function overlaps(query: readonly FilterLevel[], template: readonly TemplateLevel[], dialect: TopicDialect, options: FilterOptions, counter?: StepCounter): boolean {
  if (dialect.multiAnywhere) return globOverlaps(query, template, counter);
  const first = query[0];
  if (dialect.reservedDollar && !options.reservedTopics && first && first.kind !== "literal" && template[0] && reservedOnly(template[0])) return false;
  for (let i = 0; i < query.length; i++) {
    const level = query[i]!;
    // MQTT `#` also takes the parent level; NATS `>` takes at least one.
    if (level.kind === "multi") return template.length - i >= dialect.multiMinLevels;
    const templateLevel = template[i];
    if (templateLevel === undefined) return false;
    if (level.kind === "literal" && !levelAccepts(templateLevel, level.text, counter)) return false;
  }
  return query.length === template.length;
}

/**
 * Filter levels with the many-levels wildcard anywhere (AMQP `#.error`, `a.#.b`, `#.#`) against the levels
 * of a template or topic, each of which takes exactly one level. The filter runs as an automaton whose states
 * are its positions: one pass over the template, each (level, position) pair looked at once, so at most
 * (levels + 1) × (filter levels + 1) steps, whatever the number of wildcards (no backtracking). The wildcard
 * stands for zero or more levels, as AMQP `#` (the only kind with it anywhere).
 */
function globOverlaps(query: readonly FilterLevel[], template: readonly TemplateLevel[], counter?: StepCounter): boolean {
  const q = query.length;
  let current = new Uint8Array(q + 1);
  let next = new Uint8Array(q + 1);
  current[0] = 1;
  // Positions reachable without consuming a level: past every wildcard that may stand for none.
  const close = (states: Uint8Array) => {
    for (let p = 0; p < q; p++) if (states[p] === 1 && query[p]!.kind === "multi") states[p + 1] = 1;
  };
  close(current);
  for (const level of template) {
    next.fill(0);
    let alive = false;
    for (let p = 0; p < q; p++) {
      if (current[p] !== 1) continue;
      if (counter) counter.steps++;
      const step = query[p]!;
      if (step.kind === "multi") {
        // The wildcard takes this level and may take more (leaving it is the closure's step).
        next[p] = 1;
        alive = true;
      } else if (step.kind === "single" || levelAccepts(level, step.text, counter)) {
        next[p + 1] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    close(next);
    [current, next] = [next, current];
  }
  return current[q] === 1;
}

const literalLevels = (levels: readonly string[]): FilterLevel[] => levels.map((text) => ({ kind: "literal", text }));
const topicLevels = (levels: readonly string[]): TemplateLevel[] => levels.map((text) => ({ kind: "literal", text }));

/**
 * True when the concrete topic is an instance of the channel template. Invalid input, or a topic and a template
 * of different kinds of broker, match nothing. Strings parse in `dialect` (else the other argument's, else MQTT).
 */
export function topicMatchesTemplate(topic: string | Topic, template: string | Template, counter?: StepCounter, dialect?: TopicDialect): boolean {
  const t = asTopic(topic, dialectOf(dialect, template));
  const tpl = asTemplate(template, dialectOf(dialect, topic));
  return t !== null && tpl !== null && sameKind(t, tpl) && overlaps(literalLevels(t.levels), tpl.levels, t.dialect, {}, counter);
}

/**
 * True when a subscriber with the filter receives messages published on the topic (MQTT §4.7, NATS subjects,
 * AMQP topic exchanges). Strings parse in `dialect` (else the other argument's, else MQTT).
 */
export function filterMatchesTopic(filter: string | Filter, topic: string | Topic, dialect?: TopicDialect): boolean {
  const f = asFilter(filter, dialectOf(dialect, topic));
  const t = asTopic(topic, dialectOf(dialect, filter));
  if (f === null || t === null || !sameKind(f, t)) return false;
  return overlaps(f.levels, topicLevels(t.levels), f.dialect, {});
}

/**
 * True when a subscriber with the filter would receive some message of the channel: some
 * instance of the template matches the filter. A filter without wildcards is a topic, so this
 * also answers "is this topic an instance of the template". Strings parse in `options.dialect`
 * (else the other argument's, else MQTT).
 */
export function filterOverlapsTemplate(filter: string | Filter, template: string | Template, options: FilterOptions = {}, counter?: StepCounter): boolean {
  const f = asFilter(filter, dialectOf(options.dialect, template));
  const tpl = asTemplate(template, dialectOf(options.dialect, filter));
  return f !== null && tpl !== null && sameKind(f, tpl) && overlaps(f.levels, tpl.levels, f.dialect, options, counter);
}

/**
 * True when two channel templates share a topic: as many levels, and every pair of levels has a common value
 * (`plant/{line}/temperature` and `plant/line-{n}/{metric}` share `plant/line-1/temperature`). Symmetric;
 * invalid input, or templates of different kinds of broker, overlap nothing. Two contracts that name one
 * channel differently meet here. Strings parse in `dialect` (else the other argument's, else MQTT).
 */
export function templatesOverlap(a: string | Template, b: string | Template, counter?: StepCounter, dialect?: TopicDialect): boolean {
  const x = asTemplate(a, dialectOf(dialect, b));
  const y = asTemplate(b, dialectOf(dialect, a));
  if (x === null || y === null || !sameKind(x, y) || x.levels.length !== y.levels.length) return false;
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
 * The narrowest single subscription filter that receives every topic of the template, in the template's
 * dialect: each level with a parameter becomes the one-level wildcard (`plant/+/temperature`,
 * `orders.*.created`; `line-{id}` too: no broker has a partial-level wildcard). Null for an invalid template.
 */
export function subscriptionFilterFor(template: string | Template): string | null;
export function subscriptionFilterFor(template: string | Template, dialect: TopicDialect): string | null;
export function subscriptionFilterFor(template: string | Template, dialect?: unknown): string | null {
  const tpl = asTemplate(template, given(dialect));
  if (tpl === null) return null;
  const d = tpl.dialect;
  return joinLevels(
    tpl.levels.map((level) => (level.kind === "literal" ? level.text : d.single)),
    d,
  );
}

/** The first level of a template when it is literal, else null. */
export function firstLiteralLevel(template: string | Template): string | null;
export function firstLiteralLevel(template: string | Template, dialect: TopicDialect): string | null;
export function firstLiteralLevel(template: string | Template, dialect?: unknown): string | null {
  const first = asTemplate(template, given(dialect))?.levels[0];
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
 * A trie of channel templates in one dialect, one level per edge. A topic or filter walks only the
 * branches that can match: literal children by hash look-up, parameter children by the linear level
 * matcher, the wildcards fan out. Iterative, so a template with thousands of levels cannot exhaust
 * the stack. Strings parse in the index's dialect (`options.dialect` of a look-up is not consulted); a parsed
 * value of another kind of broker is refused.
 */
export class TemplateIndex<T> {
  private readonly root: TrieNode<T> = newNode();
  private count = 0;

  constructor(readonly dialect: TopicDialect = MQTT_DIALECT) {}

  /** Number of templates added. */
  get size(): number {
    return this.count;
  }

  private own<V extends { readonly dialect: TopicDialect }>(value: V | null): V | null {
    return value !== null && value.dialect.protocol === this.dialect.protocol ? value : null;
  }

  /** Adds a template with its value; false (and nothing added) when the address is invalid or of another dialect. */
  add(template: string | Template, value: T): boolean {
    const tpl = this.own(asTemplate(template, this.dialect));
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
    const t = this.own(asTopic(topic, this.dialect));
    return t === null ? [] : this.search(literalLevels(t.levels), {}, counter);
  }

  /** The templates a subscriber with the filter would receive messages of (none for an invalid filter). */
  matchFilter(filter: string | Filter, options: FilterOptions = {}, counter?: StepCounter): IndexedTemplate<T>[] {
    const f = this.own(asFilter(filter, this.dialect));
    return f === null ? [] : this.search(f.levels, options, counter);
  }

  private search(query: readonly FilterLevel[], options: FilterOptions, counter?: StepCounter): IndexedTemplate<T>[] {
    if (this.dialect.multiAnywhere) return this.searchGlob(query, counter);
    const found: IndexedTemplate<T>[] = [];
    const guardReserved = this.dialect.reservedDollar && !options.reservedTopics;
    const parentToo = this.dialect.multiMinLevels === 0;
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
        // MQTT `#` matches the parent level too (NATS `>` does not), then everything below.
        if (parentToo && node.entries) found.push(...node.entries);
        for (const [text, child] of node.literals ?? []) if (!(skipReserved && text.startsWith("$"))) collectAll(child, found);
        for (const { pattern, node: child } of node.patterns?.values() ?? []) {
          if (!(skipReserved && pattern.chunks[0]!.startsWith("$"))) collectAll(child, found);
        }
      }
    }
    return found;
  }

  /**
   * A filter whose many-levels wildcard may stand anywhere (AMQP `#.error`, `a.#.b`): states are (node, filter
   * position), each visited once, so the walk costs at most (nodes × (filter levels + 1)) states however the
   * wildcards repeat. At `#` a state either leaves the wildcard (next position, same node) or lets it take
   * one more level (each child, same position).
   */
  private searchGlob(query: readonly FilterLevel[], counter?: StepCounter): IndexedTemplate<T>[] {
    const found: IndexedTemplate<T>[] = [];
    const q = query.length;
    const seen = new Map<TrieNode<T>, Uint8Array>();
    const stack: { node: TrieNode<T>; depth: number }[] = [];
    const visit = (node: TrieNode<T>, depth: number) => {
      let marks = seen.get(node);
      if (!marks) seen.set(node, (marks = new Uint8Array(q + 1)));
      if (marks[depth] === 1) return;
      marks[depth] = 1;
      stack.push({ node, depth });
    };
    visit(this.root, 0);
    while (stack.length > 0) {
      const { node, depth } = stack.pop()!;
      if (counter) counter.steps++;
      if (depth === q) {
        if (node.entries) found.push(...node.entries);
        continue;
      }
      const level = query[depth]!;
      if (level.kind === "literal") {
        const exact = node.literals?.get(level.text);
        if (exact) visit(exact, depth + 1);
        for (const { pattern, node: child } of node.patterns?.values() ?? []) {
          if (matchLevel(pattern, level.text, counter)) visit(child, depth + 1);
        }
        continue;
      }
      const stay = level.kind === "multi" ? depth : depth + 1;
      if (level.kind === "multi") visit(node, depth + 1);
      for (const child of node.literals?.values() ?? []) visit(child, stay);
      for (const { node: child } of node.patterns?.values() ?? []) visit(child, stay);
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
  /** child by the one-level wildcard */
  single: FilterNode<T> | null;
  /** child by a many-levels wildcard that may stand anywhere (AMQP `#`): its subtree continues after 0..k levels */
  hash: FilterNode<T> | null;
  /** the filter that ends here with the last-only many-levels wildcard (MQTT `#`, NATS `>`) */
  multi: IndexedFilter<T> | null;
  /** the filter that ends exactly here */
  entry: IndexedFilter<T> | null;
}

const newFilterNode = <T>(): FilterNode<T> => ({ literals: null, single: null, hash: null, multi: null, entry: null });

const isEmptyNode = <T>(node: FilterNode<T>) => !(node.entry || node.multi || node.single || node.hash || node.literals?.size);

/**
 * A trie of subscription filters in one dialect, one level per edge, the reverse of {@link TemplateIndex}:
 * a topic or a channel template walks only the branches that can match (literal children by hash
 * look-up, wildcard children directly), so finding the subscribers of a topic does not scan every
 * subscription. Answers exactly as {@link filterMatchesTopic} and {@link filterOverlapsTemplate}; one
 * value per distinct filter; empty branches are pruned on delete, so the trie never outgrows the
 * filters it holds. Iterative throughout. Strings parse in the index's dialect (`options.dialect` of a
 * look-up is not consulted); a parsed value of another kind of broker is refused.
 */
export class FilterIndex<T> {
  private readonly root: FilterNode<T> = newFilterNode();
  private count = 0;
  private nodeCount = 1;

  constructor(readonly dialect: TopicDialect = MQTT_DIALECT) {}

  /** Number of filters held. */
  get size(): number {
    return this.count;
  }

  /** Number of trie nodes, root included (for memory bounds). */
  get nodes(): number {
    return this.nodeCount;
  }

  private own<V extends { readonly dialect: TopicDialect }>(value: V | null): V | null {
    return value !== null && value.dialect.protocol === this.dialect.protocol ? value : null;
  }

  /** Levels of the filter that are edges, and whether it ends in the last-only many-levels wildcard. */
  private shape(filter: Filter): { depth: number; multi: boolean } {
    const levels = filter.levels;
    const multi = !this.dialect.multiAnywhere && levels.length > 0 && levels[levels.length - 1]!.kind === "multi";
    return { depth: multi ? levels.length - 1 : levels.length, multi };
  }

  private static child<T>(node: FilterNode<T>, level: FilterLevel): FilterNode<T> | null | undefined {
    return level.kind === "single" ? node.single : level.kind === "multi" ? node.hash : node.literals?.get(level.text);
  }

  private find(filter: Filter): { node: FilterNode<T>; multi: boolean } | null {
    const { depth, multi } = this.shape(filter);
    let node = this.root;
    for (let i = 0; i < depth; i++) {
      const next = FilterIndex.child(node, filter.levels[i]!);
      if (!next) return null;
      node = next;
    }
    return { node, multi };
  }

  /** The value stored under the filter, if any. */
  get(filter: string | Filter): T | undefined {
    const f = this.own(asFilter(filter, this.dialect));
    const at = f && this.find(f);
    if (!at) return undefined;
    return (at.multi ? at.node.multi : at.node.entry)?.value;
  }

  /** Stores a value under the filter (replacing any); false (and nothing stored) when the filter is invalid or of another dialect. */
  set(filter: string | Filter, value: T): boolean {
    const f = this.own(asFilter(filter, this.dialect));
    if (f === null) return false;
    const { depth, multi } = this.shape(f);
    let node = this.root;
    for (let i = 0; i < depth; i++) {
      const level = f.levels[i]!;
      let next: FilterNode<T> | null | undefined;
      if (level.kind === "single") next = node.single ??= this.counted();
      else if (level.kind === "multi") next = node.hash ??= this.counted();
      else {
        const literals = (node.literals ??= new Map());
        next = literals.get(level.text);
        if (!next) literals.set(level.text, (next = this.counted()));
      }
      node = next;
    }
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
    const f = this.own(asFilter(filter, this.dialect));
    if (f === null) return false;
    const path: FilterNode<T>[] = [this.root];
    const levels = f.levels;
    const { depth, multi } = this.shape(f);
    for (let i = 0; i < depth; i++) {
      const next = FilterIndex.child(path[path.length - 1]!, levels[i]!);
      if (!next) return false;
      path.push(next);
    }
    const leaf = path[path.length - 1]!;
    if (multi ? !leaf.multi : !leaf.entry) return false;
    if (multi) leaf.multi = null;
    else leaf.entry = null;
    this.count--;
    for (let i = depth; i > 0; i--) {
      if (!isEmptyNode(path[i]!)) break;
      const parent = path[i - 1]!;
      const level = levels[i - 1]!;
      if (level.kind === "single") parent.single = null;
      else if (level.kind === "multi") parent.hash = null;
      else {
        parent.literals!.delete(level.text);
        if (parent.literals!.size === 0) parent.literals = null;
      }
      this.nodeCount--;
    }
    return true;
  }

  /** The filters whose subscribers receive messages published on the topic (MQTT §4.7; none for an invalid topic). */
  matchTopic(topic: string | Topic, counter?: StepCounter): IndexedFilter<T>[] {
    const t = this.own(asTopic(topic, this.dialect));
    return t === null ? [] : this.search(topicLevels(t.levels), {}, counter);
  }

  /**
   * The filters whose subscribers would receive some message of the channel template, as
   * {@link filterOverlapsTemplate} decides (none for an invalid template). The counter, when
   * given, counts trie nodes visited and candidate levels compared.
   */
  matchTemplate(template: string | Template, options: FilterOptions = {}, counter?: StepCounter): IndexedFilter<T>[] {
    const tpl = this.own(asTemplate(template, this.dialect));
    return tpl === null ? [] : this.search(tpl.levels, options, counter);
  }

  private search(query: readonly TemplateLevel[], options: FilterOptions, counter?: StepCounter): IndexedFilter<T>[] {
    if (this.dialect.multiAnywhere) return this.searchGlob(query, counter);
    const found: IndexedFilter<T>[] = [];
    // Wildcards at the first level never reach topics that all start with `$` (§4.7.2).
    const reserved = this.dialect.reservedDollar && !options.reservedTopics && query.length > 0 && reservedOnly(query[0]!);
    const parentToo = this.dialect.multiMinLevels === 0;
    const stack: { node: FilterNode<T>; depth: number }[] = [{ node: this.root, depth: 0 }];
    while (stack.length > 0) {
      const { node, depth } = stack.pop()!;
      if (counter) counter.steps++;
      const guarded = reserved && depth === 0;
      // MQTT `prefix/#` matches the parent level too, then everything below; NATS `prefix.>` needs a level more.
      if (node.multi && !guarded && (parentToo || depth < query.length)) found.push(node.multi);
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

  /**
   * Filters with AMQP `#` anywhere: a state is (node, levels consumed, inside the `#` edge into node or not),
   * each visited once, so at most 2 × nodes × (levels + 1) states however many `#` the filters hold. Inside a
   * `#` a state either leaves it (the node's own edges) or lets it take one more level.
   */
  private searchGlob(query: readonly TemplateLevel[], counter?: StepCounter): IndexedFilter<T>[] {
    const found: IndexedFilter<T>[] = [];
    const q = query.length;
    const seen = new Map<FilterNode<T>, Uint8Array>();
    const stack: { node: FilterNode<T>; depth: number; inside: boolean }[] = [];
    const visit = (node: FilterNode<T>, depth: number, inside: boolean) => {
      let marks = seen.get(node);
      if (!marks) seen.set(node, (marks = new Uint8Array(2 * (q + 1))));
      const at = 2 * depth + (inside ? 1 : 0);
      if (marks[at] === 1) return;
      marks[at] = 1;
      stack.push({ node, depth, inside });
    };
    visit(this.root, 0, false);
    while (stack.length > 0) {
      const { node, depth, inside } = stack.pop()!;
      if (counter) counter.steps++;
      if (inside) {
        visit(node, depth, false);
        if (depth < q) visit(node, depth + 1, true);
        continue;
      }
      if (node.hash) visit(node.hash, depth, true);
      if (depth === q) {
        if (node.entry) found.push(node.entry);
        continue;
      }
      const level = query[depth]!;
      if (node.single) visit(node.single, depth + 1, false);
      if (!node.literals) continue;
      if (level.kind === "literal") {
        const exact = node.literals.get(level.text);
        if (exact) visit(exact, depth + 1, false);
      } else {
        for (const [text, child] of node.literals) {
          if (counter) counter.steps++;
          if (matchLevel(level.pattern, text, counter)) visit(child, depth + 1, false);
        }
      }
    }
    return found;
  }
}
