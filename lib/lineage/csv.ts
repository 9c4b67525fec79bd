import { csvRecord } from "@/lib/audit/format.ts";
import type { ChannelLineage } from "./lineage.ts";

/*
 * Lineage as files: one CSV row per edge of the graph (producer → channel on a broker, broker → broker over a
 * bridge, channel on a broker → consumer), and the version history as a second file. RFC 4180, CRLF, cells a
 * spreadsheet would run as formulas prefixed with an apostrophe (the audit export's writer).
 */

/** Kinds of edge. */
export type LineageEdgeKind = "produces" | "bridge" | "consumes";

/** One edge of a lineage. */
export interface LineageEdge {
  from: string;
  to: string;
  kind: LineageEdgeKind;
  /** the broker the edge is on (a bridge: the broker the event leaves) */
  broker: string | null;
  /** declared / observed / both; a bridge is declared */
  mark: "declared" | "observed" | "both";
  lastSeen: string | null;
}

/** The edge CSV's columns. */
export const LINEAGE_EDGE_COLUMNS = ["from", "to", "kind", "broker", "declared_observed", "last_seen"] as const;
/** The version CSV's columns. */
export const LINEAGE_VERSION_COLUMNS = [
  "application",
  "version",
  "state",
  "published_at",
  "published_by",
  "change_request",
  "action",
  "channel",
  "message",
  "payload_schema_id",
  "change",
  "schema_changed",
] as const;

/** A node's name: an application by slug, an unknown client by id, the channel on a broker as `broker:template`. */
const topicNode = (broker: string, template: string) => `${broker}:${template}`;

const latest = (values: ReadonlyArray<string | null>): string | null =>
  values.reduce<string | null>((best, v) => (v !== null && (best === null || v > best) ? v : best), null);

/**
 * Every edge of the lineage. A declared participant with no client seen links to the channel itself (no broker); an
 * observed one links to each topic template its clients were seen on, marked `both` when it also declares.
 */
export function lineageEdges(lineage: ChannelLineage): LineageEdge[] {
  const edges: LineageEdge[] = [];
  const side = (kind: "produces" | "consumes") => {
    const list = kind === "produces" ? lineage.producers : lineage.consumers;
    for (const p of list) {
      const app = p.application.slug;
      if (p.observed.length === 0) {
        edges.push(kind === "produces"
          ? { from: app, to: lineage.channel, kind, broker: null, mark: p.mark, lastSeen: null }
          : { from: lineage.channel, to: app, kind, broker: null, mark: p.mark, lastSeen: null });
        continue;
      }
      const byTopic = new Map<string, { broker: string; template: string; seen: Array<string | null> }>();
      for (const o of p.observed) {
        const key = `${o.brokerId}\u0000${o.template}`;
        const entry = byTopic.get(key) ?? { broker: o.brokerId, template: o.template, seen: [] };
        entry.seen.push(o.lastSeen);
        byTopic.set(key, entry);
      }
      for (const t of byTopic.values()) {
        const node = topicNode(t.broker, t.template);
        const lastSeen = latest(t.seen);
        edges.push(kind === "produces"
          ? { from: app, to: node, kind, broker: t.broker, mark: p.mark, lastSeen }
          : { from: node, to: app, kind, broker: t.broker, mark: p.mark, lastSeen });
      }
    }
  };
  const unknown = (role: "producer" | "consumer") => {
    for (const u of lineage.unknownClients) {
      if (u.role !== role) continue;
      const node = topicNode(u.brokerId, u.template);
      edges.push(role === "producer"
        ? { from: u.clientId, to: node, kind: "produces", broker: u.brokerId, mark: "observed", lastSeen: u.lastSeen }
        : { from: node, to: u.clientId, kind: "consumes", broker: u.brokerId, mark: "observed", lastSeen: u.lastSeen });
    }
  };
  // In the event's order: who sends, the bridges that carry it, who receives.
  side("produces");
  unknown("producer");
  const lastSeenOn = new Map(lineage.brokers.map((b) => [b.brokerId, b.lastSeen]));
  for (const b of lineage.bridges) {
    edges.push({ from: b.fromBrokerId, to: b.toBrokerId, kind: "bridge", broker: b.fromBrokerId, mark: "declared", lastSeen: lastSeenOn.get(b.toBrokerId) ?? null });
  }
  side("consumes");
  unknown("consumer");
  return edges;
}

/** The edges as CSV, with a header line. */
export function lineageEdgesCsv(lineage: ChannelLineage): string {
  return [csvRecord(LINEAGE_EDGE_COLUMNS), ...lineageEdges(lineage).map((e) => csvRecord([e.from, e.to, e.kind, e.broker, e.mark, e.lastSeen]))].join("");
}

/** The version history as CSV, one row per version and message (a version without the channel: one row, no message). */
export function lineageVersionsCsv(lineage: ChannelLineage): string {
  const lines = [csvRecord(LINEAGE_VERSION_COLUMNS)];
  for (const v of lineage.versions) {
    const request = v.changeRequest ? (v.changeRequest.number !== null ? `#${v.changeRequest.number}` : v.changeRequest.id) : null;
    const common = [v.application.slug, v.version, v.state, v.publishedAt, v.publishedByLabel, request, v.action] as const;
    const tail = [v.change, v.schemaChanged ? "yes" : "no"] as const;
    if (v.schemas.length === 0) lines.push(csvRecord([...common, null, null, null, ...tail]));
    for (const s of v.schemas) lines.push(csvRecord([...common, s.channel, s.messageKey, s.payloadSchemaId, ...tail]));
  }
  return lines.join("");
}

/** The file name of a lineage export: `meshport-lineage-plant_line_temperature-20261201T140500Z.csv`. */
export function lineageFileName(channel: string, at: Date, suffix = "", extension = "csv"): string {
  const stamp = at.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  // Only safe characters in a header value: the channel's letters and digits, the rest folded to `_`.
  const name = channel.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60) || "channel";
  return `meshport-lineage-${name}${suffix}-${stamp}.${extension}`;
}
