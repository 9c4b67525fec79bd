import type { Contract, JsonSchema } from "@/registry/index.ts";
import { levelsOf, literalFirstLevel } from "./topics.ts";

/** One search-index row before it is stored. */
export interface IndexEntry {
  /** The application's slug on every row: hits are ordered by it without a join. */
  applicationSlug: string;
  kind: "application" | "channel" | "message" | "field";
  address: string | null;
  messageKey: string | null;
  fieldPath: string | null;
  fieldName: string | null;
  action: string | null;
  title: string;
  body: string;
  levelCount: number | null;
  firstLevel: string | null;
}

// Bounds per contract: a pathological schema must not explode the index.
const MAX_FIELDS_PER_MESSAGE = 500;
const MAX_FIELD_DEPTH = 8;

/** A payload field: its dotted path (`items[].sku`) and description. */
export interface PayloadField {
  path: string;
  name: string;
  type: string;
  description: string;
  required: boolean;
}

/** Lists the fields of a payload schema, depth-first, bounded. */
export function payloadFields(schema: JsonSchema | undefined): PayloadField[] {
  const fields: PayloadField[] = [];
  const seen = new WeakSet<object>();
  const walk = (node: unknown, prefix: string, depth: number) => {
    if (!node || typeof node !== "object" || depth > MAX_FIELD_DEPTH || fields.length >= MAX_FIELDS_PER_MESSAGE) return;
    // Dereferenced schemas can be circular.
    if (seen.has(node)) return;
    seen.add(node);
    const s = node as Record<string, unknown>;
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    const properties = s.properties && typeof s.properties === "object" ? (s.properties as Record<string, unknown>) : {};
    for (const [name, child] of Object.entries(properties)) {
      if (fields.length >= MAX_FIELDS_PER_MESSAGE) return;
      const c = (child && typeof child === "object" ? child : {}) as Record<string, unknown>;
      const path = prefix ? `${prefix}.${name}` : name;
      fields.push({
        path,
        name,
        type: Array.isArray(c.type) ? c.type.join(" | ") : typeof c.type === "string" ? c.type : "",
        description: typeof c.description === "string" ? c.description : "",
        required: required.has(name),
      });
      walk(c, path, depth + 1);
      if (c.items && typeof c.items === "object") walk(c.items, `${path}[]`, depth + 1);
    }
    for (const key of ["allOf", "anyOf", "oneOf"] as const) {
      if (Array.isArray(s[key])) for (const branch of s[key] as unknown[]) walk(branch, prefix, depth + 1);
    }
    if (!prefix && s.items && typeof s.items === "object") walk(s.items, "[]", depth + 1);
  };
  walk(schema, "", 0);
  return fields;
}

function channelShape(address: string): { levelCount: number; firstLevel: string | null } {
  return { levelCount: levelsOf(address).length, firstLevel: literalFirstLevel(address) };
}

/** Builds the search-index rows of one application's current contract. */
export function buildIndexEntries(app: { name: string; slug: string; description: string; tags: string[]; domain: string }, contract: Contract): IndexEntry[] {
  const entries: IndexEntry[] = [];
  const none = { applicationSlug: app.slug, address: null, messageKey: null, fieldPath: null, fieldName: null, action: null, levelCount: null, firstLevel: null };
  entries.push({
    ...none,
    kind: "application",
    title: `${app.name} ${app.slug}`,
    body: [contract.title, app.description, contract.description ?? "", app.domain, ...app.tags, ...contract.tags, ...contract.owners].join(" "),
  });
  // Direction per channel and message, from the operations (a channel may be both sent and received).
  const actionsByChannel = new Map<string, Set<string>>();
  const actionsByMessage = new Map<string, Set<string>>();
  for (const op of Object.values(contract.operations)) {
    (actionsByChannel.get(op.channel) ?? actionsByChannel.set(op.channel, new Set()).get(op.channel)!).add(op.action);
    for (const key of op.messages) {
      const id = `${op.channel}\u0000${key}`;
      (actionsByMessage.get(id) ?? actionsByMessage.set(id, new Set()).get(id)!).add(op.action);
    }
  }
  const actionOf = (set: Set<string> | undefined) => (set && set.size > 0 ? [...set].sort().join(",") : null);
  for (const channel of Object.values(contract.channels)) {
    const shape = channelShape(channel.address);
    const channelAction = actionOf(actionsByChannel.get(channel.address));
    entries.push({
      ...none,
      ...shape,
      kind: "channel",
      address: channel.address,
      action: channelAction,
      title: channel.address.replace(/[/{}]/g, " "),
      body: [channel.description ?? "", ...Object.values(channel.parameters).map((p) => `${p.name} ${p.description ?? ""}`), ...channel.tags].join(" "),
    });
    for (const message of Object.values(channel.messages)) {
      const action = actionOf(actionsByMessage.get(`${channel.address}\u0000${message.key}`)) ?? channelAction;
      entries.push({
        ...none,
        ...shape,
        kind: "message",
        address: channel.address,
        messageKey: message.key,
        action,
        title: [message.name, message.title, message.key].filter(Boolean).join(" "),
        body: [message.summary ?? "", message.description ?? "", ...message.tags].join(" "),
      });
      for (const field of payloadFields(message.payloadComparable ? message.payload : undefined)) {
        entries.push({
          ...none,
          ...shape,
          kind: "field",
          address: channel.address,
          messageKey: message.key,
          fieldPath: field.path,
          fieldName: field.name.toLowerCase(),
          action,
          title: `${field.name} ${field.path.replace(/[.[\]]/g, " ")}`,
          body: field.description,
        });
      }
    }
  }
  return entries;
}
