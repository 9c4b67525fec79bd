// Whether dist/cli holds a build of the CLI that is current (written by scripts/build-cli.mjs); shared by
// bin/meshport.mjs and the engine benchmark.
import { buildIsCurrent, runsBuild } from "./build-current.mjs";

/** URL of the built CLI's entry module. */
export const BUILT_CLI = new URL("../dist/cli/meshport.mjs", import.meta.url);

/**
 * True when dist/cli holds a complete build and no source file it read (nor the lockfile or the build script) has
 * changed or gone since the build began, nor what it took from tsconfig.json.
 */
export function builtCliIsCurrent() {
  return buildIsCurrent("dist/cli", BUILT_CLI);
}

/**
 * Whether bin/meshport.mjs runs the build: `MESHPORT_CLI=source` forces the TypeScript sources (tsx),
 * `MESHPORT_CLI=built` the build whatever its age (benchmarks, while sources are being edited); else the build
 * only while it is current.
 */
export function runsBuiltCli() {
  return runsBuild(process.env.MESHPORT_CLI, builtCliIsCurrent);
}
