import { describe, expect, it } from "vitest";
import { SchemaAccumulator } from "./schema-infer.ts";

describe("SchemaAccumulator", () => {
  it("infers types, required by presence, formats and enums", () => {
    const acc = new SchemaAccumulator({ minEnumSamples: 4 });
    for (let i = 0; i < 10; i++) {
      acc.observe({
        id: "6f1c3a2e-1b2c-4d3e-8f4a-5b6c7d8e9f0" + (i % 10),
        at: `2026-01-0${(i % 9) + 1}T10:00:00Z`,
        value: i % 2 ? 20.5 : 21,
        unit: i % 3 ? "C" : "F",
        ...(i % 2 ? { note: "free text " + i } : {}),
        tags: ["a", "b"],
      });
    }
    const schema = acc.toJsonSchema()!;
    expect(schema.type).toBe("object");
    expect(schema.required).toEqual(["at", "id", "tags", "unit", "value"]);
    const props = schema.properties as Record<string, Record<string, unknown>>;
    expect(props.id!.format).toBe("uuid");
    expect(props.at!.format).toBe("date-time");
    expect(props.value!.type).toBe("number");
    expect(props.unit!.enum).toEqual(["C", "F"]);
    expect(props.note!["x-presence"]).toBe(0.5);
    expect(props.note!.enum).toBeUndefined();
    expect(props.tags).toMatchObject({ type: "array", items: { type: "string" } });
  });

  it("reports unions and null", () => {
    const acc = new SchemaAccumulator();
    acc.observe({ a: 1 });
    acc.observe({ a: null });
    acc.observe({ a: "x" });
    const props = acc.toJsonSchema()!.properties as Record<string, Record<string, unknown>>;
    expect(props.a!.type).toEqual(["null", "integer", "string"]);
  });

  it("merging equals observing everything in one accumulator", () => {
    const docs = [{ a: 1, b: "x" }, { a: 2 }, { a: 3.5, c: { d: true } }, [1, 2], { b: "y" }];
    const whole = new SchemaAccumulator();
    docs.forEach((d) => whole.observe(d));
    const left = new SchemaAccumulator();
    const right = new SchemaAccumulator();
    docs.slice(0, 2).forEach((d) => left.observe(d));
    docs.slice(2).forEach((d) => right.observe(d));
    left.merge(right);
    expect(left.toJsonSchema()).toEqual(whole.toJsonSchema());
  });

  it("bounds properties and enum values", () => {
    const acc = new SchemaAccumulator({ maxProperties: 3, maxEnumValues: 2, minEnumSamples: 1 });
    acc.observe({ a: "1", b: 1, c: 1, d: 1, e: 1 });
    acc.observe({ a: "2", b: 1 });
    acc.observe({ a: "3", b: 1 });
    const schema = acc.toJsonSchema()!;
    expect(Object.keys(schema.properties as object)).toHaveLength(3);
    expect(schema["x-properties-truncated"]).toBe(true);
    expect((schema.properties as Record<string, Record<string, unknown>>).a!.enum).toBeUndefined();
  });

  it("returns null before any document", () => {
    expect(new SchemaAccumulator().toJsonSchema()).toBeNull();
  });

  it("bounds the total number of nodes", () => {
    const acc = new SchemaAccumulator({ maxNodes: 10 });
    const wide: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) wide[`k${i}`] = { nested: { deep: i } };
    acc.observe(wide);
    const schema = acc.toJsonSchema()!;
    expect(JSON.stringify(schema).match(/"type"/g)!.length).toBeLessThanOrEqual(10);
    expect(schema["x-properties-truncated"]).toBe(true);
  });
});
