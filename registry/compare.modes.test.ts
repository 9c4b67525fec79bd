/**
 * Verdicts through the public entry point, `compare()`, in every Confluent mode: payload cases wrapped in a
 * one-message contract, the reader/writer roles of each mode, and the Confluent corpus in both directions.
 */
import { describe, expect, it } from "vitest";
import { compare } from "./compare.ts";
import { MODE_POLICIES } from "./policies.ts";
import { corpusAvailable, corpusList, corpusText } from "./testing/corpus.ts";
import { payloadContract } from "./testing/payload-contract.ts";
import { COMPATIBILITY_MODES, type CompatibilityMode } from "./types.ts";

const order = { type: "object", properties: { id: { type: "string" }, total: { type: "number" } }, required: ["id", "total"], additionalProperties: false };

/** What a mode says of a change from the two reader/writer verdicts, by Confluent's definitions. */
function expectedCompatible(mode: CompatibilityMode, backward: boolean, forward: boolean): boolean {
  const policy = MODE_POLICIES[mode];
  return (!policy.backward || backward) && (!policy.forward || forward);
}

describe("compare() in every mode", () => {
  it("reports a payload relaxed to {} as a change, compatible only where the old reader is not asked to read new data", async () => {
    const previous = await payloadContract(order);
    const current = await payloadContract({});
    for (const mode of COMPATIBILITY_MODES) {
      const report = compare(previous, current, { mode, against: [previous] });
      expect(report.findings.length, mode).toBeGreaterThan(0);
      expect(report.semver, mode).toBe("minor");
      expect(report.compatible, mode).toBe(expectedCompatible(mode, true, false));
      expect(report.findings.every((f) => f.category === "payload"), mode).toBe(true);
    }
    // The reverse change (anything → a strict schema) breaks new readers of old data: a major version.
    const tightened = compare(current, previous, { mode: "FORWARD" });
    expect(tightened.compatible).toBe(true);
    expect(compare(current, previous, { mode: "BACKWARD" })).toMatchObject({ compatible: false, semver: "major" });
  });

  it("treats an absent payload like {} (the message may carry anything)", async () => {
    const previous = await payloadContract(order);
    const current = await payloadContract(undefined);
    expect(compare(previous, current, { mode: "BACKWARD" }).compatible).toBe(true);
    expect(compare(previous, current, { mode: "FULL" }).compatible).toBe(false);
  });

  it("judges a change found in one direction in the other: FORWARD(a, b) is BACKWARD(b, a)", async () => {
    const schemas = [
      order,
      { ...order, required: ["id"] },
      { ...order, additionalProperties: true },
      { ...order, properties: { ...order.properties, note: { type: "string" } } },
      { type: "object", properties: { id: { type: "string", maxLength: 8 } } },
      { type: "object", properties: { id: { type: "string", maxLength: 16 } } },
      { type: "object", properties: { id: { type: ["string", "integer"] } } },
      { oneOf: [{ type: "string" }, { type: "integer" }] },
      { type: "string", enum: ["a", "b"] },
      { type: "string", const: "a" },
      {},
      true,
      false,
    ];
    const contracts = await Promise.all(schemas.map((s) => payloadContract(s)));
    for (const [i, a] of contracts.entries()) {
      for (const [j, b] of contracts.entries()) {
        const backward = compare(a, b, { mode: "BACKWARD" }).compatible;
        const forward = compare(a, b, { mode: "FORWARD" }).compatible;
        const label = `${JSON.stringify(schemas[i])} → ${JSON.stringify(schemas[j])}`;
        expect(forward, label).toBe(compare(b, a, { mode: "BACKWARD" }).compatible);
        for (const mode of COMPATIBILITY_MODES) expect(compare(a, b, { mode, against: [a] }).compatible, `${mode} ${label}`).toBe(expectedCompatible(mode, backward, forward));
        // A difference in meaning is never "no changes".
        if (!backward || !forward) expect(compare(a, b).findings.length, label).toBeGreaterThan(0);
      }
    }
  });

  it("checks every earlier version under the transitive modes, and only the previous one otherwise", async () => {
    const v1 = await payloadContract({ type: "object", properties: { id: { type: "string", maxLength: 32 } } });
    const v2 = await payloadContract({ type: "object", properties: { id: { type: "string", maxLength: 16 } } });
    const v3 = await payloadContract({ type: "object", properties: { id: { type: "string", maxLength: 16 } }, description: "v3" });
    // v3 reads v2 data (same bound) but not v1 data (longer ids): BACKWARD_TRANSITIVE fails, BACKWARD holds.
    expect(compare(v2, v3, { mode: "BACKWARD", against: [v2, v1] }).compatible).toBe(true);
    expect(compare(v2, v3, { mode: "BACKWARD_TRANSITIVE", against: [v2, v1] }).compatible).toBe(false);
    // v1 readers read v3 data (shorter ids fit): FORWARD_TRANSITIVE holds; FULL_TRANSITIVE fails on the backward side.
    expect(compare(v2, v3, { mode: "FORWARD_TRANSITIVE", against: [v2, v1] }).compatible).toBe(true);
    expect(compare(v2, v3, { mode: "FULL_TRANSITIVE", against: [v2, v1] }).compatible).toBe(false);
    // Going the other way (v1 bound after v2): an old v2 reader cannot read longer ids.
    const v4 = await payloadContract({ type: "object", properties: { id: { type: "string", maxLength: 32 } } });
    expect(compare(v3, v4, { mode: "FORWARD_TRANSITIVE", against: [v3, v2, v1] }).compatible).toBe(false);
    expect(compare(v3, v4, { mode: "BACKWARD_TRANSITIVE", against: [v3, v2, v1] }).compatible).toBe(true);
  });
});

interface ConfluentCase {
  description: string;
  original_schema: unknown;
  update_schema: unknown;
  changes: string[];
  compatible: boolean;
}

const available = corpusAvailable();
const cases: ConfluentCase[] = available
  ? corpusList("jsonschema-compat")
      .filter((f) => f.endsWith(".json"))
      .flatMap((f) => JSON.parse(corpusText("jsonschema-compat", f)) as ConfluentCase[])
  : [];

describe.skipIf(!available)("compare() on the Confluent JSON Schema cases, in all seven modes", () => {
  it("BACKWARD of (original, update) is the case's verdict, FORWARD of (update, original) agrees, and every mode follows", async () => {
    const misses: string[] = [];
    for (const c of cases) {
      const original = await payloadContract(c.original_schema);
      const update = await payloadContract(c.update_schema);
      const backward = compare(original, update, { mode: "BACKWARD" });
      const forwardReversed = compare(update, original, { mode: "FORWARD" });
      if (backward.compatible !== c.compatible) misses.push(`BACKWARD "${c.description}": ours ${backward.compatible}, Confluent ${c.compatible}`);
      if (forwardReversed.compatible !== c.compatible) misses.push(`FORWARD reversed "${c.description}": ours ${forwardReversed.compatible}, Confluent ${c.compatible}`);
      const forward = compare(original, update, { mode: "FORWARD" }).compatible;
      for (const mode of COMPATIBILITY_MODES) {
        const got = compare(original, update, { mode, against: [original] }).compatible;
        if (got !== expectedCompatible(mode, backward.compatible, forward)) misses.push(`${mode} "${c.description}": ${got}`);
      }
      // An incompatible change is always reported as at least one breaking finding, never as "no changes".
      if (!c.compatible) expect(backward.findings.some((f) => f.verdict === "breaking"), c.description).toBe(true);
    }
    expect(cases.length).toBe(132);
    expect(misses).toEqual([]);
  });
});
