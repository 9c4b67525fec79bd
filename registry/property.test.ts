/** Property tests over the corpus (fast-check): self-compatibility and robustness of compare under mutation. */
import fc from "fast-check";
import { CORE_SCHEMA, load } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { compare } from "./compare.ts";
import { normalise } from "./normalise/index.ts";
import { parseContract } from "./parse/index.ts";
import { dereference } from "./parse/refs.ts";
import { corpusAvailable, corpusDocuments, corpusText } from "./testing/corpus.ts";
import { COMPATIBILITY_MODES, type Contract } from "./types.ts";

const available = corpusAvailable();

interface Sample {
  file: string;
  raw: unknown;
  contract: Contract;
}

describe.skipIf(!available)("properties over the corpus", () => {
  const samples: Sample[] = [];

  beforeAll(async () => {
    for (const doc of corpusDocuments().filter((d) => !d.kind.startsWith("fragment"))) {
      const text = corpusText("asyncapi", doc.file);
      // Schema-only validation keeps this fast; the conformance suite runs the full parser on every document.
      const result = await parseContract({ [doc.file]: text }, { validation: "schema-only" });
      if (result.contract) samples.push({ file: doc.file, raw: load(text, { schema: CORE_SCHEMA }), contract: result.contract });
    }
  }, 30_000);

  it("every corpus document is compatible with itself in every mode", () => {
    expect(samples.length).toBeGreaterThan(60);
    for (const { file, contract } of samples) {
      for (const mode of COMPATIBILITY_MODES) {
        const report = compare(contract, structuredClone(contract), { mode, against: [contract] });
        expect(report.findings, `${file} ${mode}`).toEqual([]);
        expect(report.compatible).toBe(true);
        expect(report.semver).toBe("none");
      }
    }
  });

  type Mutation = { at: number; kind: "delete" | "replace" | "retype" | "rename" | "duplicate"; value: unknown };

  /** Every (container, key) slot of a JSON tree, in a stable order. */
  function slots(root: unknown): [Record<string | number, unknown>, string | number][] {
    const out: [Record<string | number, unknown>, string | number][] = [];
    const walk = (node: unknown) => {
      if (node === null || typeof node !== "object") return;
      const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
      for (const [k, v] of entries) {
        out.push([node as Record<string | number, unknown>, k]);
        walk(v);
      }
    };
    walk(root);
    return out;
  }

  function mutate(root: unknown, mutations: Mutation[]): unknown {
    for (const m of mutations) {
      const all = slots(root);
      if (all.length === 0) break;
      const [container, key] = all[m.at % all.length]!;
      const current = container[key];
      switch (m.kind) {
        case "delete":
          if (Array.isArray(container)) container.splice(key as number, 1);
          else delete container[key];
          break;
        case "replace":
          container[key] = structuredClone(m.value);
          break;
        case "retype":
          container[key] = typeof current === "string" ? 42 : typeof current === "number" ? String(current) : typeof current === "object" ? "text" : { type: "string" };
          break;
        case "rename":
          if (!Array.isArray(container)) {
            container[`${String(key)}_m`] = current;
            delete container[key];
          }
          break;
        case "duplicate":
          if (!Array.isArray(container)) container[`${String(key)}_copy`] = structuredClone(current);
          else container.push(structuredClone(current));
          break;
      }
    }
    return root;
  }

  const mutation = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom("delete", "replace", "retype", "rename", "duplicate") as fc.Arbitrary<Mutation["kind"]>,
    value: fc.jsonValue({ maxDepth: 2 }),
  });

  it("compare never throws on random mutations of corpus documents", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (index, mutations) => {
        const sample = samples[index % samples.length]!;
        const mutated = mutate(structuredClone(sample.raw), mutations);
        // Straight into the normaliser, bypassing validation: the differ must cope with anything that loads.
        if (mutated === null || typeof mutated !== "object" || Array.isArray(mutated)) return;
        const deref = dereference(new Map([["doc.yaml", mutated]]), "doc.yaml");
        const contract = await normalise(deref.root as Record<string, unknown>);
        for (const mode of COMPATIBILITY_MODES) {
          compare(sample.contract, contract, { mode, against: [sample.contract] });
          compare(contract, sample.contract, { mode });
        }
      }),
      { numRuns: Number(process.env.MESHPORT_PROPERTY_RUNS ?? 200) },
    );
  }, 30_000);

  it("parseContract never throws on mutated documents either", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (index, mutations) => {
        const sample = samples[index % samples.length]!;
        const text = JSON.stringify(mutate(structuredClone(sample.raw), mutations));
        const result = await parseContract({ "doc.json": text }, { validation: "schema-only" });
        expect(result.contract !== undefined || result.diagnostics.some((d) => d.severity === "error")).toBe(true);
      }),
      { numRuns: Math.ceil(Number(process.env.MESHPORT_PROPERTY_RUNS ?? 200) / 3) },
    );
  }, 30_000);
});
