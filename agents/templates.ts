/**
 * Topic templates: collapsing high-cardinality topic levels into placeholders
 * (`plant/line-7/temperature` → `plant/{p1}/temperature`), and labelling topics with
 * contract channel templates through the shared topic algebra (registry/topics, imported
 * as source: the agent runs through tsx, so nothing else of the portal comes along).
 */
import {
  filterMatchesTopic,
  filterOverlapsTemplate,
  isWholeParameter,
  literalLength,
  MQTT_DIALECT,
  parseFilter,
  parseTemplate,
  parseTopic,
  TemplateIndex,
  type Template,
  type TemplateLevel,
  type TopicDialect,
} from "../registry/topics/index.ts";
import type { ChannelTemplate } from "./protocol.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^[+-]?\d+(\.\d+)?$/;
const HEX = /^(0x)?[0-9a-f]{8,}$/i;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
// Letters and digits mixed (device42, line-7, SN_0042A): an identifier rather than a word.
const MIXED_ID = /^(?=.*\d)[A-Za-z0-9]+([-_.:][A-Za-z0-9]+)*$/;
const PLACEHOLDER = /^\{[^{}/]+\}$/;

/** True when a topic level looks like an identifier (uuid, number, long hex, ulid, letters mixed with digits). */
export function isIdLikeLevel(level: string): boolean {
  if (level.length === 0 || level.length > 200) return false;
  return UUID.test(level) || NUMBER.test(level) || HEX.test(level) || ULID.test(level) || (MIXED_ID.test(level) && /\d/.test(level));
}

/** True when a level is a template placeholder such as `{p1}` or `{lineId}`. */
export function isPlaceholder(level: string): boolean {
  return PLACEHOLDER.test(level);
}

interface TrieNode {
  /** literal children; null until the first one (most nodes are leaves) */
  children: Map<string, TrieNode> | null;
  /** child that stands for every value at this position once collapsed or id-like */
  param: TrieNode | null;
  /** once the distinct literal children pass the threshold, every value becomes a parameter */
  collapsed: boolean;
  /** the template of the topics ending here, once one did: a node's path fixes it */
  key: string | null;
}

// Placeholder names by position, made once rather than per topic.
const PLACEHOLDERS = Array.from({ length: 32 }, (_, i) => `{p${i}}`);
const placeholderAt = (i: number) => PLACEHOLDERS[i] ?? `{p${i}}`;

function newNode(): TrieNode {
  return { children: null, param: null, collapsed: false, key: null };
}

/** Options of a {@link TemplateTrie}. */
export interface TemplateTrieOptions {
  /** distinct literal values at one position (under one prefix) before the position collapses; default 20 */
  collapseThreshold?: number;
  /** most trie nodes before the trie resets; default 200,000 */
  maxNodes?: number;
  /** topic syntax: levels split on its separator (MQTT `/`, NATS and AMQP `.`); default MQTT */
  dialect?: TopicDialect;
}

/**
 * Learns topic templates from the topics seen: a level becomes a placeholder when
 * its value looks like an id, or when the number of distinct values at that
 * position (under the same template prefix) passes the threshold.
 * Memory is bounded: each node keeps at most threshold+1 literal children.
 */
export class TemplateTrie {
  private root = newNode();
  private nodes = 1;
  private readonly threshold: number;
  private readonly maxNodes: number;
  private readonly separator: string;
  /** bumps whenever a position collapses, so cached resolutions can be refreshed */
  version = 0;

  /** Creates an empty trie. */
  constructor(options: TemplateTrieOptions = {}) {
    this.threshold = options.collapseThreshold ?? 20;
    this.maxNodes = options.maxNodes ?? 200_000;
    this.separator = (options.dialect ?? MQTT_DIALECT).separator;
  }

  /** Number of nodes, for bounding and metrics. */
  get size(): number {
    return this.nodes;
  }

  /**
   * The template a topic maps to now, without learning from it: levels the trie
   * has not seen stay literal unless they look like ids. Used once the template
   * cap is reached, so topics that will be dropped do not grow the trie.
   */
  peek(topic: string): string {
    const levels = topic.split(this.separator);
    let node: TrieNode | null | undefined = this.root;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      if ((node && node.collapsed) || isPlaceholder(level) || isIdLikeLevel(level)) {
        levels[i] = `{p${i}}`;
        node = node?.param;
      } else node = node?.children?.get(level);
    }
    return levels.join(this.separator);
  }

  /** Records a topic (or an earlier template) and returns its current template. */
  resolve(topic: string): string {
    if (this.nodes >= this.maxNodes) {
      // A pathological topic space: start over rather than grow without bound.
      this.root = newNode();
      this.nodes = 1;
      this.version++;
    }
    const levels = topic.split(this.separator);
    let literal = true;
    let node = this.root;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      // A known literal child was no placeholder or id when it was added: skip the patterns.
      let next = node.collapsed ? undefined : node.children?.get(level);
      if (next === undefined) {
        if (node.collapsed || isPlaceholder(level) || isIdLikeLevel(level)) {
          next = node.param ?? (node.param = this.count(newNode()));
          levels[i] = placeholderAt(i);
          literal = false;
        } else if (node.children && node.children.size >= this.threshold) {
          // Too many distinct values here: the position is a parameter from now on.
          node.collapsed = true;
          for (const child of node.children.values()) this.nodes -= this.countSubtree(child);
          node.children = null;
          this.version++;
          next = node.param ?? (node.param = this.count(newNode()));
          levels[i] = placeholderAt(i);
          literal = false;
        } else {
          next = this.count(newNode());
          (node.children ??= new Map()).set(level, next);
        }
      }
      node = next;
    }
    // Topics of one template share its string instead of joining a new one each.
    return (node.key ??= literal ? topic : levels.join(this.separator));
  }

  private count(node: TrieNode): TrieNode {
    this.nodes++;
    return node;
  }

  private countSubtree(node: TrieNode): number {
    let n = 1;
    for (const child of node.children?.values() ?? []) n += this.countSubtree(child);
    if (node.param) n += this.countSubtree(node.param);
    return n;
  }
}

/** A compiled contract channel template. */
export interface ChannelMatcher {
  channel: ChannelTemplate;
  /** null when the address is no valid template: it labels nothing */
  template: Template | null;
  levels: string[];
  /** literal levels count; the most specific match wins */
  literals: number;
  /** position in the compiled list, the last tie-break */
  order: number;
  /** topic syntax the address was read in */
  dialect: TopicDialect;
}

// One trie per compiled list, so observer code keeps passing plain arrays.
const indexes = new WeakMap<readonly ChannelMatcher[], TemplateIndex<ChannelMatcher>>();

function indexOf(matchers: readonly ChannelMatcher[]): TemplateIndex<ChannelMatcher> {
  let index = indexes.get(matchers);
  if (!index) {
    index = new TemplateIndex(matchers[0]?.dialect ?? MQTT_DIALECT);
    for (const m of matchers) if (m.template) index.add(m.template, m);
    indexes.set(matchers, index);
  }
  return index;
}

/**
 * Compiles channel templates (`plant/{lineId}/temperature`, `plant/line-{lineId}/x`,
 * `orders.{region}.created`) in the broker's topic syntax for {@link matchChannel}.
 */
export function compileChannels(channels: readonly ChannelTemplate[], dialect: TopicDialect = MQTT_DIALECT): ChannelMatcher[] {
  const matchers = channels
    .map((channel) => {
      const parsed = parseTemplate(channel.address, dialect);
      const template = parsed.ok ? parsed.value : null;
      const literals = template ? template.levels.filter((l) => l.kind === "literal").length : 0;
      return { channel, template, levels: channel.address.split(dialect.separator), literals, order: 0, dialect };
    })
    .sort((a, b) => b.literals - a.literals);
  matchers.forEach((m, i) => (m.order = i));
  indexOf(matchers);
  return matchers;
}

/**
 * How well a contract template level agrees with an observed level: literal with literal
 * highest, a placeholder prefers a parameter, so `plant/{p1}/temperature` is labelled
 * `plant/{lineId}/temperature` rather than `plant/main/temperature`.
 */
function levelScore(observedIsPlaceholder: boolean, level: TemplateLevel): number {
  const kind = level.kind === "literal" ? 0 : isWholeParameter(level.pattern) ? 2 : 1;
  return observedIsPlaceholder ? kind : 3 - kind;
}

/**
 * The contract channel whose address best matches a concrete topic or an agent template
 * (registry/topics semantics: a parameter takes one non-empty value, also inside a level as
 * in `line-{lineId}`). A whole-level placeholder of the agent (`{p1}`) stands for any level.
 */
export function matchChannel(template: string, matchers: readonly ChannelMatcher[]): ChannelTemplate | null {
  if (matchers.length === 0) return null;
  const dialect = matchers[0]!.dialect;
  const observed = template.split(dialect.separator);
  const placeholders = observed.map(isPlaceholder);
  // The agent's placeholders are not subscriptions: they may stand for `$` levels too.
  const parsed = parseFilter(observed.map((level, i) => (placeholders[i] ? dialect.single : level)).join(dialect.separator), dialect);
  if (!parsed.ok) return null;
  // A level spelled like a wildcard (an AMQP routing key may hold `*`) is a literal of the observed name.
  const query = { ...parsed.value, levels: parsed.value.levels.map((l, i) => (placeholders[i] || l.kind === "literal" ? l : { kind: "literal" as const, text: observed[i]! })) };
  let best: ChannelMatcher | null = null;
  let bestScore = -1;
  let bestLiteralChars = -1;
  for (const { value: m } of indexOf(matchers).matchFilter(query, { reservedTopics: true })) {
    let score = 0;
    let literalChars = 0;
    m.template!.levels.forEach((level, i) => {
      score += levelScore(placeholders[i]!, level);
      literalChars += level.kind === "literal" ? level.text.length : literalLength(level.pattern);
    });
    const better = score > bestScore || (score === bestScore && (literalChars > bestLiteralChars || (literalChars === bestLiteralChars && m.order < best!.order)));
    if (better) {
      best = m;
      bestScore = score;
      bestLiteralChars = literalChars;
    }
  }
  return best?.channel ?? null;
}

/**
 * True when a subscription filter can deliver messages of a topic or agent template
 * (a placeholder matches any non-empty level; MQTT §4.7, `$` topics out of leading wildcards;
 * NATS and AMQP by their own rules when a dialect is given).
 */
export function filterMatches(filter: string, topic: string, dialect: TopicDialect = MQTT_DIALECT): boolean {
  const f = parseFilter(filter, dialect);
  if (!f.ok) return false;
  const tpl = parseTemplate(topic, dialect);
  if (tpl.ok) return filterOverlapsTemplate(f.value, tpl.value);
  const t = parseTopic(topic, dialect);
  return t.ok && filterMatchesTopic(f.value, t.value);
}

/** True when a topic name is valid for observation in the dialect (non-empty, no wildcards, no NUL, bounded bytes; MQTT by default). */
export function isValidTopic(topic: string, dialect: TopicDialect = MQTT_DIALECT): boolean {
  return isPlainTopic(topic, dialect) || parseTopic(topic, dialect).ok;
}

/**
 * A quick pass for the common name, without parsing: printable ASCII (so as many bytes as
 * characters), no wildcard characters, no empty level. Such a name is valid in every dialect;
 * anything else is left to the parser.
 */
function isPlainTopic(topic: string, dialect: TopicDialect): boolean {
  const n = topic.length;
  if (n === 0 || n > dialect.maxBytes) return false;
  const sep = dialect.separator.charCodeAt(0);
  const single = dialect.single.charCodeAt(0);
  const multi = dialect.multi.charCodeAt(0);
  let previous = sep;
  for (let i = 0; i < n; i++) {
    const c = topic.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === single || c === multi || (c === sep && previous === sep)) return false;
    previous = c;
  }
  return previous !== sep;
}
