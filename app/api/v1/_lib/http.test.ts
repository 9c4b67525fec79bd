import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeshportError } from "@/lib/errors.ts";
import { assertSameOriginForCookieWrite, errorResponse, handler, json, readBodyText, readJson } from "./http.ts";

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

describe("readJson: text that cannot be stored", () => {
  it.each([
    ["a NUL in a string value", '{"name":"a\\u0000b"}'],
    ["a NUL in a key", '{"a\\u0000":1}'],
    ["a NUL deep in an array", '{"tags":[["ok",{"x":"\\u0000"}]]}'],
  ])("refuses %s with 422", async (_label, body) => {
    await expect(readJson(post(body))).rejects.toMatchObject({ status: 422, code: "invalid_input:nul" });
  });
  it("walks deep nesting without overflowing the stack", async () => {
    const deep = `${"[".repeat(100_000)}"\\u0000"${"]".repeat(100_000)}`;
    const error = await readJson(post(deep)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 422 });
  });
  it("refuses invalid UTF-8 instead of replacing it", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    await expect(readJson(post(bytes))).rejects.toMatchObject({ status: 422, code: "invalid_input:encoding" });
    await expect(readBodyText(post(new Uint8Array([0xed, 0xa0, 0x80])), 100)).rejects.toMatchObject({ status: 422 });
  });
  it("drops one leading byte-order mark", async () => {
    expect(await readJson(post(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"a":1}')])))).toEqual({ a: 1 });
  });
});

describe("handler: URLs", () => {
  const ok = handler(async () => json({ ok: true }));
  const context = { params: Promise.resolve({}) };
  it.each([
    ["a NUL in the query", "http://localhost/api/v1/x?q=%00", "invalid_input:nul"],
    ["malformed percent-encoding", "http://localhost/api/v1/x/%E0%A4%A", "invalid_input:encoding"],
    ["a path segment of 10 KB", `http://localhost/api/v1/teams/${"a".repeat(10_240)}`, "invalid_input:path"],
  ])("answers 422 to %s, even for requests the proxy leaves out", async (_label, url, code) => {
    const response = await ok(new Request(url, { method: "POST", body: "{}" }), context);
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  });
});

describe("assertSameOriginForCookieWrite", () => {
  const write = (headers: Record<string, string>) => new Request("http://localhost:3000/api/v1/teams", { method: "POST", headers });
  const saved = process.env.MESHPORT_URL;
  beforeAll(() => {
    process.env.MESHPORT_URL = "http://localhost:3000";
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.MESHPORT_URL;
    else process.env.MESHPORT_URL = saved;
  });
  it("refuses a cookie write with neither Origin nor Referer", () => {
    expect(() => assertSameOriginForCookieWrite(write({ cookie: "s=1" }))).toThrow(expect.objectContaining({ code: "forbidden:origin" }));
  });
  it("refuses a foreign Origin or Referer", () => {
    expect(() => assertSameOriginForCookieWrite(write({ origin: "https://evil.example" }))).toThrow(MeshportError);
    expect(() => assertSameOriginForCookieWrite(write({ referer: "https://evil.example/page" }))).toThrow(MeshportError);
  });
  it("accepts the portal's Origin, or its Referer when Origin is absent; bearer tokens and reads are exempt", () => {
    expect(() => assertSameOriginForCookieWrite(write({ origin: "http://localhost:3000" }))).not.toThrow();
    expect(() => assertSameOriginForCookieWrite(write({ referer: "http://127.0.0.1:3000/admin" }))).not.toThrow();
    expect(() => assertSameOriginForCookieWrite(write({ authorization: "Bearer x" }))).not.toThrow();
    expect(() => assertSameOriginForCookieWrite(new Request("http://localhost:3000/api/v1/teams"))).not.toThrow();
  });
});
