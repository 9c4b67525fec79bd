import { describe, expect, it } from "vitest";
import { edgeRefusal, servedTarget, SERVED_METHODS } from "./edge.ts";

function errorOf(refusal: ReturnType<typeof edgeRefusal>) {
  return (JSON.parse(refusal!.body) as { error: { code: string; message: string } }).error;
}

describe("edgeRefusal", () => {
  it("lets served methods and clean URLs through", () => {
    for (const method of SERVED_METHODS) expect(edgeRefusal(method, "/api/v1/search?q=orders%2Fcreated&page=2")).toBeNull();
    expect(edgeRefusal("GET", "/catalog/orders/channel/plant%2F%7BlineId%7D")).toBeNull();
  });

  it("refuses methods Next.js cannot handle with 405, an Allow header and the error shape", () => {
    for (const method of ["TRACE", "TRACK", "CONNECT", "PROPFIND", "get", "", undefined]) {
      const refusal = edgeRefusal(method, "/api/v1/whoami");
      expect(refusal?.status, String(method)).toBe(405);
      expect(refusal?.headers.allow).toBe(SERVED_METHODS.join(", "));
      expect(errorOf(refusal).code).toBe("method_not_allowed");
    }
  });

  it("refuses malformed percent-encoding and NUL in path and query with 422, whatever the method", () => {
    const cases: Array<[string, string]> = [
      ["/api/v1/applications/%ZZ/versions", "invalid_input:encoding"],
      ["/api/v1/admin/tokens/%", "invalid_input:encoding"],
      ["/api/v1/applications/%C0%AE%C0%AE/versions", "invalid_input:encoding"],
      ["/api/v1/applications/%ED%A0%80", "invalid_input:encoding"],
      ["/catalog/%FF", "invalid_input:encoding"],
      ["/api/v1/search?q=%E0%A4%A", "invalid_input:encoding"],
      ["/api/v1/teams/a%00b", "invalid_input:nul"],
      ["/api/v1/search?q=a%00", "invalid_input:nul"],
    ];
    for (const method of ["GET", "POST", "DELETE"]) {
      for (const [target, code] of cases) {
        const refusal = edgeRefusal(method, target);
        expect(refusal?.status, `${method} ${target}`).toBe(422);
        expect(errorOf(refusal).code, `${method} ${target}`).toBe(code);
        expect(refusal?.headers["content-type"]).toBe("application/json");
      }
    }
  });

  it("answers the schema registry's paths in Confluent's error shape, for Confluent clients", () => {
    for (const target of ["/api/schema-registry/subjects/%ZZ/versions", "/api/schema-registry/subjects/a%00b", "/api/schema-registry?x=%E0%A4%A"]) {
      const refusal = edgeRefusal("GET", target);
      expect(refusal?.status, target).toBe(422);
      expect(refusal?.headers["content-type"]).toBe("application/vnd.schemaregistry.v1+json");
      const body = JSON.parse(refusal!.body) as { error_code: unknown; message: unknown };
      expect(body.error_code).toBe(422);
      expect(typeof body.message).toBe("string");
    }
    const method = edgeRefusal("TRACE", "/api/schema-registry/subjects");
    expect(method?.status).toBe(405);
    expect((JSON.parse(method!.body) as { error_code: number }).error_code).toBe(405);
    // A path that only starts alike is the portal's.
    expect(edgeRefusal("GET", "/api/schema-registryx/%ZZ")?.headers["content-type"]).toBe("application/json");
  });

  it("keeps the registry's paths out of Next.js's path normalisation: dot segments are not found, trailing slashes served as without", () => {
    for (const target of ["/api/schema-registry/config/..", "/api/schema-registry/subjects/%2E%2e/versions?x=1", "/api/schema-registry/./subjects"]) {
      const refusal = edgeRefusal("GET", target);
      expect(refusal?.status, target).toBe(404);
      expect((JSON.parse(refusal!.body) as { error_code: number }).error_code).toBe(404);
    }
    expect(edgeRefusal("GET", "/api/schema-registry/subjects/a.b..c/versions")).toBeNull();
    expect(servedTarget("/api/schema-registry/subjects/?deleted=true")).toBe("/api/schema-registry/subjects?deleted=true");
    expect(servedTarget("/api/schema-registry/")).toBe("/api/schema-registry");
    expect(servedTarget("/api/schema-registry/subjects")).toBe("/api/schema-registry/subjects");
    expect(servedTarget("/catalog/")).toBe("/catalog/");
  });
});
