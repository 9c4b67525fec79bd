import { NextRequest } from "next/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SERVER_ACTION_BODY_LIMIT } from "@/lib/http/limits.ts";
// Beside lib/http, where the unit project looks; the proxy itself must sit at the root.
import nextConfig from "@/next.config.ts";
import { config, proxy } from "@/proxy.ts";

const BASE = "http://localhost:3000";

function request(path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  return new NextRequest(`${BASE}${path}`, { method: init.method ?? "GET", headers: init.headers });
}

async function refusal(response: Response) {
  const body = (await response.json()) as { error: { code: string; message: string; details: unknown } };
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

const passes = (response: Response) => response.headers.get("x-middleware-next") === "1";

let savedUrl: string | undefined;
beforeEach(() => {
  savedUrl = process.env.MESHPORT_URL;
  process.env.MESHPORT_URL = BASE;
});
afterEach(() => {
  if (savedUrl === undefined) delete process.env.MESHPORT_URL;
  else process.env.MESHPORT_URL = savedUrl;
});

describe("proxy: URLs", async () => {
  it("lets ordinary pages and API reads through", async () => {
    for (const path of ["/", "/catalog?team=core&page=2", "/discover?q=order%20created", "/api/v1/search?q=%C3%A9t%C3%A9", "/catalog/orders/channel/plant%2F%2B%2Ftemp"]) {
      expect(passes(await proxy(request(path))), path).toBe(true);
    }
  });

  it.each([
    ["NUL in a query value", "/discover?q=a%00b"],
    ["NUL in a query name", "/discover?a%00=1"],
    ["NUL in a path segment", "/catalog/a%00b"],
    ["NUL in an API path", "/api/v1/teams/a%00"],
    ["NUL in an API query", "/api/v1/search?q=%00"],
  ])("answers 422 to %s", async (_label, path) => {
    const response = await proxy(request(path));
    expect(response.status).toBe(422);
    expect((await refusal(response)).code).toBe("invalid_input:nul");
  });

  it.each([
    ["a truncated escape", "/catalog/%E0%A4%A"],
    ["a surrogate encoded as UTF-8", "/catalog/%ED%A0%80"],
    ["a lone continuation byte in the query", "/api/v1/search?q=%80"],
    ["a stray percent sign", "/discover?q=100%"],
    ["an overlong encoding", "/catalog/%C0%AF"],
  ])("answers 422 to %s", async (_label, path) => {
    const response = await proxy(request(path));
    expect(response.status).toBe(422);
    expect((await refusal(response)).code).toBe("invalid_input:encoding");
  });

  it("bounds path segments, query values and the number of parameters", async () => {
    const long = await proxy(request(`/api/v1/teams/${"a".repeat(10 * 1024)}`));
    expect(long.status).toBe(422);
    expect((await refusal(long)).code).toBe("invalid_input:path");
    expect((await proxy(request(`/discover?q=${"a".repeat(5000)}`))).status).toBe(422);
    expect((await proxy(request(`/discover?${Array.from({ length: 60 }, (_, i) => `p${i}=1`).join("&")}`))).status).toBe(422);
  });

  it("leaves the API out of its matcher: the portal's server and the handlers check API URLs", async () => {
    expect(config.matcher).toHaveLength(1);
    expect(config.matcher[0]).toContain("?!api/");
  });
});

describe("proxy: server actions", async () => {
  const action = (headers: Record<string, string>) => request("/catalog/new", { method: "POST", headers: { "next-action": "abc123", "content-type": "text/plain", ...headers } });

  it("lets a same-origin action through", async () => {
    expect(passes(await proxy(action({ origin: BASE, "content-length": "120" })))).toBe(true);
    expect(passes(await proxy(action({ origin: "http://127.0.0.1:3000", "content-length": "120" })))).toBe(true);
    expect(passes(await proxy(action({ referer: `${BASE}/catalog/new`, "content-length": "120" })))).toBe(true);
  });

  it.each([
    ["a foreign origin", { origin: "https://evil.example", "content-length": "10" }],
    ["the opaque origin", { origin: "null", "content-length": "10" }],
    ["a foreign referer without origin", { referer: "https://evil.example/x", "content-length": "10" }],
    ["no origin and no referer", { "content-length": "10" }],
    ["a lookalike origin", { origin: "http://localhost:3000.evil.example", "content-length": "10" }],
  ])("answers 403 to %s", async (_label, headers) => {
    const response = await proxy(action(headers));
    expect(response.status).toBe(403);
    expect((await refusal(response)).code).toBe("forbidden:origin");
  });

  it("refuses a form posted without JavaScript from elsewhere too", async () => {
    const form = request("/catalog/new", { method: "POST", headers: { "content-type": "multipart/form-data; boundary=x", origin: "https://evil.example", "content-length": "10" } });
    expect((await proxy(form)).status).toBe(403);
  });

  it("answers 413 to a body over the limit and to one of unknown length", async () => {
    const big = await proxy(action({ origin: BASE, "content-length": String(SERVER_ACTION_BODY_LIMIT + 1) }));
    expect(big.status).toBe(413);
    expect(await refusal(big)).toMatchObject({ code: "too_large", details: { limit: SERVER_ACTION_BODY_LIMIT } });
    const chunked = await proxy(action({ origin: BASE, "transfer-encoding": "chunked" }));
    expect(chunked.status).toBe(413);
    expect((await refusal(chunked)).code).toBe("too_large:length_required");
    expect((await proxy(action({ origin: BASE, "content-length": "1e9" }))).status).toBe(413);
    expect(passes(await proxy(action({ origin: BASE, "content-length": String(SERVER_ACTION_BODY_LIMIT) })))).toBe(true);
  });

  it("refuses above the very limit Next.js is configured with", () => {
    expect(nextConfig.experimental?.serverActions?.bodySizeLimit).toBe(SERVER_ACTION_BODY_LIMIT);
  });

  it("leaves API writes to the API's own checks", async () => {
    const write = request("/api/v1/teams", { method: "POST", headers: { authorization: "Bearer x", "content-length": "10" } });
    expect(passes(await proxy(write))).toBe(true);
  });
});

describe("proxy: NUL in server-action bodies", () => {
  const post = (body: BodyInit, contentType: string) =>
    new NextRequest(`${BASE}/admin`, {
      method: "POST",
      body,
      headers: { origin: BASE, "next-action": "abc", "content-type": contentType, "content-length": String(new Blob([body as string]).size) },
    });

  it.each([
    ["a raw NUL in a multipart field", '--x\r\ncontent-disposition: form-data; name="1_name"\r\n\r\nA\u0000B\r\n--x--\r\n', "multipart/form-data; boundary=x"],
    ["%00 in a urlencoded form", "name=a%00b", "application/x-www-form-urlencoded"],
    ["an escaped NUL in React's JSON arguments", '["a\\u0000b"]', "text/plain;charset=UTF-8"],
  ])("answers 422 to %s", async (_label, body, type) => {
    const response = await proxy(post(body, type));
    expect(response.status).toBe(422);
    expect((await refusal(response)).code).toBe("invalid_input:nul");
  });

  it.each([
    ["a multipart field naming the escape", '--x\r\ncontent-disposition: form-data; name="1_description"\r\n\r\nwrite \\u0000 in YAML\r\n--x--\r\n', "multipart/form-data; boundary=x"],
    ["an escaped backslash before u0000 in JSON", '["a\\\\u0000b"]', "text/plain;charset=UTF-8"],
    ["a plain urlencoded form", "name=a%20b", "application/x-www-form-urlencoded"],
  ])("lets %s through", async (_label, body, type) => {
    expect(passes(await proxy(post(body, type)))).toBe(true);
  });
});
