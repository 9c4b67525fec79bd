/**
 * Topic templates: collapsing high-cardinality topic levels into placeholders
 * (`plant/line-7/temperature` → `plant/{p1}/temperature`), matching topics to
 * contract channel templates, and MQTT filter matching.
 */
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
}

function newNode(): TrieNode {
  return { children: null, param: null, collapsed: false };
}

/** Options of a {@link TemplateTrie}. */
export interface TemplateTrieOptions {
  /** distinct literal values at one position (under one prefix) before the position collapses; default 20 */
  collapseThreshold?: number;
  /** most trie nodes before the trie resets; default 200,000 */
  maxNodes?: number;
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
  /** bumps whenever a position collapses, so cached resolutions can be refreshed */
  version = 0;

  /** Creates an empty trie. */
  constructor(options: TemplateTrieOptions = {}) {
    this.threshold = options.collapseThreshold ?? 20;
    this.maxNodes = options.maxNodes ?? 200_000;
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
    const levels = topic.split("/");
    let node: TrieNode | null | undefined = this.root;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      if ((node && node.collapsed) || isPlaceholder(level) || isIdLikeLevel(level)) {
        levels[i] = `{p${i}}`;
        node = node?.param;
      } else node = node?.children?.get(level);
    }
    return levels.join("/");
  }

  /** Records a topic (or an earlier template) and returns its current template. */
  resolve(topic: string): string {
    if (this.nodes >= this.maxNodes) {
      // A pathological topic space: start over rather than grow without bound.
      this.root = newNode();
      this.nodes = 1;
      this.version++;
    }
    const levels = topic.split("/");
    const out: string[] = new Array(levels.length);
    let node = this.root;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      let next: TrieNode | undefined;
      if (node.collapsed || isPlaceholder(level) || isIdLikeLevel(level)) {
        next = node.param ?? (node.param = this.count(newNode()));
        out[i] = `{p${i}}`;
      } else {
        next = node.children?.get(level);
        if (!next) {
          if (node.children && node.children.size >= this.threshold) {
            // Too many distinct values here: the position is a parameter from now on.
            node.collapsed = true;
            for (const child of node.children.values()) this.nodes -= this.countSubtree(child);
            node.children = null;
            this.version++;
            next = node.param ?? (node.param = this.count(newNode()));
            out[i] = `{p${i}}`;
            node = next;
            continue;
          }
          next = this.count(newNode());
          (node.children ??= new Map()).set(level, next);
        }
        out[i] = level;
      }
      node = next;
    }
    return out.join("/");
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
  levels: string[];
  /** literal levels count; the most specific match wins */
  literals: number;
}

/** Compiles channel templates (`plant/{lineId}/temperature`) for {@link matchChannel}. */
export function compileChannels(channels: readonly ChannelTemplate[]): ChannelMatcher[] {
  return channels
    .map((channel) => {
      const levels = channel.address.split("/");
      return { channel, levels, literals: levels.filter((l) => !isPlaceholder(l)).length };
    })
    .sort((a, b) => b.literals - a.literals);
}

/**
 * The contract channel whose address best matches a topic or agent template: a
 * placeholder on either side matches any single level, literals must be equal.
 * Literal-to-literal agreement scores highest, then placeholder-to-placeholder,
 * so `plant/{p1}/temperature` prefers `plant/{lineId}/temperature` over `plant/main/temperature`.
 */
export function matchChannel(template: string, matchers: readonly ChannelMatcher[]): ChannelTemplate | null {
  const levels = template.split("/");
  let best: ChannelTemplate | null = null;
  let bestScore = -1;
  for (const m of matchers) {
    if (m.levels.length !== levels.length) continue;
    let score = 0;
    for (let i = 0; i < levels.length && score >= 0; i++) {
      const a = m.levels[i]!;
      const b = levels[i]!;
      const pa = isPlaceholder(a);
      const pb = isPlaceholder(b);
      if (!pa && !pb) score = a === b ? score + 3 : -1;
      else if (pa && pb) score += 2;
      else if (pa) score += 1;
    }
    if (score > bestScore) {
      bestScore = score;
      best = m.channel;
    }
  }
  return best;
}

/**
 * True when an MQTT subscription filter can deliver messages of a topic or
 * template (placeholders in the template match any single level; MQTT 3.1.1 §4.7).
 */
export function filterMatches(filter: string, topic: string): boolean {
  // Wildcards at the first level never match $-topics (MQTT 3.1.1 §4.7.2).
  if (topic.startsWith("$") && (filter.startsWith("#") || filter.startsWith("+"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const fl = f[i]!;
    if (fl === "#") return true;
    if (i >= t.length) return false;
    const tl = t[i]!;
    if (fl === "+" || fl === tl || isPlaceholder(tl)) continue;
    return false;
  }
  return f.length === t.length;
}

/** True when a topic name is valid for observation (non-empty, no wildcards, no NUL). */
export function isValidTopic(topic: string): boolean {
  return topic.length > 0 && !topic.includes("+") && !topic.includes("#") && !topic.includes("\u0000");
}
