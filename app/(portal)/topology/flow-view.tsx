"use client";

import "@xyflow/react/dist/style.css";
import { Background, Controls, Handle, MiniMap, Position, ReactFlow, type Edge, type EdgeProps, type Node, type NodeProps } from "@xyflow/react";
import { useRouter } from "next/navigation";
import { useCallback, useMemo, type MouseEvent } from "react";
import type { LaidOutEdge, LaidOutGraph, LaidOutNode } from "@/lib/topology/layout.ts";
import { EDGE_STYLES, NODE_STYLES, nodeStyleOf, nodeTestId, pathOf } from "@/lib/topology/svg.ts";
import styles from "./topology.module.css";

type TopologyFlowNode = Node<{ node: LaidOutNode }, "topology">;
type TopologyFlowEdge = Edge<{ edge: LaidOutEdge }, "topology">;

const KIND_STROKE: Record<string, { stroke: string; dash: string }> = {
  carried: { stroke: "#a78bfa", dash: "2 3" },
  bridge: { stroke: "#7c3aed", dash: "" },
};

/** A node as the layout placed it: its label links to its page, and a small link to its drift. */
function TopologyNodeView({ data }: NodeProps<TopologyFlowNode>) {
  const n = data.node;
  const style = NODE_STYLES[nodeStyleOf(n)];
  return (
    <div
      className={`${styles.node} ${n.kind === "channel" ? styles.channel : ""}`}
      style={{ width: n.width, height: n.height, background: style.fill, border: `1px ${n.kind === "client" ? "dashed" : "solid"} ${style.stroke}` }}
      data-testid={nodeTestId(n)}
      data-kind={n.kind}
      title={`${style.label}: ${n.label}`}
    >
      <Handle type="target" position={Position.Left} className={styles.handle} isConnectable={false} />
      <a href={n.href}>{n.label}</a>
      {n.driftHref ? (
        <a className={styles.drift} href={n.driftHref} data-testid={`${nodeTestId(n)}-drift`}>
          drift
        </a>
      ) : null}
      {n.detail ? <div className={styles.detail}>{n.detail}</div> : null}
      <Handle type="source" position={Position.Right} className={styles.handle} isConnectable={false} />
    </div>
  );
}

/** An edge along the route the server's layout computed, styled by its state. */
function TopologyEdgeView({ data, id }: EdgeProps<TopologyFlowEdge>) {
  if (!data) return null;
  const e = data.edge;
  const style = KIND_STROKE[e.kind] ?? EDGE_STYLES[e.state];
  return (
    <g data-state={e.state} data-kind={e.kind} data-testid="topology-edge" data-source={e.source} data-target={e.target}>
      <title>{`${e.kind}: ${EDGE_STYLES[e.state].label}${e.count > 1 ? ` (${e.count} flows)` : ""}${e.label ? ` ${e.label}` : ""}`}</title>
      <path
        id={id}
        className="react-flow__edge-path"
        d={pathOf(e.points)}
        fill="none"
        style={{ stroke: style.stroke, strokeWidth: e.kind === "bridge" ? 2.5 : Math.min(4, 1.5 + Math.log2(e.count)), strokeDasharray: style.dash || undefined }}
        markerEnd={e.kind === "carried" ? undefined : `url(#topology-arrow-${e.kind === "bridge" ? "bridge" : e.state})`}
        markerStart={e.bidirectional ? `url(#topology-arrow-bridge)` : undefined}
      />
    </g>
  );
}

const nodeTypes = { topology: TopologyNodeView };
const edgeTypes = { topology: TopologyEdgeView };

/** The interactive graph: pan, zoom, minimap and controls over the server's layout. */
export default function FlowView({ graph }: { graph: LaidOutGraph }) {
  const nodes = useMemo<TopologyFlowNode[]>(
    () => graph.nodes.map((n) => ({ id: n.id, type: "topology", position: { x: n.x, y: n.y }, data: { node: n }, width: n.width, height: n.height, draggable: false, connectable: false })),
    [graph],
  );
  const edges = useMemo<TopologyFlowEdge[]>(
    () => graph.edges.map((e) => ({ id: e.id, type: "topology", source: e.source, target: e.target, data: { edge: e }, focusable: false })),
    [graph],
  );
  const router = useRouter();
  // A click anywhere on a node opens its page; its own links (the label, "drift") go where they point.
  const onNodeClick = useCallback(
    (event: MouseEvent, node: TopologyFlowNode) => {
      if ((event.target as HTMLElement).closest("a")) return;
      router.push(node.data.node.href);
    },
    [router],
  );
  return (
    <ReactFlow
      onNodeClick={onNodeClick}
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      edgeTypes={edgeTypes}
      fitView
      minZoom={0.05}
      maxZoom={2}
      nodesDraggable={false}
      nodesConnectable={false}
      elementsSelectable={false}
      proOptions={{ hideAttribution: true }}
    >
      <svg style={{ position: "absolute", width: 0, height: 0 }} aria-hidden="true">
        <defs>
          {Object.entries({ ...Object.fromEntries(Object.entries(EDGE_STYLES).map(([k, v]) => [k, v.stroke])), bridge: KIND_STROKE.bridge!.stroke }).map(([name, fill]) => (
            <marker key={name} id={`topology-arrow-${name}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0 0 L10 5 L0 10 z" fill={fill} />
            </marker>
          ))}
        </defs>
      </svg>
      <Background />
      <MiniMap pannable zoomable nodeColor={(n) => NODE_STYLES[nodeStyleOf((n.data as { node: LaidOutNode }).node)].stroke} />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}
