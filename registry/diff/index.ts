import { jsonEqual, schemaHash } from "../hash.ts";
import { SchemaComplexityError } from "../jsonschema/diff.ts";
import { checkEvolution } from "../jsonschema/reader-writer.ts";
import { unjudgedChanges } from "../jsonschema/unjudged.ts";
import { encodePointer } from "../parse/refs.ts";
import type { Action, Change, RuleId, Channel, Contract, Json, JsonSchema, Message, Operation, Server } from "../types.ts";

const same = jsonEqual;

// A new message type on a flow: a new reader reads old data, an old reader may not read new data (SUM_TYPE_EXTENDED).
const SUM_EXTENDED = { backward: true, forward: false } as const;
const q = (v: unknown): string => (v === undefined ? "(none)" : JSON.stringify(v));

/** Collects changes with the paths of both sides. */
class Emitter {
  readonly changes: Change[] = [];
  emit(rule: RuleId, prev: (string | number)[] | undefined, curr: (string | number)[] | undefined, message: string, extra: Partial<Change> = {}): void {
    const change: Change = { rule, message };
    for (const key in extra) {
      const value = extra[key as keyof Change];
      if (value !== undefined) (change as unknown as Record<string, unknown>)[key] = value;
    }
    if (prev) change.previousPath = encodePointer(prev);
    if (curr) change.currentPath = encodePointer(curr);
    this.changes.push(change);
  }
}

/** Direction of each channel address: the actions of the operations on it (none = unknown, treated as both). */
function directions(contract: Contract): Map<string, Action | "both"> {
  const out = new Map<string, Action | "both">();
  for (const op of Object.values(contract.operations)) {
    const known = out.get(op.channel);
    out.set(op.channel, known === undefined || known === op.action ? op.action : "both");
  }
  return out;
}

function compareSecurity(e: Emitter, rulePrefix: "SERVER" | "OPERATION", what: string, prev: string[][], curr: string[][], pp: (string | number)[], cp: (string | number)[], direction?: Action | "both"): void {
  const key = (alt: string[]) => alt.join(" & ");
  const p = new Set(prev.map(key));
  const c = new Set(curr.map(key));
  const extra = { direction };
  // No requirement means open access: adding the first requirement tightens (AsyncAPI §Security Requirement).
  if (p.size === 0 && c.size > 0) {
    e.emit(`${rulePrefix}_SECURITY_TIGHTENED`, pp, cp, `${what} now requires security (${[...c].join(" | ")}) where none was required.`, extra);
    return;
  }
  const removed = [...p].filter((x) => !c.has(x));
  const added = [...c].filter((x) => !p.has(x));
  if (removed.length > 0 && c.size > 0) e.emit(`${rulePrefix}_SECURITY_TIGHTENED`, pp, cp, `${what} no longer accepts security ${removed.join(" | ")}.`, { direction, previous: removed });
  if (added.length > 0 && p.size > 0) e.emit(`${rulePrefix}_SECURITY_RELAXED`, pp, cp, `${what} now also accepts security ${added.join(" | ")}.`, { direction, current: added });
  if (p.size > 0 && c.size === 0) e.emit(`${rulePrefix}_SECURITY_RELAXED`, pp, cp, `${what} no longer requires security.`, extra);
}

function compareBindings(e: Emitter, rule: "SERVER_BINDING_CHANGED" | "CHANNEL_BINDING_CHANGED" | "OPERATION_BINDING_CHANGED" | "MESSAGE_BINDING_CHANGED", what: string, prev: Record<string, Json>, curr: Record<string, Json>, pp: (string | number)[], cp: (string | number)[], direction?: Action | "both"): void {
  for (const protocol of [...new Set([...Object.keys(prev), ...Object.keys(curr)])].sort()) {
    const a = prev[protocol];
    const b = curr[protocol];
    if (same(a, b)) continue;
    const verb = a === undefined ? "was added" : b === undefined ? "was removed" : "changed";
    e.emit(rule, [...pp, "bindings", protocol], [...cp, "bindings", protocol], `${what}: ${protocol} binding ${verb}.`, {
      direction,
      previous: a,
      current: b,
    });
  }
}

function compareServers(e: Emitter, prev: Contract, curr: Contract): void {
  for (const name of [...new Set([...Object.keys(prev.servers), ...Object.keys(curr.servers)])].sort()) {
    const a: Server | undefined = prev.servers[name];
    const b: Server | undefined = curr.servers[name];
    const pp = ["servers", name];
    if (!a) {
      e.emit("SERVER_ADDED", undefined, pp, `Server "${name}" was added.`);
      continue;
    }
    if (!b) {
      e.emit("SERVER_REMOVED", pp, undefined, `Server "${name}" was removed.`);
      continue;
    }
    const what = `Server "${name}"`;
    if (a.url !== b.url) e.emit("SERVER_URL_CHANGED", pp, pp, `${what} moved from ${q(a.url)} to ${q(b.url)}.`, { previous: a.url, current: b.url });
    if (a.protocol !== b.protocol) e.emit("SERVER_PROTOCOL_CHANGED", [...pp, "protocol"], [...pp, "protocol"], `${what} protocol changed from ${q(a.protocol)} to ${q(b.protocol)}.`, { previous: a.protocol, current: b.protocol });
    if (a.protocolVersion !== b.protocolVersion) {
      e.emit("SERVER_PROTOCOL_VERSION_CHANGED", [...pp, "protocolVersion"], [...pp, "protocolVersion"], `${what} protocol version changed from ${q(a.protocolVersion)} to ${q(b.protocolVersion)}.`, {
        previous: a.protocolVersion,
        current: b.protocolVersion,
      });
    }
    for (const v of Object.keys(a.variables).filter((k) => k in b.variables).sort()) {
      const va = a.variables[v]!;
      const vb = b.variables[v]!;
      const vp = [...pp, "variables", v];
      if (va.default !== vb.default) e.emit("SERVER_VARIABLE_DEFAULT_CHANGED", [...vp, "default"], [...vp, "default"], `${what} variable "${v}" default changed from ${q(va.default)} to ${q(vb.default)}.`, { ...(va.default !== undefined ? { previous: va.default } : {}), ...(vb.default !== undefined ? { current: vb.default } : {}) });
      const ea = va.enum;
      const eb = vb.enum;
      // An absent enum allows any value.
      const removed = eb === undefined ? [] : ea === undefined ? ["(any value)"] : ea.filter((x) => !eb.includes(x));
      const added = ea === undefined ? [] : eb === undefined ? ["(any value)"] : eb.filter((x) => !ea.includes(x));
      if (removed.length > 0) e.emit("SERVER_VARIABLE_ENUM_NARROWED", [...vp, "enum"], [...vp, "enum"], `${what} variable "${v}" no longer allows ${removed.map((x) => q(x)).join(", ")}.`, { previous: removed });
      if (added.length > 0) e.emit("SERVER_VARIABLE_ENUM_EXTENDED", [...vp, "enum"], [...vp, "enum"], `${what} variable "${v}" now also allows ${added.map((x) => q(x)).join(", ")}.`, { current: added });
    }
    compareSecurity(e, "SERVER", what, a.security, b.security, [...pp, "security"], [...pp, "security"]);
    compareBindings(e, "SERVER_BINDING_CHANGED", what, a.bindings, b.bindings, pp, pp);
    if (a.description !== b.description || !same(a.tags, b.tags) || !same(Object.values(a.variables).map((x) => x.description), Object.values(b.variables).map((x) => x.description))) {
      e.emit("SERVER_DOCUMENTATION_CHANGED", pp, pp, `${what} documentation changed.`);
    }
  }
  for (const name of Object.keys(prev.securitySchemes).filter((k) => k in curr.securitySchemes).sort()) {
    const strip = (s: Json | undefined) => (s && typeof s === "object" && !Array.isArray(s) ? { ...s, description: null } : s);
    if (!same(strip(prev.securitySchemes[name]), strip(curr.securitySchemes[name]))) {
      const p = ["components", "securitySchemes", name];
      e.emit("SECURITY_SCHEME_CHANGED", p, p, `Security scheme "${name}" definition changed.`, { previous: prev.securitySchemes[name]!, current: curr.securitySchemes[name]! });
    }
  }
}

/** Pairs previous and current channels: by address, then by 3.0 channel id for a channel whose address changed. */
function pairChannels(prev: Contract, curr: Contract): { pairs: [Channel, Channel][]; removed: Channel[]; added: Channel[] } {
  const pairs: [Channel, Channel][] = [];
  const removed: Channel[] = [];
  const matched = new Set<string>();
  for (const [address, a] of Object.entries(prev.channels)) {
    const b = curr.channels[address];
    if (b) {
      pairs.push([a, b]);
      matched.add(address);
    } else removed.push(a);
  }
  let added = Object.values(curr.channels).filter((c) => !matched.has(c.address));
  const stillRemoved: Channel[] = [];
  for (const a of removed) {
    const b = added.find((c) => c.id === a.id && a.id !== a.address && c.id !== c.address);
    if (b) {
      pairs.push([a, b]);
      added = added.filter((c) => c !== b);
    } else stillRemoved.push(a);
  }
  return { pairs, removed: stillRemoved, added };
}

function compareSchemas(e: Emitter, field: "payload" | "headers", a: Message, b: Message, where: string, direction: Action | "both"): void {
  const sa = a[field];
  const sb = b[field];
  if (sa === undefined && sb === undefined) return;
  const pp = [...a.sourcePath, field];
  const cp = [...b.sourcePath, field];
  const label = `${field === "payload" ? "Payload" : "Headers"} of ${where}`;
  const comparable = field === "payload" ? a.payloadComparable && b.payloadComparable : a.headersComparable && b.headersComparable;
  if (!comparable) {
    // Issue 3: formats without an exact JSON Schema conversion are compared by content hash, unclassified.
    const ha = (field === "payload" ? a.payloadHash : a.headersHash) ?? schemaHash(sa ?? null);
    const hb = (field === "payload" ? b.payloadHash : b.headersHash) ?? schemaHash(sb ?? null);
    if (ha !== hb) e.emit(field === "payload" ? "PAYLOAD_CHANGED_UNCLASSIFIED" : "HEADERS_CHANGED_UNCLASSIFIED", pp, cp, `${label} changed (${ha.slice(0, 19)}… → ${hb.slice(0, 19)}…).`, { direction, previous: ha, current: hb, category: field === "headers" ? "headers" : undefined });
    return;
  }
  // A missing schema accepts anything (AsyncAPI §Message Object: payload "can be of any type").
  const original = withDialect(sa ?? {}, a.schemaFormat);
  const update = withDialect(sb ?? {}, b.schemaFormat);
  if (jsonEqual(original, update)) return;
  const check = checkEvolution(original, update);
  const unjudged = check.tooComplex ? [] : unjudgedChanges(original, update);
  for (const u of unjudged) {
    const values = isScalar(u.previous) || isScalar(u.current) ? ` (${q(u.previous)} → ${q(u.current)})` : "";
    const segments = pointerSegments(u.path);
    e.emit(field === "payload" ? "PAYLOAD_KEYWORD_CHANGED" : "HEADERS_KEYWORD_CHANGED", [...pp, ...segments], [...cp, ...segments], `${label}: \`${u.keyword}\` changed at ${u.path}${values}; Confluent's checker does not judge it, a reviewer should.`, {
      direction,
      schemaPath: u.path,
      previous: isScalar(u.previous) ? (u.previous as Json) : undefined,
      current: isScalar(u.current) ? (u.current as Json) : undefined,
      category: field === "headers" ? "headers" : undefined,
    });
  }
  if (check.equivalent && !check.tooComplex) return;
  if (check.tooComplex) {
    // Too intricate to judge within bounds: say so and leave it to a reviewer rather than guess.
    const category = field === "headers" ? "headers" : undefined;
    e.emit(field === "payload" ? "PAYLOAD_CHANGED_UNCLASSIFIED" : "HEADERS_CHANGED_UNCLASSIFIED", pp, cp, `${label} changed; ${new SchemaComplexityError().message}`, { direction, category, previous: schemaHash(original), current: schemaHash(update) });
    return;
  }
  for (const c of check.changes) {
    const segments = pointerSegments(c.path);
    // A backward-check path points into the previous schema, a forward-check path into the current one.
    const before = c.foundBy === "backward" ? valueAt(original, segments) : undefined;
    const after = valueAt(update, segments);
    const values = isScalar(before) || isScalar(after) ? ` (${q(before)} → ${q(after)})` : "";
    const reading = c.foundBy === "forward" ? ", reading what the current schema allows with the previous one: an old reader may not read what a new writer sends" : "";
    e.emit(c.type, c.foundBy === "backward" ? [...pp, ...segments] : pp, [...cp, ...segments], `${label}: ${c.type} at ${c.path}${values}${reading}.`, {
      direction,
      schemaPath: c.path,
      backward: c.backward,
      forward: c.forward,
      previous: isScalar(before) ? (before as Json) : undefined,
      current: isScalar(after) ? (after as Json) : undefined,
      category: field === "headers" ? "headers" : undefined,
    });
  }
}

/** Segments of a Confluent-style pointer (`#/properties/a~1b` → `["properties", "a/b"]`). */
function pointerSegments(path: string): string[] {
  return path === "#/" ? [] : path.slice(2).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/**
 * A payload declared as JSON Schema 2019-09/2020-12 by its message's schema format is judged in that dialect
 * even when the schema itself names none (the checker reads the dialect from `$schema`).
 */
function withDialect(schema: JsonSchema, format: string): JsonSchema {
  if (typeof schema !== "object" || "$schema" in schema) return schema;
  const version = /version=(draft-)?(2020-12|2019-09)\b/.exec(format)?.[2];
  return version ? { $schema: `https://json-schema.org/draft/${version}/schema`, ...schema } : schema;
}

const isScalar = (v: unknown): boolean => v !== undefined && (v === null || typeof v !== "object");

function valueAt(schema: unknown, segments: string[]): unknown {
  let node = schema;
  for (const s of segments) {
    if (node === null || typeof node !== "object") return undefined;
    node = Array.isArray(node) ? node[Number(s)] : (node as Record<string, unknown>)[s];
  }
  return node;
}

/** A message without `name` or `messageId` (older stored contracts carry no flag: no name stands for it). */
const isAnonymous = (m: Message): boolean => m.anonymous ?? m.name === undefined;

/**
 * Pairs the messages of one channel across versions: named messages by key; then, where one side has no stable
 * identity, by canonical payload (and headers) hash; then by key (a 3.0 message map key); then by position among
 * what is left. Returns current key → previous key.
 */
export function pairMessages(a: Channel, b: Channel): Map<string, string> {
  const pairs = new Map<string, string>();
  let left: Message[] = [];
  for (const [key, m] of Object.entries(a.messages)) {
    const n = b.messages[key];
    if (n && !isAnonymous(m) && !isAnonymous(n)) pairs.set(key, key);
    else left.push(m);
  }
  let right = Object.values(b.messages).filter((m) => !pairs.has(m.key));
  const eligible = (x: Message, y: Message) => isAnonymous(x) || isAnonymous(y);
  const sameContent = (x: Message, y: Message) => (x.payloadHash ?? "") === (y.payloadHash ?? "") && (x.headersHash ?? "") === (y.headersHash ?? "") && x.schemaFormat === y.schemaFormat;
  const take = (match: (x: Message, y: Message) => boolean) => {
    const stillLeft: Message[] = [];
    for (const x of left) {
      const y = right.find((m) => eligible(x, m) && match(x, m));
      if (y) {
        pairs.set(y.key, x.key);
        right = right.filter((m) => m !== y);
      } else stillLeft.push(x);
    }
    left = stillLeft;
  };
  take(sameContent);
  take((x, y) => x.key === y.key);
  // Position: the n-th unpaired message of one side with the n-th of the other, in document order.
  const byPosition = (ms: Message[]) => [...ms].sort((x, y) => comparePaths(x.sourcePath, y.sourcePath));
  const xs = byPosition(left);
  const ys = byPosition(right);
  for (let i = 0, j = 0; i < xs.length && j < ys.length; ) {
    if (!eligible(xs[i]!, ys[j]!)) {
      if (!isAnonymous(xs[i]!)) i++;
      else j++;
      continue;
    }
    pairs.set(ys[j]!.key, xs[i]!.key);
    i++;
    j++;
  }
  return pairs;
}

function comparePaths(x: readonly (string | number)[], y: readonly (string | number)[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    return typeof p === "number" && typeof q === "number" ? p - q : String(p).localeCompare(String(q));
  }
  return x.length - y.length;
}

function compareMessages(e: Emitter, a: Channel, b: Channel, direction: Action | "both", paired: Map<string, string>): void {
  const pairedPrevious = new Set(paired.values());
  const entries: [key: string, ma: Message | undefined, mb: Message | undefined][] = [
    ...Object.keys(b.messages).map((k): [string, Message | undefined, Message | undefined] => [k, paired.has(k) ? a.messages[paired.get(k)!] : undefined, b.messages[k]]),
    ...Object.keys(a.messages)
      .filter((k) => !pairedPrevious.has(k))
      .map((k): [string, Message | undefined, Message | undefined] => [k, a.messages[k], undefined]),
  ].sort((x, y) => x[0].localeCompare(y[0]));
  for (const [key, ma, mb] of entries) {
    const where = `message "${key}" on channel "${b.address}"`;
    if (!ma) {
      e.emit("MESSAGE_ADDED", undefined, mb!.sourcePath, `Message "${key}" was added to channel "${b.address}".`, { direction, backward: SUM_EXTENDED.backward, forward: SUM_EXTENDED.forward });
      continue;
    }
    if (!mb) {
      e.emit("MESSAGE_REMOVED", ma.sourcePath, undefined, `Message "${key}" was removed from channel "${a.address}".`, { direction });
      continue;
    }
    const pp = ma.sourcePath;
    const cp = mb.sourcePath;
    if (ma.contentType !== mb.contentType) e.emit("MESSAGE_CONTENT_TYPE_CHANGED", [...pp, "contentType"], [...cp, "contentType"], `Content type of ${where} changed from ${q(ma.contentType)} to ${q(mb.contentType)}.`, { direction, ...(ma.contentType ? { previous: ma.contentType } : {}), ...(mb.contentType ? { current: mb.contentType } : {}) });
    if (ma.schemaFormat !== mb.schemaFormat) {
      e.emit("MESSAGE_SCHEMA_FORMAT_CHANGED", [...pp, "schemaFormat"], [...cp, "schemaFormat"], `Schema format of ${where} changed from ${q(ma.schemaFormat)} to ${q(mb.schemaFormat)}.`, { direction, previous: ma.schemaFormat, current: mb.schemaFormat });
    } else {
      compareSchemas(e, "payload", ma, mb, where, direction);
      compareSchemas(e, "headers", ma, mb, where, direction);
    }
    if (ma.correlationId !== mb.correlationId) e.emit("MESSAGE_CORRELATION_ID_CHANGED", [...pp, "correlationId"], [...cp, "correlationId"], `Correlation id of ${where} moved from ${q(ma.correlationId)} to ${q(mb.correlationId)}.`, { direction });
    compareBindings(e, "MESSAGE_BINDING_CHANGED", `Message "${key}" on channel "${b.address}"`, ma.bindings, mb.bindings, pp, cp, direction);
    if (!ma.deprecated && mb.deprecated) e.emit("MESSAGE_DEPRECATED", pp, cp, `Message "${key}" on channel "${b.address}" was deprecated.`, { direction });
    if (ma.title !== mb.title || ma.summary !== mb.summary || ma.description !== mb.description || !same(ma.examples, mb.examples) || !same(ma.tags, mb.tags)) {
      e.emit("MESSAGE_DOCUMENTATION_CHANGED", pp, cp, `Documentation of ${where} changed.`, { direction });
    }
  }
}

function compareChannel(e: Emitter, a: Channel, b: Channel, direction: Action | "both", paired: Map<string, string>): void {
  const pp = a.sourcePath;
  const cp = b.sourcePath;
  const where = `channel "${b.address}"`;
  if (a.address !== b.address) e.emit("CHANNEL_ADDRESS_CHANGED", [...pp, "address"], [...cp, "address"], `Channel "${b.id}" address changed from ${q(a.address)} to ${q(b.address)}.`, { direction, previous: a.address, current: b.address });
  for (const name of [...new Set([...Object.keys(a.parameters), ...Object.keys(b.parameters)])].sort()) {
    const pa = a.parameters[name];
    const pb = b.parameters[name];
    if (!pa) {
      e.emit("CHANNEL_PARAMETER_ADDED", undefined, [...cp, "parameters", name], `Parameter "${name}" was added to ${where}.`, { direction });
      continue;
    }
    if (!pb) {
      e.emit("CHANNEL_PARAMETER_REMOVED", [...pp, "parameters", name], undefined, `Parameter "${name}" was removed from channel "${a.address}".`, { direction });
      continue;
    }
    const ea = (pa.schema && typeof pa.schema === "object" ? pa.schema.enum : undefined) as string[] | undefined;
    const eb = (pb.schema && typeof pb.schema === "object" ? pb.schema.enum : undefined) as string[] | undefined;
    const removed = eb === undefined ? [] : ea === undefined ? ["(any value)"] : ea.filter((x) => !eb.includes(x));
    const added = ea === undefined ? [] : eb === undefined ? ["(any value)"] : eb.filter((x) => !ea.includes(x));
    const at = [...pp, "parameters", name];
    const ct = [...cp, "parameters", name];
    if (removed.length > 0) e.emit("CHANNEL_PARAMETER_ENUM_NARROWED", at, ct, `Parameter "${name}" of ${where} no longer allows ${removed.map((x) => q(x)).join(", ")}.`, { direction, previous: removed });
    if (added.length > 0) e.emit("CHANNEL_PARAMETER_ENUM_EXTENDED", at, ct, `Parameter "${name}" of ${where} now also allows ${added.map((x) => q(x)).join(", ")}.`, { direction, current: added });
    if (pa.location !== pb.location) e.emit("CHANNEL_PARAMETER_LOCATION_CHANGED", at, ct, `Parameter "${name}" of ${where} moved from ${q(pa.location)} to ${q(pb.location)}.`, { direction });
  }
  // An empty server list means every server (AsyncAPI §Channel Object `servers`).
  if (a.servers.length > 0 || b.servers.length > 0) {
    const removedServers = a.servers.length === 0 ? [] : a.servers.filter((s) => b.servers.length > 0 && !b.servers.includes(s));
    const addedServers = b.servers.filter((s) => a.servers.length > 0 && !a.servers.includes(s));
    if (a.servers.length === 0 && b.servers.length > 0) e.emit("CHANNEL_SERVER_REMOVED", pp, cp, `Channel "${b.address}" is now restricted to servers ${b.servers.join(", ")}.`, { direction });
    for (const s of removedServers) e.emit("CHANNEL_SERVER_REMOVED", pp, cp, `Channel "${b.address}" is no longer available on server "${s}".`, { direction });
    for (const s of addedServers) e.emit("CHANNEL_SERVER_ADDED", pp, cp, `Channel "${b.address}" is now available on server "${s}".`, { direction });
  }
  compareBindings(e, "CHANNEL_BINDING_CHANGED", `Channel "${b.address}"`, a.bindings, b.bindings, pp, cp, direction);
  const paramDocs = (c: Channel) => Object.values(c.parameters).map((p) => p.description ?? "");
  if (a.description !== b.description || !same(a.tags, b.tags) || !same(paramDocs(a), paramDocs(b))) e.emit("CHANNEL_DOCUMENTATION_CHANGED", pp, cp, `Documentation of ${where} changed.`, { direction });
  compareMessages(e, a, b, direction, paired);
}

function operationKey(op: Operation, address: string): string {
  return `${op.action} ${address}`;
}

function compareOperations(e: Emitter, prev: Contract, curr: Contract, renamed: Map<string, string>, messageRenames: Map<string, Map<string, string>>): void {
  const index = (ops: Operation[], rename: (a: string) => string) => {
    const m = new Map<string, Operation>();
    for (const op of [...ops].sort((x, y) => x.id.localeCompare(y.id))) {
      const base = operationKey(op, rename(op.channel));
      m.set(m.has(base) ? `${base} #${op.id}` : base, op);
    }
    return m;
  };
  const p = index(Object.values(prev.operations), (a) => renamed.get(a) ?? a);
  const c = index(Object.values(curr.operations), (a) => a);
  const removed: [string, Operation][] = [];
  const added = new Map<string, Operation>();
  for (const [k, op] of c) if (!p.has(k)) added.set(k, op);
  for (const [k, a] of p) {
    const b = c.get(k);
    if (!b) {
      removed.push([k, a]);
      continue;
    }
    const pp = a.sourcePath;
    const cp = b.sourcePath;
    const where = `Operation "${b.id}" (${b.action} on "${b.channel}")`;
    // Previous message keys read as the current keys they were paired with (anonymous messages renamed by a rewrite).
    const keyRenames = messageRenames.get(b.channel);
    const carried = a.messages.map((x) => keyRenames?.get(x) ?? x);
    for (const [i, m] of carried.entries()) if (!b.messages.includes(m)) e.emit("OPERATION_MESSAGE_REMOVED", [...pp, "messages"], [...cp, "messages"], `${where} no longer carries message "${a.messages[i]}".`, { direction: b.action, previous: a.messages[i] });
    for (const m of b.messages.filter((x) => !carried.includes(x))) e.emit("OPERATION_MESSAGE_ADDED", [...pp, "messages"], [...cp, "messages"], `${where} now also carries message "${m}".`, { direction: b.action, current: m, backward: SUM_EXTENDED.backward, forward: SUM_EXTENDED.forward });
    const replyA = a.reply === undefined ? undefined : (renamed.get(a.reply) ?? a.reply);
    if (replyA !== b.reply) e.emit("OPERATION_REPLY_CHANGED", [...pp, "reply"], [...cp, "reply"], `${where} reply channel changed from ${q(a.reply)} to ${q(b.reply)}.`, { direction: b.action });
    compareSecurity(e, "OPERATION", where, a.security, b.security, [...pp, "security"], [...cp, "security"], b.action);
    compareBindings(e, "OPERATION_BINDING_CHANGED", where, a.bindings, b.bindings, pp, cp, b.action);
    if (a.summary !== b.summary || a.description !== b.description || !same(a.tags, b.tags)) e.emit("OPERATION_DOCUMENTATION_CHANGED", pp, cp, `Documentation of operation "${b.id}" changed.`, { direction: b.action });
  }
  for (const [, a] of removed) {
    const address = renamed.get(a.channel) ?? a.channel;
    const flipped = [...added].find(([, b]) => b.channel === address && b.action !== a.action);
    if (flipped && ![...c.values()].some((x) => x.channel === address && x.action === a.action)) {
      added.delete(flipped[0]);
      // The application now reads what it wrote (or the reverse): both sides of the flow break.
      e.emit("OPERATION_ACTION_FLIPPED", [...a.sourcePath, "action"], [...flipped[1].sourcePath, "action"], `Operation on channel "${address}" changed from ${a.action} to ${flipped[1].action}.`, { direction: "both", previous: a.action, current: flipped[1].action });
      continue;
    }
    e.emit("OPERATION_REMOVED", a.sourcePath, undefined, `Operation "${a.id}" (${a.action} on "${a.channel}") was removed.`, { direction: a.action });
  }
  for (const [, b] of added) e.emit("OPERATION_ADDED", undefined, b.sourcePath, `Operation "${b.id}" (${b.action} on "${b.channel}") was added.`, { direction: b.action });
}

function compareInfo(e: Emitter, prev: Contract, curr: Contract): void {
  const info = ["info"];
  if (prev.title !== curr.title) e.emit("INFO_TITLE_CHANGED", [...info, "title"], [...info, "title"], `Title changed from ${q(prev.title)} to ${q(curr.title)}.`, { previous: prev.title, current: curr.title });
  if (prev.version !== curr.version) e.emit("INFO_VERSION_CHANGED", [...info, "version"], [...info, "version"], `Version changed from ${q(prev.version)} to ${q(curr.version)}.`, { previous: prev.version, current: curr.version });
  if (prev.description !== curr.description) e.emit("INFO_DESCRIPTION_CHANGED", [...info, "description"], [...info, "description"], "Description changed.");
  if (!same(prev.owners, curr.owners)) e.emit("CONTRACT_OWNERS_CHANGED", info, info, `Owners changed from ${q(prev.owners)} to ${q(curr.owners)}.`, { previous: prev.owners, current: curr.owners });
  if (prev.lifecycle !== curr.lifecycle) e.emit("CONTRACT_LIFECYCLE_CHANGED", info, info, `Lifecycle changed from ${q(prev.lifecycle)} to ${q(curr.lifecycle)}.`);
  if (!same(prev.tags, curr.tags)) e.emit("TAGS_CHANGED", ["tags"], ["tags"], `Tags changed from ${q(prev.tags)} to ${q(curr.tags)}.`);
}

/**
 * The neutral differ: lists every change from `previous` to `current` as typed changes, without judging them.
 * Works on normalised contracts only, so a 2.x and a 3.0 document compare on the same model.
 */
export function diffContracts(previous: Contract, current: Contract): Change[] {
  const e = new Emitter();
  compareInfo(e, previous, current);
  compareServers(e, previous, current);
  const dirPrev = directions(previous);
  const dirCurr = directions(current);
  const { pairs, removed, added } = pairChannels(previous, current);
  const renamed = new Map<string, string>();
  for (const [a, b] of pairs) if (a.address !== b.address) renamed.set(a.address, b.address);
  for (const a of removed) e.emit("CHANNEL_REMOVED", a.sourcePath, undefined, `Channel "${a.address}" was removed.`, { direction: dirPrev.get(a.address) ?? "both" });
  for (const b of added) e.emit("CHANNEL_ADDED", undefined, b.sourcePath, `Channel "${b.address}" was added.`, { direction: dirCurr.get(b.address) ?? "both" });
  // Current channel address → previous message key → current message key.
  const messageRenames = new Map<string, Map<string, string>>();
  for (const [a, b] of pairs) {
    const da = dirPrev.get(a.address);
    const db = dirCurr.get(b.address);
    const paired = pairMessages(a, b);
    messageRenames.set(b.address, new Map([...paired].map(([c, p]) => [p, c])));
    compareChannel(e, a, b, da === db && da !== undefined ? da : (db ?? da ?? "both"), paired);
  }
  compareOperations(e, previous, current, renamed, messageRenames);
  return e.changes;
}
