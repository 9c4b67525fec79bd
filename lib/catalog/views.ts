import "server-only";
import { sample } from "openapi-sampler";
import { and, asc, eq } from "drizzle-orm";
import type { Executor } from "@/db/client.ts";
import { application, contractVersion, flow, type ContractVersion } from "@/db/schema.ts";
import type { Channel, Contract, Json, JsonSchema, Message } from "@/registry/index.ts";
import { defineQuery, idInput } from "@/lib/service.ts";
import { getApplication, isCurrentVersion } from "./applications.ts";
import { subscriptionFilterFor } from "./topics.ts";

/** One message an application sends or receives on a channel, with its schemas' global registry ids. */
export interface FlowMessage {
  key: string;
  /** `schema.id` of the payload (what the schema registry serves), null when the message has none. */
  payloadSchemaId: number | null;
  headersSchemaId: number | null;
}

/** What an application does on one channel in its current version, from `flow`: send or receive, which messages. */
export interface ChannelFlow {
  action: "send" | "receive";
  /** Channel address template. */
  channel: string;
  messages: FlowMessage[];
  /** Ids of the operations that declare it. */
  operations: string[];
}

/** Flow rows one application page reads at most. */
export const MAX_APPLICATION_FLOWS = 1000;

const flowColumns = {
  channel: flow.channel,
  action: flow.action,
  messageKey: flow.messageKey,
  payloadSchemaId: flow.payloadSchemaId,
  headersSchemaId: flow.headersSchemaId,
  operations: flow.operations,
};

const flowOrder = [asc(flow.action), asc(flow.channel), asc(flow.messageKey)];

async function currentFlowRows(db: Executor, appSlug: string, channel: string | null, limit: number) {
  return db
    .select(flowColumns)
    .from(flow)
    .innerJoin(contractVersion, eq(contractVersion.id, flow.versionId))
    .innerJoin(application, eq(application.id, contractVersion.applicationId))
    .where(and(eq(application.slug, appSlug), isCurrentVersion(), channel === null ? undefined : eq(flow.channel, channel)))
    .orderBy(...flowOrder)
    .limit(limit);
}

type FlowRow = Awaited<ReturnType<typeof currentFlowRows>>[number];

/** Flow rows grouped by action and channel: sends first, then by address; at most {@link MAX_APPLICATION_FLOWS} messages. */
function groupFlows(rows: FlowRow[]): { flows: ChannelFlow[]; truncated: boolean } {
  const flows = new Map<string, ChannelFlow>();
  for (const row of rows.slice(0, MAX_APPLICATION_FLOWS)) {
    const key = `${row.action}\u0000${row.channel}`;
    const entry = flows.get(key) ?? { action: row.action, channel: row.channel, messages: [], operations: [] };
    entry.messages.push({ key: row.messageKey, payloadSchemaId: row.payloadSchemaId, headersSchemaId: row.headersSchemaId });
    for (const op of row.operations) if (!entry.operations.includes(op)) entry.operations.push(op);
    flows.set(key, entry);
  }
  // Sends before receives, as the page has always listed them.
  const order = (a: ChannelFlow) => (a.action === "send" ? 0 : 1);
  return {
    flows: [...flows.values()].sort((a, b) => order(a) - order(b) || a.channel.localeCompare(b.channel)),
    truncated: rows.length > MAX_APPLICATION_FLOWS,
  };
}

/**
 * The sends and receives of an application's current version (highest released or deprecated), from `flow`,
 * grouped by action and channel: sends first, then by address. At most {@link MAX_APPLICATION_FLOWS} messages;
 * `truncated` says there are more. Empty when the application has no current version.
 */
export const applicationFlows = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, input: appSlug }): Promise<{ flows: ChannelFlow[]; truncated: boolean }> =>
    groupFlows(await currentFlowRows(db, appSlug, null, MAX_APPLICATION_FLOWS + 1)),
});

/**
 * The sends and receives of one version, known by its id, grouped as {@link applicationFlows} groups them. For callers
 * that hold the version already (and have checked the principal may read it): the page then shows the flows of the
 * version it names, even when another is published meanwhile.
 */
export async function flowsOfVersion(db: Executor, versionId: string): Promise<{ flows: ChannelFlow[]; truncated: boolean }> {
  const rows = await db
    .select(flowColumns)
    .from(flow)
    .where(eq(flow.versionId, versionId))
    .orderBy(...flowOrder)
    .limit(MAX_APPLICATION_FLOWS + 1);
  return groupFlows(rows);
}

/** Messages of one channel {@link channelSchemas} reads at most. */
export const MAX_CHANNEL_MESSAGES = 500;

/**
 * The global schema ids of the messages an application sends or receives on one channel in its current version
 * (`channelSchemas(principal, appSlug, address)`), from `flow`: message key → payload and headers `schema.id`, and
 * the actions. A message the contract declares but no operation uses has no flow, hence no entry.
 */
export const channelSchemas = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, input: address }, appSlug: string): Promise<Map<string, FlowMessage & { actions: Array<"send" | "receive"> }>> => {
    const rows = await currentFlowRows(db, appSlug, address, MAX_CHANNEL_MESSAGES * 2);
    const byKey = new Map<string, FlowMessage & { actions: Array<"send" | "receive"> }>();
    for (const row of rows) {
      const entry = byKey.get(row.messageKey) ?? { key: row.messageKey, payloadSchemaId: row.payloadSchemaId, headersSchemaId: row.headersSchemaId, actions: [] };
      entry.actions.push(row.action);
      byKey.set(row.messageKey, entry);
    }
    return byKey;
  },
});

/** One version by its id, with its files and normalised contract (the id comes from the application's record). */
export async function versionById(db: Executor, versionId: string): Promise<ContractVersion | null> {
  const [found] = await db.select().from(contractVersion).where(eq(contractVersion.id, versionId));
  return found ?? null;
}

/** The current contract of an application with its catalog record (`currentContract(principal, appSlug)`). */
export const currentContract = defineQuery({
  permission: "catalog:read",
  input: idInput,
  run: async ({ db, principal, input: appSlug }) => {
    const app = await getApplication(principal, appSlug);
    // The record names its current version: read it by id rather than finding it again.
    const version = app.currentVersionId ? await versionById(db, app.currentVersionId) : null;
    return { ...app, version, contract: version?.contract ?? null };
  },
});

/** Who sends and who receives a channel, from the flows of every application's current version. */
export { channelParticipants, type ChannelParticipant } from "./flows.ts";

/** An example payload: the contract's first example, else one generated from the schema. */
export function examplePayload(message: Message): { value: unknown; generated: boolean } | null {
  const given = message.examples[0];
  if (given !== undefined) {
    // AsyncAPI 2.x/3.0 examples are `{ payload, headers, name }` objects.
    const payload = given && typeof given === "object" && !Array.isArray(given) && "payload" in given ? (given as { payload: Json }).payload : given;
    return { value: payload, generated: false };
  }
  if (!message.payload || !message.payloadComparable || typeof message.payload !== "object") return null;
  try {
    return { value: sample(message.payload as never, { skipReadOnly: true, quiet: true, maxSampleDepth: 6 }), generated: true };
  } catch {
    return null;
  }
}

/** How to subscribe to a channel: the filter, the brokers, and the payload to expect. */
export function subscriptionOf(contract: Contract, channel: Channel): { filter: string; servers: Array<{ name: string; url: string; protocol: string }> } {
  const names = channel.servers.length > 0 ? channel.servers : Object.keys(contract.servers);
  return {
    filter: subscriptionFilterFor(channel.address),
    servers: names
      // Own keys only: a channel naming `constructor` must not find Object's.
      .map((name) => (Object.hasOwn(contract.servers, name) ? contract.servers[name] : undefined))
      .filter((s): s is NonNullable<typeof s> => Boolean(s))
      .map((s) => ({ name: s.name, url: `${s.protocol}://${s.url}`, protocol: s.protocol })),
  };
}

/** A node of a payload schema, flattened for a readable tree. */
export interface SchemaRow {
  depth: number;
  name: string;
  type: string;
  required: boolean;
  description: string;
  constraints: string[];
}

const CONSTRAINT_KEYS = ["format", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems", "default"] as const;

/** Flattens a JSON Schema into rows (name, type, required, constraints), bounded in depth and size. */
export function schemaRows(schema: JsonSchema | undefined, maxRows = 400): SchemaRow[] {
  const rows: SchemaRow[] = [];
  const seen = new WeakSet<object>();
  const describe = (node: Record<string, unknown>): string => {
    if (Array.isArray(node.type)) return node.type.join(" | ");
    if (typeof node.type === "string") {
      if (node.type === "array" && node.items && typeof node.items === "object") {
        return `array of ${describe(node.items as Record<string, unknown>)}`;
      }
      return node.type;
    }
    for (const key of ["oneOf", "anyOf", "allOf"] as const) if (Array.isArray(node[key])) return key;
    return node.properties ? "object" : "any";
  };
  const walk = (node: unknown, depth: number) => {
    if (!node || typeof node !== "object" || depth > 10 || rows.length >= maxRows || seen.has(node)) return;
    seen.add(node);
    const s = node as Record<string, unknown>;
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
      if (rows.length >= maxRows) return;
      const c = (child && typeof child === "object" ? child : {}) as Record<string, unknown>;
      rows.push({
        depth,
        name,
        type: describe(c),
        required: required.has(name),
        description: typeof c.description === "string" ? c.description : "",
        constraints: CONSTRAINT_KEYS.filter((k) => c[k] !== undefined).map((k) => `${k}: ${JSON.stringify(c[k])}`),
      });
      walk(c, depth + 1);
      if (c.items && typeof c.items === "object") walk(c.items, depth + 1);
    }
    for (const key of ["allOf", "anyOf", "oneOf"] as const) {
      if (Array.isArray(s[key])) for (const branch of s[key] as unknown[]) walk(branch, depth);
    }
  };
  walk(schema, 0);
  return rows;
}
