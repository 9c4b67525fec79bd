/** Version arithmetic lives in the engine (pure); the catalog re-exports it for its callers. */
export { bumpBetween, bumpSatisfies, compareSemver, parseSemver, type SemverParts } from "@/registry/semver.ts";
