import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { auditEntry, registrySchema, registrySubjectVersion } from "@/db/schema.ts";
import { describeEachBackend } from "@/db/testing/backends.ts";
import { createFirstAdmin } from "@/lib/accounts/users.ts";
import { systemPrincipal, type Principal } from "@/lib/auth/principal.ts";
import { createToken } from "@/lib/tokens/tokens.ts";
import { MAX_SCHEMA_BYTES } from "@/registry/schematypes/index.ts";
import * as authRoute from "../auth/[...all]/route.ts";
import { startRegistryServer, type RouteServer } from "./testing.ts";

const V1 = "application/vnd.schemaregistry.v1+json";
const PORTAL = "http://localhost:3000";
const PASSWORD = "correct horse battery";

const order = {
  type: "object",
  properties: { id: { type: "string" }, total: { type: "number" } },
  required: ["id"],
  additionalProperties: false,
};
const orderWithNote = { ...order, properties: { ...order.properties, note: { type: "string" } } };
const orderNeedsCurrency = { ...order, properties: { ...order.properties, currency: { type: "string" } }, required: ["id", "currency"] };

interface Answer {
  status: number;
  type: string | null;
  headers: Headers;
  text: string;
  json: unknown;
}

describeEachBackend("Schema registry API over HTTP", ({ handle }) => {
  let server: RouteServer & { registryUrl: string };
  let adminToken: string;
  let readToken: string;

  async function call(
    path: string,
    init: { method?: string; body?: unknown; raw?: string; token?: string | null; basic?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers = new Headers(init.headers);
    if (init.basic !== undefined) headers.set("authorization", `Basic ${Buffer.from(init.basic).toString("base64")}`);
    else if (init.token !== null) headers.set("authorization", `Bearer ${init.token ?? adminToken}`);
    const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    if (body !== undefined && !headers.has("content-type")) headers.set("content-type", V1);
    const response = await fetch(`${server.registryUrl}${path}`, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON: the test looks at the text.
    }
    return { status: response.status, type: response.headers.get("content-type"), headers: response.headers, text, json };
  }

  /** Expects Confluent's error body with this status and code. */
  function expectError(answer: Answer, status: number, errorCode: number): void {
    expect(answer.status, answer.text).toBe(status);
    expect(answer.json).toMatchObject({ error_code: errorCode, message: expect.any(String) });
    expect(answer.json).not.toHaveProperty("error");
  }

  async function counts() {
    const [versions] = await handle().db.select({ n: count() }).from(registrySubjectVersion);
    const [schemas] = await handle().db.select({ n: count() }).from(registrySchema);
    const [audit] = await handle().db.select({ n: count() }).from(auditEntry);
    return { versions: versions!.n, schemas: schemas!.n, audit: audit!.n };
  }

  beforeAll(async () => {
    const created = await createFirstAdmin(systemPrincipal("test"), { name: "Ada", email: "ada@example.com", password: PASSWORD });
    const admin: Principal = { kind: "user", id: created.id, email: created.email, name: created.name, role: "admin" };
    adminToken = (await createToken(admin, { name: "registry-admin", scopes: ["admin"] })).secret;
    readToken = (await createToken(admin, { name: "registry-reader", scopes: ["read"] })).secret;
    server = await startRegistryServer();
  });

  afterAll(async () => {
    await server?.close();
  });

  it("answers the root and the schema types, in the media type the Accept header asks for", async () => {
    const root = await call("/");
    expect(root).toMatchObject({ status: 200, type: V1, json: {} });
    expect((await call("/schemas/types")).json).toEqual(["JSON", "PROTOBUF", "AVRO"]);
    const accepts: Array<[string, string]> = [
      ["application/json", "application/json"],
      ["application/vnd.schemaregistry+json", "application/vnd.schemaregistry+json"],
      [V1, V1],
      ["*/*", V1],
      ["text/html, application/json;q=0.8", "application/json"],
    ];
    for (const [accept, type] of accepts) expect((await call("/schemas/types", { headers: { accept } })).type, accept).toBe(type);
    const refused = await call("/schemas/types", { headers: { accept: "text/html" } });
    expectError(refused, 406, 406);
    expect(refused.type).toBe(V1);
    // Errors come in the negotiated type too.
    expect((await call("/subjects/nope/versions", { headers: { accept: "application/json" } })).type).toBe("application/json");
  });

  it("needs credentials: 401 with a Basic challenge without them or with a bad token; Basic and Bearer both work", async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: "Bearer mpt_nope" }, { authorization: "Basic !!" }, { authorization: "Digest x" }];
    for (const headers of attempts) {
      const answer = await call("/subjects", { token: null, headers });
      expectError(answer, 401, 40101);
      expect(answer.headers.get("www-authenticate")).toBe('Basic realm="Meshport Schema Registry"');
    }
    expectError(await call("/subjects", { basic: "meshport:mpt_wrong" }), 401, 40101);
    expect((await call("/subjects", { basic: `meshport:${readToken}` })).status).toBe(200);
    expect((await call("/subjects", { basic: `anything-at-all:${readToken}` })).status).toBe(200);
    expect((await call("/subjects", { token: readToken })).status).toBe(200);
  });

  it("serves the portal's session cookie, and takes writes by cookie only from the portal's own origin", async () => {
    const signIn = await authRoute.POST(
      new Request(`${PORTAL}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { origin: PORTAL, "content-type": "application/json" },
        body: JSON.stringify({ email: "ada@example.com", password: PASSWORD }),
      }),
    );
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    expect((await call("/subjects", { token: null, headers: { cookie } })).status).toBe(200);
    const body = { schema: JSON.stringify({ type: "string", maxLength: 40 }), schemaType: "JSON" };
    const before = await counts();
    expectError(await call("/subjects/by-cookie/versions", { token: null, body, headers: { cookie, origin: "https://evil.example" } }), 403, 40301);
    expectError(await call("/subjects/by-cookie/versions", { token: null, body, headers: { cookie } }), 403, 40301);
    expect(await counts()).toEqual(before);
    expect((await call("/subjects/by-cookie/versions", { token: null, body, headers: { cookie, origin: PORTAL } })).status).toBe(200);
    // A bad Authorization header is not rescued by the cookie.
    expectError(await call("/subjects", { token: "mpt_wrong", headers: { cookie } }), 401, 40101);
  });

  it("registers a schema under a subject holding '/' and spaces, and serves it on every read route", async () => {
    const subject = "plant a/orders value";
    const path = `/subjects/${encodeURIComponent(subject)}`;
    const registered = await call(`${path}/versions`, { body: { schema: JSON.stringify(order), schemaType: "JSON", metadata: { ignored: true } } });
    expect(registered.status, registered.text).toBe(200);
    expect(registered.type).toBe(V1);
    const { id } = registered.json as { id: number };
    expect(Number.isInteger(id)).toBe(true);

    expect((await call("/subjects")).json).toContain(subject);
    expect((await call(`/subjects?subjectPrefix=${encodeURIComponent("plant a/")}`)).json).toEqual([subject]);
    expect((await call("/subjects?subjectPrefix=zzz")).json).toEqual([]);
    const all = (await call("/subjects")).json as string[];
    expect((await call("/subjects?offset=1&limit=1")).json).toEqual(all.slice(1, 2));
    expect((await call(`${path}/versions`)).json).toEqual([1]);
    const version = await call(`${path}/versions/1`, { token: readToken });
    expect(version.json).toMatchObject({ subject, id, version: 1, schemaType: "JSON" });
    const canonical = (version.json as { schema: string }).schema;
    expect(JSON.parse(canonical)).toEqual(order);
    expect((await call(`${path}/versions/latest`)).json).toMatchObject({ id, version: 1 });
    expect((await call(`${path}/versions/-1`)).json).toMatchObject({ id, version: 1 });

    const raw = await call(`${path}/versions/1/schema`);
    expect(raw).toMatchObject({ status: 200, type: V1, text: canonical });
    expect((await call(`/schemas/ids/${id}`)).json).toEqual({ schema: canonical, schemaType: "JSON" });
    expect(await call(`/schemas/ids/${id}/schema`)).toMatchObject({ status: 200, text: canonical });
    expect((await call(`/schemas/ids/${id}/versions`)).json).toEqual([{ subject, version: 1 }]);
    expect((await call(`/schemas/ids/${id}/subjects`)).json).toEqual([subject]);
    expect((await call(`/schemas/ids/${id}?subject=${encodeURIComponent(subject)}`)).status).toBe(200);
    expect((await call(`${path}/versions/1/referencedby`)).json).toEqual([]);

    // Look-up: the version holding the schema, or Confluent's not-found codes.
    expect((await call(path, { body: { schema: JSON.stringify(order), schemaType: "JSON" } })).json).toMatchObject({ subject, id, version: 1 });
    expectError(await call(path, { body: { schema: JSON.stringify(orderWithNote), schemaType: "JSON" } }), 404, 40403);
    expectError(await call("/subjects/unknown", { body: { schema: JSON.stringify(order), schemaType: "JSON" } }), 404, 40401);

    // The same schema again: the same id, no new version.
    expect((await call(`${path}/versions`, { body: { schema: JSON.stringify(order), schemaType: "JSON" } })).json).toEqual({ id });
    expect((await call(`${path}/versions`)).json).toEqual([1]);
  });

  it("answers Confluent's not-found and invalid-version codes", async () => {
    const subject = encodeURIComponent("plant a/orders value");
    expectError(await call("/subjects/missing/versions"), 404, 40401);
    expectError(await call("/subjects/missing/versions/1"), 404, 40401);
    expectError(await call(`/subjects/${subject}/versions/99`), 404, 40402);
    for (const version of ["abc", "0", "-2", "2147483648", "1.5"]) expectError(await call(`/subjects/${subject}/versions/${version}`), 422, 42202);
    for (const id of ["999999", "abc", "0", "2147483648"]) expectError(await call(`/schemas/ids/${id}`), 404, 40403);
    expectError(await call("/schemas/ids/999999/schema"), 404, 40403);
    for (const path of ["/nope", "/subjects/a/b/c/d", "/schemas/ids", "/subjects/%E0%A4%A/versions", "/config/a/b"]) {
      expectError(await call(path), 404, 404);
    }
    // Names no subject could have: a NUL, or longer than any name the registry keeps.
    expectError(await call("/subjects/a%00b/versions"), 422, 42208);
    expectError(await call(`/subjects/${"s".repeat(1001)}/versions`), 422, 42208);
    expectError(await call("/subjects?subjectPrefix=a%00"), 422, 42208);
    const method = await call("/subjects", { method: "PUT", body: {} });
    expectError(method, 405, 405);
    expect(method.headers.get("allow")).toBe("GET");
  });

  it("refuses an invalid schema with 42201 and stores nothing", async () => {
    const before = await counts();
    const invalid: unknown[] = [
      { schema: "{not json", schemaType: "JSON" },
      { schema: JSON.stringify({ type: "record", name: "R", fields: [{ name: "a", type: "nope" }] }) },
      { schema: JSON.stringify({ type: 12 }), schemaType: "JSON" },
      { schema: "" },
      { schemaType: "JSON" },
      { schema: "{}", schemaType: "XML" },
      { schema: "{}", schemaType: "JSON", references: [{ name: "x", subject: "nowhere", version: 1 }] },
    ];
    for (const body of invalid) expectError(await call("/subjects/bad/versions", { body }), 422, 42201);
    expectError(await call("/subjects/bad/versions", { body: { schema: "{}", schemaType: "JSON", references: [{ name: "x", subject: "s", version: 0 }] } }), 422, 42202);
    expect(await counts()).toEqual(before);
    expectError(await call("/subjects/bad/versions"), 404, 40401);
  });

  it("answers malformed bodies, unsupported media types and oversized bodies in Confluent's shape", async () => {
    const before = await counts();
    const malformed = await call("/subjects/body/versions", { raw: "{nope" });
    expectError(malformed, 400, 400);
    expect((malformed.json as { message: string }).message).toMatch(/^Unexpected character/);
    for (const type of ["application/json", "application/vnd.schemaregistry+json", "application/octet-stream"]) {
      const answer = await call("/compatibility/subjects/body/versions", { raw: JSON.stringify({ schema: JSON.stringify(order), schemaType: "JSON" }), headers: { "content-type": type } });
      expect(answer.status, type).toBe(200);
    }
    expectError(await call("/subjects/body/versions", { raw: "schema=x", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, 415);
    expectError(await call("/config/body", { method: "PUT", raw: "<x/>", headers: { "content-type": "text/xml" } }), 415, 415);

    // A body past the limit is refused while it is read; a schema past the schema limit inside a smaller body too.
    const huge = JSON.stringify({ schema: JSON.stringify({ type: "object", description: "x".repeat(3 * MAX_SCHEMA_BYTES) }), schemaType: "JSON" });
    expectError(await call("/subjects/body/versions", { raw: huge }), 413, 413);
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
        for (let sent = 0; sent < 3 * MAX_SCHEMA_BYTES; sent += chunk.byteLength) controller.enqueue(chunk);
        controller.close();
      },
    });
    const chunked = await fetch(`${server.registryUrl}/subjects/body/versions`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": V1 },
      body: streamed,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toMatchObject({ error_code: 413 });
    const bigSchema = JSON.stringify({ schema: JSON.stringify({ type: "object", description: "y".repeat(MAX_SCHEMA_BYTES) }), schemaType: "JSON" });
    expectError(await call("/subjects/body/versions", { raw: bigSchema }), 413, 413);
    expect(await counts()).toEqual(before);
  });

  it("tests compatibility against a version, the latest, or what the level requires, with messages when verbose", async () => {
    const subject = encodeURIComponent("plant a/orders value");
    const compatible = { schema: JSON.stringify(orderWithNote), schemaType: "JSON" };
    const incompatible = { schema: JSON.stringify(orderNeedsCurrency), schemaType: "JSON" };
    expect((await call(`/compatibility/subjects/${subject}/versions/latest`, { body: compatible })).json).toEqual({ is_compatible: true });
    expect((await call(`/compatibility/subjects/${subject}/versions/1`, { body: compatible })).json).toMatchObject({ is_compatible: true });
    expect((await call(`/compatibility/subjects/${subject}/versions`, { body: compatible })).json).toMatchObject({ is_compatible: true });
    expect((await call(`/compatibility/subjects/${subject}/versions/latest`, { body: incompatible })).json).toMatchObject({ is_compatible: false });
    const verbose = await call(`/compatibility/subjects/${subject}/versions/latest?verbose=true`, { body: incompatible });
    expect(verbose.json).toMatchObject({ is_compatible: false, messages: expect.arrayContaining([expect.any(String)]) });
    expect((await call("/compatibility/subjects/never-seen/versions", { body: compatible })).json).toMatchObject({ is_compatible: true });
    expectError(await call("/compatibility/subjects/never-seen/versions/1", { body: compatible }), 404, 40401);
    expectError(await call(`/compatibility/subjects/${subject}/versions/7`, { body: compatible }), 404, 40402);
    expectError(await call(`/compatibility/subjects/${subject}/versions/x`, { body: compatible }), 422, 42202);

    // Registration follows the same verdict: 409, nothing stored.
    const before = await counts();
    expectError(await call(`/subjects/${subject}/versions`, { body: incompatible }), 409, 409);
    expect(await counts()).toEqual(before);
    expect((await call(`/subjects/${subject}/versions`, { body: compatible })).status).toBe(200);
    expect((await call(`/subjects/${subject}/versions`)).json).toEqual([1, 2]);
  });

  it("reads, sets and deletes compatibility levels globally and per subject", async () => {
    expect((await call("/config")).json).toEqual({ compatibilityLevel: "BACKWARD" });
    expect(await call("/config/levels", { method: "PUT", body: { compatibility: "full" } })).toMatchObject({ status: 200, json: { compatibility: "FULL" } });
    expect((await call("/config/levels")).json).toEqual({ compatibilityLevel: "FULL" });
    expectError(await call("/config/levels", { method: "PUT", body: { compatibility: "SIDEWAYS" } }), 422, 42203);
    expectError(await call("/config/levels", { method: "PUT", body: {} }), 422, 42203);
    expect((await call("/config/levels", { method: "DELETE" })).json).toEqual({ compatibilityLevel: "FULL" });
    expectError(await call("/config/levels"), 404, 40408);
    expect((await call("/config/levels?defaultToGlobal=true")).json).toEqual({ compatibilityLevel: "BACKWARD" });
    expectError(await call("/config/levels", { method: "PUT", body: { compatibility: "NONE" }, token: readToken }), 403, 40301);
    expectError(await call("/config", { method: "PUT", body: { compatibility: "NONE" }, token: readToken }), 403, 40301);
  });

  it("refuses writes in READONLY mode with 42205, and reads and deletes modes", async () => {
    expect((await call("/mode")).json).toEqual({ mode: "READWRITE" });
    expect((await call("/mode/frozen", { method: "PUT", body: { mode: "READONLY" } })).json).toEqual({ mode: "READONLY" });
    expect((await call("/mode/frozen")).json).toEqual({ mode: "READONLY" });
    expectError(await call("/mode/frozen", { method: "PUT", body: { mode: "SOMETIMES" } }), 422, 42204);
    const before = await counts();
    expectError(await call("/subjects/frozen/versions", { body: { schema: JSON.stringify(order), schemaType: "JSON" } }), 422, 42205);
    expect(await counts()).toEqual(before);
    expect((await call("/mode/frozen", { method: "DELETE" })).json).toEqual({ mode: "READONLY" });
    expect((await call("/subjects/frozen/versions", { body: { schema: JSON.stringify(order), schemaType: "JSON" } })).status).toBe(200);
    expectError(await call("/mode", { method: "DELETE" }), 405, 405);
  });

  it("answers 403 to a read-only token registering or deleting, and writes nothing", async () => {
    const before = await counts();
    expectError(await call("/subjects/reader/versions", { token: readToken, body: { schema: JSON.stringify(order), schemaType: "JSON" } }), 403, 40301);
    expectError(await call("/subjects/reader/versions", { basic: `meshport:${readToken}`, body: { schema: JSON.stringify(order), schemaType: "JSON" } }), 403, 40301);
    expectError(await call(`/subjects/${encodeURIComponent("plant a/orders value")}`, { method: "DELETE", token: readToken }), 403, 40301);
    expect(await counts()).toEqual(before);
  });

  it("deletes versions and subjects softly first, then permanently, as Confluent does", async () => {
    const body = (schema: object) => ({ body: { schema: JSON.stringify(schema), schemaType: "JSON" } });
    await call("/subjects/doomed/versions", body(order));
    await call("/subjects/doomed/versions", body(orderWithNote));
    expectError(await call("/subjects/doomed/versions/1?permanent=true", { method: "DELETE" }), 404, 40407);
    expect((await call("/subjects/doomed/versions/1", { method: "DELETE" })).json).toBe(1);
    expect((await call("/subjects/doomed/versions")).json).toEqual([2]);
    expect((await call("/subjects/doomed/versions?deleted=true")).json).toEqual([1, 2]);
    expect((await call("/subjects/doomed/versions/1?deleted=true")).json).toMatchObject({ version: 1 });
    expect((await call("/subjects/doomed/versions/1?permanent=true", { method: "DELETE" })).json).toBe(1);
    expect((await call("/subjects/doomed/versions?deleted=true")).json).toEqual([2]);

    expectError(await call("/subjects/doomed?permanent=true", { method: "DELETE" }), 404, 40405);
    expect((await call("/subjects/doomed", { method: "DELETE" })).json).toEqual([2]);
    expectError(await call("/subjects/doomed", { method: "DELETE" }), 404, 40404);
    expect((await call("/subjects")).json).not.toContain("doomed");
    expect((await call("/subjects?deleted=true")).json).toContain("doomed");
    expect((await call("/subjects?deletedOnly=true")).json).toEqual(["doomed"]);
    expect((await call("/subjects/doomed?permanent=true", { method: "DELETE" })).json).toEqual([2]);
    expect((await call("/subjects?deleted=true")).json).not.toContain("doomed");
    const [audited] = await handle().db.select({ n: count() }).from(auditEntry).where(eq(auditEntry.action, "registry.subject.delete"));
    expect(audited!.n).toBeGreaterThanOrEqual(2);
  });
});
