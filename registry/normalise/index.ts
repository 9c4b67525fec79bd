import { OpenAPISchemaParser } from "@asyncapi/openapi-schema-parser";
import type { Action, Channel, Contract, Json, JsonSchema, Message, Operation, Parameter, Server, ServerVariable } from "../types.ts";
import { schemaHash } from "../hash.ts";
import { copyJson, copySchema, type Budget } from "./schema.ts";

/** Raised when schemas would expand past the node budget; the parser turns it into a diagnostic. */
export { ExpansionLimitError } from "./schema.ts";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function tags(v: unknown): string[] {
  return list(v)
    .map((t) => str(obj(t).name))
    .filter((t): t is string => t !== undefined)
    .sort();
}

/** Options of {@link normalise}. */
export interface NormaliseOptions {
  /** Largest number of schema nodes produced once references are expanded (default 2,000,000). */
  maxNodes?: number;
}

/** Kind of a payload schema format: JSON Schema dialects compare exactly; others compare by content hash. */
export type SchemaFormatKind = "jsonschema" | "openapi" | "avro" | "other";

/** Classifies an AsyncAPI `schemaFormat` string. */
export function schemaFormatKind(format: string | undefined): SchemaFormatKind {
  if (format === undefined) return "jsonschema";
  const f = format.toLowerCase();
  if (f.startsWith("application/vnd.aai.asyncapi")) return "jsonschema";
  if (f.startsWith("application/schema+json") || f.startsWith("application/schema+yaml") || f === "application/schema") return "jsonschema";
  if (f.startsWith("application/vnd.oai.openapi")) return "openapi";
  if (f.includes("avro")) return "avro";
  return "other";
}

const CANONICAL_FORMAT: Record<SchemaFormatKind, string | undefined> = {
  jsonschema: "application/schema+json;version=draft-07",
  openapi: "application/vnd.oai.openapi;version=3.0.0",
  avro: undefined,
  other: undefined,
};

/** Canonical server location: 2.x `url` without its scheme, or 3.0 `host` + `pathname`; no trailing slash. */
function serverUrl(s: Obj): string {
  const url = str(s.url);
  const raw = url !== undefined ? url.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, "") : (str(s.host) ?? "") + (str(s.pathname) ?? "");
  return raw.replace(/\/+$/, "");
}

class Normaliser {
  private readonly budget: Budget;
  private readonly messageKeys = new Map<object, string>();
  private readonly schemeNames = new Map<object, string>();
  private readonly channelAddresses = new Map<object, string>();
  private readonly conversions: Promise<void>[] = [];
  readonly v3: boolean;

  constructor(
    private readonly doc: Obj,
    options: NormaliseOptions,
  ) {
    const limit = options.maxNodes ?? 2_000_000;
    this.budget = { remaining: limit, limit };
    this.v3 = String(doc.asyncapi).startsWith("3.");
    const components = obj(doc.components);
    for (const [k, m] of Object.entries(obj(components.messages))) if (isObj(m)) this.messageKeys.set(m, k);
    for (const [k, s] of Object.entries(obj(components.securitySchemes))) if (isObj(s)) this.schemeNames.set(s, k);
  }

  async run(): Promise<Contract> {
    const doc = this.doc;
    const info = obj(doc.info);
    const servers: Record<string, Server> = {};
    for (const [name, s] of Object.entries(obj(doc.servers))) servers[name] = this.server(name, obj(s));
    const channels: Record<string, Channel> = {};
    const operations: Record<string, Operation> = {};
    if (this.v3) this.v3Channels(channels, operations);
    else this.v2Channels(channels, operations);
    const securitySchemes: Record<string, Json> = {};
    for (const [k, s] of Object.entries(obj(obj(doc.components).securitySchemes))) securitySchemes[k] = this.securityScheme(s);
    await Promise.all(this.conversions);
    // Hashes after conversion, so an OpenAPI payload is identified by the JSON Schema it compares as.
    for (const channel of Object.values(channels)) {
      for (const message of Object.values(channel.messages)) {
        if (message.payload !== undefined) message.payloadHash = schemaHash(message.payload);
        if (message.headers !== undefined) message.headersHash = schemaHash(message.headers);
      }
    }
    const contract: Contract = {
      asyncapi: String(doc.asyncapi),
      title: str(info.title) ?? "",
      version: str(info.version) ?? "",
      owners: this.owners(info),
      tags: tags(this.v3 ? info.tags : doc.tags),
      servers,
      channels,
      operations,
      securitySchemes,
    };
    const id = str(doc.id);
    if (id !== undefined) contract.id = id;
    const description = str(info.description);
    if (description !== undefined) contract.description = description;
    const lifecycle = str(doc["x-lifecycle"]) ?? str(info["x-lifecycle"]);
    if (lifecycle !== undefined) contract.lifecycle = lifecycle;
    const mesh = this.mesh(info);
    if (mesh !== undefined) contract.mesh = mesh;
    const dct = str(doc.defaultContentType);
    if (dct !== undefined) contract.defaultContentType = dct;
    return contract;
  }

  /** `x-meshport-kind` and `x-meshport-systems` on `info`, copied as written (bounded by the node budget). */
  private mesh(info: Obj): Contract["mesh"] {
    const kind = info["x-meshport-kind"];
    const systems = info["x-meshport-systems"];
    if (kind === undefined && systems === undefined) return undefined;
    const mesh: NonNullable<Contract["mesh"]> = {};
    if (kind !== undefined) mesh.kind = copyJson(kind, this.budget);
    if (systems !== undefined) mesh.systems = copyJson(systems, this.budget);
    return mesh;
  }

  /** 2.x OAuth flows list `scopes`; 3.0 renamed them `availableScopes` (AsyncAPI 3.0 §OAuth Flow Object). */
  private securityScheme(s: unknown): Json {
    const copy = copyJson(s, this.budget);
    if (this.v3 || !isObj(copy) || !isObj(copy.flows)) return copy;
    for (const flow of Object.values(copy.flows)) {
      if (isObj(flow) && "scopes" in flow && !("availableScopes" in flow)) {
        flow.availableScopes = flow.scopes as Json;
        delete flow.scopes;
      }
    }
    return copy;
  }

  private owners(info: Obj): string[] {
    const found = new Set<string>();
    for (const source of [this.doc["x-owner"], this.doc["x-owners"], info["x-owner"], info["x-owners"]]) {
      for (const o of Array.isArray(source) ? source : [source]) {
        const name = str(o) ?? str(obj(o).name);
        if (name) found.add(name);
      }
    }
    for (const t of tags(this.v3 ? info.tags : this.doc.tags)) if (t.startsWith("owner:")) found.add(t.slice(6));
    return [...found].sort();
  }

  private bindings(v: unknown): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (const [k, b] of Object.entries(obj(v))) out[k] = copyJson(b, this.budget);
    return out;
  }

  /** Security requirements as alternatives of sorted `type[:scopes]` names, identical for 2.x and 3.0 spellings. */
  private security(v: unknown): string[][] {
    const schemes = obj(obj(this.doc.components).securitySchemes);
    const alternatives = list(v).map((requirement) => {
      const r = obj(requirement);
      if (this.v3) {
        // 3.0: each entry is one scheme object (dereferenced); scopes are listed on it.
        const scopes = list(r.scopes).map(String).sort();
        return [this.schemeLabel(r, scopes)];
      }
      return Object.entries(r)
        .map(([name, scopes]) => this.schemeLabel(obj(schemes[name]), list(scopes).map(String).sort(), name))
        .sort();
    });
    return alternatives.sort((a, b) => a.join("&").localeCompare(b.join("&")));
  }

  private schemeLabel(scheme: Obj, scopes: string[], fallback?: string): string {
    const type = str(scheme.type) ?? this.schemeNames.get(scheme) ?? fallback ?? "unknown";
    return scopes.length > 0 ? `${type}:${scopes.join(",")}` : type;
  }

  private server(name: string, s: Obj): Server {
    const variables: Record<string, ServerVariable> = {};
    for (const [k, v] of Object.entries(obj(s.variables))) {
      const vo = obj(v);
      const variable: ServerVariable = {};
      const def = str(vo.default);
      if (def !== undefined) variable.default = def;
      if (Array.isArray(vo.enum)) variable.enum = vo.enum.map(String);
      const d = str(vo.description);
      if (d !== undefined) variable.description = d;
      variables[k] = variable;
    }
    const server: Server = {
      name,
      url: serverUrl(s),
      protocol: (str(s.protocol) ?? "").toLowerCase(),
      variables,
      security: this.security(s.security),
      bindings: this.bindings(s.bindings),
      tags: tags(s.tags),
    };
    const pv = str(s.protocolVersion);
    if (pv !== undefined) server.protocolVersion = pv;
    const d = str(s.description);
    if (d !== undefined) server.description = d;
    return server;
  }

  /** Parameters keep what both major versions can express: description, enum, default, location. */
  private parameters(v: unknown): Record<string, Parameter> {
    const out: Record<string, Parameter> = {};
    for (const [name, p] of Object.entries(obj(v))) {
      const po = obj(p);
      // 2.x puts enum/default in `schema`; 3.0 on the parameter itself.
      const source = this.v3 ? po : obj(po.schema);
      const schema: Record<string, Json> = {};
      if (Array.isArray(source.enum)) schema.enum = source.enum.map((e) => String(e)).sort();
      const def = str(source.default);
      if (def !== undefined) schema.default = def;
      const parameter: Parameter = { name };
      if (Object.keys(schema).length > 0) parameter.schema = schema;
      const d = str(po.description);
      if (d !== undefined) parameter.description = d;
      const loc = str(po.location);
      if (loc !== undefined) parameter.location = loc;
      out[name] = parameter;
    }
    return out;
  }

  private message(m: Obj, fallbackKey: string, path: (string | number)[], v2Format?: string): Message {
    // Traits: the message's own fields take precedence (AsyncAPI 3.0 §Message Trait; the parser does the same for 2.x).
    const merged: Obj = {};
    for (const t of list(m.traits)) Object.assign(merged, obj(t));
    Object.assign(merged, m);
    delete merged.traits;
    const key = str(merged.name) ?? str(merged.messageId) ?? this.messageKeys.get(m) ?? fallbackKey;
    let payload = merged.payload;
    let format = v2Format ?? str(merged.schemaFormat);
    if (this.v3 && isObj(payload) && "schemaFormat" in payload && "schema" in payload) {
      format = str(payload.schemaFormat);
      payload = payload.schema;
    }
    let headers = merged.headers;
    // 2.x headers are always AsyncAPI schemas; 3.0 headers may carry their own schema format.
    let headersFormat: string | undefined;
    if (this.v3 && isObj(headers) && "schemaFormat" in headers && "schema" in headers) {
      headersFormat = str(headers.schemaFormat);
      headers = headers.schema;
    }
    const headersKind = schemaFormatKind(headersFormat);
    const kind = schemaFormatKind(format);
    const message: Message = {
      key,
      ...(str(merged.name) === undefined && str(merged.messageId) === undefined ? { anonymous: true as const } : {}),
      schemaFormat: CANONICAL_FORMAT[kind] ?? format ?? "",
      payloadComparable: kind === "jsonschema" || kind === "openapi",
      headersComparable: headersKind === "jsonschema" || headersKind === "openapi",
      bindings: this.bindings(merged.bindings),
      examples: list(merged.examples).map((e) => copyJson(e, this.budget)),
      tags: tags(merged.tags),
      sourcePath: path,
    };
    for (const field of ["name", "title", "summary", "description", "contentType"] as const) {
      const value = str(merged[field]);
      if (value !== undefined) message[field] = value;
    }
    if (message.contentType === undefined && typeof this.doc.defaultContentType === "string") {
      message.contentType = this.doc.defaultContentType;
    }
    const correlation = str(obj(merged.correlationId).location);
    if (correlation !== undefined) message.correlationId = correlation;
    // Neither 2.x nor 3.0 has a message-level `deprecated`; `x-deprecated` is the common extension.
    if (merged.deprecated === true || merged["x-deprecated"] === true) message.deprecated = true;
    const p = copySchema(payload, this.budget);
    if (p !== undefined) {
      message.payload = p;
      if (kind === "openapi") this.conversions.push(convertOpenApi(message, "payload"));
    }
    const h = copySchema(headers, this.budget);
    if (h !== undefined) {
      message.headers = h;
      if (headersKind === "openapi") this.conversions.push(convertOpenApi(message, "headers"));
    }
    return message;
  }

  private v2Channels(channels: Record<string, Channel>, operations: Record<string, Operation>): void {
    for (const [address, c] of Object.entries(obj(this.doc.channels))) {
      const co = obj(c);
      const channel: Channel = {
        address,
        id: address,
        parameters: this.parameters(co.parameters),
        messages: {},
        servers: list(co.servers).map(String).sort(),
        bindings: this.bindings(co.bindings),
        tags: [],
        sourcePath: ["channels", address],
      };
      const d = str(co.description);
      if (d !== undefined) channel.description = d;
      // AsyncAPI 2.x §Channel Item: `subscribe` is what the application sends, `publish` what it receives.
      for (const [verb, action] of [["subscribe", "send"], ["publish", "receive"]] as const) {
        if (!isObj(co[verb])) continue;
        const op: Obj = {};
        for (const t of list(co[verb].traits)) Object.assign(op, obj(t));
        Object.assign(op, co[verb]);
        const path = ["channels", address, verb];
        const raw = obj(op.message);
        const alternatives = Array.isArray(raw.oneOf) ? raw.oneOf.map(obj) : [raw];
        const keys: string[] = [];
        alternatives.forEach((m, i) => {
          const mpath = Array.isArray(raw.oneOf) ? [...path, "message", "oneOf", i] : [...path, "message"];
          // Unnamed messages get the key the official 2.x → 3.0 converter gives them: `<operationId>.message[.<i>]`.
          const opId = str(op.operationId);
          const suffix = alternatives.length > 1 ? `.${i}` : "";
          const fallback = opId !== undefined ? `${opId}.message${suffix}` : `${verb}Message${suffix}`;
          const message = this.message(m, fallback, mpath, str(m.schemaFormat));
          channel.messages[message.key] ??= message;
          keys.push(message.key);
        });
        const id = str(op.operationId) ?? `${action} ${address}`;
        operations[id] = this.operation(id, action, address, keys, op, path);
      }
      channels[address] = channel;
    }
  }

  private v3Channels(channels: Record<string, Channel>, operations: Record<string, Operation>): void {
    const byObject = new Map<object, Channel>();
    for (const [id, c] of Object.entries(obj(this.doc.channels))) {
      const co = obj(c);
      // A null address is a dynamic channel (AsyncAPI 3.0 §Channel Object); its id stands in for the address.
      const address = str(co.address) ?? `{${id}}`;
      const channel: Channel = {
        address,
        id,
        parameters: this.parameters(co.parameters),
        messages: {},
        servers: list(co.servers)
          .map((s) => this.serverName(s))
          .sort(),
        bindings: this.bindings(co.bindings),
        tags: tags(co.tags),
        sourcePath: ["channels", id],
      };
      const d = str(co.description);
      if (d !== undefined) channel.description = d;
      for (const [key, m] of Object.entries(obj(co.messages))) {
        const message = this.message(obj(m), key, ["channels", id, "messages", key]);
        channel.messages[message.key] ??= message;
        if (isObj(m)) this.messageKeys.set(m, message.key);
      }
      // Two 3.0 channels may share an address (e.g. on different servers): they are one topic, so merge them.
      const existing = channels[address];
      if (existing) {
        for (const [key, message] of Object.entries(channel.messages)) existing.messages[key] ??= message;
        existing.servers = existing.servers.length === 0 || channel.servers.length === 0 ? [] : [...new Set([...existing.servers, ...channel.servers])].sort();
        Object.assign(existing.parameters, channel.parameters);
      } else channels[address] = channel;
      byObject.set(co, existing ?? channel);
      this.channelAddresses.set(co, address);
    }
    for (const [id, o] of Object.entries(obj(this.doc.operations))) {
      const op: Obj = {};
      const oo = obj(o);
      for (const t of list(oo.traits)) Object.assign(op, obj(t));
      Object.assign(op, oo);
      const channel = isObj(op.channel) ? byObject.get(op.channel) : undefined;
      const address = channel?.address ?? "";
      const keys = Array.isArray(op.messages)
        ? op.messages.map((m) => (isObj(m) ? (this.messageKeys.get(m) ?? str(m.name) ?? "") : "")).filter(Boolean)
        : Object.keys(channel?.messages ?? {});
      const action: Action = op.action === "send" ? "send" : "receive";
      const operation = this.operation(id, action, address, keys.sort(), op, ["operations", id]);
      const reply = obj(op.reply);
      if (isObj(reply.channel)) {
        const replyAddress = this.channelAddresses.get(reply.channel);
        if (replyAddress !== undefined) operation.reply = replyAddress;
      }
      operations[id] = operation;
    }
  }

  private serverName(s: unknown): string {
    const servers = obj(this.doc.servers);
    for (const [name, value] of Object.entries(servers)) if (value === s) return name;
    return "";
  }

  private operation(id: string, action: Action, channel: string, messages: string[], op: Obj, path: (string | number)[]): Operation {
    const operation: Operation = {
      id,
      action,
      channel,
      messages: [...new Set(messages)].sort(),
      security: this.security(op.security),
      bindings: this.bindings(op.bindings),
      tags: tags(op.tags),
      sourcePath: path,
    };
    const summary = str(op.summary);
    if (summary !== undefined) operation.summary = summary;
    const d = str(op.description);
    if (d !== undefined) operation.description = d;
    return operation;
  }
}

/** OpenAPI 3.0 schema objects are converted with the official AsyncAPI OpenAPI schema parser (exact for payload shapes). */
async function convertOpenApi(message: Message, field: "payload" | "headers"): Promise<void> {
  const parser = OpenAPISchemaParser();
  const input = { data: message[field], meta: {}, path: [], schemaFormat: CANONICAL_FORMAT.openapi, defaultSchemaFormat: "" };
  try {
    const converted = await parser.parse(input as unknown as Parameters<typeof parser.parse>[0]);
    message[field] = converted as JsonSchema;
    if (field === "payload") message.schemaFormat = CANONICAL_FORMAT.jsonschema!;
  } catch {
    // Not a convertible OpenAPI schema (validation reports why): compare it by content hash instead.
    if (field === "payload") message.payloadComparable = false;
    else message.headersComparable = false;
  }
}

/** Normalises a dereferenced AsyncAPI 2.x or 3.0 document into the canonical {@link Contract}. */
export async function normalise(document: Record<string, unknown>, options: NormaliseOptions = {}): Promise<Contract> {
  return new Normaliser(document, options).run();
}
