import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { CompatibilityMode } from "@/registry/index.ts";
import { checkCompatibility, type CompatibilityVerdict, type ParsedSchema } from "@/registry/schematypes/index.ts";

/** The non-transitive level a transitive one applies to each earlier version. */
export function nonTransitive(level: CompatibilityMode): CompatibilityMode {
  return level.endsWith("_TRANSITIVE") ? (level.slice(0, -"_TRANSITIVE".length) as CompatibilityMode) : level;
}

/**
 * `checkCompatibility`, one earlier version at a time for the transitive levels (newest first, stopping at the first
 * that refuses, as the engine does), giving the event loop a turn between versions: a check against hundreds of
 * versions takes a second of CPU and must not hold every other request of the portal meanwhile.
 */
export async function judgeCompatibility(level: CompatibilityMode, candidate: ParsedSchema, earlier: readonly ParsedSchema[]): Promise<CompatibilityVerdict> {
  if (!level.endsWith("_TRANSITIVE") || earlier.length <= 1) return checkCompatibility(level, candidate, earlier);
  const pairwise = nonTransitive(level);
  for (let index = earlier.length - 1; index >= 0; index--) {
    const verdict = checkCompatibility(pairwise, candidate, [earlier[index]!]);
    if (!verdict.compatible) return verdict;
    if (index > 0) await yieldToEventLoop();
  }
  return { compatible: true, messages: [] };
}
