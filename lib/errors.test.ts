import { describe, expect, it } from "vitest";
import { z } from "zod";
import { MeshportError, parseInput, zodErrorDetails } from "./errors.ts";

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
