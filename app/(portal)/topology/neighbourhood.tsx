import Link from "next/link";
import { cache } from "react";
import { requireUser } from "@/app/_lib/session.ts";
import { renderTopologySvg } from "@/lib/topology/svg.ts";
import { getTopology } from "@/lib/topology/topology.ts";
import styles from "./topology.module.css";

export type NeighbourhoodFocus = { kind: "application"; slug: string } | { kind: "channel"; address: string } | { kind: "broker"; id: string };

/** The neighbourhood of a focus, computed once per request (by its kind and key) however often it is asked for. */
const neighbourhoodOf = cache(async (kind: NeighbourhoodFocus["kind"], key: string) => {
  const principal = await requireUser();
  const focus: NeighbourhoodFocus = kind === "application" ? { kind, slug: key } : kind === "channel" ? { kind, address: key } : { kind, id: key };
  return getTopology(principal, { focus, group: "none" });
});

const keyOf = (focus: NeighbourhoodFocus) => (focus.kind === "application" ? focus.slug : focus.kind === "channel" ? focus.address : focus.id);

/**
 * Starts reading the neighbourhood now, so that it runs beside the page's own reads instead of after them; the
 * component then takes the same result. A failure is left for the component to show.
 */
export function preloadNeighbourhood(focus: NeighbourhoodFocus): void {
  neighbourhoodOf(focus.kind, keyOf(focus)).catch(() => undefined);
}

/** The part of the topology around one application, channel or broker: a small drawing, rendered on the server. */
export async function TopologyNeighbourhood({ focus }: { focus: NeighbourhoodFocus }) {
  const view = await neighbourhoodOf(focus.kind, keyOf(focus));
  // The full page, narrowed to the team of the application, the literal start of the channel, or the broker.
  const team = focus.kind === "application" ? view.nodes.find((n) => n.kind === "application" && n.key === focus.slug)?.team : undefined;
  const more = new URLSearchParams(
    focus.kind === "application" ? (team ? { team } : {}) : focus.kind === "channel" ? { prefix: focus.address.split("{")[0]! } : { broker: focus.id },
  );
  for (const [k, v] of [...more]) if (!v) more.delete(k);
  return (
    <section className="panel" aria-label="Topology" data-testid="topology-neighbourhood">
      <h2>Topology</h2>
      {view.nodes.length <= 1 ? (
        <p className="muted">Nothing is declared or observed around it yet.</p>
      ) : (
        // Our own drawing: every text in it is escaped by the renderer.
        <div className={styles.neighbourhood} dangerouslySetInnerHTML={{ __html: renderTopologySvg(view, { linkBase: "", legend: true }) }} />
      )}
      {view.truncated ? <p className="muted">Only part of it is drawn.</p> : null}
      <p>
        <Link href={`/topology${more.size > 0 ? `?${more}` : ""}`}>Open the topology</Link>
      </p>
    </section>
  );
}
