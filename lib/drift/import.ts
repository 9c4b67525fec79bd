import "server-only";
import { eq } from "drizzle-orm";
import { isMap, parseDocument } from "yaml";
import { z } from "zod";
import { getDb } from "@/db/client.ts";
import { application, broker, contractVersion, driftFinding } from "@/db/schema.ts";
import { parseSemver, type Contract } from "@/registry/index.ts";
import { assertCan } from "@/lib/auth/permissions.ts";
import type { Principal } from "@/lib/auth/principal.ts";
import { assertWritesForTeam, currentVersions } from "@/lib/catalog/applications.ts";
import { MeshportError, parseInput } from "@/lib/errors.ts";
import { openChangeRequest, type ChangeRequestOutcome } from "@/lib/reviews/requests.ts";
import { brokerDialect } from "@/lib/brokers/dialect.ts";

/** A channel address: no spaces or topic wildcards; `{name}` placeholders only (fixed pattern, never built from input). */
const ADDRESS = /^(?:[^{}\s+#\u0000]|\{[A-Za-z0-9_-]{1,100}\})+$/;
const MESSAGE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
/** Largest inferred schema an import puts in a contract (the evidence is bounded well below it). */
const MAX_SCHEMA_BYTES = 256 * 1024;

export const importInput = z.object({
  application: z.string().trim().min(1).max(100).refine((v) => !v.includes("\u0000"), { message: "Contains a NUL character (U+0000)." }),
  channel: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .refine((v) => ADDRESS.test(v), { message: "Use a channel address without spaces or wildcards; name parameters as {name}." })
    .optional(),
  message: z.string().trim().regex(MESSAGE_NAME, { message: "Start with a letter; letters, digits, _ . - only (at most 100)." }).optional(),
  action: z.enum(["send", "receive"]).default("send"),
});
export type ImportInput = z.output<typeof importInput>;

/** What an import answers: the change request it opened, and what it added to the contract. */
export interface ImportOutcome extends ChangeRequestOutcome {
  imported: { finding: string; application: string; version: string; channel: string; channelId: string; message: string; operation: string; action: "send" | "receive" };
}

const camel = (words: string[]): string =>
  words
    .map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1)))
    .join("");

/** The words of a topic level: `line-items` → [`line`, `items`]. */
const wordsOf = (level: string): string[] => level.split(/[^A-Za-z0-9]+/).filter(Boolean);

function singular(word: string): string {
  if (/ies$/i.test(word) && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/[^s]s$/i.test(word) && word.length > 3) return word.slice(0, -1);
  return word;
}

function unique(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}${n}`;
  taken.add(name);
  return name;
}

/** The channel address an import suggests for a finding's template, in the syntax of the broker it was seen on. */
export async function suggestedChannelAddress(brokerId: string | null, template: string): Promise<string> {
  const [row] = brokerId ? await (await getDb()).select({ protocol: broker.protocol }).from(broker).where(eq(broker.id, brokerId)) : [];
  return addressFromTemplate(template, brokerDialect(row?.protocol).separator);
}

/** What separates levels in a broker's topic syntax (`/` for MQTT, `.` for NATS subjects and AMQP routing keys). */
type Separator = "/" | ".";

/**
 * The channel address for an observed template, levels split in its broker's syntax: the agent's `{p1}`
 * placeholders get names from the level before them (`plant/{p1}/temperature` → `plant/{plantId}/temperature`,
 * `orders.{p1}.created` → `orders.{orderId}.created`), else `param1`, `param2`…; named ones stay.
 */
export function addressFromTemplate(template: string, separator: Separator = "/"): string {
  const levels = template.split(separator);
  const taken = new Set(levels.flatMap((l) => [...l.matchAll(/\{([A-Za-z0-9_-]+)\}/g)].map((m) => m[1]!)).filter((n) => !/^p\d+$/.test(n)));
  let generic = 0;
  return levels
    .map((level, i) => {
      if (!/^\{p\d+\}$/.test(level)) return level;
      const before = i > 0 ? levels[i - 1]! : "";
      const words = /[{}]/.test(before) ? [] : wordsOf(before);
      const base = words.length ? `${camel([...words.slice(0, -1), singular(words[words.length - 1]!)])}Id` : "";
      return `{${unique(/^[A-Za-z]/.test(base) ? base : `param${++generic}`, taken)}}`;
    })
    .join(separator);
}

/** The parameter names of an address, in order. */
export function parametersOf(address: string): string[] {
  return [...new Set([...address.matchAll(/\{([A-Za-z0-9_-]+)\}/g)].map((m) => m[1]!))];
}

/** The literal words of an address, for names: `plant/{plantId}/temperature` → [`plant`, `temperature`]. */
function literalWords(address: string, separator: Separator = "/"): string[] {
  return address
    .split(separator)
    .filter((l) => !l.includes("{"))
    .flatMap(wordsOf)
    .slice(-6);
}

/** The inferred schema as a payload: the agent writes 2020-12's `$schema`, the document's schema format is draft-07 based. */
export function payloadFromInferred(schema: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!schema || typeof schema !== "object" || Array.isArray(schema)) return undefined;
  const { $schema: _dialect, ...rest } = schema;
  void _dialect;
  return rest;
}

/** What the import adds. */
export interface ImportPlan {
  address: string;
  channelId: string;
  message: string;
  operation: string;
  action: "send" | "receive";
  payload: Record<string, unknown> | undefined;
  description: string;
  version: string;
}

/** Names for the new channel, message and operation that no existing one of the contract uses. */
export function planNames(contract: Contract, address: string, message: string | undefined, action: "send" | "receive", separator: Separator = "/") {
  const words = literalWords(address, separator);
  const channelIds = new Set(Object.values(contract.channels).map((c) => c.id));
  const operationIds = new Set(Object.keys(contract.operations));
  const messageKeys = new Set(Object.values(contract.channels).flatMap((c) => Object.keys(c.messages)));
  const channelId = unique(camel(words.length ? words : ["channel"]), channelIds);
  const messageName = message ?? unique(camel(words.length ? words.slice(-1) : ["message"]), messageKeys);
  const operation = unique(camel([action, ...(words.length ? words : ["message"])]), operationIds);
  return { channelId, message: messageName, operation };
}

/** The 2.x channel item, or the 3.0 channel and operation, the plan adds to the document. */
export function additions(asyncapi: string, plan: ImportPlan): Array<{ path: string[]; value: unknown }> {
  const params = parametersOf(plan.address);
  const message: Record<string, unknown> = { name: plan.message, contentType: "application/json", summary: plan.description };
  if (plan.payload) message.payload = plan.payload;
  if (asyncapi.startsWith("2.")) {
    const item: Record<string, unknown> = { description: plan.description };
    if (params.length) item.parameters = Object.fromEntries(params.map((p) => [p, { description: `The ${p} level of the topic.`, schema: { type: "string" } }]));
    // AsyncAPI 2.x: `subscribe` is what the application sends, `publish` what it receives.
    item[plan.action === "send" ? "subscribe" : "publish"] = { operationId: plan.operation, message };
    return [{ path: ["channels", plan.address], value: item }];
  }
  const channel: Record<string, unknown> = { address: plan.address, description: plan.description, messages: { [plan.message]: message } };
  if (params.length) channel.parameters = Object.fromEntries(params.map((p) => [p, { description: `The ${p} level of the topic.` }]));
  const pointer = (...parts: string[]) => `#/${parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`;
  return [
    { path: ["channels", plan.channelId], value: channel },
    {
      path: ["operations", plan.operation],
      value: { action: plan.action, channel: { $ref: pointer("channels", plan.channelId) }, messages: [{ $ref: pointer("channels", plan.channelId, "messages", plan.message) }] },
    },
  ];
}

function cannotEdit(reason: string): MeshportError {
  return new MeshportError("conflict", `The contract's root file cannot be edited automatically: ${reason} Open a change request by hand.`, { subject: "contract_layout" });
}

/**
 * The root file with the additions and the new `info.version`, keeping the rest of the document: YAML through its
 * document model (comments and order stay), JSON as JSON.
 */
export function editRootFile(name: string, text: string, edits: Array<{ path: string[]; value: unknown }>, version: string): string {
  const isJson = /\.json$/i.test(name) || /^\s*\{/.test(text);
  if (isJson) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw cannotEdit("it is not valid JSON.");
    }
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw cannotEdit("it is not a JSON object.");
    const root = doc as Record<string, unknown>;
    for (const { path, value } of edits) {
      const [section, key] = path as [string, string];
      const current = root[section];
      if (current !== undefined && (typeof current !== "object" || current === null || Array.isArray(current) || "$ref" in current)) {
        throw cannotEdit(`its ${section} are not written in it.`);
      }
      root[section] = { ...((current as Record<string, unknown> | undefined) ?? {}), [key]: value };
    }
    const info = root.info;
    if (!info || typeof info !== "object" || Array.isArray(info)) throw cannotEdit("it has no info object.");
    (info as Record<string, unknown>).version = version;
    const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? "  ";
    return `${JSON.stringify(root, null, indent)}\n`;
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw cannotEdit("it is not valid YAML.");
  if (!isMap(doc.contents)) throw cannotEdit("it is not a YAML mapping.");
  for (const { path, value } of edits) {
    const section = doc.get(path[0]!, true);
    if (section !== undefined && section !== null && (!isMap(section) || section.has("$ref"))) throw cannotEdit(`its ${path[0]} are not written in it.`);
    if (section === undefined || section === null) doc.set(path[0]!, doc.createNode({ [path[1]!]: value }));
    else section.set(path[1]!, doc.createNode(value));
  }
  const info = doc.get("info", true);
  if (!isMap(info)) throw cannotEdit("it has no info mapping.");
  info.set("version", version);
  return doc.toString({ lineWidth: 0 });
}

/** The next minor version above the current one that no stored version of the application uses yet. */
export function nextMinor(current: string, taken: ReadonlySet<string>): string {
  const parts = parseSemver(current);
  if (!parts) throw new MeshportError("conflict", `The current version ${current} is not a semantic version.`, { subject: "version" });
  for (let minor = parts.minor + 1; minor < parts.minor + 1000; minor++) {
    const candidate = `${parts.major}.${minor}.0`;
    if (!taken.has(candidate)) return candidate;
  }
  throw new MeshportError("conflict", "No free minor version above the current one.", { subject: "version" });
}

/**
 * Imports an undocumented topic into an application's contract: opens a change request whose proposal is the
 * current version's document with a new channel (the finding's template, placeholders named, or the address given),
 * a message whose payload is the inferred schema, and an operation (`send` by default), as the next minor version.
 * Who may: whoever writes for the application's team (checked before anything is read or parsed).
 */
export async function importUndocumentedTopic(principal: Principal, findingId: string, raw: unknown): Promise<ImportOutcome> {
  assertCan(principal, "contracts:write");
  const input = parseInput(importInput, raw);
  const db = await getDb();
  const [app] = await db.select().from(application).where(eq(application.slug, input.application));
  if (!app) {
    throw new MeshportError("invalid_input", `No application ${input.application}.`, { details: { fieldErrors: { application: [`No application ${input.application}.`] }, formErrors: [] } });
  }
  await assertWritesForTeam(db, principal, app.teamId);
  const [finding] = /^[A-Za-z0-9_-]{1,100}$/.test(findingId) ? await db.select().from(driftFinding).where(eq(driftFinding.id, findingId)) : [];
  if (!finding) throw new MeshportError("not_found", `No drift finding ${findingId.slice(0, 40)}.`, { subject: "drift_finding" });
  if (finding.rule !== "UNDOCUMENTED_TOPIC" || !finding.template) {
    throw new MeshportError("conflict", `Only an undocumented topic can be imported; this finding is ${finding.rule}.`, { subject: "drift_rule" });
  }
  const current = (await currentVersions(db, [app.id])).get(app.id);
  if (!current?.id) {
    throw new MeshportError("conflict", `${app.name} has no released version to add the channel to; publish a first version of its contract.`, { subject: "no_current_version" });
  }
  const [version] = await db.select().from(contractVersion).where(eq(contractVersion.id, current.id));
  const versions = await db.select({ version: contractVersion.version }).from(contractVersion).where(eq(contractVersion.applicationId, app.id));
  const contract = version!.contract;
  const [brokerRow] = finding.brokerId ? await db.select({ name: broker.name, protocol: broker.protocol }).from(broker).where(eq(broker.id, finding.brokerId)) : [];
  // The template is in its broker's syntax: a NATS subject's placeholders sit between dots.
  const { separator } = brokerDialect(brokerRow?.protocol);
  const address = input.channel ?? addressFromTemplate(finding.template, separator);
  if (!ADDRESS.test(address)) {
    throw new MeshportError("invalid_input", `The template ${finding.template} makes no channel address; give one.`, { details: { fieldErrors: { channel: ["Give a channel address."] }, formErrors: [] } });
  }
  if (contract.channels[address]) {
    throw new MeshportError("conflict", `${app.slug} ${version!.version} already declares the channel ${address}.`, { subject: "channel_exists" });
  }
  const payload = payloadFromInferred(finding.evidence.inferredSchema);
  if (payload && Buffer.byteLength(JSON.stringify(payload)) > MAX_SCHEMA_BYTES) {
    throw new MeshportError("conflict", "The inferred schema is too large to import.", { subject: "schema_too_large" });
  }
  const names = planNames(contract, address, input.message, input.action, separator);
  const next = nextMinor(version!.version, new Set(versions.map((v) => v.version)));
  const seenOn = brokerRow?.name ?? finding.brokerId ?? "a broker";
  const plan: ImportPlan = {
    address,
    ...names,
    action: input.action,
    payload,
    description: `Observed on ${seenOn} as ${finding.template}; imported from drift.`,
    version: next,
  };
  const asyncapi = version!.asyncapiVersion || contract.asyncapi;
  const root = version!.rootFile;
  const edited = editRootFile(root, version!.files[root] ?? "", additions(asyncapi, plan), next);
  const outcome = await openChangeRequest(principal, app.slug, {
    files: { ...version!.files, [root]: edited },
    root,
    version: next,
    title: `Document ${address}`.slice(0, 200),
    description: [
      `Imports the undocumented topic ${finding.template} into ${app.name}'s contract as the channel ${address}, with the message ${names.message} (${input.action}).`,
      `Seen on ${seenOn}: ${finding.summary}`,
      `Drift finding: /drift/${finding.id}`,
    ].join("\n\n"),
  });
  return {
    ...outcome,
    imported: { finding: finding.id, application: app.slug, version: next, channel: address, channelId: names.channelId, message: names.message, operation: names.operation, action: input.action },
  };
}
