import { describe, expect, it } from "vitest";
import { MeshportError } from "@/lib/errors.ts";
import { registryErrors } from "@/lib/schema-registry/errors.ts";
import { acceptsRequestType, confluentErrorResponse, httpErrors, negotiateResponseType } from "./confluent.ts";

describe("negotiateResponseType", () => {
  it("answers Confluent's v1 type to no Accept, */* and application/*", () => {
    for (const accept of [null, "", "*/*", "application/*", "text/html, */*;q=0.1"]) {
      expect(negotiateResponseType(accept), String(accept)).toBe("application/vnd.schemaregistry.v1+json");
    }
  });

  it("picks the first acceptable of the three JSON types, by quality then order", () => {
    expect(negotiateResponseType("application/json")).toBe("application/json");
    expect(negotiateResponseType("application/vnd.schemaregistry+json")).toBe("application/vnd.schemaregistry+json");
    expect(negotiateResponseType("application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; q=0.9, application/json; q=0.5")).toBe(
      "application/vnd.schemaregistry.v1+json",
    );
    expect(negotiateResponseType("application/json; q=0.5, application/vnd.schemaregistry+json")).toBe("application/vnd.schemaregistry+json");
    expect(negotiateResponseType("text/plain, application/json")).toBe("application/json");
    expect(negotiateResponseType("Application/JSON")).toBe("application/json");
    expect(negotiateResponseType("application/json;q=0, */*;q=0.2")).toBe("application/vnd.schemaregistry.v1+json");
  });

  it("answers null when nothing fits", () => {
    expect(negotiateResponseType("text/html")).toBeNull();
    expect(negotiateResponseType("application/xml, text/*")).toBeNull();
    expect(negotiateResponseType("application/json;q=0")).toBeNull();
    expect(negotiateResponseType(`${"text/x, ".repeat(100)}application/json`)).toBeNull();
  });
});

describe("acceptsRequestType", () => {
  it("reads the three JSON types, octet-stream and none", () => {
    for (const type of [
      null,
      "",
      "application/vnd.schemaregistry.v1+json",
      "application/vnd.schemaregistry+json",
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/octet-stream",
    ]) {
      expect(acceptsRequestType(type), String(type)).toBe(true);
    }
  });

  it("refuses other types", () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "application/jsonx"]) {
      expect(acceptsRequestType(type), type).toBe(false);
    }
  });
});

describe("confluentErrorResponse", () => {
  async function answer(error: unknown) {
    const response = confluentErrorResponse(error, "application/json");
    return { status: response.status, headers: response.headers, body: (await response.json()) as { error_code: number; message: string } };
  }

  it("answers registry errors with their status and code", async () => {
    expect(await answer(registryErrors.subjectNotFound("s"))).toMatchObject({ status: 404, body: { error_code: 40401, message: "Subject 's' not found." } });
    expect(await answer(registryErrors.incompatible("no"))).toMatchObject({ status: 409, body: { error_code: 409 } });
    expect(await answer(registryErrors.invalidVersion("x"))).toMatchObject({ status: 422, body: { error_code: 42202 } });
    expect(await answer(registryErrors.storeError())).toMatchObject({ status: 500, body: { error_code: 50001 } });
  });

  it("maps the portal's errors to Confluent's codes, never the portal's shape", async () => {
    const unauthenticated = await answer(new MeshportError("unauthenticated", "who?"));
    expect(unauthenticated).toMatchObject({ status: 401, body: { error_code: 40101, message: "who?" } });
    expect(unauthenticated.headers.get("www-authenticate")).toBe('Basic realm="Meshport Schema Registry"');
    expect(await answer(new MeshportError("forbidden", "no"))).toMatchObject({ status: 403, body: { error_code: 40301 } });
    expect(await answer(new MeshportError("invalid_input", "bad"))).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(await answer(new MeshportError("not_found", "gone", { subject: "version" }))).toMatchObject({ status: 404, body: { error_code: 40402 } });
    expect(await answer(new MeshportError("rate_limited", "slow"))).toMatchObject({ status: 429, body: { error_code: 42901 } });
    expect(await answer(new MeshportError("too_large", "big"))).toMatchObject({ status: 413, body: { error_code: 413 } });
    expect(await answer(httpErrors.unsupportedMediaType())).toMatchObject({ status: 415, body: { error_code: 415 } });
    const notAllowed = await answer(httpErrors.methodNotAllowed(["GET"]));
    expect(notAllowed).toMatchObject({ status: 405, body: { error_code: 405 } });
    expect(notAllowed.headers.get("allow")).toBe("GET");
  });

  it("reveals nothing of an unexpected error", async () => {
    const original = console.error;
    console.error = () => {};
    try {
      const response = confluentErrorResponse(new Error("password=hunter2 at db.internal"));
      expect(response.status).toBe(500);
      expect(response.headers.get("content-type")).toBe("application/vnd.schemaregistry.v1+json");
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ error_code: 50001 });
      expect(text).not.toContain("hunter2");
    } finally {
      console.error = original;
    }
  });
});
