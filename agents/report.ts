/**
 * Turns a closed window into report batches (split at MAX_TEMPLATES_PER_BATCH)
 * and encodes them for the wire.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { promisify } from "node:util";
import { createGzip, gzip } from "node:zlib";
import type { ClosedWindow, WindowSnapshot, WindowSummary } from "./observer.ts";
import {
  AGENT_PROTOCOL_VERSION,
  MAX_REPORT_BYTES,
  storableJson,
  MAX_TEMPLATES_PER_BATCH,
  type AgentReport,
  type AgentStats,
  type Capabilities,
  type DiscoveredBridge,
  emptyDrops,
  type Inventory,
  type TopicObservation,
} from "./protocol.ts";

const gzipAsync = promisify(gzip);

/** Everything about the agent and broker a batch carries besides the window. */
export interface ReportContext {
  agent: AgentReport["agent"];
  broker: AgentReport["broker"];
  capabilities: Capabilities;
  /** drops outside the observer (spool evictions, tracker caps), added to the first part */
  extraDrops: Partial<AgentReport["drops"]>;
  stats: AgentStats;
  /** links to other brokers the source sees, on the first part only (absent when it cannot see them) */
  bridges?: DiscoveredBridge[];
  /** the broker's resources as last listed, on the first part only */
  inventory?: Inventory;
}

/** Inflated bytes a batch aims to stay under; the rest of MAX_REPORT_BYTES is headroom for the envelope. */
export const TARGET_REPORT_BYTES = MAX_REPORT_BYTES / 2;

/**
 * Splits items of the given JSON sizes into contiguous [start, end) ranges of
 * at most MAX_TEMPLATES_PER_BATCH items and about `targetBytes` each (an item
 * larger than the target gets a range of its own). Always at least one range,
 * so an empty window still reports (the portal's heartbeat).
 */
export function planParts(sizes: readonly number[], targetBytes = TARGET_REPORT_BYTES): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let begin = 0;
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    if (i > begin && (i - begin >= MAX_TEMPLATES_PER_BATCH || bytes + sizes[i]! > targetBytes)) {
      ranges.push([begin, i]);
      begin = i;
      bytes = 0;
    }
    bytes += sizes[i]!;
  }
  ranges.push([begin, sizes.length]);
  return ranges;
}

/**
 * Wraps one part's observations in the report envelope; drops, bridges and inventory go on the
 * first part only, so summing parts never double-counts and a window lists each link once.
 */
export function envelope(summary: WindowSummary, ctx: ReportContext, topics: TopicObservation[], index: number, count: number, sequence: number): AgentReport {
  const drops = index === 0 ? { ...summary.drops } : emptyDrops();
  if (index === 0) for (const [k, v] of Object.entries(ctx.extraDrops)) drops[k as keyof typeof drops] += v ?? 0;
  return {
    protocolVersion: AGENT_PROTOCOL_VERSION,
    batchId: randomUUID(),
    sequence,
    part: { index, count },
    agent: ctx.agent,
    broker: ctx.broker,
    window: { start: new Date(summary.start).toISOString(), end: new Date(summary.end).toISOString() },
    capabilities: ctx.capabilities,
    topics,
    drops,
    stats: ctx.stats,
    ...(index === 0 && ctx.bridges ? { bridges: ctx.bridges } : {}),
    ...(index === 0 && ctx.inventory ? { inventory: ctx.inventory } : {}),
  };
}

/** Splits a rendered window into batches with consecutive sequence numbers from `firstSequence`, by real JSON size. */
export function buildReports(snap: WindowSnapshot, ctx: ReportContext, firstSequence: number, targetBytes = TARGET_REPORT_BYTES): AgentReport[] {
  const ranges = planParts(
    snap.observations.map((o) => JSON.stringify(o).length),
    targetBytes,
  );
  return ranges.map(([b, e], i) => envelope(snap, ctx, snap.observations.slice(b, e), i, ranges.length, firstSequence + i));
}

/**
 * Plans a closed window's batches from size estimates, before rendering
 * anything; render each part with {@link renderPart} and release it before
 * the next, so a large window never sits in memory twice.
 */
export function planWindow(closed: ClosedWindow, targetBytes = TARGET_REPORT_BYTES): Array<[number, number]> {
  const sizes: number[] = [];
  for (let i = 0; i < closed.size; i++) sizes.push(closed.estimateBytes(i));
  return planParts(sizes, targetBytes);
}

/** Renders part `index` of a planned window as a report. */
export function renderPart(closed: ClosedWindow, ctx: ReportContext, ranges: ReadonlyArray<[number, number]>, index: number, sequence: number): AgentReport {
  const [b, e] = ranges[index]!;
  const topics: TopicObservation[] = [];
  for (let i = b; i < e; i++) topics.push(closed.render(i));
  return envelope(closed, ctx, topics, index, ranges.length, sequence);
}

/** A part encoded for the spool: the gzip JSON body and what the agent notes of it. */
export interface EncodedPart {
  sequence: number;
  batchId: string;
  drops: AgentReport["drops"];
  body: Buffer;
}

// Where the envelope's (empty) observations sit in its JSON; keys and values before it are escaped, so it is found once.
const TOPICS_SLOT = ',"topics":[],"drops":';

/** Text handed to gzip at a time: a part's JSON is compressed as it is made, so it is never held whole. */
const GZIP_CHUNK_CHARS = 64 * 1024;

/**
 * Renders part `index` of a planned window straight into its encoded body, the same JSON as
 * `encodeReport(renderPart(…))`: each observation becomes JSON text as soon as it is rendered and
 * goes to gzip in chunks, so a part of thousands of templates is held neither as a tree of objects
 * nor as one text, only as its compressed bytes.
 */
export async function encodePart(closed: ClosedWindow, ctx: ReportContext, ranges: ReadonlyArray<[number, number]>, index: number, sequence: number): Promise<EncodedPart> {
  const [b, e] = ranges[index]!;
  const head = envelope(closed, ctx, [], index, ranges.length, sequence);
  const json = storableJson(JSON.stringify(head));
  const at = json.indexOf(TOPICS_SLOT);
  if (at < 0) throw new Error("report envelope without its observations");
  const inside = at + ',"topics":['.length;
  function* text(): Generator<string> {
    yield json.slice(0, inside);
    // Each piece is a whole JSON value: an escape never spans two, so each is made storable on its own.
    for (let i = b; i < e; i++) yield (i > b ? "," : "") + storableJson(JSON.stringify(closed.render(i)));
    yield json.slice(inside);
  }
  const body = await gzipText(text());
  return { sequence: head.sequence, batchId: head.batchId, drops: head.drops, body };
}

/**
 * Gzips text as it is produced: about GZIP_CHUNK_CHARS at a time, waiting while zlib is behind, so
 * what is held is one chunk and the compressed output. The bytes are those of gzip over the whole text.
 */
export async function gzipText(pieces: Iterable<string>, chunkChars = GZIP_CHUNK_CHARS): Promise<Buffer> {
  const zip = createGzip();
  const out: Buffer[] = [];
  zip.on("data", (chunk: Buffer) => out.push(chunk));
  const done = finished(zip);
  // Awaited below; a failure met first while waiting for a drain must not also surface as unhandled.
  done.catch(() => {});
  try {
    let batch = "";
    for (const piece of pieces) {
      batch += piece;
      if (batch.length < chunkChars) continue;
      if (!zip.write(batch)) await once(zip, "drain");
      batch = "";
    }
    zip.end(batch);
    await done;
  } finally {
    // A rendering that threw leaves the stream unfinished: release zlib's memory now.
    if (!zip.writableFinished) zip.destroy();
  }
  return Buffer.concat(out);
}

/**
 * Encodes a report as the gzip JSON body of `POST /api/v1/ingest/reports`. NUL and lone
 * surrogates (from payload text, keys, a sample cut mid-pair) become U+FFFD: the portal
 * cannot store them and refuses a report that carries them.
 */
export function encodeReport(report: AgentReport): Promise<Buffer> {
  return gzipAsync(Buffer.from(storableJson(JSON.stringify(report)), "utf8"));
}
