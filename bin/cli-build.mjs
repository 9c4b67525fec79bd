// Whether dist/cli holds a build of the CLI that is current (written by scripts/build-cli.mjs); shared by
// bin/meshport.mjs and the engine benchmark.
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);

/** URL of the built CLI's entry module. */
export const BUILT_CLI = new URL("dist/cli/meshport.mjs", root);

/**
 * True when dist/cli holds a complete build and no source file it read (nor the lockfile, tsconfig or the build
 * script) has changed or gone since the build began.
 */
export function builtCliIsCurrent() {
  try {
    const { builtAt, inputs } = JSON.parse(readFileSync(new URL("dist/cli/inputs.json", root), "utf8"));
    if (typeof builtAt !== "number" || !Array.isArray(inputs) || inputs.length === 0) return false;
    statSync(BUILT_CLI);
    const base = fileURLToPath(root);
    return inputs.every((file) => statSync(base + file).mtimeMs < builtAt);
  } catch {
    return false;
  }
}

/**
 * Whether bin/meshport.mjs runs the build: `MESHPORT_CLI=source` forces the TypeScript sources (tsx),
 * `MESHPORT_CLI=built` the build whatever its age (benchmarks, while sources are being edited); else the build
 * only while it is current.
 */
export function runsBuiltCli() {
  const choice = process.env.MESHPORT_CLI;
  if (choice === "source") return false;
  if (choice === "built") return true;
  return builtCliIsCurrent();
}
