import { describe, expect, it } from "vitest";
import { MeshportError } from "@/lib/errors.ts";
import { errorResponse, readJson } from "./http.ts";

const post = (body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }) =>
  new Request("http://localhost/api/v1/x", { method: "POST", body, headers });

describe("readJson", () => {
  it("parses JSON bodies", async () => {
    expect(await readJson(post('{"a":1}'))).toEqual({ a: 1 });
    expect(await readJson(post('{"a":1}', { "content-type": "application/merge-patch+json" }))).toEqual({ a: 1 });
  });
  it("refuses malformed, empty, non-JSON and oversized bodies", async () => {
    await expect(readJson(post("{"))).rejects.toMatchObject({ status: 422 });
    await expect(readJson(post(""))).rejects.toMatchObject({ status: 422 });
    await expect(readJson(post("a=1", { "content-type": "application/x-www-form-urlencoded" }))).rejects.toMatchObject({ status: 422 });
    await expect(readJson(post(JSON.stringify({ a: "x".repeat(100) })), 50)).rejects.toMatchObject({ status: 413 });
  });
  it("stops reading a stream as soon as it passes the limit", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(1024).fill(32));
        if (pulled > 1000) controller.close();
      },
    });
    const request = new Request("http://localhost/x", { method: "POST", body: stream, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    await expect(readJson(request, 4096)).rejects.toMatchObject({ status: 413 });
    expect(pulled).toBeLessThan(20);
  });
});

describe("errorResponse", () => {
  it("maps service errors to their status and JSON shape", async () => {
    const response = errorResponse(new MeshportError("forbidden", "No.", { details: { action: "users:manage" } }));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: { code: "forbidden", message: "No.", details: { action: "users:manage" } } });
    expect(errorResponse(new MeshportError("unauthenticated", "Who?")).headers.get("www-authenticate")).toContain("Bearer");
  });
  it("hides unexpected errors behind a 500", async () => {
    const original = console.error;
    console.error = () => undefined;
    try {
      const response = errorResponse(new Error("secret internals"));
      expect(response.status).toBe(500);
      expect(JSON.stringify(await response.json())).not.toContain("secret internals");
    } finally {
      console.error = original;
    }
  });
});
