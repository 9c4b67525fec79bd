// Whether a folder under dist/ holds a current build (its inputs.json lists the source files the build read);
// shared by bin/cli-build.mjs (the CLI) and bin/meshport-agent.mjs (the broker agent), and by the build scripts,
// which record what they read and put a finished build in place.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);

/** Inputs judged by content rather than by mtime (see {@link tsconfigDigest}). */
export const CONTENT_INPUTS = ["tsconfig.json"];

/** Canonical JSON: object keys sorted at every level, so formatting and key order do not count. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * What a bundle takes from a tsconfig file: esbuild reads `compilerOptions` (the `@/` paths, jsx, decorators…) and
 * `extends`, never `include`/`exclude`/`files`, which `next build` rewrites for its type folders (and reformats) when
 * it builds into another folder. Hashed over those two only, so that rewrite leaves the bundles current; any other
 * change (or a file that is not plain JSON, hashed whole) does not.
 */
export function tsconfigDigest(file) {
  const text = readFileSync(file, "utf8");
  let relevant;
  try {
    const parsed = JSON.parse(text);
    relevant = canonical({ extends: parsed.extends ?? null, compilerOptions: parsed.compilerOptions ?? null });
  } catch {
    relevant = text;
  }
  return createHash("sha256").update(relevant).digest("hex");
}

/** The digests of {@link CONTENT_INPUTS} under `base` (the repository root), for a build's inputs.json. */
export function contentDigests(base = fileURLToPath(root)) {
  return Object.fromEntries(CONTENT_INPUTS.map((file) => [file, tsconfigDigest(path.join(base, file))]));
}

/**
 * True when `dir` (e.g. "dist/cli", relative to `base`) holds a complete build whose entry module `entry` exists and
 * no source file it read (nor the lockfile or the build script) has changed or gone since the build began, nor what
 * the bundles take from tsconfig.json (by content, recorded in `digests`).
 */
export function buildIsCurrent(dir, entry, base = fileURLToPath(root)) {
  try {
    const { builtAt, inputs, digests = {} } = JSON.parse(readFileSync(path.resolve(base, dir, "inputs.json"), "utf8"));
    if (typeof builtAt !== "number" || !Array.isArray(inputs) || inputs.length === 0) return false;
    statSync(entry);
    return inputs.every((file) =>
      Object.hasOwn(digests, file) ? tsconfigDigest(path.join(base, file)) === digests[file] : statSync(path.join(base, file)).mtimeMs < builtAt,
    );
  } catch {
    return false;
  }
}

/**
 * Whether to run a build: `source` forces the TypeScript sources (tsx), `built` the build whatever its age
 * (benchmarks, while sources are being edited); else (unset) the build only while `isCurrent()` holds.
 */
export function runsBuild(choice, isCurrent) {
  if (choice === "source") return false;
  if (choice === "built") return true;
  return isCurrent();
}

/** The folder a build of `out` is written to before it is put in place (a sibling: same depth for source maps). */
export function stagingDir(out) {
  return `${out}.building-${process.pid}`;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
};

/** Removes staging and set-aside siblings of `out` left by builds that died (their process is gone). */
export function removeLeftovers(out) {
  const name = path.basename(out);
  let siblings = [];
  try {
    siblings = readdirSync(path.dirname(out));
  } catch {
    return;
  }
  for (const entry of siblings) {
    const m = /^(.*)\.(building|previous)-(\d+)$/.exec(entry);
    if (m && m[1] === name && Number(m[3]) !== process.pid && !alive(Number(m[3]))) rmSync(path.join(path.dirname(out), entry), { recursive: true, force: true });
  }
}

/**
 * Puts the finished build in `staging` in place of `out`. A process started from the old build may still import a
 * lazy chunk of it, so `out` is never emptied while being rebuilt: the old folder is moved aside (a rename cannot
 * replace a non-empty folder), the new one renamed in, and only then the old one removed.
 */
export function replaceDir(staging, out) {
  const previous = `${out}.previous-${process.pid}`;
  let moved = false;
  try {
    renameSync(out, previous);
    moved = true;
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
  }
  try {
    renameSync(staging, out);
  } catch (err) {
    if (moved) renameSync(previous, out);
    throw err;
  }
  if (moved) rmSync(previous, { recursive: true, force: true });
}
