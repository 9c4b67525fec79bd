import { createHash } from "node:crypto";
import { canonicalJson } from "../hash.ts";
import { normaliseSchemaFormat, registrySchemaHash } from "../flows/index.ts";
import { DEFAULT_LIMITS, measure } from "../parse/limits.ts";
import type { ResolvedReference, SchemaReferenceInput } from "./types.ts";

/** Largest schema text the registry accepts (UTF-8 bytes). */
export const MAX_SCHEMA_BYTES = 1024 * 1024;
/** Most references one schema may carry (transitively resolved references count once each). */
export const MAX_REFERENCES = 100;
/** Deepest nesting of a schema's JSON: the contract parser's limit, so both paths accept the same schemas. */
export const MAX_SCHEMA_DEPTH = DEFAULT_LIMITS.maxDepth;

export type Result<T> = { ok: true; value: T } | { ok: false; message: string };

/** The key of a subject version: two references to it mean the same schema. */
export const referenceKey = (ref: SchemaReferenceInput): string => `${ref.subject}\u0000${ref.version}`;

/** Quotes a name from input for a message, shortened so a message stays readable. */
export function quote(text: string, max = 200): string {
  return JSON.stringify(text.length > max ? text.slice(0, max) + "…" : text);
}

/**
 * Every schema a schema's references reach, each subject version once, dependencies before their dependants.
 * Refused past {@link MAX_REFERENCES}. A subject version already met is not walked again, so a shared
 * dependency costs once however many schemas use it.
 */
export function referenceClosure(references: readonly ResolvedReference[]): Result<ResolvedReference[]> {
  const seen = new Set<string>();
  const order: ResolvedReference[] = [];
  // Iterative post-order: reference chains come from the caller and may be long.
  const stack: { ref: ResolvedReference; expanded: boolean }[] = [...references].reverse().map((ref) => ({ ref, expanded: false }));
  while (stack.length > 0) {
    const top = stack.pop()!;
    const key = referenceKey(top.ref);
    if (top.expanded) {
      order.push(top.ref);
      continue;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    if (seen.size > MAX_REFERENCES) return { ok: false, message: `A schema may have at most ${MAX_REFERENCES} references, counting the references of referenced schemas.` };
    stack.push({ ref: top.ref, expanded: true });
    for (let i = top.ref.references.length - 1; i >= 0; i--) {
      const child = top.ref.references[i]!;
      if (!seen.has(referenceKey(child))) stack.push({ ref: child, expanded: false });
    }
  }
  return { ok: true, value: order };
}

/** The references as stored and hashed: name, subject, version, in the order given. */
export function referenceInputs(references: readonly ResolvedReference[]): SchemaReferenceInput[] {
  return references.map(({ name, subject, version }) => ({ name, subject, version }));
}

/**
 * The registry hash of a JSON-valued schema: without references exactly the contract flows' hash, so both paths
 * give one global id; with references the canonical JSON of `[{name, subject, version}]` is added after a NUL.
 */
export function identityHash(format: string, value: unknown, references: readonly SchemaReferenceInput[]): string {
  if (references.length === 0) return registrySchemaHash(format, value);
  return "sha256:" + createHash("sha256").update(normaliseSchemaFormat(format)).update("\u0000").update(canonicalJson(value)).update("\u0000").update(canonicalJson(references)).digest("hex");
}

/** Parses JSON text with the nesting and size bounds of the contract parser; never throws. */
export function parseJsonText(text: string, what: string): Result<unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `${what} is not valid JSON: ${errorText(error)}` };
  }
  const size = measure(value, { maxDepth: MAX_SCHEMA_DEPTH, maxNodes: DEFAULT_LIMITS.maxNodes, maxAliasExpansion: 1, aliasExpansionAllowance: DEFAULT_LIMITS.maxNodes });
  if (size.exceeded === "depth") return { ok: false, message: `${what} nests deeper than ${MAX_SCHEMA_DEPTH} levels.` };
  if (size.exceeded) return { ok: false, message: `${what} has more than ${DEFAULT_LIMITS.maxNodes} nodes.` };
  return { ok: true, value };
}

/** The message of a thrown value, bounded. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 500 ? text.slice(0, 500) + "…" : text;
}
