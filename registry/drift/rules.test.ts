import { describe, expect, it } from "vitest";
import { DRIFT_RULES, driftRuleById } from "./rules.ts";
import { DRIFT_RULE_IDS } from "./types.ts";

describe("drift rule catalogue", () => {
  it("has one entry per rule id, in order, with a title and a one-line doc", () => {
    expect(DRIFT_RULES.map((r) => r.id)).toEqual([...DRIFT_RULE_IDS]);
    for (const rule of DRIFT_RULES) {
      expect(rule.title.length).toBeGreaterThan(0);
      expect(rule.doc).toMatch(/^Flags .+\.$/);
      expect(rule.doc).not.toContain("\n");
    }
  });

  it("sets the severities and subjects the lead decided", () => {
    const table = Object.fromEntries(DRIFT_RULES.map((r) => [r.id, [r.severity, r.subject]]));
    expect(table).toEqual({
      UNDOCUMENTED_TOPIC: ["warning", "topic"],
      SILENT_CHANNEL: ["warning", "channel"],
      PAYLOAD_SCHEMA_VIOLATION: ["error", "topic"],
      UNDOCUMENTED_FIELD: ["info", "topic"],
      UNDECLARED_PRODUCER: ["error", "topic"],
      UNDECLARED_CONSUMER: ["warning", "topic"],
      UNKNOWN_CLIENT: ["info", "client"],
      VERSION_SKEW: ["warning", "topic"],
    });
  });

  it("looks rules up by id", () => {
    expect(driftRuleById("VERSION_SKEW")?.title).toBe("Version skew");
    expect(driftRuleById("NOPE")).toBeUndefined();
  });
});
