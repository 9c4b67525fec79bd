import { describe, expect, it } from "vitest";
import { COMPATIBILITY_MODES } from "@/registry/index.ts";
import { checkCompatibility, parseSchema, type ParsedSchema } from "@/registry/schematypes/index.ts";
import { judgeCompatibility } from "./judge.ts";

function avro(fields: Array<Record<string, unknown>>, version: number): ParsedSchema {
  const outcome = parseSchema({ schemaType: "AVRO", schema: JSON.stringify({ type: "record", name: "Reading", fields }), references: [] });
  if (!outcome.ok) throw new Error(outcome.message);
  return { ...outcome.schema, version };
}

// v1 has `unit` without a default; v2 drops it; v3 (the candidate) reads v2 but not v1 backward... and forward.
const history = [
  avro([{ name: "value", type: "double" }, { name: "unit", type: "string" }], 1),
  avro([{ name: "value", type: "double" }], 2),
];
const candidate = avro([{ name: "value", type: "double" }, { name: "unit", type: "int", default: 0 }], 3);

describe("judgeCompatibility", () => {
  it("gives the engine's verdict in every level, transitive ones included", async () => {
    for (const mode of COMPATIBILITY_MODES) {
      const expected = checkCompatibility(mode, candidate, history);
      const judged = await judgeCompatibility(mode, candidate, history);
      expect(judged.compatible, mode).toBe(expected.compatible);
      expect(judged.messages.length > 0, mode).toBe(!expected.compatible);
    }
    // The chain is refused only where the first version is looked at.
    expect((await judgeCompatibility("BACKWARD", candidate, history)).compatible).toBe(true);
    expect((await judgeCompatibility("BACKWARD_TRANSITIVE", candidate, history)).compatible).toBe(false);
  });

  it("lets other work run between the versions of a transitive check", async () => {
    const many = Array.from({ length: 20 }, (_, i) => avro([{ name: "value", type: "double" }], i + 1));
    let ranMeanwhile = false;
    setImmediate(() => (ranMeanwhile = true));
    const verdict = await judgeCompatibility("FULL_TRANSITIVE", avro([{ name: "value", type: "double" }], 21), many);
    expect(verdict.compatible).toBe(true);
    expect(ranMeanwhile).toBe(true);
  });
});
