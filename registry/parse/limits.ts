/** Limits that keep parsing fast and memory bounded whatever the input. */
export interface Limits {
  /** Largest upload accepted, in bytes (all files together). */
  maxBytes: number;
  /** Deepest nesting of mappings and sequences accepted. */
  maxDepth: number;
  /** Largest number of nodes once YAML aliases are expanded (alias bombs expand exponentially). */
  maxNodes: number;
  /** Largest upload validated with the parser's full Spectral ruleset; larger ones get JSON Schema validation only. */
  fullValidationMaxBytes: number;
}

/** Default limits: 5 MB per upload, nesting 256, four million expanded nodes, full validation up to 512 KB. */
export const DEFAULT_LIMITS: Limits = {
  maxBytes: 5 * 1024 * 1024,
  maxDepth: 256,
  maxNodes: 4_000_000,
  fullValidationMaxBytes: 512 * 1024,
};

/** Result of {@link measure}: the first limit exceeded, if any. */
export interface Measure {
  exceeded?: "depth" | "nodes";
  path: (string | number)[];
}

/**
 * Checks nesting depth and expanded size of a loaded value.
 * Shared objects (YAML anchors) are counted once per reference, memoised by identity, so an alias bomb is
 * measured in time linear in its distinct nodes.
 */
export function measure(value: unknown, limits: Pick<Limits, "maxDepth" | "maxNodes">): Measure {
  const sizes = new Map<object, number>();
  const onStack = new Set<object>();
  let exceeded: Measure | undefined;
  const path: (string | number)[] = [];

  function size(node: unknown, depth: number): number {
    if (exceeded) return 0;
    if (node === null || typeof node !== "object") return 1;
    if (depth > limits.maxDepth) {
      exceeded = { exceeded: "depth", path: [...path] };
      return 0;
    }
    const known = sizes.get(node);
    if (known !== undefined) return known;
    // js-yaml cannot build cycles, but guard anyway: a cycle counts as one node.
    if (onStack.has(node)) return 1;
    onStack.add(node);
    let total = 1;
    const entries: [string | number, unknown][] = Array.isArray(node)
      ? node.map((v, i) => [i, v])
      : Object.entries(node as Record<string, unknown>);
    for (const [key, child] of entries) {
      path.push(key);
      total += size(child, depth + 1);
      path.pop();
      if (total > limits.maxNodes) {
        exceeded ??= { exceeded: "nodes", path: [...path] };
        break;
      }
    }
    onStack.delete(node);
    sizes.set(node, total);
    return total;
  }

  size(value, 0);
  return exceeded ?? { path: [] };
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
