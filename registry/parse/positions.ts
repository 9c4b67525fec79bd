import { LineCounter, isMap, isSeq, parseDocument, type Node } from "yaml";

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Locates the node at `path` in a YAML or JSON text.
 * Uses the `yaml` package's CST, which is slow on large texts, so callers only ask on the error path.
 */
export function locator(text: string): (path: readonly (string | number)[]) => Position | undefined {
  let lineCounter: LineCounter | undefined;
  let root: Node | null | undefined;
  return (path) => {
    if (!lineCounter && path.length === 1) {
      const quick = topLevelScalar(text, String(path[0]));
      if (quick) return quick;
    }
    if (!lineCounter) {
      lineCounter = new LineCounter();
      try {
        // Aliases are not expanded to locate a node, so an alias bomb costs nothing here.
        root = parseDocument(text, { lineCounter, uniqueKeys: false }).contents;
      } catch {
        root = undefined;
      }
    }
    let node: Node | null | undefined = root;
    let best: Node | null | undefined = root;
    // Where the best node's position starts: a mapping or sequence that is the value of a key starts right
    // after that key's colon, as in the parser's (Spectral's) YAML ranges.
    let offset = root?.range?.[0];
    for (const key of path) {
      let start: number | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => {
          const k = p.key as { value?: unknown } | null;
          return k !== null && typeof k === "object" && String(k.value) === String(key);
        });
        const value = pair?.value as Node | null | undefined;
        node = value ?? (pair?.key as Node | undefined);
        const keyEnd = (pair?.key as Node | null | undefined)?.range?.[1];
        const block = value && (isMap(value) || isSeq(value));
        start = block && keyEnd !== undefined ? text.indexOf(":", keyEnd) + 1 || undefined : undefined;
      } else if (isSeq(node) && /^\d+$/.test(String(key))) {
        node = node.items[Number(key)] as Node | undefined;
      } else {
        break;
      }
      if (!node) break;
      best = node;
      offset = start ?? best.range?.[0];
    }
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The value of a top-level key written `key: scalar` at the start of a line of a block YAML document, found without
 * building the CST (seconds on a 2 MB text): enough for diagnostics such as `asyncapi-latest-version` on `asyncapi`.
 */
function topLevelScalar(text: string, key: string): Position | undefined {
  const name = escapeRegExp(key);
  const match = new RegExp(`^(?:${name}|"${name}"|'${name}')[ \\t]*:[ \\t]+(?=[^ \\t\\r\\n#|>&*!{[])`, "m").exec(text);
  if (!match) return undefined;
  const offset = match.index + match[0].length;
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}
