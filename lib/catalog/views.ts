import "server-only";
import { sample } from "openapi-sampler";
import type { Channel, Contract, Json, JsonSchema, Message, Operation } from "@/registry/index.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { getApplication, getVersion } from "./applications.ts";
import { subscriptionFilterFor } from "./topics.ts";

/** What an application does on one channel: send or receive, which messages. */
export interface Flow {
  action: "send" | "receive";
  channel: Channel;
  operations: Operation[];
  messages: Message[];
}

/** The sends and receives of a contract, grouped by channel, by address. */
export function flowsOf(contract: Contract): Flow[] {
  const flows = new Map<string, Flow>();
  for (const op of Object.values(contract.operations)) {
    const channel = contract.channels[op.channel];
    if (!channel) continue;
    const key = `${op.action} ${op.channel}`;
    const flow = flows.get(key) ?? { action: op.action, channel, operations: [], messages: [] };
    flow.operations.push(op);
    for (const messageKey of op.messages) {
      const message = channel.messages[messageKey];
      if (message && !flow.messages.includes(message)) flow.messages.push(message);
    }
    flows.set(key, flow);
  }
  return [...flows.values()].sort((a, b) => a.action.localeCompare(b.action) || a.channel.address.localeCompare(b.channel.address));
}

/** The current contract of an application with its catalog record. */
export async function currentContract(principal: Principal, appSlug: string) {
  const app = await getApplication(principal, appSlug);
  const version = app.currentVersionId ? await getVersion(principal, appSlug, "latest") : null;
  return { ...app, version, contract: version?.contract ?? null };
}

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
      .map((name) => contract.servers[name])
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
