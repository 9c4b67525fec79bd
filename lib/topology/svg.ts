/**
 * The laid-out topology as one standalone SVG document: the export, the PNG's source, and the drawing of a
 * neighbourhood on the application, channel and broker pages. Every text is escaped; nothing is fetched.
 */
import type { EdgeKind, EdgeState, NodeKind } from "./graph.ts";
// Types only: the browser imports this module, and the layout engine must stay on the server.
import type { LaidOutGraph, LaidOutNode, Point } from "./layout.ts";

/** Characters of a label drawn at most (the rest is cut with an ellipsis). */
export const MAX_LABEL_CHARS = 48;

/** A label cut to what a node shows. */
export function shortLabel(text: string, max = MAX_LABEL_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** How each edge state is drawn; the page's legend uses the same. */
export const EDGE_STYLES: Record<EdgeState, { stroke: string; dash: string; label: string }> = {
  declared: { stroke: "#64748b", dash: "6 4", label: "declared, not observed" },
  observed: { stroke: "#ea580c", dash: "", label: "observed, not declared" },
  both: { stroke: "#16a34a", dash: "", label: "declared and observed" },
};

/** Fill and border of each node kind. */
export const NODE_STYLES: Record<NodeKind | "undocumented", { fill: string; stroke: string; label: string }> = {
  application: { fill: "#eff6ff", stroke: "#2563eb", label: "application" },
  channel: { fill: "#f8fafc", stroke: "#475569", label: "channel" },
  undocumented: { fill: "#fff7ed", stroke: "#ea580c", label: "undocumented topic" },
  broker: { fill: "#f5f3ff", stroke: "#7c3aed", label: "broker" },
  client: { fill: "#fef2f2", stroke: "#dc2626", label: "unknown client" },
  group: { fill: "#ecfeff", stroke: "#0e7490", label: "group" },
};

const KIND_STROKE: Partial<Record<EdgeKind, { stroke: string; dash: string }>> = {
  carried: { stroke: "#a78bfa", dash: "2 3" },
  bridge: { stroke: "#7c3aed", dash: "" },
};

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** The test id of a node, on the page and in the SVG. */
export function nodeTestId(node: Pick<LaidOutNode, "kind" | "key">): string {
  return `topology-node-${node.kind}-${node.key}`;
}

/** The style key of a node. */
export function nodeStyleOf(node: Pick<LaidOutNode, "kind" | "undocumented">): keyof typeof NODE_STYLES {
  return node.kind === "channel" && node.undocumented ? "undocumented" : node.kind;
}

/** An SVG path through the points. */
export function pathOf(points: readonly Point[]): string {
  return points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x} ${p.y}`).join(" ");
}

const MARGIN = 20;
const LEGEND_HEIGHT = 28;

export interface SvgOptions {
  /** prefix of the links (absolute URLs in a file that leaves the portal); none: links are left out */
  linkBase?: string | null;
  /** draw the legend above the graph (default true) */
  legend?: boolean;
  title?: string;
}

/** Renders the laid-out graph as an SVG document. */
export function renderTopologySvg(graph: LaidOutGraph, options: SvgOptions = {}): string {
  const legend = options.legend ?? true;
  const top = MARGIN + (legend ? LEGEND_HEIGHT : 0) + (graph.truncated ? 18 : 0);
  const width = Math.max(360, graph.width + MARGIN * 2);
  const height = Math.max(120, graph.height + top + MARGIN);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" data-testid="topology-svg">`,
  );
  out.push(`<title>${escapeXml(options.title ?? "Meshport topology")}</title>`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push("<defs>");
  for (const [state, style] of Object.entries({ ...EDGE_STYLES, carried: KIND_STROKE.carried!, bridge: KIND_STROKE.bridge! })) {
    out.push(`<marker id="arrow-${state}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="${style.stroke}"/></marker>`);
  }
  out.push("</defs>");
  if (legend) out.push(legendSvg(MARGIN, MARGIN));
  if (graph.truncated) {
    out.push(`<text x="${MARGIN}" y="${MARGIN + (legend ? LEGEND_HEIGHT : 0) + 8}" fill="#b45309" data-testid="topology-truncated">Truncated: the mesh is larger than one drawing; narrow the filters or group.</text>`);
  }
  if (graph.nodes.length === 0) {
    out.push(`<text x="${MARGIN}" y="${top + 20}" fill="#64748b">Nothing to draw for these filters.</text>`);
  }
  out.push(`<g transform="translate(${MARGIN} ${top})">`);
  for (const e of graph.edges) {
    const style = KIND_STROKE[e.kind] ?? EDGE_STYLES[e.state];
    const marker = e.kind === "carried" ? "carried" : e.kind === "bridge" ? "bridge" : e.state;
    const ends = e.kind === "carried" ? "" : ` marker-end="url(#arrow-${marker})"${e.bidirectional ? ` marker-start="url(#arrow-${marker})"` : ""}`;
    out.push(
      `<path d="${pathOf(e.points)}" fill="none" stroke="${style.stroke}" stroke-width="${e.kind === "bridge" ? 2.5 : Math.min(4, 1.5 + Math.log2(e.count))}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ""}${ends} data-state="${e.state}" data-kind="${e.kind}" data-source="${escapeXml(e.source)}" data-target="${escapeXml(e.target)}"><title>${escapeXml(edgeTitle(e))}</title></path>`,
    );
    if (e.kind === "bridge" && e.label && e.points.length > 0) {
      const mid = e.points[Math.floor(e.points.length / 2)]!;
      out.push(`<text x="${mid.x}" y="${mid.y - 4}" fill="#7c3aed" font-size="11">${escapeXml(shortLabel(e.label, 40))}</text>`);
    }
  }
  for (const n of graph.nodes) out.push(nodeSvg(n, options.linkBase ?? null));
  out.push("</g></svg>");
  return out.join("\n");
}

function edgeTitle(e: LaidOutGraph["edges"][number]): string {
  const what = e.kind === "carried" ? "carried on" : e.kind === "bridge" ? `bridge ${e.label ?? ""}` : e.kind;
  return `${e.source} → ${e.target}: ${what}, ${EDGE_STYLES[e.state].label}${e.count > 1 ? ` (${e.count} flows)` : ""}`;
}

function nodeSvg(n: LaidOutNode, linkBase: string | null): string {
  const style = NODE_STYLES[nodeStyleOf(n)];
  const radius = n.kind === "channel" ? 16 : n.kind === "broker" ? 2 : 6;
  const parts = [
    `<rect x="${n.x}" y="${n.y}" width="${n.width}" height="${n.height}" rx="${radius}" fill="${style.fill}" stroke="${style.stroke}" stroke-width="${n.kind === "group" ? 2 : 1.2}"${n.kind === "client" ? ' stroke-dasharray="4 2"' : ""}/>`,
    `<text x="${n.x + 12}" y="${n.y + (n.detail ? 19 : 20)}" fill="#0f172a"${n.kind === "channel" ? ' font-family="ui-monospace, monospace"' : ""}>${escapeXml(shortLabel(n.label))}</text>`,
  ];
  if (n.detail) parts.push(`<text x="${n.x + 12}" y="${n.y + 36}" fill="#64748b" font-size="11">${escapeXml(shortLabel(n.detail))}</text>`);
  const body = `<g data-testid="${escapeXml(nodeTestId(n))}" data-kind="${n.kind}"><title>${escapeXml(`${style.label}: ${n.label}`)}</title>${parts.join("")}</g>`;
  return linkBase === null ? body : `<a href="${escapeXml(linkBase + n.href)}">${body}</a>`;
}

function legendSvg(x: number, y: number): string {
  const items: string[] = [];
  let at = x;
  for (const [state, style] of Object.entries(EDGE_STYLES)) {
    items.push(
      `<g data-testid="topology-legend-${state}"><line x1="${at}" y1="${y + 8}" x2="${at + 28}" y2="${y + 8}" stroke="${style.stroke}" stroke-width="2"${style.dash ? ` stroke-dasharray="${style.dash}"` : ""}/><text x="${at + 34}" y="${y + 12}" fill="#334155">${escapeXml(style.label)}</text></g>`,
    );
    at += 34 + style.label.length * 6.5 + 18;
  }
  return `<g data-testid="topology-legend">${items.join("")}</g>`;
}
