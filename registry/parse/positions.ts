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
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => {
          const k = p.key as { value?: unknown } | null;
          return k !== null && typeof k === "object" && String(k.value) === String(key);
        });
        node = (pair?.value as Node | null | undefined) ?? (pair?.key as Node | undefined);
      } else if (isSeq(node) && typeof key === "number") {
        node = node.items[key] as Node | undefined;
      } else {
        break;
      }
      if (!node) break;
      best = node;
    }
    const offset = best?.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
}
