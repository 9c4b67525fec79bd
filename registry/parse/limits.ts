/** Limits that keep parsing fast and memory bounded whatever the input. */
export interface Limits {
  /** Largest upload accepted, in bytes (all files together). */
  maxBytes: number;
  /** Deepest nesting of mappings and sequences accepted, YAML aliases followed. */
  maxDepth: number;
  /** Largest number of nodes once YAML aliases are expanded (alias bombs expand exponentially). */
  maxNodes: number;
  /**
   * Largest factor by which YAML aliases may multiply a document: expanded nodes per node written in the text.
   * Checked only above {@link Limits.aliasExpansionAllowance} expanded nodes.
   */
  maxAliasExpansion: number;
  /** Expanded nodes any document may reach through aliases, whatever its expansion factor. */
  aliasExpansionAllowance: number;
  /** @deprecated Ignored: every upload gets the same validation whatever its size (kept for callers that set it). */
  fullValidationMaxBytes: number;
  /** @deprecated Ignored, as {@link Limits.fullValidationMaxBytes}. */
  fullValidationMaxNodes: number;
}

/**
 * Default limits: 5 MB per upload, nesting 256, four million expanded nodes, aliases may multiply a document
 * twentyfold once it expands beyond 50,000 nodes.
 */
export const DEFAULT_LIMITS: Limits = {
  maxBytes: 5 * 1024 * 1024,
  maxDepth: 256,
  maxNodes: 4_000_000,
  maxAliasExpansion: 20,
  aliasExpansionAllowance: 50_000,
  fullValidationMaxBytes: 512 * 1024,
  fullValidationMaxNodes: 100_000,
};

/** Diagnostic codes of the parser's resource limits: the document was refused, not judged. */
export const LIMIT_CODES: readonly string[] = ["too-large", "too-deep", "too-many-nodes", "alias-bomb"];

/** Result of {@link measure}: the first limit exceeded, if any, and the size of the value. */
export interface Measure {
  /** `aliases`: the text itself is within the limits, but its aliases expand it beyond them. */
  exceeded?: "depth" | "nodes" | "aliases";
  path: (string | number)[];
  /** Nodes once aliases are expanded (a lower bound when a limit was exceeded). */
  nodes: number;
  /** Nodes written in the text: shared (anchored) mappings and sequences once, each alias to them as one node. */
  distinct: number;
  /** The expanded-node limit that applied: the smaller of `maxNodes` and the alias allowance. */
  limit: number;
}

type Entries = [string | number, unknown][];

function entriesOf(node: object): Entries {
  return Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node as Record<string, unknown>);
}

/**
 * Counts the nodes written in the text: every mapping and sequence once, every alias to one as one node, every
 * scalar. Visits every object once, iteratively (alias chains may be deep).
 */
function countWritten(value: unknown): number {
  if (value === null || typeof value !== "object") return 1;
  const seen = new Set<object>([value]);
  const stack: object[] = [value];
  let count = 1;
  while (stack.length > 0) {
    const node = stack.pop()!;
    const children = Array.isArray(node) ? node : Object.values(node);
    count += children.length;
    for (const child of children) {
      if (child !== null && typeof child === "object" && !seen.has(child)) {
        seen.add(child);
        stack.push(child);
      }
    }
  }
  return count;
}

/**
 * Checks nesting depth and expanded size of a loaded value.
 * Shared objects (YAML anchors) are counted once per reference, memoised by identity (size and height), so an
 * alias bomb is measured in time linear in its distinct nodes, without expanding anything.
 */
export function measure(value: unknown, limits: Pick<Limits, "maxDepth" | "maxNodes" | "maxAliasExpansion" | "aliasExpansionAllowance">): Measure {
  const distinct = countWritten(value);
  const limit = Math.min(limits.maxNodes, Math.max(limits.aliasExpansionAllowance, limits.maxAliasExpansion * distinct));
  const sizes = new Map<object, number>();
  const heights = new Map<object, number>();
  const onStack = new Set<object>();
  let exceeded: Pick<Measure, "exceeded" | "path"> | undefined;
  const path: (string | number)[] = [];

  function size(node: unknown, depth: number): number {
    if (exceeded) return 0;
    if (node === null || typeof node !== "object") return 1;
    const known = sizes.get(node);
    if (known !== undefined) {
      // An alias may place a shared node deeper than where it was first met.
      if (depth + heights.get(node)! - 1 > limits.maxDepth) exceeded = { exceeded: "depth", path: [...path] };
      return known;
    }
    if (depth > limits.maxDepth) {
      exceeded = { exceeded: "depth", path: [...path] };
      return 0;
    }
    // js-yaml cannot build cycles, but guard anyway: a cycle counts as one node.
    if (onStack.has(node)) return 1;
    onStack.add(node);
    let total = 1;
    let height = 1;
    for (const [key, child] of entriesOf(node)) {
      path.push(key);
      total += size(child, depth + 1);
      if (child !== null && typeof child === "object") height = Math.max(height, 1 + (heights.get(child) ?? 0));
      path.pop();
      if (exceeded) break;
      if (total > limit) {
        exceeded = { exceeded: distinct > limits.maxNodes ? "nodes" : "aliases", path: [...path] };
        break;
      }
    }
    onStack.delete(node);
    sizes.set(node, total);
    heights.set(node, height);
    return total;
  }

  const nodes = size(value, 0);
  return { ...(exceeded ?? { path: [] }), nodes, distinct, limit };
}

/** UTF-8 byte length of a string without allocating a buffer. */
export function byteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
