import { describe, expect, it } from "vitest";
import { isRegistryError } from "@/lib/schema-registry/errors.ts";
import { matchRegistryRoute, parseSchemaId, parseVersion, splitRegistryPath } from "./router.ts";

function codeOf(run: () => unknown): number | null {
  try {
    run();
    return null;
  } catch (error) {
    return isRegistryError(error) ? error.errorCode : -1;
  }
}

const route = (path: string) => {
  const segments = splitRegistryPath(path);
  return segments === null ? null : matchRegistryRoute(segments);
};

describe("splitRegistryPath", () => {
  it("decodes each raw segment, keeping encoded slashes inside a subject", () => {
    expect(splitRegistryPath("/api/schema-registry")).toEqual([]);
    expect(splitRegistryPath("/api/schema-registry/")).toEqual([]);
    expect(splitRegistryPath("/api/schema-registry/subjects/a%2Fb%20c/versions")).toEqual(["subjects", "a/b c", "versions"]);
    expect(splitRegistryPath("/api/schema-registry/subjects/")).toEqual(["subjects"]);
    expect(splitRegistryPath("/api/schema-registry/subjects/plant%2B1%3Avalue")).toEqual(["subjects", "plant+1:value"]);
    expect(splitRegistryPath("/api/schema-registry/subjects/z%C3%BCrich")).toEqual(["subjects", "zürich"]);
  });

  it("refuses other paths, malformed escapes, invalid UTF-8, empty segments and overlong paths", () => {
    expect(splitRegistryPath("/api/v1/subjects")).toBeNull();
    expect(splitRegistryPath("/api/schema-registryx/subjects")).toBeNull();
    expect(splitRegistryPath("/api/schema-registry/subjects/%E0%A4%A")).toBeNull();
    expect(splitRegistryPath("/api/schema-registry/subjects/%ED%A0%80")).toBeNull();
    expect(splitRegistryPath("/api/schema-registry/subjects//versions")).toBeNull();
    expect(splitRegistryPath(`/api/schema-registry/${"a/".repeat(20)}`)).toBeNull();
  });
});

describe("matchRegistryRoute", () => {
  it("maps every Confluent path to its operation and methods", () => {
    expect(route("/api/schema-registry")).toEqual({ route: { op: "root" }, methods: ["GET"] });
    expect(route("/api/schema-registry/subjects")).toEqual({ route: { op: "subjects" }, methods: ["GET"] });
    expect(route("/api/schema-registry/subjects/s")).toEqual({ route: { op: "subject", subject: "s" }, methods: ["POST", "DELETE"] });
    expect(route("/api/schema-registry/subjects/s/versions")).toEqual({ route: { op: "subjectVersions", subject: "s" }, methods: ["GET", "POST"] });
    expect(route("/api/schema-registry/subjects/s/versions/latest")).toEqual({
      route: { op: "subjectVersion", subject: "s", version: "latest" },
      methods: ["GET", "DELETE"],
    });
    expect(route("/api/schema-registry/subjects/s/versions/2/schema")?.route).toEqual({ op: "subjectVersionSchema", subject: "s", version: "2" });
    expect(route("/api/schema-registry/subjects/s/versions/2/referencedby")?.route).toEqual({ op: "referencedBy", subject: "s", version: "2" });
    expect(route("/api/schema-registry/schemas/types")?.route).toEqual({ op: "schemaTypes" });
    expect(route("/api/schema-registry/schemas/ids/7")?.route).toEqual({ op: "schemaById", id: "7" });
    expect(route("/api/schema-registry/schemas/ids/7/schema")?.route).toEqual({ op: "schemaByIdSchema", id: "7" });
    expect(route("/api/schema-registry/schemas/ids/7/versions")?.route).toEqual({ op: "schemaByIdVersions", id: "7" });
    expect(route("/api/schema-registry/schemas/ids/7/subjects")?.route).toEqual({ op: "schemaByIdSubjects", id: "7" });
    expect(route("/api/schema-registry/compatibility/subjects/s/versions")).toEqual({ route: { op: "compatibility", subject: "s" }, methods: ["POST"] });
    expect(route("/api/schema-registry/compatibility/subjects/s/versions/latest")?.route).toEqual({
      op: "compatibilityVersion",
      subject: "s",
      version: "latest",
    });
    expect(route("/api/schema-registry/config")).toEqual({ route: { op: "config", subject: null }, methods: ["GET", "PUT", "DELETE"] });
    expect(route("/api/schema-registry/config/a%2Fb")).toEqual({ route: { op: "config", subject: "a/b" }, methods: ["GET", "PUT", "DELETE"] });
    expect(route("/api/schema-registry/mode")).toEqual({ route: { op: "mode", subject: null }, methods: ["GET", "PUT"] });
    expect(route("/api/schema-registry/mode/s")).toEqual({ route: { op: "mode", subject: "s" }, methods: ["GET", "PUT", "DELETE"] });
  });

  it("a subject named like a keyword is still a subject", () => {
    expect(route("/api/schema-registry/subjects/versions/versions")?.route).toEqual({ op: "subjectVersions", subject: "versions" });
    expect(route("/api/schema-registry/config/config")?.route).toEqual({ op: "config", subject: "config" });
  });

  it("answers null for paths no route has", () => {
    for (const path of [
      "/api/schema-registry/nope",
      "/api/schema-registry/subjects/s/other",
      "/api/schema-registry/subjects/s/versions/1/other",
      "/api/schema-registry/subjects/s/versions/1/schema/x",
      "/api/schema-registry/schemas",
      "/api/schema-registry/schemas/ids",
      "/api/schema-registry/schemas/ids/1/other",
      "/api/schema-registry/schemas/ids/1/schema/x",
      "/api/schema-registry/compatibility/subjects/s",
      "/api/schema-registry/compatibility/subjects/s/versions/1/x",
      "/api/schema-registry/config/a/b",
      "/api/schema-registry/mode/a/b",
    ]) {
      expect(route(path), path).toBeNull();
    }
  });
});

describe("parseVersion", () => {
  it("reads integers 1..2^31-1, latest and -1 as Confluent does", () => {
    expect(parseVersion("1")).toBe(1);
    expect(parseVersion("+12")).toBe(12);
    expect(parseVersion("2147483647")).toBe(2147483647);
    expect(parseVersion("latest")).toBe("latest");
    expect(parseVersion("-1")).toBe("latest");
  });

  it("answers 42202 to anything else", () => {
    for (const raw of ["0", "-2", "2147483648", "99999999999", "1.5", "1e3", "LATEST", "", "abc", "0x10"]) {
      expect(codeOf(() => parseVersion(raw)), raw).toBe(42202);
    }
  });
});

describe("parseSchemaId", () => {
  it("reads int4 ids and answers 40403 to anything else", () => {
    expect(parseSchemaId("1")).toBe(1);
    expect(parseSchemaId("2147483647")).toBe(2147483647);
    for (const raw of ["0", "-1", "2147483648", "abc", "1.0", ""]) expect(codeOf(() => parseSchemaId(raw)), raw).toBe(40403);
  });
});
