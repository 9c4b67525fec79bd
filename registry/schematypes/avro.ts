/**
 * Avro: the text is an Avro schema in JSON (a bare primitive such as `"string"` included), parsed with avsc. The
 * named types of the references are registered first, so the schema can use them by their full name.
 * Compatibility is Avro schema resolution: a reader resolves a writer. avsc's resolver decides; a small walk
 * after Avro's own compatibility checker names each difference in Confluent's words (avsc only says "cannot
 * read"), and catches what Avro checks and avsc does not.
 */
import avro from "avsc";
import { canonicalJson } from "../hash.ts";
import { errorText, identityHash, parseJsonText, quote, referenceClosure, referenceInputs } from "./shared.ts";
import { SCHEMA_TYPE_FORMATS, type ParsedSchema, type ParseOutcome, type ResolvedReference } from "./types.ts";

type Type = avro.Type;

/** What the Avro engine keeps of a parsed schema. */
export interface AvroHandle {
  type: Type;
}

const OPTIONS = {
  // Avro requires names on records, enums and fixed types.
  noAnonymousTypes: true,
  // A union's default must match its first branch, as the Avro specification says.
  strictDefaults: true,
} as const;

/** Parses an Avro schema with the named types of its references (each reference's name is a type's full name). */
export function parseAvroSchema(text: string, references: readonly ResolvedReference[]): ParseOutcome {
  const parsed = parseJsonText(text, "The schema");
  if (!parsed.ok) return parsed;
  const closure = referenceClosure(references);
  if (!closure.ok) return closure;
  const registry: Record<string, Type> = {};
  for (const ref of closure.value) {
    const what = `The referenced schema ${quote(ref.name)} (subject ${quote(ref.subject)} version ${ref.version})`;
    if (ref.schemaType !== "AVRO") return { ok: false, message: `${what} is a ${ref.schemaType} schema: an Avro schema can only reference Avro schemas.` };
    const value = parseJsonText(ref.schema, what);
    if (!value.ok) return value;
    try {
      avro.Type.forSchema(value.value as avro.Schema, { ...OPTIONS, registry });
    } catch (error) {
      return { ok: false, message: `${what} is not a valid Avro schema: ${errorText(error)}` };
    }
  }
  let type: Type;
  try {
    type = avro.Type.forSchema(parsed.value as avro.Schema, { ...OPTIONS, registry });
  } catch (error) {
    return { ok: false, message: `Invalid Avro schema: ${errorText(error)}` };
  }
  const refs = referenceInputs(references);
  const format = SCHEMA_TYPE_FORMATS.AVRO;
  const handle: AvroHandle = { type };
  return { ok: true, schema: { schemaType: "AVRO", format, canonical: canonicalJson(parsed.value), hash: identityHash(format, parsed.value, refs), references: refs, handle } };
}

// ---- Avro's compatibility walk (reader against writer) ----

type ErrorType = "NAME_MISMATCH" | "FIXED_SIZE_MISMATCH" | "MISSING_ENUM_SYMBOLS" | "READER_FIELD_MISSING_DEFAULT_VALUE" | "TYPE_MISMATCH" | "MISSING_UNION_BRANCH";

interface Incompatibility {
  type: ErrorType;
  /** Where, as Avro names it: `/fields/1/type`, `/items`, `/symbols`… (`/` is the root). */
  path: string;
  info: string;
}

/** Most type pairs one walk compares: far above real schemas; past it avsc's verdict stands alone. */
const WALK_BUDGET = 100_000;

/** Avro's type names as its checker prints them. */
function kind(type: Type): string {
  const name = type.typeName;
  if (name.startsWith("union")) return "UNION";
  if (name === "error") return "RECORD";
  return name.toUpperCase();
}

const isNamed = (k: string): boolean => k === "RECORD" || k === "ENUM" || k === "FIXED";
const shortName = (full: string): string => full.slice(full.lastIndexOf(".") + 1);

/** Avro's name rule: the unqualified names are equal, or a reader alias is the writer's full name. */
function namesMatch(reader: Type, writer: Type): boolean {
  const r = reader.name ?? "";
  const w = writer.name ?? "";
  return shortName(r) === shortName(w) || readerAliases(reader).includes(w);
}

function readerAliases(type: Type): string[] {
  return (type as unknown as { aliases?: string[] }).aliases ?? [];
}

interface RecordField {
  name: string;
  type: Type;
  aliases: string[];
  defaultValue(): unknown;
}

const fieldsOf = (type: Type): RecordField[] => (type as unknown as { fields: RecordField[] }).fields;
const symbolsOf = (type: Type): string[] => (type as unknown as { symbols: string[] }).symbols;
const enumDefault = (type: Type): string | undefined => (type as unknown as { default?: string }).default;
const sizeOf = (type: Type): number => (type as unknown as { size: number }).size;
const branchesOf = (type: Type): Type[] => (type as unknown as { types: Type[] }).types;
const itemsOf = (type: Type): Type => (type as unknown as { itemsType: Type }).itemsType;
const valuesOf = (type: Type): Type => (type as unknown as { valuesType: Type }).valuesType;

/** Writer types each reader type may read besides its own (Avro's promotions). */
const PROMOTIONS: Record<string, readonly string[]> = { LONG: ["INT"], FLOAT: ["INT", "LONG"], DOUBLE: ["INT", "LONG", "FLOAT"], BYTES: ["STRING"], STRING: ["BYTES"] };

/** What the walks of one check share: the step budget, and the verdicts of type pairs judged on their own. */
interface Shared {
  steps: number;
  exhausted: boolean;
  /** `pending` while a pair is being judged: a recursive type meeting itself is taken as readable, as Avro does. */
  verdicts: Map<Type, Map<Type, boolean | "pending">>;
}

class Walk {
  /** Pairs this walk has looked at: a pair met again (or in progress, for recursive types) adds nothing new. */
  private readonly seen = new Map<Type, Set<Type>>();

  constructor(private readonly shared: Shared = { steps: 0, exhausted: false, verdicts: new Map() }) {}

  get exhausted(): boolean {
    return this.shared.exhausted;
  }

  /** Every incompatibility of reading `writer` data with `reader`, at `path` (segments). */
  check(reader: Type, writer: Type, path: string[]): Incompatibility[] {
    if (++this.shared.steps > WALK_BUDGET) {
      this.shared.exhausted = true;
      return [];
    }
    let seen = this.seen.get(reader);
    if (!seen) this.seen.set(reader, (seen = new Set()));
    if (seen.has(writer)) return [];
    seen.add(writer);
    const r = kind(reader);
    const w = kind(writer);
    if (r === w) return this.same(r, reader, writer, path);
    if (w === "UNION") return branchesOf(writer).flatMap((branch, i) => this.check(reader, branch, [...path, String(i)]));
    if (r === "UNION") {
      for (const branch of branchesOf(reader)) if (this.quietlyCompatible(branch, writer)) return [];
      return [{ type: "MISSING_UNION_BRANCH", path: pointer(path), info: `reader union lacking writer type: ${w}` }];
    }
    if (PROMOTIONS[r]?.includes(w)) return [];
    return [{ type: "TYPE_MISMATCH", path: pointer(path), info: `reader type: ${r} not compatible with writer type: ${w}` }];
  }

  private same(k: string, reader: Type, writer: Type, path: string[]): Incompatibility[] {
    if (isNamed(k) && !namesMatch(reader, writer)) return [{ type: "NAME_MISMATCH", path: pointer([...path, "name"]), info: `expected: ${writer.name ?? ""}` }];
    switch (k) {
      case "FIXED":
        return sizeOf(reader) === sizeOf(writer) ? [] : [{ type: "FIXED_SIZE_MISMATCH", path: pointer([...path, "size"]), info: `expected: ${sizeOf(writer)}, found: ${sizeOf(reader)}` }];
      case "ENUM": {
        if (enumDefault(reader) !== undefined) return [];
        const known = new Set(symbolsOf(reader));
        const missing = symbolsOf(writer).filter((s) => !known.has(s));
        return missing.length === 0 ? [] : [{ type: "MISSING_ENUM_SYMBOLS", path: pointer([...path, "symbols"]), info: `[${missing.join(", ")}]` }];
      }
      case "RECORD": {
        const writerFields = new Map(fieldsOf(writer).map((f) => [f.name, f]));
        return fieldsOf(reader).flatMap((field, i) => {
          const match = writerFields.get(field.name) ?? field.aliases.map((a) => writerFields.get(a)).find((f) => f !== undefined);
          if (!match) return field.defaultValue() === undefined ? [{ type: "READER_FIELD_MISSING_DEFAULT_VALUE" as const, path: pointer([...path, "fields", String(i)]), info: field.name }] : [];
          return this.check(field.type, match.type, [...path, "fields", String(i), "type"]);
        });
      }
      case "ARRAY":
        return this.check(itemsOf(reader), itemsOf(writer), [...path, "items"]);
      case "MAP":
        return this.check(valuesOf(reader), valuesOf(writer), [...path, "values"]);
      case "UNION":
        return branchesOf(writer).flatMap((branch, i) => {
          const readable = branchesOf(reader).some((candidate) => this.quietlyCompatible(candidate, branch));
          return readable ? [] : [{ type: "MISSING_UNION_BRANCH" as const, path: pointer([...path, String(i)]), info: `reader union lacking writer type: ${kind(branch)}` }];
        });
      default:
        return [];
    }
  }

  /** Whether a reader branch reads a writer type, judged on its own (its findings are not the union's). */
  private quietlyCompatible(reader: Type, writer: Type): boolean {
    let verdicts = this.shared.verdicts.get(reader);
    if (!verdicts) this.shared.verdicts.set(reader, (verdicts = new Map()));
    const known = verdicts.get(writer);
    if (known !== undefined) return known !== false;
    verdicts.set(writer, "pending");
    const ok = new Walk(this.shared).check(reader, writer, []).length === 0;
    verdicts.set(writer, ok);
    return ok;
  }
}

const pointer = (path: readonly string[]): string => "/" + path.join("/");

/** Confluent's descriptions; `reader`/`writer` are "new"/"old" or the reverse, as the direction has them. */
function describe(found: Incompatibility, reader: string, writer: string): string {
  switch (found.type) {
    case "NAME_MISMATCH":
      return `The name of the schema has changed (path '${found.path}')`;
    case "FIXED_SIZE_MISMATCH":
      return `The size of FIXED type field at path '${found.path}' in the ${reader} schema does not match with the ${writer} schema`;
    case "MISSING_ENUM_SYMBOLS":
      return `The ${reader} schema is missing enum symbols '${found.info}' at path '${found.path}' in the ${writer} schema`;
    case "READER_FIELD_MISSING_DEFAULT_VALUE":
      return `The field '${found.info}' at path '${found.path}' in the ${reader} schema has no default value and is missing in the ${writer} schema`;
    case "TYPE_MISMATCH":
      return `The type (path '${found.path}') of a field in the ${reader} schema does not match with the ${writer} schema`;
    case "MISSING_UNION_BRANCH":
      return `The ${reader} schema is missing a type inside a union field at path '${found.path}' in the ${writer} schema`;
  }
}

const render = (type: string, description: string, info: string): string => `{errorType:'${type}', description:'${description}', additionalInfo:'${info}'}`;

/**
 * Messages for every change that stops `reader` reading data written with `writer` (empty: compatible). In the
 * backward direction the reader is the new schema, in the forward direction the old one; the wording follows.
 */
export function avroIncompatibilities(writer: ParsedSchema, reader: ParsedSchema, direction: "backward" | "forward"): string[] {
  const readerType = (reader.handle as AvroHandle).type;
  const writerType = (writer.handle as AvroHandle).type;
  let refusal: string | null = null;
  try {
    readerType.createResolver(writerType);
  } catch (error) {
    refusal = errorText(error);
  }
  const [readerRole, writerRole] = direction === "backward" ? ["new", "old"] : ["old", "new"];
  const found = new Walk().check(readerType, writerType, []);
  if (found.length > 0) return found.map((f) => render(f.type, describe(f, readerRole, writerRole), f.info));
  if (refusal === null) return [];
  // avsc refuses what Avro's rules would let through (a namespace change without an alias, say).
  return [render("TYPE_MISMATCH", `The ${readerRole} schema cannot read data written with the ${writerRole} schema (path '/')`, refusal)];
}
