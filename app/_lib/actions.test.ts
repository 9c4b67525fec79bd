import { describe, expect, it } from "vitest";
import { formFields, runAction } from "./actions.ts";

function form(entries: Array<[string, string | Blob]>): FormData {
  const data = new FormData();
  for (const [key, value] of entries) data.append(key, value);
  return data;
}

describe("formFields", () => {
  it("reads string fields and skips files and framework fields", () => {
    expect(formFields(form([["name", "Ada"], ["$ACTION_ID_1", "x"], ["file", new Blob(["a"])]]))).toEqual({ name: "Ada" });
  });
  it.each([
    ["a value", [["name", "a\u0000b"]]],
    ["a name", [["na\u0000me", "a"]]],
  ] as const)("refuses a NUL in %s with invalid_input", (_label, entries) => {
    expect(() => formFields(form(entries.map(([k, v]) => [k, v])))).toThrow(expect.objectContaining({ code: "invalid_input:nul", status: 422 }));
  });
  it("keeps a field named __proto__ as a field", () => {
    const fields = formFields(form([["__proto__", "x"], ["constructor", "y"]]));
    expect(Object.hasOwn(fields, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(fields.constructor).toBe("y");
  });
  it("turns the refusal into form state inside runAction", async () => {
    const state = await runAction(async () => formFields(form([["description", "\u0000"]])));
    expect(state).toMatchObject({ ok: false, fieldErrors: { description: [expect.stringContaining("NUL")] } });
  });
});
