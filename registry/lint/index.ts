import type { Contract, Severity } from "../types.ts";
import { encodePointer } from "../parse/refs.ts";

/** A lint rule: id, default severity and the "Checks that …" line shown on the rules page. */
export interface LintRule {
  id: string;
  severity: Severity;
  doc: string;
}

/** One lint finding. */
export interface LintFinding {
  rule: string;
  severity: Severity;
  message: string;
  /** JSON Pointer of the element in the document. */
  path: string;
}

/** Options of {@link lint}: severities per rule id, or `off`. */
export interface LintOptions {
  severities?: Readonly<Record<string, Severity | "off">>;
}

/** The lint rules, as data. */
export const LINT_RULES: readonly LintRule[] = [
  { id: "CONTRACT_OWNER_MISSING", severity: "warning", doc: "Checks that the contract names its owners (`x-owner`, `x-owners` or an `owner:<team>` tag)." },
  { id: "INFO_DESCRIPTION_MISSING", severity: "info", doc: "Checks that the contract has a description." },
  { id: "SERVERS_MISSING", severity: "info", doc: "Checks that the contract declares at least one server." },
  { id: "CHANNEL_DESCRIPTION_MISSING", severity: "info", doc: "Checks that every channel has a description." },
  { id: "CHANNEL_ADDRESS_NAMING", severity: "warning", doc: "Checks that channel addresses have no empty levels, spaces, wildcards (`+`, `#`, `*`) or trailing slash." },
  { id: "CHANNEL_UNUSED", severity: "info", doc: "Checks that every channel has an operation of the application or is a reply channel." },
  { id: "OPERATION_ID_CASE", severity: "info", doc: "Checks that operation ids are camelCase." },
  { id: "OPERATION_DESCRIPTION_MISSING", severity: "info", doc: "Checks that every operation has a summary or description." },
  { id: "MESSAGE_NAME_CASE", severity: "info", doc: "Checks that message names are camelCase." },
  { id: "MESSAGE_DESCRIPTION_MISSING", severity: "info", doc: "Checks that every message has a title, summary or description." },
  { id: "MESSAGE_EXAMPLE_MISSING", severity: "warning", doc: "Checks that every message has at least one example." },
  { id: "MESSAGE_PAYLOAD_MISSING", severity: "warning", doc: "Checks that every message declares a payload schema." },
  { id: "MESSAGE_CONTENT_TYPE_MISSING", severity: "info", doc: "Checks that every message has a content type (its own or the default)." },
];

const CAMEL = /^[a-z][a-zA-Z0-9]*$/;

/**
 * Lints a normalised contract with named rules; severities are configurable per rule.
 * @example lint(contract, { severities: { MESSAGE_EXAMPLE_MISSING: "off" } })
 */
export function lint(contract: Contract, options: LintOptions = {}): LintFinding[] {
  const out: LintFinding[] = [];
  const severities = options.severities ?? {};
  const defaults = new Map(LINT_RULES.map((r) => [r.id, r.severity]));
  const report = (rule: string, path: (string | number)[], message: string) => {
    const severity = severities[rule] ?? defaults.get(rule) ?? "warning";
    if (severity !== "off") out.push({ rule, severity, message, path: encodePointer(path) });
  };
  if (contract.owners.length === 0) report("CONTRACT_OWNER_MISSING", ["info"], "The contract names no owner; add `x-owner: <team>`.");
  if (!contract.description) report("INFO_DESCRIPTION_MISSING", ["info", "description"], "The contract has no description.");
  if (Object.keys(contract.servers).length === 0) report("SERVERS_MISSING", ["servers"], "The contract declares no server.");
  const used = new Set(Object.values(contract.operations).flatMap((o) => (o.reply ? [o.channel, o.reply] : [o.channel])));
  for (const channel of Object.values(contract.channels)) {
    const where = `Channel "${channel.address}"`;
    if (!channel.description) report("CHANNEL_DESCRIPTION_MISSING", channel.sourcePath, `${where} has no description.`);
    if (/\/\/|\s|[+#*]|\/$/.test(channel.address.replace(/\{[^}]*\}/g, "x"))) report("CHANNEL_ADDRESS_NAMING", channel.sourcePath, `${where} has an empty level, a space, a wildcard or a trailing slash.`);
    if (!used.has(channel.address)) report("CHANNEL_UNUSED", channel.sourcePath, `${where} has no operation.`);
    for (const message of Object.values(channel.messages)) {
      const m = `Message "${message.key}" on ${where.toLowerCase()}`;
      if (message.name !== undefined && !CAMEL.test(message.name)) report("MESSAGE_NAME_CASE", message.sourcePath, `${m}: name "${message.name}" is not camelCase.`);
      if (!message.title && !message.summary && !message.description) report("MESSAGE_DESCRIPTION_MISSING", message.sourcePath, `${m} has no title, summary or description.`);
      if (message.examples.length === 0) report("MESSAGE_EXAMPLE_MISSING", message.sourcePath, `${m} has no example.`);
      if (message.payload === undefined) report("MESSAGE_PAYLOAD_MISSING", message.sourcePath, `${m} declares no payload.`);
      if (!message.contentType) report("MESSAGE_CONTENT_TYPE_MISSING", message.sourcePath, `${m} has no content type.`);
    }
  }
  for (const op of Object.values(contract.operations)) {
    if (!CAMEL.test(op.id) && !op.id.includes(" ")) report("OPERATION_ID_CASE", op.sourcePath, `Operation id "${op.id}" is not camelCase.`);
    if (!op.summary && !op.description) report("OPERATION_DESCRIPTION_MISSING", op.sourcePath, `Operation "${op.id}" has no summary or description.`);
  }
  return out;
}
