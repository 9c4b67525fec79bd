import { describe, expect, it } from "vitest";
import { z } from "zod";
import { invalidInputMessage, MAX_REPORTED_ISSUES, MeshportError, parseInput, zodErrorDetails } from "./errors.ts";

describe("MeshportError", () => {
  it("carries a code narrowed by subject and the HTTP status of its kind", () => {
    const error = new MeshportError("not_found", "No such team.", { subject: "team" });
    expect(error.code).toBe("not_found:team");
    expect(error.status).toBe(404);
    expect(new MeshportError("invalid_input", "x").status).toBe(422);
    expect(new MeshportError("unauthenticated", "x").status).toBe(401);
  });
});

describe("parseInput", () => {
  const schema = z.object({ name: z.string().min(2), owner: z.object({ email: z.email() }) });
  it("returns parsed data", () => {
    expect(parseInput(schema, { name: "ok", owner: { email: "a@b.io" } })).toEqual({ name: "ok", owner: { email: "a@b.io" } });
  });
  it("throws invalid_input with dotted field paths", () => {
    try {
      parseInput(schema, { name: "x", owner: { email: "nope" } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MeshportError);
      const details = (error as MeshportError).details as ReturnType<typeof zodErrorDetails>;
      expect(Object.keys(details.fieldErrors).sort()).toEqual(["name", "owner.email"]);
    }
  });
  it("reports a non-object as a form error", () => {
    const result = z.object({ a: z.string() }).safeParse("nope");
    expect(result.success).toBe(false);
    if (!result.success) expect(zodErrorDetails(result.error).formErrors).toHaveLength(1);
  });
});

describe("zodErrorDetails bounds", () => {
  it("lists at most MAX_REPORTED_ISSUES problems and says how many there were", () => {
    const schema = z.array(z.string());
    const result = schema.safeParse(Array.from({ length: 5000 }, () => 1));
    expect(result.success).toBe(false);
    if (result.success) return;
    const details = zodErrorDetails(result.error);
    expect(Object.keys(details.fieldErrors)).toHaveLength(MAX_REPORTED_ISSUES);
    expect(details.truncated).toBe(true);
    expect(details.issueCount).toBe(5000);
    expect(invalidInputMessage(details)).toContain("5000 problems");
  });
  it("does not mark a short list as truncated", () => {
    const result = z.object({ a: z.string() }).safeParse({ a: 1 });
    if (result.success) return expect.unreachable();
    const details = zodErrorDetails(result.error);
    expect(details.truncated).toBeUndefined();
    expect(invalidInputMessage(details)).toBe("The input is not valid.");
  });
  it("keeps prototype keys as plain field paths", () => {
    const result = z.record(z.string(), z.string()).safeParse(JSON.parse('{"constructor": 2, "toString": 3}'));
    if (result.success) return expect.unreachable();
    const details = zodErrorDetails(result.error);
    expect(details.fieldErrors.constructor).toEqual([expect.any(String)]);
    expect(details.fieldErrors.toString).toEqual([expect.any(String)]);
    const proto = zodErrorDetails(new z.ZodError([{ code: "custom", path: ["__proto__"], message: "no", input: 1 }]));
    expect(Object.hasOwn(proto.fieldErrors, "__proto__")).toBe(true);
  });
  it("clips long paths and messages that echo user keys", () => {
    const keys = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`key-${i}-${"x".repeat(50)}`, 1]));
    const result = z.strictObject({}).safeParse(keys);
    if (result.success) return expect.unreachable();
    const details = zodErrorDetails(result.error);
    expect(JSON.stringify(details).length).toBeLessThan(2000);
  });
});
