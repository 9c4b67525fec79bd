import type { Diagnostic } from "../types.ts";

/** A loaded upload file. */
export interface LoadedFile {
  name: string;
  value: unknown;
}

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/** Normalises an upload file name to a relative POSIX path (`./a/../b.yaml` → `b.yaml`); undefined when it escapes the upload. */
export function normaliseName(name: string): string | undefined {
  const parts: string[] = [];
  for (const part of name.replace(/\\/g, "/").split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join("/");
}

function dirname(name: string): string {
  const i = name.lastIndexOf("/");
  return i < 0 ? "" : name.slice(0, i + 1);
}

/** Decodes a JSON Pointer fragment (`/a~1b/0`) into keys. */
export function decodePointer(fragment: string): string[] {
  if (fragment === "" || fragment === "/") return fragment === "/" ? [""] : [];
  let text = fragment;
  try {
    text = decodeURIComponent(fragment);
  } catch {
    // A malformed escape is kept literally; the lookup will then fail with a clear diagnostic.
  }
  return text
    .replace(/^\//, "")
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Encodes keys as a JSON Pointer (`["a/b", 0]` → `/a~1b/0`). */
export function encodePointer(path: readonly (string | number)[]): string {
  return path.map((k) => "/" + String(k).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

/** Where a `$ref` points: a file of the upload and a pointer in it, or a refusal. */
type Target = { file: string; pointer: string[] } | { refused: Diagnostic };

function classify(ref: string, from: string, files: ReadonlyMap<string, unknown>, path: (string | number)[]): Target {
  const hash = ref.indexOf("#");
  const location = hash < 0 ? ref : ref.slice(0, hash);
  const fragment = hash < 0 ? "" : ref.slice(hash + 1);
  if (location === "") return { file: from, pointer: decodePointer(fragment) };
  const base = { severity: "error" as const, file: from, path };
  if (SCHEME.test(location)) {
    // DESIGN.md "registry/": the server must never fetch a URL because a document says so.
    return {
      refused: {
        ...base,
        code: "ref-remote",
        message: `Reference to a URL refused: ${ref}. Meshport never fetches URLs named in a document; upload the referenced file with the contract and refer to it by a relative path.`,
      },
    };
  }
  const resolved = location.startsWith("/") ? undefined : normaliseName(dirname(from) + location);
  if (resolved === undefined || !files.has(resolved)) {
    return {
      refused: {
        ...base,
        code: "ref-outside-upload",
        message:
          resolved === undefined
            ? `Reference to a file outside the upload refused: ${ref}. Meshport never reads files named in a document.`
            : `Reference to a file that is not part of the upload refused: ${ref} (resolves to ${resolved}). Upload it together with the contract.`,
      },
    };
  }
  return { file: resolved, pointer: decodePointer(fragment) };
}

function lookup(value: unknown, pointer: readonly string[]): { found: boolean; value: unknown } {
  let node = value;
  for (const key of pointer) {
    if (Array.isArray(node)) {
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i >= node.length) return { found: false, value: undefined };
      node = node[i];
    } else if (node !== null && typeof node === "object" && Object.prototype.hasOwnProperty.call(node, key)) {
      node = (node as Record<string, unknown>)[key];
    } else return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

function refOf(node: unknown): string | undefined {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
  const ref = (node as Record<string, unknown>)["$ref"];
  return typeof ref === "string" ? ref : undefined;
}

/** Result of {@link dereference}. */
export interface Dereferenced {
  root: unknown;
  diagnostics: Diagnostic[];
  /** Upload files reached from the root through references. */
  reached: Set<string>;
  /**
   * The references replaced, by the object that held them: key → where the value lives (file and path in it) and
   * the `$ref` text. Maps a path through the dereferenced document back to a location in an upload file.
   */
  edges: RefEdges;
  /** Every place a reference (or a step of a chain of references) points to, as `file#/json/pointer`. */
  targets: Set<string>;
}

/** Where a replaced reference pointed: the upload file and the path of the value in it, and the `$ref` text. */
export interface RefEdge {
  file: string;
  path: string[];
  ref: string;
}

/** The references replaced by {@link dereference}, by the container that held them and its key. */
export type RefEdges = WeakMap<object, Map<string | number, RefEdge>>;

/**
 * Replaces every `$ref` object reachable from the root by the object it points to, in place and preserving
 * identity: two references to one component yield the same object, and circular references yield cyclic
 * graphs (never an infinite expansion). References to URLs or to files outside the upload are refused.
 */
export function dereference(files: ReadonlyMap<string, unknown>, rootName: string): Dereferenced {
  const diagnostics: Diagnostic[] = [];
  const reached = new Set<string>([rootName]);
  const visited = new Set<object>();
  const edges: RefEdges = new WeakMap();
  const targets = new Set<string>();
  const root = files.get(rootName);
  // Iterative walk: reference chains can be far deeper than the JS stack.
  const stack: { node: unknown; file: string; path: (string | number)[] }[] = [{ node: root, file: rootName, path: [] }];

  // Refusals are reported from the raw files first, at the reference's own location, once per reference.
  diagnostics.push(...scanRefusals(files, rootName));

  function resolve(ref: string, file: string, path: (string | number)[]): { value: unknown; file: string; pointer: string[] } | undefined {
    const seen = new Set<string>();
    let current = { ref, file };
    for (;;) {
      const target = classify(current.ref, current.file, files, path);
      if ("refused" in target) return undefined;
      const key = target.file + "#" + target.pointer.join("/");
      if (seen.has(key)) {
        diagnostics.push({ code: "ref-loop", severity: "error", file, path, message: `Reference ${ref} only refers to itself.` });
        return undefined;
      }
      seen.add(key);
      targets.add(target.file + "#" + encodePointer(target.pointer));
      reached.add(target.file);
      const found = lookup(files.get(target.file), target.pointer);
      if (!found.found) {
        diagnostics.push({
          code: "ref-unresolved",
          severity: "error",
          file,
          path,
          message: `Reference ${ref} points to nothing${target.file !== file ? ` in ${target.file}` : ""}.`,
        });
        return undefined;
      }
      const next = refOf(found.value);
      if (next === undefined) return { value: found.value, file: target.file, pointer: target.pointer };
      current = { ref: next, file: target.file };
    }
  }

  while (stack.length > 0) {
    const { node, file, path } = stack.pop()!;
    if (node === null || typeof node !== "object" || visited.has(node)) continue;
    visited.add(node);
    const container = node as Record<string | number, unknown>;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    for (const key of keys) {
      const child = container[key];
      const ref = refOf(child);
      if (ref !== undefined) {
        const target = resolve(ref, file, [...path, key]);
        if (target === undefined) continue;
        container[key] = target.value;
        let held = edges.get(node);
        if (!held) edges.set(node, (held = new Map()));
        held.set(key, { file: target.file, path: target.pointer, ref });
        stack.push({ node: target.value, file: target.file, path: [...path, key] });
      } else if (child !== null && typeof child === "object") {
        stack.push({ node: child, file, path: [...path, key] });
      }
    }
  }
  return { root, diagnostics, reached, edges, targets };
}

/** Lists the references to URLs and to files outside the upload, in every upload file reached from the root. */
export function scanRefusals(files: ReadonlyMap<string, unknown>, rootName: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const pending = [rootName];
  const scanned = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (scanned.has(file)) continue;
    scanned.add(file);
    const seen = new Set<object>();
    const stack: { node: unknown; path: (string | number)[] }[] = [{ node: files.get(file), path: [] }];
    while (stack.length > 0) {
      const { node, path } = stack.pop()!;
      if (node === null || typeof node !== "object" || seen.has(node)) continue;
      seen.add(node);
      const ref = refOf(node);
      if (ref !== undefined) {
        const target = classify(ref, file, files, [...path, "$ref"]);
        if ("refused" in target) diagnostics.push(target.refused);
        else pending.push(target.file);
      }
      const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
      for (const [key, child] of entries) if (child !== null && typeof child === "object") stack.push({ node: child, path: [...path, key] });
    }
  }
  return diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.path.join("/").localeCompare(b.path.join("/")));
}
