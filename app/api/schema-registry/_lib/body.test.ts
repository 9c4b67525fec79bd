import { describe, expect, it } from "vitest";
import { isRegistryError } from "@/lib/schema-registry/errors.ts";
import { MAX_SCHEMA_BYTES } from "@/registry/schematypes/index.ts";
import { compatibilityFromBody, modeFromBody, parseJsonBody, schemaRequestFromBody } from "./body.ts";
import { ConfluentHttpError } from "./confluent.ts";

function failure(run: () => unknown): { status: number; code: number } | null {
  try {
    run();
    return null;
  } catch (error) {
    if (isRegistryError(error)) return { status: error.status, code: error.errorCode };
    if (error instanceof ConfluentHttpError) return { status: error.status, code: error.errorCode };
    throw error;
  }
}

describe("parseJsonBody", () => {
  it("parses JSON, reads an empty body as {}, and answers 400 to malformed or too deep JSON", () => {
    expect(parseJsonBody('{"schema":"x"}')).toEqual({ schema: "x" });
    expect(parseJsonBody("  ")).toEqual({});
    expect(failure(() => parseJsonBody("{nope"))).toEqual({ status: 400, code: 400 });
    expect(failure(() => parseJsonBody(`{"metadata":${"[".repeat(100)}${"]".repeat(100)}}`))).toEqual({ status: 400, code: 400 });
  });
});

describe("schemaRequestFromBody", () => {
  it("keeps what the registry uses and ignores other keys", () => {
    expect(schemaRequestFromBody({ schema: '"string"', metadata: { a: 1 }, ruleSet: null })).toEqual({ schema: '"string"', references: [] });
    expect(
      schemaRequestFromBody({
        schema: "{}",
        schemaType: "json",
        references: [{ name: "other.json", subject: "other", version: 2 }],
        id: 7,
        version: 3,
      }),
    ).toEqual({ schema: "{}", schemaType: "JSON", references: [{ name: "other.json", subject: "other", version: 2 }], id: 7, version: 3 });
    expect(schemaRequestFromBody({ schema: "{}", schemaType: null, references: null, id: null, version: null })).toEqual({ schema: "{}", references: [] });
    // Confluent's own request defaults (version 0, id -1) mean "not set".
    expect(schemaRequestFromBody({ schema: "{}", id: -1, version: 0 })).toEqual({ schema: "{}", references: [] });
    expect(schemaRequestFromBody({ schema: "{}", id: 0 })).toEqual({ schema: "{}", references: [] });
    expect(schemaRequestFromBody({ schema: "{}", id: -5 })).toEqual({ schema: "{}", references: [] });
  });

  it("answers 42201 to a wrong shape and 42202 to a wrong version", () => {
    const cases: Array<[unknown, number]> = [
      [[], 42201],
      ["x", 42201],
      [{}, 42201],
      [{ schema: "" }, 42201],
      [{ schema: 5 }, 42201],
      [{ schema: "a\u0000b" }, 42201],
      [{ schema: "{}", schemaType: "XML" }, 42201],
      [{ schema: "{}", schemaType: 1 }, 42201],
      [{ schema: "{}", references: {} }, 42201],
      [{ schema: "{}", references: Array.from({ length: 101 }, (_, i) => ({ name: `n${i}`, subject: "s", version: 1 })) }, 42201],
      [{ schema: "{}", references: [{ name: "", subject: "s", version: 1 }] }, 42201],
      [{ schema: "{}", references: [{ name: "n".repeat(1001), subject: "s", version: 1 }] }, 42201],
      [{ schema: "{}", references: [{ name: "n", subject: 3, version: 1 }] }, 42201],
      [{ schema: "{}", references: [{ name: "n", subject: "s", version: 0 }] }, 42202],
      [{ schema: "{}", references: [{ name: "n", subject: "s", version: "1" }] }, 42202],
      [{ schema: "{}", id: 2 ** 31 }, 42201],
      [{ schema: "{}", id: 1.5 }, 42201],
      [{ schema: "{}", version: -2 }, 42202],
      [{ schema: "{}", version: 1.5 }, 42202],
      [{ schema: "{}", version: 2 ** 31 }, 42202],
    ];
    for (const [body, code] of cases) expect(failure(() => schemaRequestFromBody(body))?.code, JSON.stringify(body).slice(0, 80)).toBe(code);
  });

  it("answers 413 to a schema over the limit", () => {
    expect(failure(() => schemaRequestFromBody({ schema: "x".repeat(MAX_SCHEMA_BYTES + 1) }))).toEqual({ status: 413, code: 413 });
  });
});

describe("configuration bodies", () => {
  it("reads the level and the mode, refusing missing ones with 42203 and 42204", () => {
    expect(compatibilityFromBody({ compatibility: "FULL" })).toBe("FULL");
    expect(compatibilityFromBody({ compatibilityLevel: "none" })).toBe("none");
    expect(failure(() => compatibilityFromBody({}))?.code).toBe(42203);
    expect(failure(() => compatibilityFromBody({ compatibility: 3 }))?.code).toBe(42203);
    expect(modeFromBody({ mode: "READONLY" })).toBe("READONLY");
    expect(failure(() => modeFromBody({ mode: null }))?.code).toBe(42204);
    expect(failure(() => modeFromBody([]))?.code).toBe(42204);
  });
});
