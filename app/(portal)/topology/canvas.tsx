"use client";

import dynamic from "next/dynamic";
import { useState } from "react";
import type { LaidOutGraph } from "@/lib/topology/layout.ts";
import styles from "./topology.module.css";

// The graph library is only needed on this page: load it after the page has arrived.
const FlowView = dynamic(() => import("./flow-view.tsx"), {
  ssr: false,
  loading: () => <p className={styles.loading}>Drawing the graph…</p>,
});

/** The laid-out graph, drawn in the browser. */
export function TopologyCanvas({ graph }: { graph: LaidOutGraph }) {
  return (
    <div className={styles.canvas} data-testid="topology-graph" data-nodes={graph.nodes.length} data-edges={graph.edges.length}>
      <FlowView graph={graph} />
    </div>
  );
}

/** Largest side of the exported picture, in pixels (browsers refuse bigger canvases). */
const MAX_PNG_SIDE = 8192;

/** Draws the server's SVG export on a canvas and saves it as a PNG; nothing leaves the browser. */
export function ExportPngButton({ svgHref }: { svgHref: string }) {
  const [state, setState] = useState<"idle" | "busy" | "failed">("idle");
  async function exportPng() {
    setState("busy");
    try {
      const response = await fetch(svgHref, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`the export answered ${response.status}`);
      const url = URL.createObjectURL(new Blob([await response.text()], { type: "image/svg+xml" }));
      try {
        const image = new Image();
        await new Promise<void>((resolve, reject) => {
          image.onload = () => resolve();
          image.onerror = () => reject(new Error("the drawing did not load"));
          image.src = url;
        });
        const scale = Math.min(2, MAX_PNG_SIDE / Math.max(image.width, image.height, 1));
        const canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.floor(image.width * scale));
        canvas.height = Math.max(1, Math.floor(image.height * scale));
        const context = canvas.getContext("2d");
        if (!context) throw new Error("no canvas");
        context.fillStyle = "#fff";
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.drawImage(image, 0, 0, canvas.width, canvas.height);
        const png = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
        if (!png) throw new Error("no picture");
        const link = document.createElement("a");
        link.href = URL.createObjectURL(png);
        link.download = "topology.png";
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      } finally {
        URL.revokeObjectURL(url);
      }
      setState("idle");
    } catch {
      setState("failed");
    }
  }
  return (
    <>
      <button type="button" className="btn btn-plain" onClick={exportPng} disabled={state === "busy"} data-testid="topology-export-png">
        {state === "busy" ? "Exporting…" : "Export PNG"}
      </button>
      {state === "failed" ? <span className="muted">The picture could not be made; try the SVG.</span> : null}
    </>
  );
}
