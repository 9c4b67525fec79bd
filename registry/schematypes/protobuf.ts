import { createHash } from "node:crypto";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor";
import { canonicalJson } from "../hash.ts";
import { SCHEMA_TYPE_FORMATS, type ParsedSchema, type ParseOutcome, type ResolvedReference, type SchemaReferenceInput } from "./types.ts";

/**
 * Protobuf schemas of the registry: `.proto` text (proto2 / proto3) parsed with protobufjs, imports resolved only
 * from the references the caller loaded (and the well-known `google/protobuf/*.proto` files protobufjs ships),
 * rendered to a normalised text, and compared the way Confluent's Protobuf checker compares two schemas.
 */

/** Most definitions (messages, enums, fields, enum values, oneofs) walked over a schema and its imports. */
export const MAX_PROTOBUF_DEFINITIONS = 10_000;
/** Most files (the schema and every transitively imported one) a schema may pull in. */
export const MAX_PROTOBUF_FILES = 256;
/** Most fields, values and options one message (or enum, or file) may declare: the parser is quadratic in them. */
export const MAX_PROTOBUF_BLOCK_DEFINITIONS = 1_000;
const MAX_FIELD_NUMBER = 536_870_911;

/** The change types Confluent's Protobuf checker names. */
export type ProtobufDifferenceType =
  | "PACKAGE_CHANGED"
  | "MESSAGE_ADDED"
  | "MESSAGE_REMOVED"
  | "MESSAGE_MOVED"
  | "ENUM_ADDED"
  | "ENUM_REMOVED"
  | "ENUM_CONST_ADDED"
  | "ENUM_CONST_CHANGED"
  | "ENUM_CONST_REMOVED"
  | "FIELD_ADDED"
  | "FIELD_REMOVED"
  | "FIELD_NAME_CHANGED"
  | "FIELD_KIND_CHANGED"
  | "FIELD_SCALAR_KIND_CHANGED"
  | "FIELD_NAMED_TYPE_CHANGED"
  | "FIELD_NUMERIC_LABEL_CHANGED"
  | "FIELD_STRING_OR_BYTES_LABEL_CHANGED"
  | "REQUIRED_FIELD_ADDED"
  | "REQUIRED_FIELD_REMOVED"
  | "ONEOF_ADDED"
  | "ONEOF_REMOVED"
  | "ONEOF_FIELD_ADDED"
  | "ONEOF_FIELD_REMOVED"
  | "MULTIPLE_FIELDS_MOVED_TO_ONEOF"
  | "FIELD_MOVED_TO_EXISTING_ONEOF";

/** Changes Confluent accepts under BACKWARD (a reader on the new schema still reads data written with the old). */
const COMPATIBLE_CHANGES: ReadonlySet<ProtobufDifferenceType> = new Set<ProtobufDifferenceType>([
  "MESSAGE_ADDED",
  "MESSAGE_MOVED",
  "ENUM_ADDED",
  "ENUM_REMOVED",
  "ENUM_CONST_ADDED",
  "ENUM_CONST_CHANGED",
  "ENUM_CONST_REMOVED",
  "FIELD_ADDED",
  "FIELD_REMOVED",
  "FIELD_NAME_CHANGED",
  "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
  "ONEOF_ADDED",
  "ONEOF_REMOVED",
  "ONEOF_FIELD_ADDED",
]);

/** One difference between two Protobuf schemas, at a Confluent-style path (`#/Order/2`). */
export interface ProtobufDifference {
  type: ProtobufDifferenceType;
  fullPath: string;
  description: string;
  compatible: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// The engine's own model: what the checker and the renderer need, with every type name resolved.

type Label = "optional" | "required" | "repeated" | null;
type FieldType =
  | { kind: "scalar"; name: string }
  | { kind: "enum"; fullName: string }
  | { kind: "message"; fullName: string }
  | { kind: "map"; key: FieldType; value: FieldType };

interface FieldModel {
  name: string;
  number: number;
  label: Label;
  type: FieldType;
}
interface OneofModel {
  name: string;
  fields: FieldModel[];
}
interface MessageModel {
  kind: "message";
  name: string;
  fullName: string;
  /** Fields outside any oneof, by number. */
  fields: FieldModel[];
  oneofs: OneofModel[];
  /** Nested messages and enums in declaration order. */
  nested: TypeModel[];
}
interface EnumModel {
  kind: "enum";
  name: string;
  fullName: string;
  values: { name: string; number: number }[];
}
type TypeModel = MessageModel | EnumModel;

interface TypeInfo {
  model: TypeModel;
  packageName: string;
  /** Which file version defined it: types of one origin need no comparison (null: a bundled well-known file). */
  origin: string | null;
}

interface ProtobufHandle {
  root: protobuf.Root;
  syntax: "proto2" | "proto3";
  packageName: string;
  /** The schema's own top-level messages and enums, in declaration order. */
  types: TypeModel[];
  /** Every message and enum of the schema and its imports, by full name (no leading dot). */
  all: Map<string, TypeInfo>;
}

class ProtobufInputError extends Error {}

/** The parser tags the objects it creates with this file name (protobufjs keeps it on `parse`). */
const parserState = protobuf.parse as unknown as { filename: string | null };

const MAIN_FILE = "\u0000schema";
const SCALARS = new Set(["double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes"]);

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/** Parses `.proto` text (proto2 / proto3) with its imports resolved from `references` (name = import path). */
export function parseProtobufSchema(text: string, references: readonly ResolvedReference[]): ParseOutcome {
  try {
    // Confluent's serializers register the schema as base64 of its FileDescriptorProto.
    const source = serializedText(text) ?? text;
    const handle = load(source, references);
    const canonical = render(handle, source);
    const refs: SchemaReferenceInput[] = references.map((r) => ({ name: r.name, subject: r.subject, version: r.version }));
    const format = SCHEMA_TYPE_FORMATS.PROTOBUF;
    const hash = createHash("sha256").update(format).update("\u0000").update(canonical);
    if (refs.length > 0) hash.update("\u0000").update(canonicalJson(refs));
    const schema: ParsedSchema = {
      schemaType: "PROTOBUF",
      format,
      canonical,
      hash: "sha256:" + hash.digest("hex"),
      references: refs,
      handle,
    };
    return { ok: true, schema };
  } catch (error) {
    return { ok: false, message: "Invalid Protobuf schema: " + describeError(error) };
  }
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // protobufjs names the schema by our internal file marker; say "the schema" instead.
  return message.split(MAIN_FILE + ", ").join("").split(MAIN_FILE).join("the schema").slice(0, 1000);
}

function fileSyntax(text: string, file: string): "proto2" | "proto3" {
  const tn = protobuf.tokenize(text, false);
  const first = tn.next();
  if (first !== "syntax" && first !== "edition") return "proto2";
  if (first === "edition") throw new ProtobufInputError(`${describeFile(file)} uses editions; only proto2 and proto3 are supported`);
  if (tn.next() !== "=") throw new ProtobufInputError(`${describeFile(file)}: malformed syntax statement`);
  const quote = tn.next();
  const value = quote === '"' || quote === "'" ? tn.next() : null;
  if (value !== "proto2" && value !== "proto3") throw new ProtobufInputError(`${describeFile(file)}: unsupported syntax ${JSON.stringify(value)} (proto2 or proto3)`);
  return value;
}

/**
 * Counts the definitions of a file before handing it to the parser, whose cost grows with the square of the
 * fields of one message: every field, enum value and option has one `=`.
 */
function prescan(text: string, file: string): void {
  const tn = protobuf.tokenize(text, false);
  const blocks: number[] = [0];
  let total = 0;
  let first = true;
  for (let token = tn.next(); token !== null; token = tn.next(), first = false) {
    if ((token === "syntax" || token === "edition") && !first && blocks.length === 1) {
      throw new ProtobufInputError(`${describeFile(file)}: the ${token} statement must come first`);
    }
    if (token === '"' || token === "'") {
      // A string literal: its content, then the closing quote.
      tn.next();
      tn.next();
    } else if (token === "{") {
      blocks.push(0);
      if (blocks.length > 64) throw new ProtobufInputError(`${describeFile(file)} nests deeper than 64 levels`);
    } else if (token === "}") {
      if (blocks.length > 1) blocks.pop();
    } else if (token === "=") {
      total++;
      const top = blocks.length - 1;
      blocks[top] = (blocks[top] ?? 0) + 1;
      if ((blocks[top] ?? 0) > MAX_PROTOBUF_BLOCK_DEFINITIONS) {
        throw new ProtobufInputError(`${describeFile(file)} declares more than ${MAX_PROTOBUF_BLOCK_DEFINITIONS} fields or values in one block`);
      }
      if (total > MAX_PROTOBUF_DEFINITIONS) throw new ProtobufInputError(`${describeFile(file)} has more than ${MAX_PROTOBUF_DEFINITIONS} definitions`);
    }
  }
}

function describeFile(file: string): string {
  return file === MAIN_FILE ? "the schema" : `import "${file}"`;
}

interface LoadState {
  root: protobuf.Root;
  loaded: Map<string, string>;
  origins: Map<string, string | null>;
  syntaxes: Map<string, "proto2" | "proto3">;
}

function load(text: string, references: readonly ResolvedReference[]): ProtobufHandle {
  const state: LoadState = { root: new protobuf.Root(), loaded: new Map(), origins: new Map(), syntaxes: new Map() };
  const main = parseFile(state, text, MAIN_FILE, references, MAIN_FILE);
  try {
    state.root.resolveAll();
  } catch (error) {
    throw new ProtobufInputError(describeError(error));
  }
  const all = new Map<string, TypeInfo>();
  const counter = { n: 0 };
  const types: TypeModel[] = [];
  collect(state, state.root, all, counter, types);
  return { root: state.root, syntax: main.syntax, packageName: main.packageName, types, all };
}

function parseFile(
  state: LoadState,
  text: string,
  file: string,
  references: readonly ResolvedReference[],
  origin: string | null,
): { syntax: "proto2" | "proto3"; packageName: string } {
  if (state.loaded.size >= MAX_PROTOBUF_FILES) throw new ProtobufInputError(`more than ${MAX_PROTOBUF_FILES} imported files`);
  if (text.trim() === "") throw new ProtobufInputError(`${describeFile(file)} is empty`);
  prescan(text, file);
  const syntax = fileSyntax(text, file);
  state.loaded.set(file, text);
  state.origins.set(file, origin);
  state.syntaxes.set(file, syntax);
  let parsed: protobuf.IParserResult;
  try {
    parserState.filename = file;
    parsed = protobuf.parse(text, state.root, { keepCase: true });
  } catch (error) {
    throw new ProtobufInputError(file === MAIN_FILE ? describeError(error) : `${describeFile(file)}: ${describeError(error)}`);
  } finally {
    parserState.filename = null;
  }
  for (const path of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
    const reference = references.find((r) => r.name === path);
    if (reference) {
      if (reference.schemaType !== "PROTOBUF") throw new ProtobufInputError(`import "${path}" refers to a ${reference.schemaType} schema`);
      const seen = state.loaded.get(path);
      if (seen !== undefined) {
        if (seen !== reference.schema) throw new ProtobufInputError(`import "${path}" resolves to two different schemas`);
        continue;
      }
      parseFile(state, reference.schema, path, reference.references, `${reference.subject}\u0000${reference.version}`);
      continue;
    }
    const bundled = (protobuf.common as unknown as Record<string, protobuf.INamespace | undefined>)[path];
    if (path.startsWith("google/protobuf/") && bundled && Object.prototype.hasOwnProperty.call(protobuf.common, path)) {
      if (state.loaded.has(path)) continue;
      state.loaded.set(path, "");
      state.origins.set(path, null);
      state.syntaxes.set(path, "proto3");
      state.root.addJSON(bundled.nested ?? {});
      continue;
    }
    throw new ProtobufInputError(`${file === MAIN_FILE ? "" : describeFile(file) + ": "}import "${path}" has no reference of that name`);
  }
  return { syntax, packageName: parsed.package ?? "" };
}

/** The file a top-level object came from (the parser tags them); nested objects inherit their parent's. */
function fileOf(object: protobuf.ReflectionObject): string | null {
  for (let o: protobuf.ReflectionObject | null = object; o; o = o.parent) {
    if (typeof o.filename === "string") return o.filename;
  }
  return null;
}

function packageOf(object: protobuf.ReflectionObject): string {
  let o = object.parent;
  while (o && (o instanceof protobuf.Type || o instanceof protobuf.Enum)) o = o.parent;
  return o ? o.fullName.replace(/^\./, "") : "";
}

function collect(state: LoadState, ns: protobuf.Namespace, all: Map<string, TypeInfo>, counter: { n: number }, mainTypes: TypeModel[]): void {
  for (const object of ns.nestedArray) {
    if (object instanceof protobuf.Type || object instanceof protobuf.Enum) {
      const file = fileOf(object);
      const model = buildType(state, object, all, counter, file);
      if (file === MAIN_FILE) mainTypes.push(model);
    } else if (object instanceof protobuf.Namespace && !(object instanceof protobuf.Service)) {
      collect(state, object, all, counter, mainTypes);
    }
  }
}

function count(counter: { n: number }, by = 1): void {
  counter.n += by;
  if (counter.n > MAX_PROTOBUF_DEFINITIONS) throw new ProtobufInputError(`more than ${MAX_PROTOBUF_DEFINITIONS} definitions`);
}

function buildType(state: LoadState, object: protobuf.Type | protobuf.Enum, all: Map<string, TypeInfo>, counter: { n: number }, file: string | null): TypeModel {
  count(counter);
  const fullName = object.fullName.replace(/^\./, "");
  const syntax = (file && state.syntaxes.get(file)) || "proto3";
  const origin = file === null ? null : (state.origins.get(file) ?? null);
  if (object instanceof protobuf.Enum) {
    const values = Object.entries(object.values).map(([name, number]) => ({ name, number }));
    count(counter, values.length);
    if (syntax === "proto3" && values.length > 0 && values[0]!.number !== 0) {
      throw new ProtobufInputError(`enum ${fullName}: the first value of a proto3 enum must be zero`);
    }
    for (const v of values) {
      if (!Number.isInteger(v.number) || v.number < -2147483648 || v.number > 2147483647) throw new ProtobufInputError(`enum ${fullName}: value ${v.name} is out of range`);
    }
    const model: EnumModel = { kind: "enum", name: object.name, fullName, values };
    all.set(fullName, { model, packageName: packageOf(object), origin });
    return model;
  }
  if ((object as protobuf.Type & { group?: boolean }).group) throw new ProtobufInputError(`${fullName}: groups are not supported (use a nested message)`);
  const fields: FieldModel[] = [];
  const oneofs: OneofModel[] = [];
  const byOneof = new Map<string, FieldModel[]>();
  for (const oneof of object.oneofsArray) {
    if (isSyntheticOneof(oneof)) continue;
    count(counter);
    const members: FieldModel[] = [];
    byOneof.set(oneof.name, members);
    oneofs.push({ name: oneof.name, fields: members });
  }
  for (const field of ownFields(object)) {
    count(counter);
    if (!Number.isInteger(field.id) || field.id < 1 || field.id > MAX_FIELD_NUMBER) throw new ProtobufInputError(`${fullName}.${field.name}: field number ${field.id} is out of range`);
    if (field.id >= 19000 && field.id <= 19999) throw new ProtobufInputError(`${fullName}.${field.name}: field numbers 19000 to 19999 are reserved`);
    const oneof = field.partOf && !isSyntheticOneof(field.partOf) ? byOneof.get(field.partOf.name) : undefined;
    const model: FieldModel = { name: field.name, number: field.id, label: oneof ? null : labelOf(field, syntax), type: fieldType(field) };
    (oneof ?? fields).push(model);
  }
  const byNumber = (a: FieldModel, b: FieldModel) => a.number - b.number;
  fields.sort(byNumber);
  for (const o of oneofs) o.fields.sort(byNumber);
  const nested: TypeModel[] = [];
  const model: MessageModel = { kind: "message", name: object.name, fullName, fields, oneofs, nested };
  all.set(fullName, { model, packageName: packageOf(object), origin });
  for (const child of object.nestedArray) {
    if (child instanceof protobuf.Type || child instanceof protobuf.Enum) nested.push(buildType(state, child, all, counter, file));
  }
  return model;
}

/** The message's own fields: an `extend` block elsewhere adds fields to it that its file does not declare. */
function ownFields(type: protobuf.Type): protobuf.Field[] {
  return type.fieldsArray.filter((f) => !f.declaringField);
}

function isSyntheticOneof(oneof: protobuf.OneOf): boolean {
  return oneof.fieldsArray.length === 1 && oneof.fieldsArray[0]!.options?.proto3_optional === true;
}

function labelOf(field: protobuf.Field, syntax: "proto2" | "proto3"): Label {
  if (field.map) return null;
  if (field.rule === "repeated") return "repeated";
  if (field.rule === "required") return "required";
  if (syntax === "proto2") return "optional";
  return field.options?.proto3_optional === true ? "optional" : null;
}

function typeOf(name: string, resolved: protobuf.Type | protobuf.Enum | null): FieldType {
  if (resolved instanceof protobuf.Enum) return { kind: "enum", fullName: resolved.fullName.replace(/^\./, "") };
  if (resolved instanceof protobuf.Type) {
    if ((resolved as protobuf.Type & { group?: boolean }).group) throw new ProtobufInputError(`${resolved.fullName.slice(1)}: groups are not supported (use a nested message)`);
    return { kind: "message", fullName: resolved.fullName.replace(/^\./, "") };
  }
  if (!SCALARS.has(name)) throw new ProtobufInputError(`unknown type ${name}`);
  return { kind: "scalar", name };
}

function fieldType(field: protobuf.Field): FieldType {
  const value = typeOf(field.type, field.resolvedType);
  if (field instanceof protobuf.MapField) return { kind: "map", key: { kind: "scalar", name: field.keyType }, value };
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical text

/**
 * The normalised `.proto` text: syntax and package always stated, imports and options sorted, fields by number,
 * oneofs by their first field, enums and services by name, type names fully qualified, no comments. Messages keep
 * their declaration order: Confluent serializers address a message by its index in the schema, so reordering
 * messages is a different schema.
 */
function render(handle: ProtobufHandle, text: string): string {
  // File-level statements (imports, options) come from the schema alone: imported files share package namespaces.
  const alone = protobuf.parse(text, new protobuf.Root(), { keepCase: true });
  const out: string[] = [];
  out.push(`syntax = "${handle.syntax}";`);
  if (handle.packageName) out.push(`package ${handle.packageName};`);
  const imports = [...new Set(alone.imports ?? [])].sort().map((i) => `import ${quote(i)};`);
  const weak = [...new Set(alone.weakImports ?? [])].sort().map((i) => `import weak ${quote(i)};`);
  if (imports.length + weak.length > 0) out.push("", ...imports, ...weak);
  const fileNs = handle.packageName ? alone.root.lookup(handle.packageName) : alone.root;
  const fileOptions = fileNs ? renderOptionStatements(fileNs, "") : [];
  if (fileOptions.length > 0) out.push("", ...fileOptions);

  const mainObjects: protobuf.ReflectionObject[] = [];
  const walk = (ns: protobuf.Namespace) => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type || o instanceof protobuf.Enum || o instanceof protobuf.Service || o instanceof protobuf.Field) {
        if (fileOf(o) === MAIN_FILE) mainObjects.push(o);
      } else if (o instanceof protobuf.Namespace) walk(o);
    }
  };
  walk(handle.root);
  const messages = mainObjects.filter((o): o is protobuf.Type => o instanceof protobuf.Type);
  const enums = mainObjects.filter((o): o is protobuf.Enum => o instanceof protobuf.Enum).sort(byName);
  const services = mainObjects.filter((o): o is protobuf.Service => o instanceof protobuf.Service).sort(byName);
  const extensions = mainObjects.filter((o): o is protobuf.Field => o instanceof protobuf.Field);
  const body: string[] = [];
  for (const m of messages) body.push(...renderMessage(m, handle));
  for (const e of enums) body.push(...renderEnum(e));
  body.push(...renderExtends(extensions, handle));
  for (const s of services) body.push(...renderService(s));
  if (body.length > 0) out.push("", ...body);
  return out.join("\n") + "\n";
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function indent(lines: string[]): string[] {
  return lines.map((l) => (l ? "  " + l : l));
}

function renderMessage(type: protobuf.Type, handle: ProtobufHandle): string[] {
  const lines: string[] = [];
  const reserved = renderReserved(type.reserved);
  if (reserved.length) lines.push(...reserved);
  lines.push(...renderOptionStatements(type, ""));
  const syntax = handle.syntax;
  const regular = ownFields(type).filter((f) => !f.partOf || isSyntheticOneof(f.partOf)).sort((a, b) => a.id - b.id);
  for (const f of regular) lines.push(renderField(f, labelOf(f, syntax)));
  const oneofs = type.oneofsArray
    .filter((o) => !isSyntheticOneof(o) && o.fieldsArray.length > 0)
    .map((o) => ({ o, fields: [...o.fieldsArray].sort((a, b) => a.id - b.id) }))
    .sort((a, b) => a.fields[0]!.id - b.fields[0]!.id);
  for (const { o, fields } of oneofs) {
    lines.push(`oneof ${o.name} {`, ...indent([...renderOptionStatements(o, ""), ...fields.map((f) => renderField(f, null))]), "}");
  }
  if (type.extensions) {
    for (const [from, to] of [...type.extensions].sort((a, b) => a[0]! - b[0]!)) lines.push(`extensions ${from === to ? from : `${from} to ${to}`};`);
  }
  const nestedMessages = type.nestedArray.filter((o): o is protobuf.Type => o instanceof protobuf.Type);
  const nestedEnums = type.nestedArray.filter((o): o is protobuf.Enum => o instanceof protobuf.Enum).sort(byName);
  const nestedExtensions = type.nestedArray.filter((o): o is protobuf.Field => o instanceof protobuf.Field);
  for (const m of nestedMessages) lines.push(...renderMessage(m, handle));
  for (const e of nestedEnums) lines.push(...renderEnum(e));
  lines.push(...renderExtends(nestedExtensions, handle));
  return [`message ${type.name} {`, ...indent(lines), "}"];
}

function typeName(field: protobuf.Field): string {
  const resolved = field.resolvedType;
  return resolved ? resolved.fullName : field.type;
}

function renderField(field: protobuf.Field, label: Label): string {
  const type = field instanceof protobuf.MapField ? `map<${field.keyType}, ${typeName(field)}>` : typeName(field);
  const options = collectOptions(field).filter(([name]) => name !== "proto3_optional");
  const enumTyped = field.resolvedType instanceof protobuf.Enum;
  const rendered = options.map(([name, value]) =>
    name === "default" && field.type === "bytes" && typeof value === "string"
      ? `${name} = ${quoteBytes(value)}`
      : `${name} = ${renderValue(value, name === "default" ? enumTyped : isEnumOption(name))}`,
  );
  return `${label ? label + " " : ""}${type} ${field.name} = ${field.id}${rendered.length ? ` [${rendered.join(", ")}]` : ""};`;
}

function renderExtends(fields: protobuf.Field[], handle: ProtobufHandle): string[] {
  const byTarget = new Map<string, protobuf.Field[]>();
  for (const f of fields) {
    const target = f.extensionField?.parent?.fullName ?? (f.extend ?? "");
    const list = byTarget.get(target) ?? [];
    list.push(f);
    byTarget.set(target, list);
  }
  const lines: string[] = [];
  for (const target of [...byTarget.keys()].sort()) {
    const list = byTarget.get(target)!.sort((a, b) => a.id - b.id);
    lines.push(`extend ${target} {`, ...indent(list.map((f) => renderField(f, labelOf(f, handle.syntax)))), "}");
  }
  return lines;
}

function renderEnum(e: protobuf.Enum): string[] {
  const lines: string[] = [];
  lines.push(...renderReserved(e.reserved));
  lines.push(...renderOptionStatements(e, ""));
  const values = Object.entries(e.values).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, number] of values) {
    const opts = e.valuesOptions?.[name];
    const rendered = opts ? Object.keys(opts).sort().map((k) => `${k} = ${renderValue(opts[k], isEnumOption(k))}`) : [];
    lines.push(`${name} = ${number}${rendered.length ? ` [${rendered.join(", ")}]` : ""};`);
  }
  return [`enum ${e.name} {`, ...indent(lines), "}"];
}

function renderService(s: protobuf.Service): string[] {
  const lines: string[] = [...renderOptionStatements(s, "")];
  for (const m of [...s.methodsArray].sort(byName)) {
    const req = (m.requestStream ? "stream " : "") + (m.resolvedRequestType?.fullName ?? m.requestType);
    const res = (m.responseStream ? "stream " : "") + (m.resolvedResponseType?.fullName ?? m.responseType);
    const opts = renderOptionStatements(m, "");
    lines.push(opts.length ? `rpc ${m.name} (${req}) returns (${res}) {` : `rpc ${m.name} (${req}) returns (${res});`);
    if (opts.length) lines.push(...indent(opts), "}");
  }
  return [`service ${s.name} {`, ...indent(lines), "}"];
}

function renderReserved(reserved: (number[] | string)[] | undefined): string[] {
  if (!reserved || reserved.length === 0) return [];
  const ranges = reserved.filter((r): r is number[] => Array.isArray(r)).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  const names = reserved.filter((r): r is string => typeof r === "string").sort();
  return [
    ...ranges.map(([from, to]) => `reserved ${from === to ? from : `${from} to ${to}`};`),
    ...names.map((n) => `reserved ${quote(n)};`),
  ];
}

/** Options as written, one entry each, sorted by name then value (custom options keep their parentheses). */
function collectOptions(object: protobuf.ReflectionObject): [string, unknown][] {
  const parsed = (object as { parsedOptions?: Record<string, unknown>[] | null }).parsedOptions;
  const entries: [string, unknown][] = [];
  if (parsed && parsed.length > 0) {
    for (const entry of parsed) for (const [k, v] of Object.entries(entry)) entries.push([k, v]);
  } else if (object.options) {
    for (const [k, v] of Object.entries(object.options)) entries.push([k, v]);
  }
  return entries
    .map(([k, v]) => [k, v, renderValue(v, isEnumOption(k))] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0))
    .map(([k, v]) => [k, v]);
}

function renderOptionStatements(object: protobuf.ReflectionObject, prefix: string): string[] {
  return collectOptions(object).map(([name, value]) => `${prefix}option ${name} = ${renderValue(value, isEnumOption(name))};`);
}

// Standard options whose values are enum constants (written bare); other string values are quoted.
const ENUM_OPTIONS = new Set(["optimize_for", "ctype", "jstype", "retention", "targets"]);
function isEnumOption(name: string): boolean {
  return ENUM_OPTIONS.has(name) || name.startsWith("features.");
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function renderValue(value: unknown, enumConstant: boolean): string {
  if (typeof value === "string") return enumConstant && IDENTIFIER.test(value) ? value : quote(value);
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (value === Infinity) return "inf";
    if (value === -Infinity) return "-inf";
    return String(value);
  }
  if (typeof value === "boolean") return String(value);
  // The parser reads `inf` and `nan` of a float default as numbers; anything else absent renders as nothing.
  if (value === null || value === undefined) return '""';
  if (Array.isArray(value)) return "[" + value.map((v) => renderValue(v, false)).join(", ") + "]";
  if (typeof value === "object") {
    const keys = Object.keys(value as Record<string, unknown>).sort();
    const parts = keys.map((k) => `${k}: ${renderValue((value as Record<string, unknown>)[k], false)}`);
    return parts.length ? `{ ${parts.join(" ")} }` : "{}";
  }
  return quote(String(value));
}

/** A bytes literal: the parser keeps one character per byte, so every byte outside printable ASCII is escaped. */
function quoteBytes(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i) & 0xff;
    const ch = String.fromCharCode(code);
    if (ch === "\\" || ch === '"') out += "\\" + ch;
    else if (code < 0x20 || code >= 0x7f) out += "\\" + code.toString(8).padStart(3, "0");
    else out += ch;
  }
  return out + '"';
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += "\\" + code.toString(8).padStart(3, "0");
    else out += ch;
  }
  return out + '"';
}

// ---------------------------------------------------------------------------------------------------------------
// Compatibility: Confluent's Protobuf checker, over the resolved model.

interface DiffContext {
  writer: ProtobufHandle;
  reader: ProtobufHandle;
  path: string[];
  diffs: ProtobufDifference[];
  /** Writer messages being compared on the current path: a recursive type is compared once. */
  scope: Set<MessageModel>;
  /** Outcomes of comparing a writer message with a reader message reached through a field's type. */
  memo: Map<string, { diffs: ProtobufDifference[]; compatible: boolean } | "pending">;
}

function add(ctx: DiffContext, type: ProtobufDifferenceType, description: string, extra?: string): void {
  const path = extra === undefined ? ctx.path : [...ctx.path, extra];
  ctx.diffs.push({ type, fullPath: "#/" + path.join("/"), description, compatible: COMPATIBLE_CHANGES.has(type) });
}

function within<T>(ctx: DiffContext, segment: string, fn: () => T): T {
  ctx.path.push(segment);
  try {
    return fn();
  } finally {
    ctx.path.pop();
  }
}

function handleOf(schema: ParsedSchema): ProtobufHandle | null {
  const h = schema.handle as ProtobufHandle | undefined;
  return schema.schemaType === "PROTOBUF" && h && h.all instanceof Map ? h : null;
}

/**
 * Every difference between two Protobuf schemas as Confluent's checker lists them, `writer` being the original
 * (the earlier version under BACKWARD) and `reader` the update; `compatible` says whether Confluent accepts it.
 * Empty when either schema is not Protobuf.
 */
export function protobufDifferences(writer: ParsedSchema, reader: ParsedSchema): ProtobufDifference[] {
  const w = handleOf(writer);
  const r = handleOf(reader);
  if (!w || !r) return [];
  const ctx: DiffContext = { writer: w, reader: r, path: [], diffs: [], scope: new Set(), memo: new Map() };
  if (w.packageName !== r.packageName) {
    add(ctx, "PACKAGE_CHANGED", `the package changed from ${JSON.stringify(w.packageName)} to ${JSON.stringify(r.packageName)}`);
  }
  compareTypes(ctx, w.types, r.types);
  return ctx.diffs;
}

/** Messages for every change that stops `reader` reading data written with `writer` (empty: compatible). */
export function protobufIncompatibilities(writer: ParsedSchema, reader: ParsedSchema): string[] {
  if (!handleOf(writer) || !handleOf(reader)) return ["Incompatible because of different schema type"];
  let differences: ProtobufDifference[];
  try {
    differences = protobufDifferences(writer, reader);
  } catch (error) {
    // A chain of message types too long to follow (each step a type of another file version): refuse, never crash.
    if (error instanceof RangeError) return ["The schemas nest message types too deeply to be compared"];
    throw error;
  }
  const messages = differences
    .filter((d) => !d.compatible)
    .map((d) => `Difference{fullPath='${d.fullPath}', type=${d.type}}: ${d.description}`);
  return [...new Set(messages)];
}

function compareTypes(ctx: DiffContext, original: TypeModel[], update: TypeModel[]): void {
  const index = (list: TypeModel[]) => {
    const messages = new Map<string, { model: MessageModel; index: number }>();
    const enums = new Map<string, EnumModel>();
    let i = 0;
    for (const t of list) {
      if (t.kind === "message") messages.set(t.name, { model: t, index: i++ });
      else enums.set(t.name, t);
    }
    return { messages, enums };
  };
  const o = index(original);
  const u = index(update);
  for (const name of sortedUnion(o.messages.keys(), u.messages.keys())) {
    within(ctx, name, () => {
      const om = o.messages.get(name);
      const um = u.messages.get(name);
      if (!um) add(ctx, "MESSAGE_REMOVED", `message ${om!.model.fullName} was removed`);
      else if (!om) add(ctx, "MESSAGE_ADDED", `message ${um.model.fullName} was added`);
      else {
        compareMessage(ctx, om.model, um.model);
        if (om.index !== um.index) add(ctx, "MESSAGE_MOVED", `message ${um.model.fullName} moved from index ${om.index} to ${um.index}`);
      }
    });
  }
  for (const name of sortedUnion(o.enums.keys(), u.enums.keys())) {
    within(ctx, name, () => {
      const oe = o.enums.get(name);
      const ue = u.enums.get(name);
      if (!ue) add(ctx, "ENUM_REMOVED", `enum ${oe!.fullName} was removed`);
      else if (!oe) add(ctx, "ENUM_ADDED", `enum ${ue.fullName} was added`);
      else compareEnum(ctx, oe, ue);
    });
  }
}

function sortedUnion<T extends string | number>(a: Iterable<T>, b: Iterable<T>): T[] {
  const all = [...new Set([...a, ...b])];
  return typeof all[0] === "number" ? (all as number[]).sort((x, y) => x - y) as T[] : all.sort();
}

function compareEnum(ctx: DiffContext, original: EnumModel, update: EnumModel): void {
  const byNumber = (e: EnumModel) => {
    const m = new Map<number, string>();
    for (const v of e.values) if (!m.has(v.number)) m.set(v.number, v.name);
    return m;
  };
  const o = byNumber(original);
  const u = byNumber(update);
  for (const n of sortedUnion(o.keys(), u.keys())) {
    const on = o.get(n);
    const un = u.get(n);
    if (un === undefined) add(ctx, "ENUM_CONST_REMOVED", `enum ${original.fullName} lost the constant ${on} = ${n}`, String(n));
    else if (on === undefined) add(ctx, "ENUM_CONST_ADDED", `enum ${update.fullName} gained the constant ${un} = ${n}`, String(n));
    else if (on !== un) add(ctx, "ENUM_CONST_CHANGED", `enum ${update.fullName} renamed the constant ${n} from ${on} to ${un}`, String(n));
  }
}

function describeField(message: MessageModel, field: FieldModel): string {
  return `field ${JSON.stringify(field.name)} (${field.number}) of ${message.fullName}`;
}

function compareMessage(ctx: DiffContext, original: MessageModel, update: MessageModel): void {
  if (!ctx.scope.has(original)) {
    ctx.scope.add(original);
    try {
      compareFields(ctx, original, update);
    } finally {
      ctx.scope.delete(original);
    }
  }
  compareTypes(ctx, original.nested, update.nested);
}

function compareFields(ctx: DiffContext, original: MessageModel, update: MessageModel): void {
  const originalByTag = new Map(original.fields.map((f) => [f.number, f]));
  const updateByTag = new Map(update.fields.map((f) => [f.number, f]));
  const originalAll = new Map(originalByTag);
  const updateAll = new Map(updateByTag);
  const originalOneofOf = new Map<number, string>();
  const updateOneofOf = new Map<number, string>();
  for (const oneof of original.oneofs) {
    for (const f of oneof.fields) {
      originalAll.set(f.number, f);
      originalOneofOf.set(f.number, oneof.name);
    }
  }
  for (const oneof of update.oneofs) {
    within(ctx, oneof.name, () => {
      // Fields were already mutually exclusive only if they shared an original oneof; each original top-level
      // field is its own group; new fields do not count (old data never set them).
      const groups = new Set<string>();
      let movedFromTopLevel = 0;
      for (const f of oneof.fields) {
        updateAll.set(f.number, f);
        updateOneofOf.set(f.number, oneof.name);
        originalByTag.delete(f.number);
        const was = originalOneofOf.get(f.number);
        if (was !== undefined) groups.add("oneof:" + was);
        else if (originalAll.has(f.number)) {
          groups.add("field:" + f.number);
          movedFromTopLevel++;
        }
      }
      if (groups.size > 1) {
        if (movedFromTopLevel > 1) add(ctx, "MULTIPLE_FIELDS_MOVED_TO_ONEOF", `oneof ${oneof.name} of ${update.fullName} makes several independent fields mutually exclusive`);
        else add(ctx, "FIELD_MOVED_TO_EXISTING_ONEOF", `oneof ${oneof.name} of ${update.fullName} takes in a field that was not exclusive with its other fields`);
      }
    });
  }
  const originalOneofs = new Map(original.oneofs.map((o) => [o.name, o]));
  const updateOneofs = new Map(update.oneofs.map((o) => [o.name, o]));
  for (const name of sortedUnion(originalOneofs.keys(), updateOneofs.keys())) {
    within(ctx, name, () => {
      const oo = originalOneofs.get(name);
      const uo = updateOneofs.get(name);
      if (!uo) add(ctx, "ONEOF_REMOVED", `oneof ${name} of ${original.fullName} was removed`);
      else if (!oo) add(ctx, "ONEOF_ADDED", `oneof ${name} was added to ${update.fullName}`);
      else {
        const ob = new Map(oo.fields.map((f) => [f.number, f]));
        const ub = new Map(uo.fields.map((f) => [f.number, f]));
        for (const tag of sortedUnion(ob.keys(), ub.keys())) {
          within(ctx, String(tag), () => {
            const of = ob.get(tag);
            const uf = ub.get(tag);
            if (!uf) {
              // A field that left the oneof but is still in the message was relocated, not removed.
              if (!updateAll.has(tag)) add(ctx, "ONEOF_FIELD_REMOVED", `${describeField(original, of!)} was removed from oneof ${name}`);
            } else if (!of) add(ctx, "ONEOF_FIELD_ADDED", `${describeField(update, uf)} was added to oneof ${name}`);
            else compareField(ctx, update, of, uf);
          });
        }
      }
    });
  }
  for (const tag of sortedUnion(originalByTag.keys(), updateByTag.keys())) {
    within(ctx, String(tag), () => {
      const of = originalByTag.get(tag);
      const uf = updateByTag.get(tag);
      if (!uf) {
        if (of!.label === "required") add(ctx, "REQUIRED_FIELD_REMOVED", `required ${describeField(original, of!)} was removed`);
        else add(ctx, "FIELD_REMOVED", `${describeField(original, of!)} was removed`);
      } else if (!of) {
        if (uf.label === "required") add(ctx, "REQUIRED_FIELD_ADDED", `required ${describeField(update, uf)} was added`);
        else add(ctx, "FIELD_ADDED", `${describeField(update, uf)} was added`);
      } else compareField(ctx, update, of, uf);
    });
  }
  // Fields whose oneof membership changed are compared by number across the whole message.
  for (const tag of sortedUnion(originalAll.keys(), updateAll.keys())) {
    if (!originalAll.has(tag) || !updateAll.has(tag)) continue;
    const oo = originalOneofOf.get(tag);
    const uo = updateOneofOf.get(tag);
    if ((oo === undefined && uo === undefined) || (oo !== undefined && oo === uo)) continue;
    within(ctx, String(tag), () => compareField(ctx, update, originalAll.get(tag)!, updateAll.get(tag)!));
  }
}

function compareField(ctx: DiffContext, message: MessageModel, original: FieldModel, update: FieldModel): void {
  if (original.name !== update.name) {
    add(ctx, "FIELD_NAME_CHANGED", `field ${original.number} of ${message.fullName} was renamed from ${JSON.stringify(original.name)} to ${JSON.stringify(update.name)}`);
  }
  compareLabelsAndTypes(ctx, message, update, original.label, update.label, original.type, update.type);
}

type Kind = "SCALAR" | "MESSAGE" | "MAP";
function kindOf(t: FieldType): Kind {
  return t.kind === "map" ? "MAP" : t.kind === "message" ? "MESSAGE" : "SCALAR";
}

// Wire-compatible groups of scalars (enums read as the general numbers).
function scalarKind(t: FieldType): string {
  if (t.kind === "enum") return "GENERAL_NUMBER";
  const name = t.kind === "scalar" ? t.name : "";
  switch (name) {
    case "int32":
    case "int64":
    case "uint32":
    case "uint64":
    case "bool":
      return "GENERAL_NUMBER";
    case "sint32":
    case "sint64":
      return "SIGNED_NUMBER";
    case "string":
    case "bytes":
      return "STRING_OR_BYTES";
    case "fixed32":
    case "sfixed32":
      return "FIXED32";
    case "fixed64":
    case "sfixed64":
      return "FIXED64";
    case "float":
      return "FLOAT";
    case "double":
      return "DOUBLE";
    default:
      return "OTHER:" + name;
  }
}

function typeLabel(t: FieldType): string {
  switch (t.kind) {
    case "scalar":
      return t.name;
    case "enum":
    case "message":
      return t.fullName;
    case "map":
      return `map<${typeLabel(t.key)}, ${typeLabel(t.value)}>`;
  }
}

function compareLabelsAndTypes(
  ctx: DiffContext,
  message: MessageModel,
  field: FieldModel,
  originalLabel: Label,
  updateLabel: Label,
  original: FieldType,
  update: FieldType,
): void {
  const what = describeField(message, field);
  const ok = kindOf(original);
  const uk = kindOf(update);
  if (ok !== uk) {
    add(ctx, "FIELD_KIND_CHANGED", `${what} changed from ${typeLabel(original)} to ${typeLabel(update)} (${ok.toLowerCase()} to ${uk.toLowerCase()})`);
    return;
  }
  if (ok === "SCALAR") {
    const os = scalarKind(original);
    if (os !== scalarKind(update)) {
      add(ctx, "FIELD_SCALAR_KIND_CHANGED", `${what} changed type from ${typeLabel(original)} to ${typeLabel(update)}, which is not wire-compatible`);
    } else if (originalLabel !== null && updateLabel !== null && originalLabel !== updateLabel) {
      if (os === "STRING_OR_BYTES") add(ctx, "FIELD_STRING_OR_BYTES_LABEL_CHANGED", `${what} changed label from ${originalLabel} to ${updateLabel}`);
      else add(ctx, "FIELD_NUMERIC_LABEL_CHANGED", `${what} changed label from ${originalLabel} to ${updateLabel}`);
    }
  } else if (ok === "MESSAGE") {
    compareMessageTypes(ctx, what, original as { kind: "message"; fullName: string }, update as { kind: "message"; fullName: string });
  } else if (original.kind === "map" && update.kind === "map") {
    compareLabelsAndTypes(ctx, message, field, null, null, original.key, update.key);
    compareLabelsAndTypes(ctx, message, field, null, null, original.value, update.value);
  }
}

function localName(info: TypeInfo): string {
  const full = info.model.fullName;
  return info.packageName && full.startsWith(info.packageName + ".") ? full.slice(info.packageName.length + 1) : full;
}

function compareMessageTypes(ctx: DiffContext, what: string, original: { fullName: string }, update: { fullName: string }): void {
  const oi = ctx.writer.all.get(original.fullName);
  const ui = ctx.reader.all.get(update.fullName);
  if (!oi || !ui || oi.model.kind !== "message" || ui.model.kind !== "message") {
    if (original.fullName !== update.fullName) add(ctx, "FIELD_NAMED_TYPE_CHANGED", `${what} changed type from ${original.fullName} to ${update.fullName}`);
    return;
  }
  const local = localName(oi);
  if (local !== localName(ui)) {
    add(ctx, "FIELD_NAMED_TYPE_CHANGED", `${what} changed type from ${original.fullName} to ${update.fullName}`);
    return;
  }
  // Types of the same file version are compared where they are declared (or are the same).
  if (oi.origin !== null && oi.origin === ui.origin) return;
  const key = oi.model.fullName + "\u0000" + ui.model.fullName;
  let outcome = ctx.memo.get(key);
  if (outcome === "pending") return;
  if (!outcome) {
    ctx.memo.set(key, "pending");
    const sub: DiffContext = { ...ctx, path: local.split("."), diffs: [], scope: new Set(ctx.scope) };
    compareMessage(sub, oi.model, ui.model);
    outcome = { diffs: sub.diffs, compatible: sub.diffs.every((d) => d.compatible) };
    ctx.memo.set(key, outcome);
  }
  ctx.diffs.push(...outcome.diffs);
  if (!outcome.compatible) add(ctx, "FIELD_NAMED_TYPE_CHANGED", `${what} has type ${update.fullName}, which changed incompatibly`);
}

// ---------------------------------------------------------------------------------------------------------------
// The serialized form: Confluent's Protobuf serializers register, and read back with `format=serialized`, the
// schema as base64 of its FileDescriptorProto.

/** Most bytes of a decoded FileDescriptorProto. */
export const MAX_PROTOBUF_DESCRIPTOR_BYTES = 1_048_576;
/** The file name the serialized form gives the schema itself (its imports keep their reference names). */
const SERIALIZED_FILE_NAME = "default";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TYPE_REFERENCE = /^\.?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const NUMBER_LITERAL = /^-?(?:inf|nan|(?:0x[0-9A-Fa-f]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?))$/;
// A bytes default as the descriptor carries it: C-escaped, so no bare quote, backslash or control character.
const ESCAPED_BYTES = /^(?:[^"\\\u0000-\u001f]|\\[^\u0000-\u001f])*$/;
const ENUM_VALUED_OPTIONS = new Set(["optimize_for", "ctype", "jstype", "idempotency_level"]);
const SKIPPED_OPTIONS = new Set(["uninterpreted_option", "features", "map_entry", "feature_support", "edition_defaults", "targets", "retention"]);

/** Strict base64 of a bounded size (no whitespace, canonical padding), or null. */
function decodeBase64(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > Math.ceil(MAX_PROTOBUF_DESCRIPTOR_BYTES / 3) * 4 || !BASE64.test(text)) return null;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? new Uint8Array(bytes) : null;
}

type DescriptorObject = Record<string, unknown>;

function decodeFileDescriptor(bytes: Uint8Array): DescriptorObject {
  let decoded: protobuf.Message;
  try {
    decoded = descriptor.FileDescriptorProto.decode(bytes);
  } catch (error) {
    throw new ProtobufInputError("not a FileDescriptorProto (" + (error instanceof RangeError ? "nested too deeply" : describeError(error)) + ")");
  }
  return descriptor.FileDescriptorProto.toObject(decoded, { enums: String, longs: String, defaults: false }) as DescriptorObject;
}

function list(value: unknown): DescriptorObject[] {
  return Array.isArray(value) ? (value.filter((v) => v !== null && typeof v === "object") as DescriptorObject[]) : [];
}

function identifier(value: unknown, what: string): string {
  if (typeof value !== "string" || !IDENTIFIER.test(value)) throw new ProtobufInputError(`the descriptor has an invalid ${what} name ${JSON.stringify(value)}`);
  return value;
}

function typeReference(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length > 4096 || !TYPE_REFERENCE.test(value)) throw new ProtobufInputError(`the descriptor has an invalid ${what} type name ${JSON.stringify(value)}`);
  return value;
}

function fieldNumber(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) throw new ProtobufInputError(`the descriptor has an invalid ${what} number`);
  return value;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The standard options of a descriptor as `.proto` option assignments (custom options do not survive decoding). */
function descriptorOptions(options: unknown): string[] {
  if (!options || typeof options !== "object") return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(options as DescriptorObject)) {
    const name = snakeCase(key);
    if (SKIPPED_OPTIONS.has(name) || !IDENTIFIER.test(name)) continue;
    if (typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) out.push(`${name} = ${value}`);
    else if (typeof value === "string") out.push(`${name} = ${ENUM_VALUED_OPTIONS.has(name) && IDENTIFIER.test(value) ? value : quote(value)}`);
  }
  return out;
}

const LABEL_TEXT: Record<string, Label> = { LABEL_OPTIONAL: "optional", LABEL_REQUIRED: "required", LABEL_REPEATED: "repeated" };

function scalarOf(type: unknown): string | null {
  if (typeof type !== "string" || !type.startsWith("TYPE_")) return null;
  const name = type.slice(5).toLowerCase();
  return SCALARS.has(name) ? name : null;
}

interface EmitContext {
  syntax: "proto2" | "proto3";
  depth: number;
}

function fieldTypeText(field: DescriptorObject, what: string): string {
  if (field.type === "TYPE_GROUP") throw new ProtobufInputError(`${what}: groups are not supported (use a nested message)`);
  if (field.type === "TYPE_MESSAGE" || field.type === "TYPE_ENUM" || (field.type === undefined && field.typeName !== undefined)) return typeReference(field.typeName, what);
  const scalar = scalarOf(field.type);
  if (!scalar) throw new ProtobufInputError(`${what} has an unknown type ${JSON.stringify(field.type)}`);
  return scalar;
}

function defaultText(field: DescriptorObject, type: string, what: string): string | null {
  const value = field.defaultValue;
  if (typeof value !== "string") return null;
  if (type === "string") return quote(value);
  if (type === "bytes") {
    if (!ESCAPED_BYTES.test(value)) throw new ProtobufInputError(`${what} has a malformed bytes default`);
    return '"' + value + '"';
  }
  if (type === "bool") {
    if (value !== "true" && value !== "false") throw new ProtobufInputError(`${what} has a malformed default`);
    return value;
  }
  if (SCALARS.has(type)) {
    if (!NUMBER_LITERAL.test(value)) throw new ProtobufInputError(`${what} has a malformed default`);
    return value;
  }
  return identifier(value, `${what} default`);
}

function fieldText(field: DescriptorObject, label: Label, type: string, where: string): string {
  const name = identifier(field.name, "field");
  const what = `field ${where}.${name}`;
  const number = fieldNumber(field.number, what);
  const options = descriptorOptions(field.options);
  const defaultValue = type.startsWith("map<") ? null : defaultText(field, type, what);
  if (defaultValue !== null) options.unshift(`default = ${defaultValue}`);
  return `${label ? label + " " : ""}${type} ${name} = ${number}${options.length ? ` [${options.join(", ")}]` : ""};`;
}

function extendsText(extensions: DescriptorObject[], ctx: EmitContext, where: string): string[] {
  const lines: string[] = [];
  for (const field of extensions) {
    const extendee = typeReference(field.extendee, "extension target");
    const what = `extension ${where}.${String(field.name)}`;
    const label = LABEL_TEXT[String(field.label)] ?? null;
    lines.push(`extend ${extendee} {`, "  " + fieldText(field, ctx.syntax === "proto3" && label === "optional" && !field.proto3Optional ? null : label, fieldTypeText(field, what), where), "}");
  }
  return lines;
}

function rangesText(ranges: DescriptorObject[], keyword: string, endExclusive: boolean, what: string): string[] {
  return ranges.map((r) => {
    const from = fieldNumber(r.start, what);
    const to = fieldNumber(r.end, what) - (endExclusive ? 1 : 0);
    return `${keyword} ${from === to ? from : `${from} to ${to}`};`;
  });
}

function messageText(message: DescriptorObject, ctx: EmitContext, scope: string): string[] {
  if (ctx.depth > 64) throw new ProtobufInputError("the descriptor nests messages deeper than 64 levels");
  const name = identifier(message.name, "message");
  const where = scope ? `${scope}.${name}` : name;
  const inner: EmitContext = { ...ctx, depth: ctx.depth + 1 };
  const nested = list(message.nestedType);
  const entries = new Map(nested.filter((n) => (n.options as DescriptorObject | undefined)?.mapEntry === true).map((n) => [String(n.name), n]));
  const oneofs = list(message.oneofDecl);
  const lines: string[] = [];
  lines.push(...descriptorOptions(message.options).map((o) => `option ${o};`));
  const members = new Map<number, string[]>();
  for (const field of list(message.field)) {
    const what = `field ${where}.${String(field.name)}`;
    let type = fieldTypeText(field, what);
    let label = LABEL_TEXT[String(field.label)] ?? null;
    const entryName = field.type === "TYPE_MESSAGE" && label === "repeated" ? type.slice(type.lastIndexOf(".") + 1) : "";
    const entry = entries.get(entryName);
    if (entry && (type === entryName || type.endsWith("." + name + "." + entryName))) {
      const [key, value] = [1, 2].map((n) => list(entry.field).find((f) => f.number === n));
      if (!key || !value) throw new ProtobufInputError(`${what}: malformed map entry`);
      type = `map<${fieldTypeText(key, what)}, ${fieldTypeText(value, what)}>`;
      label = null;
    } else if (ctx.syntax === "proto3" && label === "optional") {
      label = field.proto3Optional === true ? "optional" : null;
    }
    const oneofIndex = field.oneofIndex;
    if (typeof oneofIndex === "number" && field.proto3Optional !== true) {
      if (!oneofs[oneofIndex]) throw new ProtobufInputError(`${what} names a oneof the message does not declare`);
      const group = members.get(oneofIndex) ?? [];
      group.push(fieldText(field, null, type, where));
      members.set(oneofIndex, group);
    } else lines.push(fieldText(field, label, type, where));
  }
  for (const [index, fields] of [...members].sort((a, b) => a[0] - b[0])) {
    const oneof = oneofs[index]!;
    lines.push(`oneof ${identifier(oneof.name, "oneof")} {`, ...indent([...descriptorOptions(oneof.options).map((o) => `option ${o};`), ...fields]), "}");
  }
  lines.push(...rangesText(list(message.extensionRange), "extensions", true, `extension range of ${where}`));
  lines.push(...rangesText(list(message.reservedRange), "reserved", true, `reserved range of ${where}`));
  for (const reserved of Array.isArray(message.reservedName) ? message.reservedName : []) lines.push(`reserved ${quote(identifier(reserved, "reserved"))};`);
  for (const n of nested) if (!entries.has(String(n.name))) lines.push(...messageText(n, inner, where));
  for (const e of list(message.enumType)) lines.push(...enumText(e, where));
  lines.push(...extendsText(list(message.extension), ctx, where));
  return [`message ${name} {`, ...indent(lines), "}"];
}

function enumText(e: DescriptorObject, scope: string): string[] {
  const name = identifier(e.name, "enum");
  const where = scope ? `${scope}.${name}` : name;
  const lines: string[] = descriptorOptions(e.options).map((o) => `option ${o};`);
  for (const value of list(e.value)) {
    const options = descriptorOptions(value.options);
    lines.push(`${identifier(value.name, "enum value")} = ${fieldNumber(value.number, `value of enum ${where}`)}${options.length ? ` [${options.join(", ")}]` : ""};`);
  }
  lines.push(...rangesText(list(e.reservedRange), "reserved", false, `reserved range of enum ${where}`));
  for (const reserved of Array.isArray(e.reservedName) ? e.reservedName : []) lines.push(`reserved ${quote(identifier(reserved, "reserved"))};`);
  return [`enum ${name} {`, ...indent(lines), "}"];
}

function serviceText(s: DescriptorObject): string[] {
  const name = identifier(s.name, "service");
  const lines: string[] = descriptorOptions(s.options).map((o) => `option ${o};`);
  for (const m of list(s.method)) {
    const req = (m.clientStreaming === true ? "stream " : "") + typeReference(m.inputType, "method input");
    const res = (m.serverStreaming === true ? "stream " : "") + typeReference(m.outputType, "method output");
    const options = descriptorOptions(m.options).map((o) => `option ${o};`);
    const head = `rpc ${identifier(m.name, "method")} (${req}) returns (${res})`;
    lines.push(...(options.length ? [`${head} {`, ...indent(options), "}"] : [`${head};`]));
  }
  return [`service ${name} {`, ...indent(lines), "}"];
}

/** The `.proto` text of a decoded FileDescriptorProto; throws ProtobufInputError when it cannot be one. */
function descriptorToProto(file: DescriptorObject): string {
  const syntaxValue = file.syntax === undefined || file.syntax === "" ? "proto2" : file.syntax;
  if (syntaxValue === "editions") throw new ProtobufInputError("the descriptor uses editions; only proto2 and proto3 are supported");
  if (syntaxValue !== "proto2" && syntaxValue !== "proto3") throw new ProtobufInputError(`the descriptor has an unsupported syntax ${JSON.stringify(syntaxValue)}`);
  const ctx: EmitContext = { syntax: syntaxValue, depth: 0 };
  const out: string[] = [`syntax = "${syntaxValue}";`];
  if (file.package !== undefined && file.package !== "") {
    const pkg = typeReference(file.package, "package");
    if (pkg.startsWith(".")) throw new ProtobufInputError("the descriptor has an invalid package name");
    out.push(`package ${pkg};`);
  }
  const dependencies = Array.isArray(file.dependency) ? file.dependency : [];
  const weak = new Set(Array.isArray(file.weakDependency) ? file.weakDependency : []);
  const isPublic = new Set(Array.isArray(file.publicDependency) ? file.publicDependency : []);
  dependencies.forEach((dependency, i) => {
    if (typeof dependency !== "string" || dependency === "" || dependency.length > 1024) throw new ProtobufInputError("the descriptor has an invalid dependency");
    out.push(`import ${weak.has(i) ? "weak " : isPublic.has(i) ? "public " : ""}${quote(dependency)};`);
  });
  out.push(...descriptorOptions(file.options).map((o) => `option ${o};`));
  for (const m of list(file.messageType)) out.push(...messageText(m, ctx, ""));
  for (const e of list(file.enumType)) out.push(...enumText(e, ""));
  out.push(...extendsText(list(file.extension), ctx, ""));
  for (const s of list(file.service)) out.push(...serviceText(s));
  return out.join("\n") + "\n";
}

/** `.proto` text from what a serializer registered, when it is base64 of a FileDescriptorProto (null: it is not). */
function serializedText(text: string): string | null {
  const bytes = decodeBase64(text.trim());
  return bytes ? descriptorToProto(decodeFileDescriptor(bytes)) : null;
}

/**
 * The `.proto` text of a base64 FileDescriptorProto (what Confluent's serializers register), or null when the
 * string is not one.
 */
export function protobufFromSerialized(base64: string): string | null {
  try {
    return serializedText(base64);
  } catch (error) {
    if (error instanceof ProtobufInputError || error instanceof RangeError) return null;
    throw error;
  }
}

const LABEL_DESCRIPTOR: Record<string, string> = { optional: "LABEL_OPTIONAL", required: "LABEL_REQUIRED", repeated: "LABEL_REPEATED" };

function qualified(object: protobuf.ReflectionObject): string {
  return object.fullName.startsWith(".") ? object.fullName : "." + object.fullName;
}

/** Standard options of a reflection object in descriptor form (custom and parser-only options left out). */
function optionsObject(object: protobuf.ReflectionObject, skip: readonly string[] = []): DescriptorObject | undefined {
  const out: DescriptorObject = {};
  for (const [name, value] of collectOptions(object)) {
    if (name.includes("(") || name.includes(".") || skip.includes(name)) continue;
    out[camelCase(name)] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function typeDescriptor(field: protobuf.Field, target: DescriptorObject): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    target.type = "TYPE_ENUM";
    target.typeName = qualified(resolved);
  } else if (resolved instanceof protobuf.Type) {
    target.type = "TYPE_MESSAGE";
    target.typeName = qualified(resolved);
  } else target.type = "TYPE_" + field.type.toUpperCase();
}

function fieldDescriptor(field: protobuf.Field, syntax: "proto2" | "proto3", oneofIndex: number | undefined, entryName: string | null): DescriptorObject {
  const out: DescriptorObject = { name: field.name, number: field.id };
  if (entryName !== null) {
    out.label = "LABEL_REPEATED";
    out.type = "TYPE_MESSAGE";
    out.typeName = qualified(field.parent!) + "." + entryName;
  } else {
    out.label = LABEL_DESCRIPTOR[labelOf(field, syntax) ?? "optional"];
    typeDescriptor(field, out);
    const fallback = field.options?.default as unknown;
    if (fallback !== undefined) {
      out.defaultValue =
        field.type === "bytes" && typeof fallback === "string" ? quoteBytes(fallback).slice(1, -1)
        : typeof fallback === "number" ? renderValue(fallback, false)
        : String(fallback);
    }
  }
  if (field.extensionField || field.extend) out.extendee = field.extensionField?.parent ? qualified(field.extensionField.parent) : field.extend;
  if (oneofIndex !== undefined) out.oneofIndex = oneofIndex;
  if (field.options?.proto3_optional === true) out.proto3Optional = true;
  const options = optionsObject(field, ["default", "proto3_optional", "json_name"]);
  if (options) out.options = options;
  return out;
}

function entryTypeName(field: protobuf.Field): string {
  return field.name.split("_").map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : "")).join("") + "Entry";
}

function messageDescriptor(type: protobuf.Type, syntax: "proto2" | "proto3"): DescriptorObject {
  const fields = ownFields(type).sort((a, b) => a.id - b.id);
  const real = type.oneofsArray.filter((o) => !isSyntheticOneof(o) && o.fieldsArray.length > 0);
  // Synthetic oneofs (proto3 `optional`) come after the declared ones, as protoc orders them.
  const synthetic = type.oneofsArray.filter((o) => isSyntheticOneof(o));
  const oneofs = [...real, ...synthetic];
  const nestedType: DescriptorObject[] = [];
  const field = fields.map((f) => {
    const index = f.partOf ? oneofs.indexOf(f.partOf) : -1;
    if (f instanceof protobuf.MapField) {
      const name = entryTypeName(f);
      const value: DescriptorObject = { name: "value", number: 2, label: "LABEL_OPTIONAL" };
      typeDescriptor(f, value);
      nestedType.push({
        name,
        field: [{ name: "key", number: 1, label: "LABEL_OPTIONAL", type: "TYPE_" + f.keyType.toUpperCase() }, value],
        options: { mapEntry: true },
      });
      return fieldDescriptor(f, syntax, undefined, name);
    }
    return fieldDescriptor(f, syntax, index >= 0 ? index : undefined, null);
  });
  for (const child of type.nestedArray) if (child instanceof protobuf.Type) nestedType.push(messageDescriptor(child, syntax));
  const out: DescriptorObject = {
    name: type.name,
    field,
    nestedType,
    enumType: type.nestedArray.filter((o): o is protobuf.Enum => o instanceof protobuf.Enum).map(enumDescriptor),
    extension: type.nestedArray.filter((o): o is protobuf.Field => o instanceof protobuf.Field).map((f) => fieldDescriptor(f, syntax, undefined, null)),
    oneofDecl: oneofs.map((o) => ({ name: o.name, ...(optionsObject(o) ? { options: optionsObject(o) } : {}) })),
    extensionRange: (type.extensions ?? []).map(([from, to]) => ({ start: from, end: to! + 1 })),
    reservedRange: (type.reserved ?? []).filter((r): r is number[] => Array.isArray(r)).map(([from, to]) => ({ start: from, end: to! + 1 })),
    reservedName: (type.reserved ?? []).filter((r): r is string => typeof r === "string"),
  };
  const options = optionsObject(type);
  if (options) out.options = options;
  return out;
}

function enumDescriptor(e: protobuf.Enum): DescriptorObject {
  const out: DescriptorObject = {
    name: e.name,
    value: Object.entries(e.values).map(([name, number]) => {
      const opts = e.valuesOptions?.[name];
      const options = opts ? Object.fromEntries(Object.entries(opts).filter(([k]) => !k.includes("(")).map(([k, v]) => [camelCase(k), v])) : {};
      return { name, number, ...(Object.keys(options).length ? { options } : {}) };
    }),
    reservedRange: (e.reserved ?? []).filter((r): r is number[] => Array.isArray(r)).map(([from, to]) => ({ start: from, end: to })),
    reservedName: (e.reserved ?? []).filter((r): r is string => typeof r === "string"),
  };
  const options = optionsObject(e);
  if (options) out.options = options;
  return out;
}

function serviceDescriptor(s: protobuf.Service): DescriptorObject {
  const out: DescriptorObject = {
    name: s.name,
    method: s.methodsArray.map((m) => {
      const method: DescriptorObject = {
        name: m.name,
        inputType: m.resolvedRequestType ? qualified(m.resolvedRequestType) : m.requestType,
        outputType: m.resolvedResponseType ? qualified(m.resolvedResponseType) : m.responseType,
      };
      if (m.requestStream) method.clientStreaming = true;
      if (m.responseStream) method.serverStreaming = true;
      const options = optionsObject(m);
      if (options) method.options = options;
      return method;
    }),
  };
  const options = optionsObject(s);
  if (options) out.options = options;
  return out;
}

/**
 * Base64 of the schema's FileDescriptorProto: what Confluent's deserializers read from
 * `GET /schemas/ids/{id}?format=serialized`. Its dependencies are the schema's imports (the reference names).
 */
export function serializedProtobuf(parsed: ParsedSchema): string {
  const handle = handleOf(parsed);
  if (!handle) throw new Error("serializedProtobuf needs a Protobuf schema");
  const alone = protobuf.parse(parsed.canonical, new protobuf.Root(), { keepCase: true });
  const imports = [...new Set(alone.imports ?? [])].sort();
  const weak = [...new Set(alone.weakImports ?? [])].sort();
  const mainObjects: protobuf.ReflectionObject[] = [];
  const walk = (ns: protobuf.Namespace) => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type || o instanceof protobuf.Enum || o instanceof protobuf.Service || o instanceof protobuf.Field) {
        if (fileOf(o) === MAIN_FILE) mainObjects.push(o);
      } else if (o instanceof protobuf.Namespace) walk(o);
    }
  };
  walk(handle.root);
  const fileNs = handle.packageName ? alone.root.lookup(handle.packageName) : alone.root;
  const file: DescriptorObject = {
    name: SERIALIZED_FILE_NAME,
    dependency: [...imports, ...weak],
    weakDependency: weak.map((_, i) => imports.length + i),
    messageType: mainObjects.filter((o): o is protobuf.Type => o instanceof protobuf.Type).map((t) => messageDescriptor(t, handle.syntax)),
    enumType: mainObjects.filter((o): o is protobuf.Enum => o instanceof protobuf.Enum).map(enumDescriptor),
    service: mainObjects.filter((o): o is protobuf.Service => o instanceof protobuf.Service).map(serviceDescriptor),
    extension: mainObjects.filter((o): o is protobuf.Field => o instanceof protobuf.Field).map((f) => fieldDescriptor(f, handle.syntax, undefined, null)),
    syntax: handle.syntax,
  };
  if (handle.packageName) file.package = handle.packageName;
  const options = fileNs ? optionsObject(fileNs) : undefined;
  if (options) file.options = options;
  const message = descriptor.FileDescriptorProto.fromObject(file);
  return Buffer.from(descriptor.FileDescriptorProto.encode(message).finish()).toString("base64");
}
