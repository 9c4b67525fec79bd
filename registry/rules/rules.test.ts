import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compare } from "../compare.ts";
import { parseContract } from "../parse/index.ts";
import { MODE_POLICIES } from "../policies.ts";
import { COMPATIBILITY_MODES, type CompatibilityMode, type RuleId, type RuleSpec } from "../types.ts";
import { rulesCatalogue } from "./index.ts";

const TESTDATA = path.join(import.meta.dirname, "..", "testdata");

async function contract(rule: string, side: "previous" | "current") {
  const file = `${side}.yaml`;
  // The fixtures are validated against the AsyncAPI JSON Schema; full Spectral validation is covered in parse tests.
  const result = await parseContract({ [file]: readFileSync(path.join(TESTDATA, rule, file), "utf8") }, { validation: "schema-only" });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.contract!;
}

describe("rule catalogue", () => {
  it("types rule ids from the one catalogue", () => {
    const known: RuleId = "CHANNEL_REMOVED";
    // @ts-expect-error an unknown rule id is a type error (checked by the type-check step of the test suite)
    const unknown: RuleId = "CHANNEL_VANISHED";
    expect(rulesCatalogue.some((r) => r.id === known)).toBe(true);
    expect(rulesCatalogue.some((r) => r.id === unknown)).toBe(false);
  });

  it("has unique UPPER_SNAKE ids with a category, a doc line and a verdict", () => {
    const ids = rulesCatalogue.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of rulesCatalogue) {
      expect(rule.id).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(rule.doc.length).toBeGreaterThan(10);
      expect(rule.doc).not.toContain("\n");
    }
  });

  // One test per rule id and mode over its fixture pair registry/testdata/<RULE_ID>/{previous,current}.yaml.
  for (const rule of rulesCatalogue.filter((r) => !r.replacedBy)) {
    for (const mode of COMPATIBILITY_MODES) {
      it(`${rule.id} under ${mode}`, async () => {
        const previous = await contract(rule.id, "previous");
        const current = await contract(rule.id, "current");
        // Transitive modes get the previous version as their only history: the verdict must equal the plain mode's.
        const report = compare(previous, current, { mode, against: [previous] });
        const finding = report.findings.find((f) => f.rule === rule.id);
        expect(finding, `${rule.id} did not fire: ${report.findings.map((f) => f.rule).join(", ")}`).toBeDefined();
        // Confluent checks FORWARD as the reverse diff: an old reader (previous) reads new data (current).
        const forwardHolds = rule.category === "payload" ? compare(current, previous, { mode: "BACKWARD" }).compatible : rule.forward !== false;
        expect(finding!.verdict).toBe(expectedVerdict(rule, mode, forwardHolds));
        expect(finding!.breaks === "none").toBe(finding!.verdict === "non-breaking");
        expect(finding!.previousPath ?? finding!.currentPath).toMatch(/^\//);
        if (finding!.verdict === "breaking") expect(report.compatible).toBe(false);
      });
    }
  }
});

/**
 * The verdict a rule's catalogue entry promises under a mode: structural breaks break in every mode but NONE; rules
 * with reader/writer flags (payload change types, and additions that widen a flow) follow Confluent's definitions:
 * the backward flag is exact per change type; whether an old reader reads new data depends on the schemas around
 * the change (a singleton oneOf → anyOf is reversible, a general one is not), so it comes from the reverse check.
 */
function expectedVerdict(rule: RuleSpec, mode: CompatibilityMode, forwardHolds: boolean): string {
  if (mode === "NONE") return rule.defaultVerdict === "unclassified" ? "unclassified" : "non-breaking";
  if (rule.backward === undefined && rule.forward === undefined) return rule.defaultVerdict;
  const policy = MODE_POLICIES[mode];
  return (policy.backward && rule.backward === false) || (policy.forward && !forwardHolds) ? "breaking" : "non-breaking";
}
