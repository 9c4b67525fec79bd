import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  compare,
  formatGithub,
  formatMarkdown,
  formatText,
  lint,
  parseContract,
  rulesCatalogue,
  schemaHash,
  toJsonReport,
  type Contract,
} from "./index.ts";

const TESTDATA = path.join(import.meta.dirname, "testdata");
const cache = new Map<string, Promise<Contract>>();
function fixture(rule: string, side: "previous" | "current"): Promise<Contract> {
  const key = `${rule}/${side}`;
  if (!cache.has(key)) {
    cache.set(
      key,
      parseContract({ [`${side}.yaml`]: readFileSync(path.join(TESTDATA, rule, `${side}.yaml`), "utf8") }, { validation: "schema-only" }).then((r) => r.contract!),
    );
  }
  return cache.get(key)!;
}

describe("compare", () => {
  it("finds nothing between identical contracts, in every mode", async () => {
    const base = await fixture("INFO_TITLE_CHANGED", "previous");
    for (const mode of ["NONE", "BACKWARD", "FORWARD_TRANSITIVE", "FULL"] as const) {
      const report = compare(base, structuredClone(base), { mode, against: [base] });
      expect(report).toMatchObject({ compatible: true, semver: "none", findings: [] });
    }
  });

  it("names who breaks: consumers of what the application sends, producers of what it receives", async () => {
    const sent = compare(await fixture("MAX_LENGTH_DECREASED", "previous"), await fixture("MAX_LENGTH_DECREASED", "current"));
    expect(sent.findings.find((f) => f.rule === "MAX_LENGTH_DECREASED")?.breaks).toBe("consumers");
    const received = compare(await fixture("OPERATION_MESSAGE_REMOVED", "previous"), await fixture("OPERATION_MESSAGE_REMOVED", "current"));
    expect(received.findings.find((f) => f.rule === "OPERATION_MESSAGE_REMOVED")?.breaks).toBe("producers");
  });

  it("classifies payload changes per Confluent mode and suggests the upgrade order", async () => {
    const previous = await fixture("MAX_LENGTH_INCREASED", "previous");
    const current = await fixture("MAX_LENGTH_INCREASED", "current");
    expect(compare(previous, current, { mode: "BACKWARD" })).toMatchObject({ compatible: true, semver: "minor", upgradeOrder: "consumers-first" });
    expect(compare(previous, current, { mode: "FORWARD" }).compatible).toBe(false);
    expect(compare(previous, current, { mode: "FULL" }).compatible).toBe(false);
    expect(compare(current, previous, { mode: "FORWARD" })).toMatchObject({ compatible: true, upgradeOrder: "producers-first" });
    expect(compare(previous, current, { mode: "NONE" }).compatible).toBe(true);
  });

  it("checks earlier versions under transitive modes only", async () => {
    const v1 = await fixture("MAX_LENGTH_INCREASED", "current"); // maxLength 10
    const v2 = await fixture("MAX_LENGTH_INCREASED", "previous"); // maxLength 5
    const v3 = await fixture("MAX_LENGTH_ADDED", "current"); // maxLength 5
    // A reader of v3 (max 5) reads v2 data (max 5) but not v1 data (max 10).
    expect(compare(v2, v3, { mode: "BACKWARD", against: [v1] }).compatible).toBe(true);
    const transitive = compare(v2, v3, { mode: "BACKWARD_TRANSITIVE", against: [v1] });
    expect(transitive.compatible).toBe(false);
    expect(transitive.findings.find((f) => f.verdict === "breaking")?.baseline).toBe(0);
  });

  it("suggests major for breaking, minor for additions, patch for documentation", async () => {
    expect(compare(await fixture("CHANNEL_REMOVED", "previous"), await fixture("CHANNEL_REMOVED", "current")).semver).toBe("major");
    expect(compare(await fixture("CHANNEL_ADDED", "previous"), await fixture("CHANNEL_ADDED", "current")).semver).toBe("minor");
    expect(compare(await fixture("CHANNEL_DOCUMENTATION_CHANGED", "previous"), await fixture("CHANNEL_DOCUMENTATION_CHANGED", "current")).semver).toBe("patch");
    // semver follows BACKWARD whatever the mode checked.
    expect(compare(await fixture("CHANNEL_REMOVED", "previous"), await fixture("CHANNEL_REMOVED", "current"), { mode: "NONE" }).semver).toBe("major");
  });

  it("lets configuration override a rule's verdict", async () => {
    const report = compare(await fixture("SERVER_REMOVED", "previous"), await fixture("SERVER_REMOVED", "current"), { overrides: { SERVER_REMOVED: "non-breaking" } });
    expect(report.compatible).toBe(true);
  });
});

describe("reports", () => {
  it("renders the issue-3 JSON shape, text, markdown and GitHub annotations", async () => {
    const report = compare(await fixture("CHANNEL_REMOVED", "previous"), await fixture("CHANNEL_REMOVED", "current"));
    const json = toJsonReport(report);
    expect(json).toMatchObject({ compatible: false, mode: "BACKWARD", semver: "major" });
    expect(json.changes[0]).toEqual(expect.objectContaining({ rule: expect.any(String), category: expect.any(String), verdict: expect.any(String), breaks: expect.any(String), path: expect.any(String), message: expect.any(String) }));
    expect(formatText(report)).toContain("CHANNEL_REMOVED");
    expect(formatMarkdown(report)).toContain("| breaking | `CHANNEL_REMOVED`");
    expect(formatGithub(report, () => ({ file: "current.yaml", line: 3 }))).toMatch(/^::error file=current.yaml,line=3,title=CHANNEL_REMOVED::/m);
  });
});

describe("lint", () => {
  it("applies named rules with configurable severities", async () => {
    const contract = await fixture("INFO_TITLE_CHANGED", "previous");
    const findings = lint(contract);
    expect(findings.map((f) => f.rule)).toContain("MESSAGE_EXAMPLE_MISSING");
    expect(findings.map((f) => f.rule)).not.toContain("CONTRACT_OWNER_MISSING");
    const silenced = lint(contract, { severities: { MESSAGE_EXAMPLE_MISSING: "off", CHANNEL_UNUSED: "error" } });
    expect(silenced.map((f) => f.rule)).not.toContain("MESSAGE_EXAMPLE_MISSING");
    expect(silenced.find((f) => f.rule === "CHANNEL_UNUSED")).toBeUndefined();
    const noOwner = lint({ ...contract, owners: [] });
    expect(noOwner.find((f) => f.rule === "CONTRACT_OWNER_MISSING")?.severity).toBe("warning");
  });
});

describe("schemaHash", () => {
  it("is stable under key order and differs on content", () => {
    expect(schemaHash({ type: "object", properties: { a: { type: "string" } } })).toBe(schemaHash({ properties: { a: { type: "string" } }, type: "object" }));
    expect(schemaHash({ type: "string" })).not.toBe(schemaHash({ type: "number" }));
    expect(schemaHash({ type: "string" })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("rules catalogue as data", () => {
  it("is JSON-serialisable for the portal's rules page", () => {
    expect(JSON.parse(JSON.stringify(rulesCatalogue))).toEqual(rulesCatalogue);
  });
});
