import type { Json, JsonSchema } from "../types.ts";

/** Thrown when copying a schema would expand a reference graph beyond the node budget; turned into a diagnostic by the parser. */
export class ExpansionLimitError extends Error {
  constructor(readonly limit: number) {
    super(`Schemas expand to more than ${limit} nodes once references are resolved.`);
  }
}

/** A shared node budget for one normalisation. */
export interface Budget {
  remaining: number;
  readonly limit: number;
}

/** Sets an own enumerable member, even one named `__proto__` (plain assignment would change the prototype). */
export function setOwn(target: Record<string, Json>, key: string, value: Json): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function escape(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

/**
 * Copies a dereferenced (possibly cyclic) schema graph into plain JSON: a reference back to an enclosing schema
 * becomes a local `$ref` (`#`, `#/properties/children/items`), so the result is a self-contained JSON Schema.
 * Parser artefacts (`x-parser-*`) are dropped.
 */
export function copySchema(node: unknown, budget: Budget): JsonSchema | undefined {
  if (node === undefined) return undefined;
  const ancestors = new Map<object, string>();
  function walk(value: unknown, pointer: string): Json {
    if (value === null || typeof value !== "object") {
      return value === undefined ? null : (value as Json);
    }
    const seen = ancestors.get(value);
    if (seen !== undefined) return { $ref: seen };
    if (--budget.remaining < 0) throw new ExpansionLimitError(budget.limit);
    ancestors.set(value, pointer);
    let out: Json;
    if (Array.isArray(value)) {
      out = value.map((v, i) => walk(v, `${pointer}/${i}`));
    } else {
      const obj: Record<string, Json> = {};
      for (const [k, v] of Object.entries(value)) {
        if (k.startsWith("x-parser-") || v === undefined) continue;
        setOwn(obj, k, walk(v, `${pointer}/${escape(k)}`));
      }
      out = obj;
    }
    ancestors.delete(value);
    return out;
  }
  const copied = walk(node, "#");
  return typeof copied === "boolean" || (copied !== null && typeof copied === "object" && !Array.isArray(copied))
    ? (copied as JsonSchema)
    : {};
}

/** Copies any value into acyclic JSON (bindings, examples); cycles become `null`. */
export function copyJson(node: unknown, budget: Budget): Json {
  const onPath = new Set<object>();
  function walk(value: unknown): Json {
    if (value === null || typeof value !== "object") return value === undefined ? null : (value as Json);
    if (onPath.has(value)) return null;
    if (--budget.remaining < 0) throw new ExpansionLimitError(budget.limit);
    onPath.add(value);
    let out: Json;
    if (Array.isArray(value)) out = value.map(walk);
    else {
      const obj: Record<string, Json> = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined && !k.startsWith("x-parser-")) setOwn(obj, k, walk(v));
      out = obj;
    }
    onPath.delete(value);
    return out;
  }
  return walk(node);
}
