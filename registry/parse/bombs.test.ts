import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../types.ts";
import { DEFAULT_LIMITS, LIMIT_CODES, parseContract } from "./index.ts";
import { measure } from "./limits.ts";

const errors = (r: { diagnostics: Diagnostic[] }) => r.diagnostics.filter((d) => d.severity === "error");

const HEAD = "asyncapi: 3.0.0\ninfo:\n  title: Bomb\n  version: 1.0.0\nchannels: {}\ncomponents:\n  schemas:\n";
const list = (n: number, item: string) => `[${Array(n).fill(item).join(", ")}]`;
const map = (n: number, item: string) => `{${Array.from({ length: n }, (_, i) => `k${i}: ${item}`).join(", ")}}`;

/** `levels` anchors, each a sequence of `width` aliases of the previous one: width^levels leaves. */
function sequenceBomb(levels = 9, width = 9): string {
  const lines = [`l0: &l0 ${list(width, "lol")}`];
  for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} ${list(width, `*l${i - 1}`)}`);
  return HEAD + lines.map((l) => `    ${l}\n`).join("");
}

/** The same with mappings: every level a mapping of `width` keys, each an alias of the previous level. */
function mappingBomb(levels = 9, width = 9): string {
  const lines = [`m0: &m0 ${map(width, "lol")}`];
  for (let i = 1; i < levels; i++) lines.push(`m${i}: &m${i} ${map(width, `*m${i - 1}`)}`);
  return HEAD + lines.map((l) => `    ${l}\n`).join("");
}

/** Merge keys: every level merges the previous one several times and adds aliases of it. */
function mergeBomb(levels = 10): string {
  const lines = ["g0: &g0 {a: lol, b: lol, c: lol, d: lol}"];
  for (let i = 1; i < levels; i++) lines.push(`g${i}: &g${i} {<<: [*g${i - 1}, *g${i - 1}, *g${i - 1}], x: *g${i - 1}, y: *g${i - 1}, z: *g${i - 1}}`);
  return HEAD + lines.map((l) => `    ${l}\n`).join("");
}

/** A well-formed contract whose payload hides the bomb: a mapping under `examples` aliasing deeper anchors. */
function payloadBomb(): string {
  const anchors = ["x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let i = 1; i < 8; i++) anchors.push(`x${i}: &x${i} ${list(8, `*x${i - 1}`)}`);
  return `asyncapi: 3.0.0
info:
  title: Innocent
  version: 1.0.0
channels:
  readings:
    address: plant/readings
    messages:
      reading:
        payload:
          type: object
        examples:
          - payload: {${anchors.join(", ")}}
`;
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

describe("alias bombs", () => {
  const bombs: [string, string, string][] = [
    ["sequence anchors, 9 levels of 9", sequenceBomb(), "alias-bomb"],
    ["mapping anchors, 9 levels of 9", mappingBomb(), "alias-bomb"],
    ["merge keys `<<` over 10 levels", mergeBomb(), "alias-bomb"],
    ["a bomb in a message example", payloadBomb(), "alias-bomb"],
    ["a bomb just beyond the allowance (5 levels of 9)", sequenceBomb(5, 9), "alias-bomb"],
  ];

  it.each(bombs)("refuses %s fast, before any validator sees it", async (_name, text, code) => {
    expect(text.length).toBeLessThan(1_000);
    const { result, ms } = await timed(() => parseContract(text));
    expect(ms).toBeLessThan(1_000);
    expect(result.contract).toBeUndefined();
    expect(errors(result)).toEqual([
      expect.objectContaining({ code, file: "asyncapi.yaml", message: expect.stringContaining("alias bomb"), line: expect.any(Number) }),
    ]);
    expect(LIMIT_CODES).toContain(code);
  });

  it("measures a 450-byte bomb of 9^9 leaves without expanding it", () => {
    const started = performance.now();
    const value = { a: [] as unknown[] };
    let level: unknown[] = Array(9).fill("lol");
    for (let i = 1; i < 9; i++) level = Array(9).fill(level);
    value.a = level;
    const measured = measure(value, { ...DEFAULT_LIMITS, maxNodes: Number.MAX_SAFE_INTEGER, maxAliasExpansion: Number.MAX_SAFE_INTEGER });
    expect(measured.exceeded).toBeUndefined();
    expect(measured.nodes).toBe(1 + (9 ** 10 - 1) / 8); // the mapping plus 1 + 9 + … + 9^9
    expect(measured.distinct).toBe(1 + 1 + 9 * 9);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it("refuses a bomb in a second file of the upload, naming that file", async () => {
    const root = `asyncapi: 3.0.0
info:
  title: Split
  version: 1.0.0
channels:
  readings:
    address: plant/readings
    messages:
      reading:
        payload:
          $ref: 'common.yaml#/Reading'
`;
    const common = "Reading:\n  type: object\n" + sequenceBomb().slice(HEAD.length).replace(/^ {4}/gm, "");
    const result = await parseContract({ "asyncapi.yaml": root, "common.yaml": common });
    expect(result.contract).toBeUndefined();
    expect(errors(result)).toEqual([expect.objectContaining({ code: "alias-bomb", file: "common.yaml" })]);
  });

  it("refuses nesting that only aliases make too deep", async () => {
    const deep = (n: number, inner: string) => "[".repeat(n) + inner + "]".repeat(n);
    const text = `${HEAD}    d0: &d0 ${deep(200, "lol")}\n    d1: ${deep(100, "*d0")}\n`;
    const result = await parseContract(text);
    expect(errors(result)).toEqual([expect.objectContaining({ code: "too-deep" })]);
  });

  it("still refuses a document that is simply too big, as too-many-nodes", async () => {
    const text = `${HEAD}    big: ${list(2_000, "1")}\n`;
    const result = await parseContract(text, { limits: { maxNodes: 1_000 } });
    expect(errors(result)).toEqual([expect.objectContaining({ code: "too-many-nodes" })]);
  });
});

describe("documents with ordinary anchors", () => {
  const shared = `asyncapi: 3.0.0
info:
  title: Anchors
  version: 1.0.0
channels:
  readings:
    address: plant/readings
    messages:
      reading:
        payload: &reading
          type: object
          properties:
            value:
              type: number
      again:
        payload: *reading
`;

  it("parses them, validating the measured value (the YAML text is never read again)", async () => {
    const result = await parseContract(shared);
    expect(errors(result)).toEqual([]);
    expect(result.validation).toBe("full");
    const messages = result.contract!.channels["plant/readings"]!.messages;
    expect(messages.again!.payload).toEqual(messages.reading!.payload);
  });

  it("locates the parser's diagnostics in the YAML text even so", async () => {
    const result = await parseContract(shared.replace("address: plant/readings", "address: 42"));
    const located = result.diagnostics.filter((d) => d.path.join("/").startsWith("channels/readings/address"));
    expect(located.length).toBeGreaterThan(0);
    expect(located.every((d) => d.line === 7 && d.column === 14)).toBe(true);
  });

  it("validates them fully whatever their expanded size (no size threshold remains)", async () => {
    const result = await parseContract(shared, { limits: { fullValidationMaxNodes: 20 } });
    expect(result.validation).toBe("full");
    expect(errors(result)).toEqual([]);
    const invalid = await parseContract(shared.replace("address: plant/readings", "address: plant/{plant}\n    parameters:\n      site: {}"), { limits: { fullValidationMaxNodes: 20 } });
    expect(errors(invalid)).toEqual([
      expect.objectContaining({ code: "asyncapi3-channel-parameters", message: expect.stringContaining("Missed: plant") }),
      expect.objectContaining({ code: "asyncapi3-channel-parameters", message: expect.stringContaining('redundant defined "site"') }),
    ]);
  });
});
