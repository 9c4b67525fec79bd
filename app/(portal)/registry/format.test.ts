import { describe, expect, it } from "vitest";
import { readRegistryFilters, registryHref, schemaHref, subjectHref } from "./format.ts";

describe("Registry page links and filters", () => {
  it("reads the filters leniently: unknown kinds and types, long text and repeats are dropped or taken once", () => {
    expect(readRegistryFilters({ text: " orders ", kind: "linked", type: "AVRO", team: "logistics", deleted: "1" })).toEqual({
      text: "orders",
      kind: "linked",
      schemaType: "AVRO",
      team: "logistics",
      deleted: true,
    });
    expect(readRegistryFilters({ text: "x".repeat(201), kind: "other", type: "XML", deleted: "yes" })).toEqual({
      text: undefined,
      kind: undefined,
      schemaType: undefined,
      team: undefined,
      deleted: undefined,
    });
    expect(readRegistryFilters({ kind: ["governed", "direct"] }).kind).toBe("governed");
  });

  it("links back to the same filters and page", () => {
    expect(registryHref({})).toBe("/registry");
    expect(registryHref({ text: "a&b", kind: "direct", schemaType: "JSON", deleted: true }, 3)).toBe("/registry?text=a%26b&kind=direct&type=JSON&deleted=1&page=3");
    expect(readRegistryFilters(Object.fromEntries(new URL(`http://x${registryHref({ text: "a&b", team: "t" })}`).searchParams))).toMatchObject({ text: "a&b", team: "t" });
  });

  it("encodes a subject name as one path segment", () => {
    expect(subjectHref("plant/{lineId}/temperature-reading")).toBe("/registry/subjects/plant%2F%7BlineId%7D%2Ftemperature-reading");
    expect(subjectHref("a?b#c", 2)).toBe("/registry/subjects/a%3Fb%23c?version=2");
    expect(schemaHref(12)).toBe("/registry/schemas/12");
  });
});
