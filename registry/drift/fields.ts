/**
 * Undocumented fields: property paths present in the schema an agent inferred from the payloads
 * and documented by none of the declared payload schemas. Iterative and bounded: a depth limit,
 * a cap on paths reported, and a visit budget for resolving local `$ref`s.
 */

/** Limits of {@link undocumentedFields}; all have defaults. */
export interface FieldLimits {
  /** deepest property level walked (default 10) */
  maxDepth?: number;
  /** most paths reported (default 50) */
  maxFields?: number;
  /** most documented schema nodes visited while expanding `$ref`s and branches (default 20,000); once spent, the walk stops */
  maxVisits?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** A documented schema node with the root its local `$ref`s resolve against. */
interface Doc {
  node: Obj;
  root: unknown;
}

/** Escapes one JSON pointer token (RFC 6901). */
function token(key: string): string {
  return key.includes("~") || key.includes("/") ? key.replace(/~/g, "~0").replace(/\//g, "~1") : key;
}

function unescapeToken(t: string): string {
  return t.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** Resolves a local `#/…` pointer inside its root; undefined for anything else. */
function resolveLocal(ref: string, root: unknown): unknown {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    let t: string;
    try {
      t = unescapeToken(decodeURIComponent(raw));
    } catch {
      return undefined;
    }
    if (Array.isArray(at)) at = at[Number(t)];
    else if (isObj(at)) at = Object.prototype.hasOwnProperty.call(at, t) ? at[t] : undefined;
    else return undefined;
  }
  return at;
}

/** Keywords whose schemas document the same position: a list of schemas or one schema. */
const BRANCHES = ["allOf", "anyOf", "oneOf", "if", "then", "else"] as const;
/** Keywords whose values (by property name) are schemas of the same position; draft-07 `dependencies` also lists names, which are skipped. */
const BRANCH_MAPS = ["dependentSchemas", "dependencies"] as const;

/**
 * Stands for documentation the walk cannot see (a property whose schema is `true`, a `$ref` it cannot resolve):
 * it documents every key below it, so nothing there is reported.
 */
const ANYTHING: Obj = Object.freeze({});
const anything = (docs: readonly Doc[]): boolean => docs.some((d) => d.node === ANYTHING);

function composite(node: Obj): boolean {
  return node.$ref !== undefined || BRANCHES.some((key) => node[key] !== undefined) || BRANCH_MAPS.some((key) => node[key] !== undefined);
}

/** The documented schema a sub-schema stands for: `true` documents anything below, `false` or a non-schema nothing. */
function subDoc(schema: unknown, root: unknown): Doc | null {
  if (schema === true) return { node: ANYTHING, root };
  return isObj(schema) ? { node: schema, root } : null;
}

/** Every node a documented position stands for: itself, its `$ref` target and its branches, transitively. */
function expand(docs: readonly Doc[], budget: { visits: number }): readonly Doc[] {
  // The common case: plain schemas, nothing to follow.
  if (docs.every((d) => !composite(d.node))) {
    budget.visits -= docs.length;
    return docs;
  }
  const out: Doc[] = [];
  const seen = new Set<Obj>();
  const stack = [...docs];
  while (stack.length > 0 && budget.visits > 0) {
    const doc = stack.pop()!;
    if (seen.has(doc.node)) continue;
    seen.add(doc.node);
    budget.visits--;
    out.push(doc);
    const ref = doc.node.$ref;
    if (typeof ref === "string") {
      const target = resolveLocal(ref, doc.root);
      if (isObj(target)) stack.push({ node: target, root: doc.root });
      // Another document, or a pointer to nothing: what it documents is unknown, so it documents anything.
      else if (target !== false) stack.push({ node: ANYTHING, root: doc.root });
    }
    for (const key of BRANCHES) {
      const branch = doc.node[key];
      if (Array.isArray(branch)) {
        for (const b of branch) if (isObj(b)) stack.push({ node: b, root: doc.root });
      } else if (isObj(branch)) stack.push({ node: branch, root: doc.root });
    }
    for (const key of BRANCH_MAPS) {
      const map = doc.node[key];
      if (isObj(map)) for (const b of Object.values(map)) if (isObj(b)) stack.push({ node: b, root: doc.root });
    }
  }
  return out;
}

/** Whether a `patternProperties` pattern could match the key, deciding only the literal-safe forms (`^abc$`, `^abc`); anything else may match. */
function patternMayMatch(pattern: string, key: string): boolean {
  const literal = /^\^([A-Za-z0-9_-]*)(\$?)$/.exec(pattern);
  if (!literal) return true;
  return literal[2] ? key === literal[1] : key.startsWith(literal[1]!);
}

/** The documented schemas of a property, or null when the key is documented by no schema at the position. */
function propertyDocs(docs: readonly Doc[], key: string): Doc[] | null {
  const out: Doc[] = [];
  let documented = false;
  for (const { node, root } of docs) {
    const props = node.properties;
    if (isObj(props) && Object.prototype.hasOwnProperty.call(props, key)) {
      documented = true;
      const doc = subDoc(props[key], root);
      if (doc) out.push(doc);
    }
    const patterns = node.patternProperties;
    if (isObj(patterns)) {
      for (const [pattern, sub] of Object.entries(patterns)) {
        if (!patternMayMatch(pattern, key)) continue;
        documented = true;
        const doc = subDoc(sub, root);
        if (doc) out.push(doc);
      }
    }
    // An additionalProperties schema documents any key; `true` (or leaving it out) only allows it.
    if (isObj(node.additionalProperties)) {
      documented = true;
      out.push({ node: node.additionalProperties, root });
    }
  }
  return documented ? out : null;
}

/** The documented schemas of array items: `items`, `prefixItems`, draft-07 tuple `items`, `additionalItems`. */
function itemDocs(docs: readonly Doc[]): Doc[] {
  const out: Doc[] = [];
  for (const { node, root } of docs) {
    for (const key of ["items", "prefixItems", "additionalItems"] as const) {
      const v = node[key];
      // `additionalItems: true`, like `additionalProperties: true`, only allows items; it documents none.
      if (key === "additionalItems" && v === true) continue;
      for (const s of Array.isArray(v) ? v : [v]) {
        const doc = subDoc(s, root);
        if (doc) out.push(doc);
      }
    }
  }
  return out;
}

/**
 * JSON pointers (`/reading/unit`, array items as `-`: `/items/-/x`) of the properties in the inferred
 * schema that none of the documented schemas names. A property that is undocumented is reported
 * once, without its sub-properties. Breadth first, so the shallowest paths come first.
 */
export function undocumentedFields(inferred: Record<string, unknown>, documented: readonly unknown[], limits: FieldLimits = {}): string[] {
  const maxDepth = limits.maxDepth ?? 10;
  const maxFields = limits.maxFields ?? 50;
  const budget = { visits: limits.maxVisits ?? 20_000 };
  const found: string[] = [];
  const roots = documented.filter(isObj).map((node): Doc => ({ node, root: node }));
  const queue: { node: Obj; docs: Doc[]; path: string; depth: number }[] = [{ node: inferred, docs: roots, path: "", depth: 0 }];
  for (let head = 0; head < queue.length && found.length < maxFields; head++) {
    const { node, docs: at, path, depth } = queue[head]!;
    if (depth >= maxDepth) continue;
    // Out of budget: stop rather than report fields whose documentation was not looked at.
    if (budget.visits <= 0) break;
    const docs = expand(at, budget);
    // Documentation the walk cannot see covers everything below.
    if (anything(docs)) continue;
    const props = node.properties;
    if (isObj(props)) {
      for (const [key, sub] of Object.entries(props)) {
        const childDocs = propertyDocs(docs, key);
        const childPath = `${path}/${token(key)}`;
        if (childDocs === null) {
          found.push(childPath);
          if (found.length >= maxFields) break;
        } else if (isObj(sub)) queue.push({ node: sub, docs: childDocs, path: childPath, depth: depth + 1 });
      }
    }
    if (isObj(node.items)) queue.push({ node: node.items, docs: itemDocs(docs), path: `${path}/-`, depth: depth + 1 });
  }
  return found;
}
