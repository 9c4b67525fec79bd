import { describe, expect, it } from "vitest";
import { otherMethods } from "./methods.ts";

describe("otherMethods", () => {
  it("answers methods a route does not serve with 405, the error shape and what it serves", async () => {
    const { PUT, DELETE } = otherMethods("GET", "POST");
    for (const [method, refuse] of [["PUT", PUT], ["DELETE", DELETE]] as const) {
      const response = refuse(new Request("http://localhost/api/v1/teams", { method }));
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, POST, HEAD, OPTIONS");
      const body = (await response.json()) as { error: { code: string; message: string; details: { allowed: string[] } } };
      expect(body.error.code).toBe("method_not_allowed");
      expect(body.error.message).toContain(`does not serve ${method}`);
      expect(body.error.details.allowed).toEqual(["GET", "POST", "HEAD", "OPTIONS"]);
    }
  });

  it("offers no HEAD where a route serves no GET", () => {
    expect(otherMethods("POST").GET(new Request("http://localhost/api/v1/validate")).headers.get("allow")).toBe("POST, OPTIONS");
  });
});
