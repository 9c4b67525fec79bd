import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compare } from "../compare.ts";
import { parseContract } from "../parse/index.ts";
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
  it("has unique UPPER_SNAKE ids with a category, a doc line and a verdict", () => {
    const ids = rulesCatalogue.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of rulesCatalogue) {
      expect(rule.id).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(rule.doc.length).toBeGreaterThan(10);
      expect(rule.doc).not.toContain("\n");
    }
  });

  // One test per rule id over its fixture pair registry/testdata/<RULE_ID>/{previous,current}.yaml.
  for (const rule of rulesCatalogue.filter((r) => !r.replacedBy)) {
    it(rule.id, async () => {
      const report = compare(await contract(rule.id, "previous"), await contract(rule.id, "current"));
      const finding = report.findings.find((f) => f.rule === rule.id);
      expect(finding, `${rule.id} did not fire: ${report.findings.map((f) => f.rule).join(", ")}`).toBeDefined();
      const expected = rule.backward === undefined ? rule.defaultVerdict : rule.backward ? "non-breaking" : "breaking";
      expect(finding!.verdict).toBe(expected);
      expect(finding!.breaks === "none").toBe(finding!.verdict === "non-breaking");
      expect(finding!.previousPath ?? finding!.currentPath).toMatch(/^\//);
      // Structural additions that behave like SUM_TYPE_EXTENDED break old readers under FULL.
      if (rule.forward === false && rule.category !== "payload") {
        expect(compare(await contract(rule.id, "previous"), await contract(rule.id, "current"), { mode: "FULL" }).findings.find((f) => f.rule === rule.id)?.verdict).toBe("breaking");
      }
      // Structural breaking changes are incompatible in every mode but NONE (issue 3).
      if (rule.backward === undefined && rule.defaultVerdict === "breaking") {
        for (const mode of ["FORWARD", "FULL_TRANSITIVE"] as const) expect(compare(await contract(rule.id, "previous"), await contract(rule.id, "current"), { mode }).compatible).toBe(false);
        expect(compare(await contract(rule.id, "previous"), await contract(rule.id, "current"), { mode: "NONE" }).compatible).toBe(true);
      }
    });
  }
});
