// Whether a folder under dist/ holds a current build (its inputs.json lists the source files the build read);
// shared by bin/cli-build.mjs (the CLI) and bin/meshport-agent.mjs (the broker agent).
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);

/**
 * True when `dir` (e.g. "dist/cli") holds a complete build whose entry module `entry` exists and no source file it
 * read (nor the lockfile, tsconfig or the build script) has changed or gone since the build began.
 */
export function buildIsCurrent(dir, entry) {
  try {
    const { builtAt, inputs } = JSON.parse(readFileSync(new URL(`${dir}/inputs.json`, root), "utf8"));
    if (typeof builtAt !== "number" || !Array.isArray(inputs) || inputs.length === 0) return false;
    statSync(entry);
    const base = fileURLToPath(root);
    return inputs.every((file) => statSync(base + file).mtimeMs < builtAt);
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
