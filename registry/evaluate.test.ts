import { describe, expect, it } from "vitest";
import { evaluateChange, type StoredVersion } from "./evaluate.ts";
import { payloadContract } from "./testing/payload-contract.ts";
import type { Contract } from "./types.ts";

const base = { type: "object", properties: { id: { type: "string", maxLength: 16 } }, required: ["id"] };
const wider = { ...base, properties: { id: { type: "string", maxLength: 32 } } };
const narrower = { ...base, properties: { id: { type: "string", maxLength: 8 } } };

async function stored(version: string, schema: unknown, state: StoredVersion["state"] = "released"): Promise<StoredVersion> {
  return { version, state, contract: await payloadContract(schema, { version }) };
}

async function proposal(schema: unknown, version: string): Promise<{ contract: Contract; diagnostics: never[]; version: string }> {
  return { contract: await payloadContract(schema, { version }), diagnostics: [], version };
}

describe("evaluateChange", () => {
  it("accepts a first version, with lint and no report", async () => {
    const e = evaluateChange(await proposal(base, "1.0.0"), [], { mode: "BACKWARD" });
    expect(e).toMatchObject({ baseline: null, report: null, blockers: [], version: "1.0.0" });
    expect(e.lint.length).toBeGreaterThan(0);
  });

  it("refuses an invalid document as data, without judging it", () => {
    const e = evaluateChange({ diagnostics: [{ code: "yaml-syntax", severity: "error", message: "bad", file: "a.yaml", path: [] }] }, [], { mode: "BACKWARD" });
    expect(e.blockers).toEqual([{ kind: "invalid", message: "The contract is not valid: bad" }]);
  });

  it("names each version-number problem", async () => {
    const history = [await stored("1.0.0", base), await stored("1.1.0", base)];
    const codes = async (version: string, schema: unknown = base) => evaluateChange(await proposal(schema, version), history, { mode: "BACKWARD" }).versionFindings.map((f) => f.code);
    expect(await codes("one")).toEqual(["not-semver"]);
    expect(await codes("1.1.0")).toEqual(["version-exists", "not-above-latest"]);
    expect(await codes("1.0.5")).toEqual(["not-above-latest"]);
    // Narrowing maxLength breaks BACKWARD: a major change, offered as a minor one.
    expect(await codes("1.2.0", narrower)).toEqual(["bump-too-small"]);
    expect(await codes("1.1.1", wider)).toEqual(["bump-too-small"]);
    expect(await codes("1.2.0", wider)).toEqual([]);
  });

  it("blocks an incompatible change within its major line and allows it as a new major, through a review", async () => {
    const history = [await stored("1.0.0", base)];
    const same = evaluateChange(await proposal(narrower, "1.1.0"), history, { mode: "BACKWARD" });
    expect(same.blockers.map((b) => b.kind)).toEqual(["version", "incompatible"]);
    const major = evaluateChange(await proposal(narrower, "2.0.0"), history, { mode: "BACKWARD" });
    expect(major).toMatchObject({ newMajor: true, suggestedBump: "major", suggestedVersion: "2.0.0", baseline: "1.0.0" });
    expect(major.blockers.map((b) => b.kind)).toEqual(["review"]);
    expect(major.report?.compatible).toBe(false);
  });

  it("judges against every earlier version of the line under a transitive mode, and says which", async () => {
    const history = [await stored("1.0.0", wider), await stored("1.1.0", base), await stored("0.9.0", narrower), await stored("1.0.1", wider, "retired")];
    const plain = evaluateChange(await proposal({ ...base, description: "same bound" }, "1.2.0"), history, { mode: "BACKWARD" });
    expect(plain.blockers).toEqual([]);
    const transitive = evaluateChange(await proposal({ ...base, description: "same bound" }, "1.2.0"), history, { mode: "BACKWARD_TRANSITIVE" });
    // 1.0.0 allowed 32 characters: a reader bound to 16 cannot read its data. 0.9.0 (another line) and the retired 1.0.1 are not checked.
    expect(transitive.against.map((a) => a.version)).toEqual(["1.1.0", "1.0.0"]);
    expect(transitive.against[1]!.report.compatible).toBe(false);
    expect(transitive.blockers.map((b) => b.kind)).toContain("incompatible");
  });

  it("treats a payload relaxed to {} as a change that FULL refuses", async () => {
    const history = [await stored("1.0.0", base)];
    const backward = evaluateChange(await proposal({}, "1.1.0"), history, { mode: "BACKWARD" });
    expect(backward).toMatchObject({ blockers: [], suggestedBump: "minor" });
    const full = evaluateChange(await proposal({}, "1.1.0"), history, { mode: "FULL" });
    expect(full.blockers.map((b) => b.kind)).toEqual(["incompatible"]);
    // Under FULL it can only publish as a new major version, and the suggestion says so.
    expect(full).toMatchObject({ suggestedBump: "major", suggestedVersion: "2.0.0" });
  });

  it("blocks on lint only when the policy says so", async () => {
    const history = [await stored("1.0.0", base)];
    const p = await proposal(wider, "1.1.0");
    expect(evaluateChange(p, history, { mode: "BACKWARD" }).blockers).toEqual([]);
    expect(evaluateChange(p, history, { mode: "BACKWARD", lint: { policy: "block" } }).blockers.map((b) => b.kind)).toEqual(["lint"]);
    expect(evaluateChange(p, history, { mode: "BACKWARD", lint: { policy: "block", severities: { CONTRACT_OWNER_MISSING: "off", MESSAGE_EXAMPLE_MISSING: "off", MESSAGE_PAYLOAD_MISSING: "off", CHANNEL_ADDRESS_NAMING: "off" } } }).blockers).toEqual([]);
  });

  it("ignores drafts as baselines", async () => {
    const history = [await stored("1.0.0", base), await stored("1.5.0", narrower, "draft")];
    expect(evaluateChange(await proposal(wider, "1.1.0"), history, { mode: "BACKWARD" })).toMatchObject({ baseline: "1.0.0", blockers: [] });
  });
});

describe("the review blocker", () => {
  // Narrowing maxLength breaks readers of old data (BACKWARD side); widening breaks old readers of new data (FORWARD side).
  const breakingUnder = (mode: string) => (mode.startsWith("FORWARD") ? wider : narrower);

  it("asks for a review of a new major version that breaks someone, in every mode but NONE", async () => {
    const { COMPATIBILITY_MODES } = await import("./types.ts");
    for (const mode of COMPATIBILITY_MODES) {
      const history = [await stored("1.0.0", base)];
      const e = evaluateChange(await proposal(mode === "NONE" ? narrower : breakingUnder(mode), "2.0.0"), history, { mode });
      if (mode === "NONE") {
        expect(e.blockers, mode).toEqual([]);
        continue;
      }
      expect(e.report!.compatible, mode).toBe(false);
      expect(e.blockers.map((b) => b.kind), mode).toEqual(["review"]);
      // Within the major version it is refused outright, review or not.
      const minor = evaluateChange(await proposal(breakingUnder(mode), "1.1.0"), history, { mode });
      expect(minor.blockers.map((b) => b.kind), mode).not.toContain("review");
      expect(minor.blockers.map((b) => b.kind), mode).toContain("incompatible");
    }
  });

  it("asks for a review of every change, the first included, when the policy says review", async () => {
    expect(evaluateChange(await proposal(base, "1.0.0"), [], { mode: "BACKWARD", review: "review" }).blockers.map((b) => b.kind)).toEqual(["review"]);
    const compatible = evaluateChange(await proposal(base, "1.0.1"), [await stored("1.0.0", base)], { mode: "BACKWARD", review: "review" });
    expect(compatible.blockers.map((b) => b.kind)).toEqual(["review"]);
    expect(evaluateChange(await proposal(base, "1.0.1"), [await stored("1.0.0", base)], { mode: "BACKWARD" }).blockers).toEqual([]);
  });
});
