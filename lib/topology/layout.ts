/**
 * Places the topology graph with ELK's layered algorithm, left to right: producers, channels (and brokers),
 * consumers. Runs on the server so the page arrives laid out; the browser only draws.
 */
import ELK from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import type { TopologyEdge, TopologyGraph, TopologyNode } from "./graph.ts";
import { shortLabel } from "./svg.ts";

export interface Point {
  x: number;
  y: number;
}

export interface LaidOutNode extends TopologyNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutEdge extends TopologyEdge {
  /** start, bends, end */
  points: Point[];
}

export interface LaidOutGraph extends Omit<TopologyGraph, "nodes" | "edges"> {
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  width: number;
  height: number;
}

const CHAR_WIDTH = 7;

/** The size a node is drawn at: wide enough for its label. */
export function nodeSize(node: TopologyNode): { width: number; height: number } {
  const chars = Math.max(shortLabel(node.label).length, shortLabel(node.detail ?? "").length);
  // Room for the small "drift" link beside the label in the browser view.
  const width = Math.min(400, Math.max(node.kind === "channel" ? 140 : 160, chars * CHAR_WIDTH + 28 + (node.driftHref ? 40 : 0)));
  return { width, height: node.detail ? 46 : 32 };
}

// Tuned for large meshes: ordering by model order, the default node placement and the greedy switch each cost
// seconds to minutes on a few hundred nodes with a wide fan-in; these keep a 1,000-node layout in seconds.
const LAYOUT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  "elk.edgeRouting": "POLYLINE",
  "elk.spacing.nodeNode": "18",
  "elk.layered.spacing.nodeNodeBetweenLayers": "70",
  "elk.spacing.componentComponent": "30",
  "elk.layered.nodePlacement.strategy": "SIMPLE",
  "elk.layered.crossingMinimization.greedySwitch.type": "OFF",
  "elk.layered.thoroughness": "1",
};

let elk: InstanceType<typeof ELK> | null = null;

/** Layouts kept in process, by the shape of the graph: the page and its export right after draw the same graph. */
const CACHE_SIZE = 16;
const cache = new Map<string, { positions: Map<string, Point>; routes: Map<string, Point[]>; width: number; height: number }>();

/** Lays the graph out; an empty graph is a 0 × 0 drawing. */
export async function layoutTopology(graph: TopologyGraph): Promise<LaidOutGraph> {
  if (graph.nodes.length === 0) return { ...graph, nodes: [], edges: [], width: 0, height: 0 };
  const sizes = new Map(graph.nodes.map((n) => [n.id, nodeSize(n)]));
  const shape = JSON.stringify([graph.nodes.map((n) => [n.id, n.role ?? "", sizes.get(n.id)!.width, sizes.get(n.id)!.height]), graph.edges.map((e) => e.id)]);
  let placed = cache.get(shape);
  if (placed) {
    cache.delete(shape);
  } else {
    placed = await runLayout(graph, sizes);
  }
  cache.set(shape, placed);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  const nodes: LaidOutNode[] = graph.nodes.map((n) => {
    const p = placed.positions.get(n.id) ?? { x: 0, y: 0 };
    const size = sizes.get(n.id)!;
    return { ...n, x: p.x, y: p.y, width: size.width, height: size.height };
  });
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges: LaidOutEdge[] = graph.edges.map((e) => ({ ...e, points: placed.routes.get(e.id) ?? straight(byId.get(e.source)!, byId.get(e.target)!) }));
  return { ...graph, nodes, edges, width: placed.width, height: placed.height };
}

async function runLayout(graph: TopologyGraph, sizes: Map<string, { width: number; height: number }>) {
  elk ??= new ELK();
  const children: ElkNode[] = graph.nodes.map((n) => {
    const size = sizes.get(n.id)!;
    const constraint = n.kind !== "channel" && n.kind !== "broker" ? (n.role === "producer" ? "FIRST" : n.role === "consumer" ? "LAST" : undefined) : undefined;
    return { id: n.id, width: size.width, height: size.height, ...(constraint ? { layoutOptions: { "elk.layered.layering.layerConstraint": constraint } } : {}) };
  });
  const elkEdges: ElkExtendedEdge[] = graph.edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] }));
  const root: ElkNode = { id: "root", layoutOptions: LAYOUT_OPTIONS, children, edges: elkEdges };
  const laid = await elk.layout(root);
  const positions = new Map((laid.children ?? []).map((c) => [c.id, { x: round(c.x ?? 0), y: round(c.y ?? 0) }]));
  const routes = new Map<string, Point[]>();
  for (const e of (laid.edges ?? []) as ElkExtendedEdge[]) {
    const section = e.sections?.[0];
    if (section) routes.set(e.id, [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map((p) => ({ x: round(p.x), y: round(p.y) })));
  }
  return { positions, routes, width: Math.ceil(laid.width ?? 0), height: Math.ceil(laid.height ?? 0) };
}

/** Space between the columns of a neighbourhood drawing, and between the nodes of a column. */
const COLUMN_GAP = 70;
const ROW_GAP = 18;

/** The column of a node in a neighbourhood drawing: producers, channels, brokers, consumers. */
function neighbourhoodColumn(node: TopologyNode): number {
  if (node.kind === "channel" || node.kind === "group") return 1;
  if (node.kind === "broker") return 2;
  return node.role === "consumer" ? 3 : 0;
}

/**
 * Places a neighbourhood (the small drawing of an application, channel or broker page) in columns, left to right:
 * producers, channels, brokers, consumers; each column ordered after the channels its nodes touch, so lines cross
 * little. Synchronous and linear in the graph: the layered layout costs tens of milliseconds on 25 nodes and
 * hundreds on 250, on every page view of another focus, for a drawing whose shape is known in advance.
 */
export function layoutNeighbourhood(graph: TopologyGraph): LaidOutGraph {
  if (graph.nodes.length === 0) return { ...graph, nodes: [], edges: [], width: 0, height: 0 };
  const columns: TopologyNode[][] = [[], [], [], []];
  const columnOf = new Map<string, number>();
  for (const n of graph.nodes) {
    const c = neighbourhoodColumn(n);
    columns[c]!.push(n);
    columnOf.set(n.id, c);
  }
  const neighbours = new Map<string, string[]>();
  for (const e of graph.edges) {
    (neighbours.get(e.source) ?? neighbours.set(e.source, []).get(e.source)!).push(e.target);
    (neighbours.get(e.target) ?? neighbours.set(e.target, []).get(e.target)!).push(e.source);
  }
  // Channels in the graph's order (by address); the other columns by the mean row of the channels they touch.
  const row = new Map<string, number>();
  columns[1]!.forEach((n, i) => row.set(n.id, i));
  for (const c of [0, 2, 3]) {
    const keyed = columns[c]!.map((n, i) => {
      const rows = (neighbours.get(n.id) ?? []).map((id) => row.get(id)).filter((r): r is number => r !== undefined);
      return { n, at: rows.length > 0 ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.MAX_SAFE_INTEGER, i };
    });
    keyed.sort((a, b) => a.at - b.at || a.i - b.i);
    columns[c] = keyed.map((k) => k.n);
  }
  const sizes = new Map(graph.nodes.map((n) => [n.id, nodeSize(n)]));
  const heightOf = (column: TopologyNode[]) => column.reduce((h, n, i) => h + sizes.get(n.id)!.height + (i > 0 ? ROW_GAP : 0), 0);
  const height = Math.max(...columns.map(heightOf));
  const positions = new Map<string, Point>();
  let x = 0;
  for (const column of columns) {
    if (column.length === 0) continue;
    const width = Math.max(...column.map((n) => sizes.get(n.id)!.width));
    // Each column centred on the tallest.
    let y = round((height - heightOf(column)) / 2);
    for (const n of column) {
      const size = sizes.get(n.id)!;
      positions.set(n.id, { x: round(x + (width - size.width) / 2), y });
      y = round(y + size.height + ROW_GAP);
    }
    x += width + COLUMN_GAP;
  }
  const nodes: LaidOutNode[] = graph.nodes.map((n) => ({ ...n, ...positions.get(n.id)!, ...sizes.get(n.id)! }));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges: LaidOutEdge[] = graph.edges.map((e) => {
    const a = byId.get(e.source)!;
    const b = byId.get(e.target)!;
    const [ca, cb] = [columnOf.get(a.id)!, columnOf.get(b.id)!];
    let points: Point[];
    if (ca < cb) points = straight(a, b);
    else if (ca > cb) points = [{ x: a.x, y: a.y + a.height / 2 }, { x: b.x + b.width, y: b.y + b.height / 2 }];
    else {
      // Two nodes of one column (brokers bridged): out to the right and back.
      const out = Math.max(a.x + a.width, b.x + b.width) + COLUMN_GAP / 3;
      points = [{ x: a.x + a.width, y: a.y + a.height / 2 }, { x: out, y: round((a.y + a.height / 2 + b.y + b.height / 2) / 2) }, { x: b.x + b.width, y: b.y + b.height / 2 }];
    }
    return { ...e, points };
  });
  return { ...graph, nodes, edges, width: Math.ceil(Math.max(0, x - COLUMN_GAP)), height: Math.ceil(height) };
}

function straight(a: LaidOutNode, b: LaidOutNode): Point[] {
  return [
    { x: a.x + a.width, y: a.y + a.height / 2 },
    { x: b.x, y: b.y + b.height / 2 },
  ];
}

const round = (v: number) => Math.round(v * 10) / 10;
