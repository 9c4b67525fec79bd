/**
 * Soundness of the reader/writer checker against a real validator: when it says a reader accepts a writer,
 * every document valid under the writer is valid under the reader. Schemas are drawn from the keywords the
 * checker judges (Confluent's vocabulary); keywords it leaves unjudged are reported apart and not drawn here.
 * `oneOf` is left out: like Confluent, the checker reads it as a sum of alternatives, which is exact only when
 * they do not overlap (an overlapping `oneOf` rejects what several alternatives accept).
 */
import Ajv from "ajv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readerAccepts } from "./reader-writer.ts";

const runs = Number(process.env.MESHPORT_PROPERTY_RUNS ?? 300);

const scalarSchema = fc.oneof(
  fc.record({ type: fc.constant("string"), maxLength: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), minLength: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) }, { requiredKeys: ["type"] }),
  fc.record({ type: fc.constantFrom("number", "integer"), maximum: fc.option(fc.integer({ min: -2, max: 5 }), { nil: undefined }), minimum: fc.option(fc.integer({ min: -2, max: 5 }), { nil: undefined }) }, { requiredKeys: ["type"] }),
  fc.record({ enum: fc.uniqueArray(fc.constantFrom("a", "b", "c", 1, 2), { minLength: 1, maxLength: 3 }) }),
  fc.record({ const: fc.constantFrom("a", 1, true) }),
  fc.constant({ type: "boolean" }),
  fc.constant({}),
);

/** An object schema with properties drawn from `node`, a `required` list among them, and the given extra keywords. */
function objectNode(node: fc.Arbitrary<Record<string, unknown>>, extra: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return (
    fc
      .record(
        { properties: fc.dictionary(fc.constantFrom("a", "b", "c"), node, { maxKeys: 3 }), required: fc.uniqueArray(fc.constantFrom("a", "b", "c"), { maxLength: 2 }), ...extra },
        { requiredKeys: ["properties"] },
      )
      // Confluent judges `required` only for properties both versions declare; undeclared names are not drawn.
      .map((o) => ({ type: "object", ...o, required: o.required?.filter((name) => name in (o.properties as object)) }))
  );
}

const schema: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ node: Record<string, unknown> }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalarSchema,
    objectNode(tie("node"), { additionalProperties: fc.option(fc.oneof(fc.boolean(), scalarSchema), { nil: undefined }) }),
    fc.record({ type: fc.constant("array"), items: tie("node"), maxItems: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) }, { requiredKeys: ["type", "items"] }),
    fc.record({ anyOf: fc.array(tie("node"), { minLength: 1, maxLength: 3 }) }),
    fc.record({ allOf: fc.array(tie("node"), { minLength: 1, maxLength: 2 }) }),
  ),
})).node;

const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom("", "a", "b", "c", "abcd", "abcdef", 0, 1, 2, -1, 2.5, 6, true, false, null),
    fc.dictionary(fc.constantFrom("a", "b", "c", "d"), tie("v"), { maxKeys: 4 }),
    fc.array(tie("v"), { maxLength: 4 }),
  ),
})).v;

describe("the reader/writer checker against a validator", () => {
  it("never calls a reader compatible when a document valid for the writer fails the reader", () => {
    const ajv = new Ajv({ strict: false, allErrors: false });
    fc.assert(
      fc.property(schema, schema, fc.array(value, { minLength: 20, maxLength: 40 }), (writer, reader, documents) => {
        if (!readerAccepts(reader, writer).compatible) return;
        const writes = ajv.compile(writer);
        const reads = ajv.compile(reader);
        for (const d of documents) {
          if (writes(d)) expect(reads(d), `${JSON.stringify(d)} valid for writer ${JSON.stringify(writer)}, not for reader ${JSON.stringify(reader)}`).toBe(true);
        }
      }),
      { numRuns: runs },
    );
  }, 120_000);
});

const DIALECT = "https://json-schema.org/draft/2020-12/schema";

// The 2019-09/2020-12 vocabulary the checker judges. `contains` keeps one schema (its changes are unjudged).
const modernNode: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ node: Record<string, unknown> }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalarSchema,
    objectNode(tie("node"), {
      unevaluatedProperties: fc.option(fc.oneof(fc.boolean(), scalarSchema), { nil: undefined }),
      dependentRequired: fc.option(fc.dictionary(fc.constantFrom("a", "b"), fc.uniqueArray(fc.constantFrom("a", "b", "c"), { maxLength: 2 }), { maxKeys: 2 }), { nil: undefined }),
    }),
    fc
      .record(
        {
          prefixItems: fc.array(tie("node"), { minLength: 1, maxLength: 3 }),
          items: fc.option(fc.oneof(fc.boolean(), scalarSchema), { nil: undefined }),
          unevaluatedItems: fc.option(fc.oneof(fc.boolean(), scalarSchema), { nil: undefined }),
        },
        { requiredKeys: ["prefixItems"] },
      )
      .map((o) => ({ type: "array", ...o })),
    fc
      .record({ minContains: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), maxContains: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) })
      .map((o) => ({ type: "array", contains: { type: "string" }, ...o })),
    fc.record({ anyOf: fc.array(tie("node"), { minLength: 1, maxLength: 3 }) }),
  ),
})).node;

describe("the reader/writer checker against a 2020-12 validator", () => {
  it("never calls a reader compatible when a document valid for the writer fails the reader", async () => {
    const { default: Ajv2020 } = await import("ajv/dist/2020.js");
    const ajv = new Ajv2020({ strict: false });
    fc.assert(
      fc.property(modernNode, modernNode, fc.array(value, { minLength: 20, maxLength: 40 }), (w, r, documents) => {
        const writer = { $schema: DIALECT, ...w };
        const reader = { $schema: DIALECT, ...r };
        if (!readerAccepts(reader, writer).compatible) return;
        const writes = ajv.compile(writer);
        const reads = ajv.compile(reader);
        for (const d of documents) {
          if (writes(d)) expect(reads(d), `${JSON.stringify(d)} valid for writer ${JSON.stringify(writer)}, not for reader ${JSON.stringify(reader)}`).toBe(true);
        }
      }),
      { numRuns: runs },
    );
  }, 120_000);
});
