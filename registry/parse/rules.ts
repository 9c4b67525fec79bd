/**
 * The rules of `@asyncapi/parser`'s ruleset that say more than its JSON Schema, written over the dereferenced
 * document (resolved rules) or the root file as written (the few rules Spectral runs unresolved). Each is a port of
 * the parser's own function (cjs/ruleset/…, @asyncapi/parser 3.6.6) with the same code, message and path; see
 * validate.ts for the rules left out and why.
 */
import { lastVersion } from "@asyncapi/parser/cjs/constants.js";
import { getDefaultSchemaFormat, getSchemaFormat, parseSchema, validateSchema } from "@asyncapi/parser/cjs/schema-parser/index.js";
import type { Parser } from "@asyncapi/parser";
import type { SchemaObject } from "ajv";
import type { Severity } from "../types.ts";
import { fullFormats } from "ajv-formats/dist/formats.js";
import { schemaCheck, type AjvInstances, type CheckResult } from "./schema-check.ts";

/** A rule result before it is located: the rule's code, severity and message, the path in the document it ran on. */
export interface RuleResult extends CheckResult {
  code: string;
  severity: Severity;
  /** false: the path is in the root file as written; true: in the dereferenced document. */
  resolved: boolean;
  /** Spectral's `{{error}}` rules print the function's message; the others print their description. */
  description: string | null;
}

type Json = Record<string, unknown>;
type Path = (string | number)[];

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value);
const entries = (value: unknown): [string, unknown][] => (isObject(value) ? Object.entries(value) : []);

/** `parseUrlVariables` of the parser's ruleset utils. */
function urlVariables(text: unknown): string[] {
  if (typeof text !== "string") return [];
  return (text.match(/{(.+?)}/g) ?? []).map((v) => v.slice(1, -1));
}
const missingProps = (names: string[], object: unknown) => (isObject(object) ? names.filter((n) => !(n in object)) : names);
const redundantProps = (names: string[], object: unknown) => (isObject(object) ? Object.keys(object).filter((k) => !names.includes(k)) : []);

interface Emit {
  (code: string, results: CheckResult[] | undefined, options?: { severity?: Severity; resolved?: boolean; description?: string | null }): void;
}

function collector(): { results: RuleResult[]; emit: Emit } {
  const results: RuleResult[] = [];
  const emit: Emit = (code, found, options = {}) => {
    for (const r of found ?? []) {
      results.push({ ...r, code, severity: options.severity ?? "error", resolved: options.resolved ?? true, description: options.description ?? null });
    }
  };
  return { results, emit };
}

// --- Rules on the root file as written (Spectral `resolved: false`) ----------------------------------------------

const URI_REFERENCE = fullFormats["uri-reference"] as RegExp;

/** A Reference Object as the rule's input schema wants it: an object whose `$ref`, if any, is a URI reference. */
function validReference(value: unknown): boolean {
  if (!isObject(value)) return false;
  return value.$ref === undefined || (typeof value.$ref === "string" && URI_REFERENCE.test(value.$ref));
}

/**
 * The input schema of `operationMessagesUnambiguity` ({ channel?: Reference, messages?: Reference[] }), checked by
 * hand with the same format test ajv-formats applies: compiling it would cost a CLI run a new ajv instance.
 */
function validOperationInput(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (value.channel !== undefined && !validReference(value.channel)) return false;
  return value.messages === undefined || (Array.isArray(value.messages) && value.messages.every(validReference));
}

/** The v3 rules Spectral runs on the unresolved root document: where a `$ref` points matters, not what it reaches. */
export function unresolvedRules(raw: Json, major: number): RuleResult[] {
  const { results, emit } = collector();
  if (major !== 3) return results;
  const operations: [Path, unknown][] = [
    ...entries(raw.operations).map(([k, v]) => [["operations", k], v] as [Path, unknown]),
    ...entries(isObject(raw.components) ? raw.components.operations : undefined).map(([k, v]) => [["components", "operations", k], v] as [Path, unknown]),
  ];
  for (const [path, operation] of operations) {
    // operationMessagesUnambiguity: input { channel: Reference, messages: Reference[] }.
    if (!isObject(operation) || !validOperationInput(operation)) continue;
    const channelPointer = isObject(operation.channel) ? operation.channel.$ref : undefined;
    const found: CheckResult[] = [];
    (operation.messages as Json[] | undefined)?.forEach((message, index) => {
      const ref = message.$ref as string | undefined;
      if (ref && !ref.startsWith(`${String(channelPointer)}/messages`)) found.push({ message: "Operation message does not belong to the specified channel.", path: [...path, "messages", index] });
    });
    emit("asyncapi3-operation-messages-from-referred-channel", found, { resolved: false });
  }
  for (const [key, operation] of entries(raw.operations)) {
    const ref = isObject(operation) && isObject(operation.channel) ? operation.channel.$ref : undefined;
    if (typeof ref === "string" && !/#\/channels\//.test(ref)) {
      emit("asyncapi3-required-operation-channel-unambiguity", [{ message: "", path: ["operations", key, "channel", "$ref"] }], {
        resolved: false,
        description: 'The "channel" field of an operation under the root "operations" object must always reference a channel under the root "channels" object.',
      });
    }
  }
  for (const [key, channel] of entries(raw.channels)) {
    const servers = isObject(channel) ? channel.servers : undefined;
    if (!servers || typeof servers !== "object") continue;
    for (const [index, server] of Object.entries(servers as object)) {
      const ref = isObject(server) ? server.$ref : undefined;
      if (typeof ref === "string" && !/#\/servers\//.test(ref)) {
        emit("asyncapi3-required-channel-servers-unambiguity", [{ message: "", path: ["channels", key, "servers", Array.isArray(servers) ? Number(index) : index, "$ref"] }], {
          resolved: false,
          description: 'The "servers" field of a channel under the root "channels" object must always reference a subset of the servers under the root "servers" object.',
        });
      }
    }
  }
  return results;
}

// --- Rules on the dereferenced document ---------------------------------------------------------------------------

/** `channelServers` (2.x and 3.x): input { servers: object, channels: { [k]: { servers: string[] } } }. */
function channelServers(doc: Json): CheckResult[] {
  if (doc.servers !== undefined && !isObject(doc.servers)) return [];
  if (doc.channels !== undefined) {
    if (!isObject(doc.channels)) return [];
    for (const channel of Object.values(doc.channels)) {
      if (!isObject(channel)) return [];
      if (channel.servers !== undefined && !(Array.isArray(channel.servers) && channel.servers.every((s) => typeof s === "string"))) return [];
    }
  }
  const found: CheckResult[] = [];
  if (!doc.channels) return found;
  const serverNames = Object.keys(doc.servers ?? {});
  for (const [address, channel] of entries(doc.channels)) {
    const servers = (channel as Json).servers as string[] | undefined;
    servers?.forEach((name, index) => {
      if (!serverNames.includes(name)) found.push({ message: 'Channel contains server that are not defined on the "servers" object.', path: ["channels", address, "servers", index] });
    });
  }
  return found;
}

/** `@key` of `$.channels` must not match `[?#]`. */
function noQueryNorFragment(doc: Json): CheckResult[] {
  return entries(doc.channels)
    .filter(([key]) => /[?#]/.test(key))
    .map(([key]) => ({ message: "", path: ["channels", key] }));
}

const OAUTH2_FLOWS = ["implicit", "password", "clientCredentials", "authorizationCode"];

/** `security` (2.x): a security requirement names defined schemes, and defined scopes of OAuth2 schemes. */
function security(requirement: unknown, path: Path, objectType: "Server" | "Operation", doc: Json): CheckResult[] {
  if (!isObject(requirement) || !Object.values(requirement).every((v) => Array.isArray(v) && v.every((s) => typeof s === "string"))) return [];
  const schemes = (isObject(doc.components) && isObject(doc.components.securitySchemes) ? doc.components.securitySchemes : {}) as Json;
  const found: CheckResult[] = [];
  for (const key of Object.keys(requirement)) {
    if (!Object.keys(schemes).includes(key)) found.push({ message: `${objectType} must not reference an undefined security scheme.`, path: [...path, key] });
    const scheme = schemes[key];
    if (isObject(scheme) && scheme.type === "oauth2") {
      const flows = (scheme.flows ?? {}) as Json;
      const available = [...new Set(OAUTH2_FLOWS.flatMap((flow) => (isObject(flows[flow]) ? Object.keys((flows[flow] as Json).scopes as object) : [])))];
      (requirement[key] as string[]).forEach((scope, index) => {
        if (!available.includes(scope)) found.push({ message: `Non-existing security scope for the specified security scheme. Available: [${available.join(", ")}]`, path: [...path, key, index] });
      });
    }
  }
  return found;
}

/** `getAllOperations` of the v2 ruleset utils. */
function* operationsOf(doc: Json): Generator<{ path: Path; operation: Json }> {
  if (!isObject(doc.channels)) return;
  for (const [address, channel] of Object.entries(doc.channels)) {
    if (!isObject(channel)) continue;
    if (isObject(channel.subscribe)) yield { path: ["channels", address, "subscribe"], operation: channel.subscribe };
    if (isObject(channel.publish)) yield { path: ["channels", address, "publish"], operation: channel.publish };
  }
}

/** `getAllMessages` of the v2 ruleset utils. */
function* messagesOf(doc: Json): Generator<{ path: Path; message: Json }> {
  for (const { path, operation } of operationsOf(doc)) {
    const message = operation.message;
    if (!isObject(message)) continue;
    if (Array.isArray(message.oneOf)) {
      for (const [index, item] of message.oneOf.entries()) if (isObject(item)) yield { path: [...path, "message", "oneOf", index], message: item };
    } else yield { path: [...path, "message"], message };
  }
}

/** `operationIdUniqueness` / `messageIdUniqueness`: the id of an item is the last trait's, else its own. */
function uniqueIds(items: Iterable<{ path: Path; item: Json }>, field: "operationId" | "messageId", message: string): CheckResult[] {
  const found: CheckResult[] = [];
  const seen = new Set<string>();
  for (const { path, item } of items) {
    let id: { value: string; path: Path } | undefined;
    if (Array.isArray(item.traits)) {
      for (let i = item.traits.length - 1; i >= 0 && !id; i--) {
        const trait = item.traits[i] as unknown;
        if (isObject(trait) && typeof trait[field] === "string") id = { value: trait[field] as string, path: ["traits", i, field] };
      }
    }
    if (!id && typeof item[field] === "string") id = { value: item[field] as string, path: [field] };
    if (!id) continue;
    if (seen.has(id.value)) found.push({ message, path: [...path, ...id.path] });
    else seen.add(id.value);
  }
  return found;
}

/** `uniquenessTags`: input an array of objects with a string `name`. */
function uniqueTags(tags: unknown, path: Path): CheckResult[] {
  if (!Array.isArray(tags) || !tags.every((t) => isObject(t) && typeof t.name === "string")) return [];
  const names = (tags as Json[]).map((t) => t.name);
  const found: CheckResult[] = [];
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) found.push({ message: `"tags" object contains duplicate tag name "${String(name)}".`, path: [...path, i, "name"] });
  });
  return found;
}

/** Message positions of a 2.x document: operation messages (and their `oneOf` items) and components. */
interface MessageSite {
  path: Path;
  message: unknown;
  /** A `oneOf` item, which some rules do not visit. */
  oneOfItem: boolean;
}

function messageSites(doc: Json): MessageSite[] {
  const sites: MessageSite[] = [];
  const channelSets: [Path, unknown][] = [[["channels"], doc.channels], [["components", "channels"], isObject(doc.components) ? doc.components.channels : undefined]];
  for (const [base, channels] of channelSets) {
    for (const [address, channel] of entries(channels)) {
      if (!isObject(channel)) continue;
      for (const kind of ["publish", "subscribe"]) {
        const operation = channel[kind];
        if (!isObject(operation) || !("message" in operation)) continue;
        const path = [...base, address, kind, "message"];
        sites.push({ path, message: operation.message, oneOfItem: false });
        const message = operation.message;
        if (isObject(message) && Array.isArray(message.oneOf)) message.oneOf.forEach((item, i) => sites.push({ path: [...path, "oneOf", i], message: item, oneOfItem: true }));
      }
    }
  }
  for (const [name, message] of entries(isObject(doc.components) ? doc.components.messages : undefined)) sites.push({ path: ["components", "messages", name], message, oneOfItem: false });
  return sites;
}

/** Message traits of a 2.x document, by the paths `asyncapi2-message-examples` visits. */
function traitSites(doc: Json): { path: Path; trait: unknown }[] {
  const sites: { path: Path; trait: unknown }[] = [];
  for (const site of messageSites(doc)) {
    if (!isObject(site.message) || !Array.isArray(site.message.traits)) continue;
    site.message.traits.forEach((trait, i) => sites.push({ path: [...site.path, "traits", i], trait }));
  }
  for (const [name, trait] of entries(isObject(doc.components) ? doc.components.messageTraits : undefined)) sites.push({ path: ["components", "messageTraits", name], trait });
  return sites;
}

/** `messageExamples`' schema for a missing or boolean payload/headers schema. */
function exampleSchema(schema: unknown, type: "payload" | "headers"): SchemaObject {
  if (!schema && typeof schema !== "boolean") return type === "headers" ? { type: "object" } : {};
  if (typeof schema === "boolean") return schema ? {} : { not: {} };
  return schema as SchemaObject;
}

const validMessageInput = (m: Json) => (m.name === undefined || typeof m.name === "string") && (m.summary === undefined || typeof m.summary === "string");

/** The context the v2 schema-format rules need: the parser (its schema parsers) and the document's input. */
export interface SchemaFormatContext {
  parser: Parser;
  /** The root text, as the parser's `createDetailedAsyncAPI` records it. */
  input: string;
  source: string;
  /** Spectral's ajv instances for user schemas, new for every document as Spectral's are. */
  instances: AjvInstances;
}

/** Every rule on the dereferenced document (`view`: the same, acyclic, for the JSON Schema based rules). */
export async function resolvedRules(doc: Json, view: Json, major: number, context: SchemaFormatContext): Promise<RuleResult[]> {
  const { results, emit } = collector();
  if (doc.asyncapi !== lastVersion) {
    emit("asyncapi-latest-version", [{ message: "", path: ["asyncapi"] }], {
      severity: "info",
      description: `The latest version of AsyncAPi is not used. It is recommended update to the "${lastVersion}" version.`,
    });
  }
  if (major === 3) {
    emit("asyncapi3-channel-servers", channelServers(doc));
    emit("asyncapi3-channel-no-query-nor-fragment", noQueryNorFragment(doc), { description: 'Channel address should not include query ("?") or fragment ("#") delimiter.' });
    const channels: [Path, unknown][] = [
      ...entries(doc.channels).map(([k, v]) => [["channels", k], v] as [Path, unknown]),
      ...entries(isObject(doc.components) ? doc.components.channels : undefined).map(([k, v]) => [["components", "channels", k], v] as [Path, unknown]),
    ];
    for (const [path, channel] of channels) {
      // v3ChannelParameters: input { address: string | null, parameters: object } with parameters required.
      if (!isObject(channel) || !isObject(channel.parameters) || (channel.address !== undefined && channel.address !== null && typeof channel.address !== "string")) continue;
      const variables = urlVariables(channel.address ?? "");
      const found: CheckResult[] = [];
      const missing = missingProps(variables, channel.parameters);
      if (missing.length) found.push({ message: `Not all channel's parameters are described with "parameters" object. Missed: ${missing.join(", ")}.`, path: [...path, "parameters"] });
      for (const param of redundantProps(variables, channel.parameters)) found.push({ message: `Channel's "parameters" object has redundant defined "${param}" parameter.`, path: [...path, "parameters", param] });
      emit("asyncapi3-channel-parameters", found);
    }
    return results;
  }

  // 2.x core rules.
  for (const [name, server] of entries(doc.servers)) {
    if (!isObject(server) || !Array.isArray(server.security)) continue;
    server.security.forEach((requirement, i) => emit("asyncapi2-server-security", security(requirement, ["servers", name, "security", i], "Server", doc)));
  }
  const servers: [Path, unknown][] = [
    ...entries(doc.servers).map(([k, v]) => [["servers", k], v] as [Path, unknown]),
    ...entries(isObject(doc.components) ? doc.components.servers : undefined).map(([k, v]) => [["components", "servers", k], v] as [Path, unknown]),
  ];
  for (const [path, server] of servers) {
    if (!isObject(server) || typeof server.url !== "string" || !isObject(server.variables)) continue;
    const variables = urlVariables(server.url);
    if (variables.length === 0) continue;
    const found: CheckResult[] = [];
    const missing = missingProps(variables, server.variables);
    if (missing.length) found.push({ message: `Not all server's variables are described with "variables" object. Missed: ${missing.join(", ")}.`, path: [...path, "variables"] });
    for (const v of redundantProps(variables, server.variables)) found.push({ message: `Server's "variables" object has redundant defined "${v}" url variable.`, path: [...path, "variables", v] });
    emit("asyncapi2-server-variables", found);
  }
  for (const [address, channel] of entries(doc.channels)) {
    if (!isObject(channel) || !isObject(channel.parameters)) continue;
    const parameters = urlVariables(address);
    if (parameters.length === 0) continue;
    const found: CheckResult[] = [];
    const missing = missingProps(parameters, channel.parameters);
    if (missing.length) found.push({ message: `Not all channel's parameters are described with "parameters" object. Missed: ${missing.join(", ")}.`, path: ["channels", address, "parameters"] });
    for (const p of redundantProps(parameters, channel.parameters)) found.push({ message: `Channel's "parameters" object has redundant defined "${p}" parameter.`, path: ["channels", address, "parameters", p] });
    emit("asyncapi2-channel-parameters", found);
  }
  emit("asyncapi2-channel-servers", channelServers(doc));
  emit("asyncapi2-channel-no-query-nor-fragment", noQueryNorFragment(doc), { description: 'Channel address should not include query ("?") or fragment ("#") delimiter.' });
  emit(
    "asyncapi2-operation-operationId-uniqueness",
    uniqueIds([...operationsOf(doc)].map(({ path, operation }) => ({ path, item: operation })), "operationId", '"operationId" must be unique across all the operations.'),
    { description: '"operationId" must be unique across all the operations.' },
  );
  for (const { path, operation } of operationsOf(doc)) {
    if (!Array.isArray(operation.security)) continue;
    operation.security.forEach((requirement, i) => emit("asyncapi2-operation-security", security(requirement, [...path, "security", i], "Operation", doc)));
  }
  emit(
    "asyncapi2-message-messageId-uniqueness",
    uniqueIds([...messagesOf(doc)].map(({ path, message }) => ({ path, item: message })), "messageId", '"messageId" must be unique across all the messages.'),
    { description: '"messageId" must be unique across all the messages.' },
  );
  for (const { path, tags } of tagSites(doc)) emit("asyncapi2-tags-uniqueness", uniqueTags(tags, path));

  // asyncapi2-message-examples: examples of messages and traits without schemaFormat, against payload and headers.
  const viewOf = (path: Path) => path.reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string | number, unknown>)[key] : undefined), view);
  const exampleTargets: { path: Path; value: unknown }[] = [
    ...messageSites(doc).map((s) => ({ path: s.path, value: s.message })),
    ...traitSites(doc).map((s) => ({ path: s.path, value: s.trait })),
  ];
  for (const { path, value } of exampleTargets) {
    if (!isObject(value) || value.schemaFormat !== undefined || !validMessageInput(value) || !value.examples) continue;
    const viewed = viewOf(path) as Json;
    const payloadSchema = exampleSchema(viewed.payload, "payload");
    const headersSchema = exampleSchema(viewed.headers, "headers");
    const found: CheckResult[] = [];
    if (Array.isArray(viewed.examples)) {
      viewed.examples.forEach((example: unknown, index) => {
        const e = example as Json | null | undefined;
        if (e?.payload !== undefined) found.push(...schemaCheck(e.payload, payloadSchema, [...path, "examples", index, "payload"], { instances: context.instances, allErrors: true, resolved: true }));
        if (e?.headers !== undefined) found.push(...schemaCheck(e.headers, headersSchema, [...path, "examples", index, "headers"], { instances: context.instances, allErrors: true, resolved: true }));
      });
    }
    emit("asyncapi2-message-examples", found);
  }

  // asyncapi2-schema-default and asyncapi2-schema-examples: defaults and examples of schemas against the schema.
  for (const { path, schema } of schemaSites(doc)) {
    if (!isObject(schema)) continue;
    const viewed = viewOf(path) as Json;
    for (const [code, type] of [["asyncapi2-schema-default", "default"], ["asyncapi2-schema-examples", "examples"]] as const) {
      if (!(type in schema)) continue;
      if (schema.examples !== undefined && !Array.isArray(schema.examples)) {
        emit(code, [{ message: '#{{print("property")}must be an object containing "default" or an "examples" array', path }]);
        continue;
      }
      const items = type === "default" ? [{ path: ["default"] as Path, value: viewed.default }] : (viewed.examples as unknown[]).map((value, i) => ({ path: ["examples", i] as Path, value }));
      const found: CheckResult[] = [];
      for (const item of items) {
        const result = schemaCheck(item.value, viewed as SchemaObject, [...path, ...item.path], { instances: context.instances, allErrors: true, resolved: true });
        if (typeof item.value !== "string") found.push(...result);
      }
      emit(code, found);
    }
  }

  // On the acyclic view: the schema parsers walk the payloads recursively.
  await schemaFormatRules(view, emit, context);
  return results;
}

/** Tag lists the 2.x `asyncapi2-tags-uniqueness` rule visits. */
function tagSites(doc: Json): { path: Path; tags: unknown }[] {
  const sites: { path: Path; tags: unknown }[] = [];
  if ("tags" in doc) sites.push({ path: ["tags"], tags: doc.tags });
  const components = isObject(doc.components) ? doc.components : {};
  const withTraits = (path: Path, node: unknown) => {
    if (!isObject(node)) return;
    if ("tags" in node) sites.push({ path: [...path, "tags"], tags: node.tags });
    if (isObject(node.traits) || Array.isArray(node.traits)) for (const [i, trait] of Object.entries(node.traits as object)) if (isObject(trait) && "tags" in trait) sites.push({ path: [...path, "traits", Array.isArray(node.traits) ? Number(i) : i, "tags"], tags: trait.tags });
  };
  for (const [base, channels] of [[["channels"], doc.channels], [["components", "channels"], components.channels]] as [Path, unknown][]) {
    for (const [address, channel] of entries(channels)) {
      if (!isObject(channel)) continue;
      for (const kind of ["publish", "subscribe"]) {
        const operation = channel[kind];
        if (!isObject(operation)) continue;
        const path = [...base, address, kind];
        withTraits(path, operation);
        const message = operation.message;
        if (!isObject(message)) continue;
        withTraits([...path, "message"], message);
        if (isObject(message.oneOf) || Array.isArray(message.oneOf)) for (const [i, item] of Object.entries(message.oneOf as object)) withTraits([...path, "message", "oneOf", Array.isArray(message.oneOf) ? Number(i) : i], item);
      }
    }
  }
  for (const [name, trait] of entries(components.operationTraits)) if (isObject(trait) && "tags" in trait) sites.push({ path: ["components", "operationTraits", name, "tags"], tags: trait.tags });
  for (const [name, message] of entries(components.messages)) withTraits(["components", "messages", name], message);
  for (const [name, trait] of entries(components.messageTraits)) if (isObject(trait) && "tags" in trait) sites.push({ path: ["components", "messageTraits", name, "tags"], tags: trait.tags });
  return sites;
}

/** Schemas whose `default`/`examples` the 2.x schema rules check (their `given` paths). */
function schemaSites(doc: Json): { path: Path; schema: unknown }[] {
  const sites: { path: Path; schema: unknown }[] = [];
  const components = isObject(doc.components) ? doc.components : {};
  for (const [base, channels] of [[["channels"], doc.channels], [["components", "channels"], components.channels]] as [Path, unknown][]) {
    for (const [address, channel] of entries(channels)) {
      if (!isObject(channel)) continue;
      for (const kind of ["publish", "subscribe"]) {
        const operation = channel[kind];
        const message = isObject(operation) ? operation.message : undefined;
        if (isObject(message) && message.schemaFormat === undefined) sites.push({ path: [...base, address, kind, "message", "payload"], schema: message.payload });
      }
      for (const [name, parameter] of entries(channel.parameters)) if (isObject(parameter)) sites.push({ path: [...base, address, "parameters", name, "schema"], schema: parameter.schema });
    }
  }
  for (const [name, schema] of entries(components.schemas)) sites.push({ path: ["components", "schemas", name], schema });
  for (const [name, parameter] of entries(components.parameters)) if (isObject(parameter)) sites.push({ path: ["components", "parameters", name, "schema"], schema: parameter.schema });
  for (const [name, message] of entries(components.messages)) if (isObject(message) && message.schemaFormat === undefined) sites.push({ path: ["components", "messages", name, "payload"], schema: message.payload });
  for (const [name, trait] of entries(components.messageTraits)) if (isObject(trait) && trait.schemaFormat === undefined) sites.push({ path: ["components", "messageTraits", name, "payload"], schema: trait.payload });
  return sites;
}

/**
 * `asyncapi2-schemas` (every message payload is valid in its schema format, through the registered schema parsers:
 * AsyncAPI, Avro, OpenAPI) and `asyncapi2-message-examples-custom-format` (examples of messages with an explicit
 * schemaFormat against the payload converted by its parser).
 */
async function schemaFormatRules(doc: Json, emit: Emit, context: SchemaFormatContext): Promise<void> {
  const version = String(doc.asyncapi);
  const asyncapi = { source: context.source, input: context.input, parsed: doc, semver: semverOf(version) };
  const defaultSchemaFormat = getDefaultSchemaFormat(version);
  const thrown = (error: unknown, path: Path): CheckResult[] => {
    const e = error as Error;
    return [{ message: `Error thrown during schema validation. Name: ${e.name}, message: ${e.message}, stack: ${e.stack}`, path }];
  };
  for (const site of messageSites(doc)) {
    const message = site.message;
    if (!isObject(message) || (message.schemaFormat !== undefined && typeof message.schemaFormat !== "string") || !message.payload) continue;
    const path = [...site.path, "payload"];
    const schemaFormat = getSchemaFormat(message.schemaFormat as string | undefined, version);
    let found: CheckResult[];
    try {
      found = (await validateSchema(context.parser as never, { asyncapi, data: message.payload, meta: {}, path, schemaFormat, defaultSchemaFormat } as never)) as CheckResult[];
    } catch (error) {
      found = thrown(error, path);
    }
    // The parser downgrades "no schema parser registered" to a warning: the document stays valid.
    const unregistered = found.filter((r) => typeof r.message === "string" && r.message.startsWith("No schema parser registered for"));
    emit("asyncapi2-schemas", found.filter((r) => !unregistered.includes(r)), { description: null });
    emit("asyncapi2-schemas", unregistered, { severity: "warning" });
  }
  const targets = [...messageSites(doc).map((s) => ({ path: s.path, value: s.message })), ...traitSites(doc).map((s) => ({ path: s.path, value: s.trait }))];
  for (const { path, value } of targets) {
    if (!isObject(value) || value.schemaFormat === undefined || !validMessageInput(value) || !value.examples || !value.payload) continue;
    const schemaFormat = getSchemaFormat(value.schemaFormat as string | undefined, version);
    const found: CheckResult[] = [];
    let payloadSchema: unknown;
    try {
      payloadSchema = await parseSchema(context.parser as never, { asyncapi, data: value.payload, meta: {}, path: [...path, "payload"], schemaFormat, defaultSchemaFormat } as never);
    } catch (error) {
      found.push(...thrown(error, [...path, "payload"]));
    }
    if (Array.isArray(value.examples)) {
      value.examples.forEach((example: unknown, index) => {
        const e = example as Json | null | undefined;
        if (e?.payload !== undefined && payloadSchema !== undefined) {
          found.push(...schemaCheck(e.payload, payloadSchema as SchemaObject, [...path, "examples", index, "payload"], { instances: context.instances, allErrors: true, resolved: true }));
        }
      });
    }
    emit("asyncapi2-message-examples-custom-format", found);
  }
}

function semverOf(version: string) {
  const [major, minor, patchWithRc] = version.split(".");
  const [patch, rc] = (patchWithRc ?? "").split("-rc");
  return { version, major: Number(major), minor: Number(minor), patch: Number(patch), rc: rc ? Number(rc) : undefined };
}

// --- The recommended 2.x rules: warnings and infos, never a refusal ------------------------------------------------

const valueAtPath = (node: unknown, path: readonly (string | number)[]) =>
  path.reduce<unknown>((n, k) => (n !== null && typeof n === "object" ? (n as Record<string | number, unknown>)[k] : undefined), node);

/** The recommended rules of 2.x documents on the dereferenced document (core `recommendedRuleset` and v2's). */
export function recommendedRules(doc: Json, version: string): RuleResult[] {
  const { results, emit } = collector();
  const warn = (code: string, description: string, found: CheckResult[]) => emit(code, found, { severity: "warning", description });
  const truthy = (code: string, description: string, base: Path, field: Path) => {
    if (!valueAtPath(valueAtPath(doc, base), field)) warn(code, description, [{ message: "", path: [...base, ...field] }]);
  };
  truthy("asyncapi-id", 'AsyncAPI document should have "id" field.', [], ["id"]);
  truthy("asyncapi-defaultContentType", 'AsyncAPI document should have "defaultContentType" field.', [], ["defaultContentType"]);
  truthy("asyncapi-info-description", 'Info "description" should be present and non-empty string.', [], ["info", "description"]);
  truthy("asyncapi-info-contact", 'Info object should have "contact" object.', [], ["info", "contact"]);
  const info = isObject(doc.info) ? doc.info : undefined;
  if (info && "contact" in info && isObject(info.contact)) {
    for (const field of ["name", "url", "email"]) truthy("asyncapi-info-contact-properties", 'Contact object should have "name", "url" and "email" fields.', ["info", "contact"], [field]);
  }
  truthy("asyncapi-info-license", 'Info object should have "license" object.', [], ["info", "license"]);
  if (!isObject(doc.servers) || Object.keys(doc.servers).length < 1) warn("asyncapi-servers", 'AsyncAPI document should have non-empty "servers" object.', [{ message: "", path: ["servers"] }]);
  truthy("asyncapi2-tags", 'AsyncAPI object should have non-empty "tags" array.', [], ["tags"]);
  for (const [name, server] of entries(doc.servers)) {
    const url = isObject(server) ? server.url : undefined;
    if (typeof url !== "string") continue;
    if (/{}/.test(url)) warn("asyncapi2-server-no-empty-variable", "Server URL should not have empty variable substitution pattern.", [{ message: "", path: ["servers", name, "url"] }]);
    if (/\/$/.test(url)) warn("asyncapi2-server-no-trailing-slash", "Server URL should not end with slash.", [{ message: "", path: ["servers", name, "url"] }]);
  }
  for (const [key] of entries(doc.channels)) {
    if (/{}/.test(key)) warn("asyncapi2-channel-no-empty-parameter", "Channel address should not have empty parameter substitution pattern.", [{ message: "", path: ["channels", key] }]);
    if (/.+\/$/.test(key)) warn("asyncapi2-channel-no-trailing-slash", "Channel address should not end with slash.", [{ message: "", path: ["channels", key] }]);
  }
  // checkId: the id after the traits are merged (the last trait naming the field wins).
  const idOf = (item: Json, field: string): unknown => {
    let id = item[field];
    if (Array.isArray(item.traits)) for (const trait of item.traits) if (trait !== null && typeof trait === "object" && field in trait) id = (trait as Json)[field];
    return id;
  };
  const checkIdInput = (item: unknown): item is Json =>
    isObject(item) && (item.traits === undefined || (Array.isArray(item.traits) && item.traits.every((t) => t !== null && typeof t === "object" && !Array.isArray(t))));
  const components = isObject(doc.components) ? doc.components : {};
  for (const [base, channels] of [[["channels"], doc.channels], [["components", "channels"], components.channels]] as [Path, unknown][]) {
    for (const [address, channel] of entries(channels)) {
      if (!isObject(channel)) continue;
      for (const kind of ["publish", "subscribe"]) {
        if (!(kind in channel)) continue;
        const operation = channel[kind];
        if (checkIdInput(operation) && !idOf(operation, "operationId")) warn("asyncapi2-operation-operationId", 'Operation should have an "operationId" field defined.', [{ message: "", path: [...base, address, kind] }]);
      }
    }
  }
  if (!["2.0.0", "2.1.0", "2.2.0", "2.3.0"].includes(version)) {
    for (const site of messageSites(doc)) {
      const message = site.message;
      // `message` itself only when it has no oneOf (and is not null); every oneOf item; every component message.
      if (!site.oneOfItem && site.path[site.path.length - 1] === "message" && (message === null || (isObject(message) && message.oneOf !== undefined && message.oneOf !== null))) continue;
      if (checkIdInput(message) && !idOf(message, "messageId")) warn("asyncapi2-message-messageId", 'Message should have a "messageId" field defined.', [{ message: "", path: site.path }]);
    }
  }
  return results;
}

/** `asyncapi-unused-component` (2.x, info): a component no reference of the root file names. */
export function unusedComponents(raw: Json, referenced: ReadonlySet<string>): RuleResult[] {
  const { results, emit } = collector();
  if (!isObject(raw.components)) return results;
  for (const [type, value] of Object.entries(raw.components)) {
    if (type === "securitySchemes" || !isObject(value)) continue;
    const orphans = Object.keys(value).filter((name) => !referenced.has(`/components/${type}/${name}`));
    emit("asyncapi-unused-component", orphans.map((name) => ({ message: "", path: ["components", type, name] })), {
      severity: "info",
      resolved: false,
      description: "Potentially unused component has been detected in AsyncAPI document.",
    });
  }
  return results;
}

/** `asyncapi2-unused-securityScheme` (2.x, info), on the root file as written. */
export function unusedSecuritySchemes(raw: Json): RuleResult[] {
  const { results, emit } = collector();
  const schemes = isObject(raw.components) ? raw.components.securitySchemes : undefined;
  if (!isObject(raw.components) || !isObject(schemes)) return results;
  const used = new Set<string>();
  const collect = (security: unknown) => {
    if (Array.isArray(security)) for (const requirement of security) if (requirement !== null && typeof requirement === "object") for (const key of Object.keys(requirement)) used.add(key);
  };
  if (isObject(raw.servers)) for (const server of Object.values(raw.servers)) collect(isObject(server) ? server.security : undefined);
  for (const { operation } of operationsOf(raw)) collect(operation.security);
  const unused = Object.keys(schemes).filter((kind) => !used.has(kind));
  emit("asyncapi2-unused-securityScheme", unused.map((kind) => ({ message: "", path: ["components", "securitySchemes", kind] })), {
    severity: "info",
    resolved: false,
    description: "Potentially unused security scheme has been detected in AsyncAPI document.",
  });
  return results;
}
