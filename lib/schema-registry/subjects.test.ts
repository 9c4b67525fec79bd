import { describe, expect, it } from "vitest";
import { isRegistryError } from "./errors.ts";
import { escapeLike } from "./api.ts";
import { parseVersion, validRequest, validSubjectName } from "./subjects.ts";

function code(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    if (isRegistryError(error)) return error.errorCode;
    throw error;
  }
  return undefined;
}

describe("registry input", () => {
  it("reads version selectors as Confluent does", () => {
    expect(parseVersion("latest")).toBe("latest");
    expect(parseVersion(-1)).toBe("latest");
    expect(parseVersion("-1")).toBe("latest");
    expect(parseVersion(1)).toBe(1);
    expect(parseVersion("42")).toBe(42);
    expect(parseVersion(2_147_483_647)).toBe(2_147_483_647);
    for (const bad of [0, -2, 1.5, 2 ** 31, "abc", "1e3", "", null, Number.NaN, "99999999999"]) expect(code(() => parseVersion(bad)), String(bad)).toBe(42202);
  });

  it("refuses subject names that are empty, too long, or hold control characters", () => {
    expect(validSubjectName("orders-value")).toBe("orders-value");
    expect(validSubjectName("x".repeat(255))).toHaveLength(255);
    for (const bad of ["", "x".repeat(256), "a\u0000b", "a\tb", "a\u007fb", 5]) expect(code(() => validSubjectName(bad))).toBe(42208);
  });

  it("validates a request body: type, size, references, import numbers", () => {
    expect(validRequest({ schema: '"string"' })).toEqual({ schema: '"string"', schemaType: "AVRO", references: [] });
    expect(validRequest({ schema: "{}", schemaType: "json" }).schemaType).toBe("JSON");
    expect(validRequest({ schema: "{}", id: 0, version: -1 })).toEqual({ schema: "{}", schemaType: "AVRO", references: [] });
    expect(validRequest({ schema: "{}", id: -7, version: 0 })).toEqual({ schema: "{}", schemaType: "AVRO", references: [] });
    expect(validRequest({ schema: "{}", id: 7, version: 3 })).toMatchObject({ id: 7, version: 3 });
    expect(code(() => validRequest({ schema: "{}", schemaType: "XML" }))).toBe(42201);
    expect(code(() => validRequest({ schema: "" }))).toBe(42201);
    expect(code(() => validRequest(null))).toBe(42201);
    expect(code(() => validRequest({ schema: "x".repeat(1024 * 1024 + 1) }))).toBe(42201);
    expect(code(() => validRequest({ schema: "{}", references: {} }))).toBe(42201);
    expect(code(() => validRequest({ schema: "{}", references: Array.from({ length: 101 }, (_, i) => ({ name: `n${i}`, subject: "s", version: 1 })) }))).toBe(42201);
    expect(code(() => validRequest({ schema: "{}", references: [{ name: "a", subject: "s", version: 2 ** 31 }] }))).toBe(42201);
    expect(code(() => validRequest({ schema: "{}", references: [{ name: "", subject: "s", version: 1 }] }))).toBe(42201);
    expect(code(() => validRequest({ schema: "{}", id: 2 ** 31 }))).toBe(42201);
    expect(code(() => validRequest({ schema: "{}", version: 1.5 }))).toBe(42202);
  });

  it("escapes LIKE wildcards so a prefix matches literally", () => {
    expect(escapeLike("a_b%c\\d")).toBe("a\\_b\\%c\\\\d");
  });
});
